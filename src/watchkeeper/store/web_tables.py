"""API tokens, web users and their sessions.

Secrets are never stored: a token or session cookie is kept as its SHA-256 (both are 256
random bits, so a plain hash cannot be searched back), a password as an scrypt hash with its
own salt. Scopes nest: `read` sees everything, `write` also acts (acknowledge, downtime,
submit, discover), `admin` also configures (hosts, rules, services, notification set-up).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from watchkeeper.errors import ConfigError, NotFound
from watchkeeper.store.database import Store

SCOPES = ("read", "write", "admin")
TOKEN_PREFIX = "wk_"
SESSION_S = 12 * 3600.0
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def allows(have: str, need: str) -> bool:
    return have in SCOPES and SCOPES.index(have) >= SCOPES.index(need)


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ConfigError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${key.hex()}"


def password_matches(password: str, stored: str) -> bool:
    kind, _, rest = stored.partition("$")
    salt, _, key = rest.partition("$")
    if kind != "scrypt" or not salt or not key:
        return False
    try:
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), key)


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    name: str
    scope: str
    created: float
    last_used: float | None
    revoked: float | None


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    scope: str
    csrf: str


class WebTables:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ API tokens
    def add_token(self, name: str, scope: str) -> tuple[int, str]:
        """A new token; its secret is returned once and only its hash is kept."""
        check_scope(scope)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.transaction("adding an API token") as db:
            cursor = db.execute("INSERT INTO api_tokens (name, digest, scope, created) VALUES (?, ?, ?, ?)",
                                (name, _digest(secret), scope, time.time()))
        return int(cursor.lastrowid or 0), secret

    def tokens(self) -> list[Token]:
        rows = self.store.query("SELECT id, name, scope, created, last_used, revoked FROM api_tokens ORDER BY id")
        return [Token(*row) for row in rows]

    def revoke_token(self, token_id: int) -> None:
        with self.store.transaction("revoking an API token") as db:
            if db.execute("UPDATE api_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
                          (time.time(), token_id)).rowcount == 0:
                raise NotFound(f"there is no active token {token_id}; `watchkeeper token list` shows them")

    def token_for(self, secret: str) -> Token | None:
        """The token with this secret, revoked or not (the caller says which it was)."""
        rows = self.store.query("SELECT id, name, scope, created, last_used, revoked FROM api_tokens "
                                "WHERE digest = ?", (_digest(secret),))
        return Token(*rows[0]) if rows else None

    def token_used(self, token_id: int, now: float) -> None:
        with self.store.transaction("noting a token's use") as db:
            db.execute("UPDATE api_tokens SET last_used = ? WHERE id = ?", (now, token_id))

    # ------------------------------------------------------------------ users and sessions
    def set_user(self, name: str, password: str, scope: str) -> None:
        check_scope(scope)
        if len(password) < 8:
            raise ConfigError("the password is shorter than 8 characters")
        with self.store.transaction(f"saving user {name}") as db:
            db.execute("INSERT INTO web_users (name, password, scope, created) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (name) DO UPDATE SET password = excluded.password, scope = excluded.scope",
                       (name, hash_password(password), scope, time.time()))
            db.execute("DELETE FROM web_sessions WHERE user = ?", (name,))  # a new password logs out everywhere

    def users(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.store.query("SELECT name, scope FROM web_users ORDER BY name")]

    def remove_user(self, name: str) -> None:
        with self.store.transaction(f"removing user {name}") as db:
            if db.execute("DELETE FROM web_users WHERE name = ?", (name,)).rowcount == 0:
                raise NotFound(f"there is no user {name!r}; `watchkeeper user list` shows them")
            db.execute("DELETE FROM web_sessions WHERE user = ?", (name,))

    def log_in(self, name: str, password: str, now: float) -> str | None:
        """A new session's cookie value, or None for a wrong name or password."""
        rows = self.store.query("SELECT password FROM web_users WHERE name = ?", (name,))
        if not rows:
            password_matches(password, hash_password("x" * 8))  # the same work, so timing tells nothing
            return None
        if not password_matches(password, rows[0][0]):
            return None
        cookie = secrets.token_urlsafe(32)
        with self.store.transaction("starting a session") as db:
            db.execute("DELETE FROM web_sessions WHERE expires < ?", (now,))
            db.execute("INSERT INTO web_sessions (digest, user, csrf, expires) VALUES (?, ?, ?, ?)",
                       (_digest(cookie), name, secrets.token_urlsafe(24), now + SESSION_S))
        return cookie

    def session(self, cookie: str, now: float) -> Session | None:
        rows = self.store.query("SELECT s.user, u.scope, s.csrf FROM web_sessions s JOIN web_users u "
                                "ON u.name = s.user WHERE s.digest = ? AND s.expires > ?", (_digest(cookie), now))
        return Session(*rows[0]) if rows else None

    def log_out(self, cookie: str) -> None:
        with self.store.transaction("ending a session") as db:
            db.execute("DELETE FROM web_sessions WHERE digest = ?", (_digest(cookie),))
