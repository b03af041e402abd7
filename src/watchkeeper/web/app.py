"""The ASGI application: the UI, /api/v1 with its OpenAPI document, and /metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response, Security
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchkeeper import __version__
from watchkeeper.web import api, errors, pages
from watchkeeper.web.access import StoreAccess
from watchkeeper.web.auth import bearer, caller_from_token
from watchkeeper.web.link import DaemonLink, NoDaemon
from watchkeeper.web.prometheus import exposition
from watchkeeper.web.views import MetricSource

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                 b"form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


MAX_BODY_BYTES = 1 << 20
"""The largest request body: a passive result's output is at most 64 KiB, everything else far less."""


class HttpGuard:
    """What every HTTP exchange gets: the security headers on the answer (no inline scripts, no
    framing, no sniffing), and 413 for a body over MAX_BODY_BYTES before any of it is kept,
    whether its length is declared or it streams in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = answered = False
        seen = 0

        async def guarded(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 is already sent; whatever the application says after it is dropped
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        async def counted() -> Message:
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                if not started:
                    await _too_large(guarded)
                answered = True
                return {"type": "http.disconnect"}  # the application stops reading and gives up
            return message

        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            await _too_large(guarded)
            return
        await self.app(scope, counted, guarded)


async def _too_large(send: Send) -> None:
    body = json.dumps({"error": f"the request body is over {MAX_BODY_BYTES} bytes; send less"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(database: Path, daemon: DaemonLink | None = None, metric_source: MetricSource | None = None
               ) -> FastAPI:
    app = FastAPI(title="Watchkeeper", version=__version__, openapi_url="/api/v1/openapi.json",
                  docs_url=None, redoc_url=None,  # their pages load scripts from a CDN
                  description="Everything the `watchkeeper` command line does. Authenticate with "
                              "`Authorization: Bearer TOKEN`; create tokens with "
                              "`watchkeeper token add NAME --scope read|write|admin`.")
    app.state.access = StoreAccess(database)
    app.state.daemon = daemon or NoDaemon()
    app.state.token_noted = {}
    app.state.metric_source = metric_source
    errors.install(app)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, pages.LoginRequired)
        return RedirectResponse("/login?" + urlencode({"next": exc.path}), status_code=303)

    app.add_exception_handler(pages.LoginRequired, login_required)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
                services: bool = False) -> Response:
        caller_from_token(app.state.access, credentials, "read", app.state.token_noted)
        text = exposition(app.state.access.store(), app.state.daemon.health(), services)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    app.add_middleware(HttpGuard)
    return app
