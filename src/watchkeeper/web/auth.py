"""Who is asking: an API token (`Authorization: Bearer wk_...`) for /api, a session cookie
for the UI. Sessions carry a CSRF token that every form posts back."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from watchkeeper.checkapi import render
from watchkeeper.store.web_tables import Session, WebTables, allows
from watchkeeper.web.access import StoreAccess
from watchkeeper.web.errors import ApiError

SESSION_COOKIE = "wk_session"
TOKEN_USE_NOTED_S = 60.0
"""A token's `last_used` is written at most once a minute: a read must not cost a write."""

bearer = HTTPBearer(auto_error=False, description="an API token from `watchkeeper token add NAME --scope SCOPE`")


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    """`token:NAME` or the user's name: the author of acknowledgements and downtimes."""
    scope: str


def caller_from_token(access: StoreAccess, credentials: HTTPAuthorizationCredentials | None, need: str,
                      noted: dict[int, float]) -> Caller:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "this needs an API token: send `Authorization: Bearer TOKEN`; create one with "
                            "`watchkeeper token add NAME --scope read`")
    tables = WebTables(access.store())
    token = tables.token_for(credentials.credentials)
    if token is None:
        raise ApiError(401, "the API token is not known; `watchkeeper token list` shows the tokens, "
                            "`watchkeeper token add` creates one")
    if token.revoked is not None:
        raise ApiError(401, f"API token {token.id} ({token.name}) was revoked on {render.datetime(token.revoked)}; "
                            "create a new one with `watchkeeper token add`")
    if not allows(token.scope, need):
        raise ApiError(403, f"this needs the {need} scope; token {token.id} ({token.name}) has {token.scope}: "
                            f"create one with `watchkeeper token add NAME --scope {need}`")
    now = time.time()
    if now - noted.get(token.id, 0.0) >= TOKEN_USE_NOTED_S:
        noted[token.id] = now
        tables.token_used(token.id, now)
    return Caller(f"token:{token.name}", token.scope)


def session_of(access: StoreAccess, request: Request) -> Session | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return WebTables(access.store()).session(cookie, time.time()) if cookie else None


def check_csrf(session: Session, sent: str) -> None:
    if not hmac.compare_digest(session.csrf.encode(), sent.encode()):
        raise ApiError(403, "the form is out of date (its CSRF token does not match your session); "
                            "reload the page and try again")
