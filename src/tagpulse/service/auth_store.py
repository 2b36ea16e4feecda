"""Users, workspaces, roles, API keys and dashboard sessions, in the catalog (SQLite).

* Passwords are stored as argon2id hashes (argon2-cffi's defaults), never in clear; a disabled
  user can neither log in nor use their keys.
* API keys look like ``tp_<id>_<secret>``: the id is public (it names the key in lists and
  logs), the secret is 256 random bits shown once at creation and stored as its SHA-256 (a key
  has full entropy, so a slow hash would only slow every request down).
* A session id is 256 random bits in an httpOnly cookie, stored as its SHA-256, with a CSRF
  token the dashboard sends back in a header on every state-changing request.
* Roles are per workspace: ``admin`` (everything, incl. members), ``analyst`` (read and change
  watchlists and campaigns), ``viewer`` (read only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tagpulse.errors import AuthError, InputError
from tagpulse.lake.catalog import Catalog

__all__ = [
    "ROLES",
    "ApiKeyRow",
    "AuthStore",
    "Principal",
    "Role",
    "UserRow",
]

Role = Literal["admin", "analyst", "viewer"]
Scope = Literal["read", "write"]
ROLES: tuple[Role, ...] = ("admin", "analyst", "viewer")
_SCOPES: tuple[Scope, ...] = ("read", "write")
_SESSION_S = 12 * 3600.0
_MIN_PASSWORD = 10
_LAST_USED_EVERY_S = 60.0

AUTH_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    user_id INTEGER NOT NULL REFERENCES users (id),
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    PRIMARY KEY (user_id, workspace_id)
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    created_at REAL NOT NULL,
    revoked_at REAL,
    last_used_at REAL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256 TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
"""


@dataclass(slots=True, frozen=True)
class UserRow:
    name: str
    disabled: bool
    created_at: float
    #: Workspace name → role.
    roles: dict[str, Role]


@dataclass(slots=True, frozen=True)
class ApiKeyRow:
    id: str
    user: str
    workspace: str
    scope: Scope
    created_at: float
    revoked_at: float | None
    last_used_at: float | None


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is asking: a user, through a session (all their workspaces) or a key (one)."""

    user: str
    #: Workspace name → role the request may act with.
    roles: dict[str, Role]
    #: ``None`` for a session; a key's scope caps what it may do.
    key_scope: Scope | None = None
    key_id: str | None = None
    csrf: str | None = None

    def role_in(self, workspace: str) -> Role | None:
        return self.roles.get(workspace)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_name(value: str, field: str) -> str:
    name = value.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise InputError(
            f"{field} must be 1-64 letters, digits, '-', '_' or '.', got {value!r}", field=field
        )
    return name


class AuthStore(Catalog):
    """The catalog with the service's tables."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._conn().executescript(AUTH_SCHEMA)
        self._hasher = PasswordHasher()
        self._last_used: dict[str, float] = {}

    # -- workspaces and users -------------------------------------------------------------------
    def ensure_workspace(self, name: str) -> int:
        name = _check_name(name, "workspace")
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?, ?)",
                (name, time.time()),
            )
            row = db.execute("SELECT id FROM workspaces WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def workspaces(self) -> list[str]:
        return [r[0] for r in self.query("SELECT name FROM workspaces ORDER BY name")]

    def create_user(self, name: str, password: str, *, workspace: str, role: Role) -> None:
        name = _check_name(name, "user")
        if len(password) < _MIN_PASSWORD:
            raise InputError(
                f"password must have at least {_MIN_PASSWORD} characters", field="password"
            )
        if role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
        workspace_id = self.ensure_workspace(workspace)
        digest = self._hasher.hash(password)
        with self._tx() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise InputError(f"user {name!r} exists already", field="user")
            cur = db.execute(
                "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                (name, digest, time.time()),
            )
            db.execute(
                "INSERT INTO memberships VALUES (?, ?, ?)", (cur.lastrowid, workspace_id, role)
            )

    def grant(self, name: str, *, workspace: str, role: Role) -> None:
        """Give ``name`` ``role`` in ``workspace`` (replacing the role they had there)."""
        if role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
        workspace_id = self.ensure_workspace(workspace)
        user_id = self._user_id(name)
        with self._tx() as db:
            db.execute(
                "INSERT INTO memberships VALUES (?, ?, ?) ON CONFLICT (user_id, workspace_id) "
                "DO UPDATE SET role = excluded.role",
                (user_id, workspace_id, role),
            )

    def set_disabled(self, name: str, disabled: bool) -> None:
        user_id = self._user_id(name)
        with self._tx() as db:
            db.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id))
            if disabled:
                db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def users(self) -> list[UserRow]:
        rows = self.query("SELECT id, name, disabled, created_at FROM users ORDER BY name")
        return [
            UserRow(name, bool(dis), created, self._roles(uid)) for uid, name, dis, created in rows
        ]

    def _user_id(self, name: str) -> int:
        row = self.query("SELECT id FROM users WHERE name = ?", (name,))
        if not row:
            raise InputError(f"no user {name!r} (see `tagpulse users list`)", field="user")
        return int(row[0][0])

    def _roles(self, user_id: int) -> dict[str, Role]:
        rows = self.query(
            "SELECT w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id "
            "WHERE m.user_id = ? ORDER BY w.name",
            (user_id,),
        )
        return {w: role for w, role in rows}

    # -- passwords and sessions -----------------------------------------------------------------
    def login(self, name: str, password: str) -> tuple[str, Principal]:
        """A new session for a correct name and password: (session id, principal)."""
        rows = self.query("SELECT id, password_hash, disabled FROM users WHERE name = ?", (name,))
        if not rows:
            # Hash anyway, so a wrong name takes as long as a wrong password.
            self._hasher.hash(password)
            raise AuthError("wrong user name or password")
        user_id, digest, disabled = rows[0]
        try:
            self._hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            raise AuthError("wrong user name or password") from None
        if disabled:
            raise AuthError("this user is disabled")
        session, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (_sha256(session), user_id, csrf, now, now + _SESSION_S),
            )
        return session, Principal(name, self._roles(user_id), csrf=csrf)

    def session(self, session: str) -> Principal | None:
        rows = self.query(
            "SELECT u.id, u.name, u.disabled, s.csrf, s.expires_at FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.id_sha256 = ?",
            (_sha256(session),),
        )
        if not rows:
            return None
        user_id, name, disabled, csrf, expires = rows[0]
        if disabled or expires < time.time():
            return None
        return Principal(name, self._roles(user_id), csrf=csrf)

    def logout(self, session: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (_sha256(session),))

    # -- API keys -------------------------------------------------------------------------------
    def create_key(self, user: str, *, workspace: str, scope: Scope) -> str:
        """A new key for ``user`` in ``workspace``; the whole key is returned once, here."""
        if scope not in _SCOPES:
            raise InputError(f"scope must be read or write, got {scope!r}", field="scope")
        user_id = self._user_id(user)
        roles = self._roles(user_id)
        if workspace not in roles:
            raise InputError(
                f"user {user!r} is not a member of workspace {workspace!r}", field="workspace"
            )
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        workspace_id = self.ensure_workspace(workspace)
        with self._tx() as db:
            db.execute(
                "INSERT INTO api_keys (id, secret_sha256, user_id, workspace_id, scope, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (key_id, _sha256(secret), user_id, workspace_id, scope, time.time()),
            )
        return f"tp_{key_id}_{secret}"

    def revoke_key(self, key_id: str) -> None:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), key_id),
            )
            if cur.rowcount == 0:
                raise InputError(f"no active key {key_id!r} (see `tagpulse keys list`)", field="id")

    def keys(self) -> list[ApiKeyRow]:
        rows = self.query(
            "SELECT k.id, u.name, w.name, k.scope, k.created_at, k.revoked_at, k.last_used_at "
            "FROM api_keys k JOIN users u ON u.id = k.user_id "
            "JOIN workspaces w ON w.id = k.workspace_id ORDER BY k.created_at"
        )
        return [ApiKeyRow(*r) for r in rows]

    def authenticate_key(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key of an enabled user (None otherwise)."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "tp":
            return None
        _, key_id, secret = parts
        rows = self.query(
            "SELECT k.secret_sha256, k.scope, k.revoked_at, u.id, u.name, u.disabled, w.name "
            "FROM api_keys k JOIN users u ON u.id = k.user_id "
            "JOIN workspaces w ON w.id = k.workspace_id WHERE k.id = ?",
            (key_id,),
        )
        if not rows:
            return None
        digest, scope, revoked, user_id, name, disabled, workspace = rows[0]
        if not hmac.compare_digest(digest, _sha256(secret)) or revoked or disabled:
            return None
        role = self._roles(user_id).get(workspace)
        if role is None:
            return None
        now = time.time()
        # Record use at most once a minute per key: a write per request would cost every
        # request a transaction.
        if now - self._last_used.get(key_id, 0.0) >= _LAST_USED_EVERY_S:
            self._last_used[key_id] = now
            with self._tx() as db:
                db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, key_id))
        return Principal(name, {workspace: role}, key_scope=scope, key_id=key_id)
