"""`tagpulse users ...` and `tagpulse keys ...`: who may use the API and the dashboard."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.service.auth_store import ROLES, AuthStore, Role, Scope

__all__ = ["keys_app", "users_app"]

users_app = typer.Typer(help="Users of the API and dashboard.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for programs.", no_args_is_help=True)

RoleOption = Annotated[str, typer.Option("--role", help="admin, analyst or viewer")]
WorkspaceOption = Annotated[str, typer.Option("--workspace", help="Workspace name")]


def _store(home: Path | None) -> AuthStore:
    return AuthStore(settings_for(home).catalog_path)


def _role(value: str) -> Role:
    if value not in ROLES:
        raise InputError(f"--role must be one of {', '.join(ROLES)}, got {value!r}", field="--role")
    return value


def _when(epoch: float | None) -> str:
    return "—" if epoch is None else f"{datetime.fromtimestamp(epoch, UTC):%Y-%m-%d %H:%M}"


@users_app.command("create")
@friendly_errors
def users_create(
    name: Annotated[str, typer.Argument(help="User name")],
    workspace: WorkspaceOption = "default",
    role: RoleOption = "analyst",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Create a user with a role in a workspace (the password is asked for, or read from
    standard input with --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    _store(home).create_user(name, password, workspace=workspace, role=_role(role))
    console.print(f"user {name} created: {role} in workspace {workspace}")


@users_app.command("grant")
@friendly_errors
def users_grant(
    name: Annotated[str, typer.Argument(help="User name")],
    workspace: WorkspaceOption,
    role: RoleOption,
    home: HomeOption = None,
) -> None:
    """Give a user a role in a (new or existing) workspace."""
    _store(home).grant(name, workspace=workspace, role=_role(role))
    console.print(f"{name} is now {role} in workspace {workspace}")


@users_app.command("list")
@friendly_errors
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    home: HomeOption = None,
) -> None:
    """Users, their roles per workspace, and whether they are disabled."""
    rows = _store(home).users()
    if as_json:
        doc = [{"name": u.name, "disabled": u.disabled, "roles": u.roles} for u in rows]
        console.print_json(orjson.dumps(doc).decode())
        return
    table = Table(title="Users")
    for col in ("user", "roles", "disabled", "created"):
        table.add_column(col)
    for u in rows:
        roles = ", ".join(f"{w}: {r}" for w, r in u.roles.items())
        table.add_row(u.name, roles, "yes" if u.disabled else "no", _when(u.created_at))
    console.print(table)


@users_app.command("disable")
@friendly_errors
def users_disable(
    name: Annotated[str, typer.Argument(help="User name")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again")] = False,
    home: HomeOption = None,
) -> None:
    """Disable a user: their sessions end and their keys stop working (--enable undoes it)."""
    _store(home).set_disabled(name, not enable)
    console.print(f"user {name} {'enabled' if enable else 'disabled'}")


@keys_app.command("create")
@friendly_errors
def keys_create(
    user: Annotated[str, typer.Option("--user", help="The key's user")],
    workspace: WorkspaceOption = "default",
    scope: Annotated[str, typer.Option("--scope", help="read or write")] = "read",
    home: HomeOption = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    if scope not in ("read", "write"):
        raise InputError(f"--scope must be read or write, got {scope!r}", field="--scope")
    key_scope: Scope = "write" if scope == "write" else "read"
    key = _store(home).create_key(user, workspace=workspace, scope=key_scope)
    console.print(key, highlight=False)
    print("store it now: it is not shown again", file=sys.stderr)


@keys_app.command("list")
@friendly_errors
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    home: HomeOption = None,
) -> None:
    """Keys by id (never their secrets), with user, workspace, scope and use."""
    rows = _store(home).keys()
    if as_json:
        doc = [
            {"id": k.id, "user": k.user, "workspace": k.workspace, "scope": k.scope,
             "created_at": k.created_at, "revoked_at": k.revoked_at,
             "last_used_at": k.last_used_at}
            for k in rows
        ]  # fmt: skip
        console.print_json(orjson.dumps(doc).decode())
        return
    table = Table(title="API keys")
    for col in ("id", "user", "workspace", "scope", "created", "last used", "revoked"):
        table.add_column(col)
    for k in rows:
        table.add_row(
            k.id, k.user, k.workspace, k.scope, _when(k.created_at), _when(k.last_used_at),
            _when(k.revoked_at),
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
@friendly_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `tagpulse keys list`)")],
    home: HomeOption = None,
) -> None:
    """Revoke a key: it stops working at once."""
    _store(home).revoke_key(key_id)
    console.print(f"key {key_id} revoked")
