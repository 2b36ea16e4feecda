"""Users, roles, keys and sessions in the catalog: hashes only, revocation and disabling bite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.errors import AuthError, InputError
from tagpulse.service.auth_store import AuthStore

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> AuthStore:
    store = AuthStore(tmp_path / "catalog.sqlite")
    store.create_user("ana", PASSWORD, workspace="brand", role="analyst")
    return store


def test_password_is_stored_as_argon2_and_login_checks_it(store: AuthStore) -> None:
    [(digest,)] = store.query("SELECT password_hash FROM users WHERE name = 'ana'")
    assert digest.startswith("$argon2id$") and PASSWORD not in digest
    session, principal = store.login("ana", PASSWORD)
    assert principal.roles == {"brand": "analyst"} and principal.csrf
    assert store.session(session) == principal
    for name, password in (("ana", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(AuthError, match="wrong user name or password"):
            store.login(name, password)
    store.logout(session)
    assert store.session(session) is None


def test_sessions_are_stored_hashed(store: AuthStore) -> None:
    session, _ = store.login("ana", PASSWORD)
    [(stored,)] = store.query("SELECT id_sha256 FROM sessions")
    assert session not in stored and len(stored) == 64


def test_key_is_shown_once_stored_hashed_and_revocable(store: AuthStore) -> None:
    key = store.create_key("ana", workspace="brand", scope="read")
    assert key.startswith("tp_")
    db = sqlite3.connect(store.path)
    dump = "\n".join(db.iterdump())
    assert key.split("_", 2)[2] not in dump
    principal = store.authenticate_key(key)
    assert principal is not None and principal.key_scope == "read"
    assert principal.roles == {"brand": "analyst"}
    assert store.authenticate_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.authenticate_key("tp_nope_nope") is None and store.authenticate_key("x") is None
    [row] = store.keys()
    assert row.last_used_at is not None and row.revoked_at is None
    store.revoke_key(row.id)
    assert store.authenticate_key(key) is None
    with pytest.raises(InputError, match="no active key"):
        store.revoke_key(row.id)


def test_key_only_in_a_workspace_of_the_user(store: AuthStore) -> None:
    with pytest.raises(InputError, match="not a member"):
        store.create_key("ana", workspace="rival", scope="write")


def test_disabling_ends_sessions_and_keys(store: AuthStore) -> None:
    session, _ = store.login("ana", PASSWORD)
    key = store.create_key("ana", workspace="brand", scope="write")
    store.set_disabled("ana", True)
    assert store.session(session) is None and store.authenticate_key(key) is None
    with pytest.raises(AuthError, match="disabled"):
        store.login("ana", PASSWORD)
    store.set_disabled("ana", False)
    assert store.authenticate_key(key) is not None


def test_bad_input_names_the_field(store: AuthStore) -> None:
    with pytest.raises(InputError, match="password"):
        store.create_user("bob", "short", workspace="brand", role="viewer")
    with pytest.raises(InputError, match="user"):
        store.create_user("bo b'; --", PASSWORD, workspace="brand", role="viewer")
    with pytest.raises(InputError, match="exists already"):
        store.create_user("ana", PASSWORD, workspace="brand", role="viewer")
    with pytest.raises(InputError, match="role"):
        store.create_user("bob", PASSWORD, workspace="brand", role="owner")  # type: ignore[arg-type]


def test_cli_users_and_keys(tmp_path: Path) -> None:
    runner = CliRunner()
    home = ["--home", str(tmp_path)]
    made = runner.invoke(
        app, ["users", "create", "vic", "--workspace", "brand", "--role", "viewer",
              "--password-stdin", *home], input=PASSWORD + "\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    grant = runner.invoke(
        app, ["users", "grant", "vic", "--workspace", "lab", "--role", "admin", *home]
    )
    assert grant.exit_code == 0, grant.output
    listed = orjson.loads(runner.invoke(app, ["users", "list", "--json", *home]).output)
    assert listed == [
        {"name": "vic", "disabled": False, "roles": {"brand": "viewer", "lab": "admin"}}
    ]
    key = runner.invoke(
        app, ["keys", "create", "--user", "vic", "--workspace", "lab", "--scope", "write", *home]
    )
    assert key.exit_code == 0, key.output
    secret = key.stdout.strip().splitlines()[0]
    store = AuthStore(tmp_path / "catalog.sqlite")
    assert store.authenticate_key(secret) is not None
    keys = orjson.loads(runner.invoke(app, ["keys", "list", "--json", *home]).output)
    assert [k["scope"] for k in keys] == ["write"] and secret not in str(keys)
    assert runner.invoke(app, ["keys", "revoke", keys[0]["id"], *home]).exit_code == 0
    assert store.authenticate_key(secret) is None
    assert runner.invoke(app, ["users", "disable", "vic", *home]).exit_code == 0
    assert orjson.loads(runner.invoke(app, ["users", "list", "--json", *home]).output)[0][
        "disabled"
    ]
    bad = runner.invoke(app, ["users", "create", "x", "--role", "boss", "--password-stdin", *home],
                        input=PASSWORD + "\n")  # fmt: skip
    assert bad.exit_code == 2 and "--role" in bad.output
