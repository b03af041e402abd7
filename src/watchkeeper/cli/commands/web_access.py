"""`watchkeeper token` (API tokens) and `watchkeeper user` (web UI logins)."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from watchkeeper.checkapi import render
from watchkeeper.cli.common import open_store
from watchkeeper.errors import ConfigError
from watchkeeper.store.audit_tables import AuditTables, cli_actor
from watchkeeper.store.database import Store
from watchkeeper.store.web_tables import SCOPES, WebTables

INITIAL_USER = "admin"
INITIAL_PASSWORD_FILE = "initial-password"


def _tables(args: argparse.Namespace) -> WebTables:
    return WebTables(open_store(args))


def ensure_initial_user(store: Store, home: Path) -> Path | None:
    """On a store without users: `admin` with a random password, written to a file only its owner reads."""
    tables = WebTables(store)
    if tables.users():
        return None
    password = secrets.token_urlsafe(12)
    path = home / INITIAL_PASSWORD_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(password + "\n")
    tables.set_user(INITIAL_USER, password, "admin")
    return path


def _audit(tables: WebTables, action: str, target: str, detail: str = "") -> None:
    """Access changes move no configuration counter, so they are recorded here (never a secret)."""
    AuditTables(tables.store).record(cli_actor(), action, target, detail)


def cmd_token_add(args: argparse.Namespace) -> int:
    tables = _tables(args)
    token_id, secret = tables.add_token(args.name, args.scope)
    _audit(tables, "token add", f"token {token_id}", f"{args.name}, scope {args.scope}")
    print(secret)
    print(f"Token {token_id} ({args.name}, scope {args.scope}). It is shown only now; send it as "
          "`Authorization: Bearer TOKEN`.", file=sys.stderr)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    for token in _tables(args).tokens():
        used = f"last used {render.datetime(token.last_used)}" if token.last_used else "never used"
        status = f"REVOKED {render.datetime(token.revoked)}" if token.revoked else used
        print(f"{token.id:>4} {token.name:<24} {token.scope:<6} created {render.datetime(token.created)}, {status}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    tables = _tables(args)
    tables.revoke_token(args.id)
    _audit(tables, "token revoke", f"token {args.id}")
    print(f"Token {args.id} revoked; requests with it are refused from now on.")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise ConfigError("give the password on standard input with --password-stdin, or run this on a terminal")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ConfigError("the two passwords differ")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    tables = _tables(args)
    tables.set_user(args.name, _read_password(args), args.scope)
    _audit(tables, "user add", f"user {args.name}", f"scope {args.scope}")
    print(f"User {args.name} ({args.scope}) saved; their other sessions are logged out.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    for name, scope in _tables(args).users():
        print(f"{name:<24} {scope}")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    tables = _tables(args)
    tables.remove_user(args.name)
    _audit(tables, "user remove", f"user {args.name}")
    return 0


def register(sub: Any) -> None:
    token = sub.add_parser("token", help="API tokens (scopes: read, write, admin)")
    tsub = token.add_subparsers(dest="token_command", required=True)
    p = tsub.add_parser("add", help="create a token; it is printed once, only its hash is kept")
    p.add_argument("name", help="what uses it, e.g. grafana or ansible")
    p.add_argument("--scope", choices=SCOPES, default="read",
                   help="read: look; write: also acknowledge, downtime, submit; admin: also configure")
    p.set_defaults(func=cmd_token_add)
    p = tsub.add_parser("list", help="tokens with scope and last use")
    p.set_defaults(func=cmd_token_list)
    p = tsub.add_parser("revoke", help="refuse a token from now on")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_token_revoke)

    user = sub.add_parser("user", help="web UI logins")
    usub = user.add_subparsers(dest="user_command", required=True)
    p = usub.add_parser("add", help="add a user or set a new password (asked for, never an argument)")
    p.add_argument("name")
    p.add_argument("--scope", choices=SCOPES, default="write", help="what the user may do (default write)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_user_add)
    p = usub.add_parser("list", help="users and their scopes")
    p.set_defaults(func=cmd_user_list)
    p = usub.add_parser("remove", help="remove a user and end their sessions")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_remove)
