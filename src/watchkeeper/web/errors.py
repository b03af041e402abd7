"""Errors as JSON (`{"error": "..."}`) with a message that says what to do, for the API; as a
short page for the UI. Store and configuration errors keep the message they already have."""

from __future__ import annotations

import logging
from html import escape

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from watchkeeper.errors import CollectError, ConfigError, NotFound, StoreError
from watchkeeper.web.link import DaemonUnavailable

log = logging.getLogger("watchkeeper.web")


class ErrorBody(BaseModel):
    error: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in ((400, "the request is not valid; the message says why"),
                         (401, "no valid API token"), (403, "the token's scope does not allow this"),
                         (404, "no such host, service, rule or downtime"))
}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    if _is_api(request) or request.url.path == "/metrics":
        return JSONResponse({"error": message}, status_code=status,
                            headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
    return HTMLResponse(f"<!doctype html><title>{status}</title><p>{escape(message)}</p>"
                        '<p><a href="/">Overview</a></p>', status_code=status)


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(request, exc.status, exc.message)

    async def config_error(request: Request, exc: Exception) -> Response:
        return error_response(request, 404 if isinstance(exc, NotFound) else 400, str(exc))

    async def store_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return error_response(request, 503, str(exc))

    async def collect_error(request: Request, exc: Exception) -> Response:
        return error_response(request, 502, f"the host's agent could not be reached: {exc}")

    async def no_daemon(request: Request, exc: Exception) -> Response:
        return error_response(request, 503, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = str(exc.detail)
        if exc.status_code == 404:
            message = ("no such page or endpoint; the API is described at /api/v1/openapi.json"
                       if _is_api(request) else "no such page")
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed here; /api/v1/openapi.json lists the methods"
        return error_response(request, exc.status_code, message)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                             for e in exc.errors())
        body = {"error": f"the request is not valid: {problems}; /api/v1/openapi.json describes it",
                "detail": jsonable_encoder(exc.errors(), custom_encoder={Exception: str, bytes: repr})}
        return JSONResponse(body, status_code=422)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(ConfigError, config_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(CollectError, collect_error)
    app.add_exception_handler(DaemonUnavailable, no_daemon)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
