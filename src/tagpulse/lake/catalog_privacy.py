"""The catalog's privacy state: the deny list, the audit log and the pseudonymisation setting.

``deny_list`` holds what ``tagpulse forget`` erased (handles, user ids, post ids per platform),
so the collector never asks for it again and the lake's writers drop it at write time. It keeps
the handle in clear on purpose: without it nothing could be kept forgotten. ``audit_log`` records
who erased what and when with counts, naming the account only by its salted hash. The salt
(random, per lake, made on first use) and the pseudonymisation switch live in ``meta``; the salt
is never printed or written anywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson

__all__ = [
    "PRIVACY_SCHEMA",
    "AuditEntry",
    "DenyKind",
    "PrivacyCatalog",
    "pseudonym",
    "subject_ref",
]

DenyKind = Literal["handle", "id", "post"]

PRIVACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS deny_list (
    platform TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    audit_id INTEGER,
    added_at REAL NOT NULL,
    PRIMARY KEY (platform, kind, value)
);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    actor TEXT NOT NULL,
    details TEXT NOT NULL
);
"""

_SALT = "privacy_salt"
_PSEUDONYMISE = "pseudonymise"


def pseudonym(salt: bytes, platform: str, value: str, kind: Literal["handle", "id"]) -> str:
    """``anon_<hmac-sha256(salt, "<platform>:<kind>:<value>")[:16]>``: stable per lake.

    Handles are case-insensitive on every platform tagpulse reads, so they are lower-cased
    first. The platform is part of the input because one handle on two platforms is usually two
    people.
    """
    text = value.lower() if kind == "handle" else value
    digest = hmac.new(salt, f"{platform}:{kind}:{text}".encode(), hashlib.sha256).hexdigest()
    return f"anon_{digest[:16]}"


def subject_ref(salt: bytes, platform: str, handle: str) -> str:
    """How the audit log and events name a forgotten account: its salted hash, never the handle."""
    return "forgotten:" + pseudonym(salt, platform, handle, "handle").removeprefix("anon_")


@dataclass(slots=True, frozen=True)
class AuditEntry:
    id: int
    at: datetime
    action: str
    subject: str | None
    actor: str
    details: dict[str, Any]


class PrivacyCatalog:
    """Mixed into :class:`~tagpulse.lake.catalog.Catalog`; each method is one transaction."""

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    # -- salt and pseudonymisation --------------------------------------------------------------
    def privacy_salt(self) -> bytes:
        """The lake's salt, made (32 random bytes) on first use."""
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (_SALT, secrets.token_hex(32)))
            row = db.execute("SELECT value FROM meta WHERE key = ?", (_SALT,)).fetchone()
        return bytes.fromhex(row[0])

    def stored_salt(self) -> bytes | None:
        """The lake's salt if one was made (reads only)."""
        rows = self.query("SELECT value FROM meta WHERE key = ?", (_SALT,))
        return bytes.fromhex(rows[0][0]) if rows else None

    def pseudonymise_enabled(self) -> bool:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (_PSEUDONYMISE,))
        return bool(rows) and rows[0][0] == "on"

    def enable_pseudonymise(self, *, actor: str, at: datetime | None = None) -> bool:
        """Switch pseudonymisation on (for good); False when it already was."""
        self.privacy_salt()
        if self.pseudonymise_enabled():
            return False
        when = at or datetime.now(UTC)
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, 'on')", (_PSEUDONYMISE,))
            db.execute(
                "INSERT INTO audit_log (at, action, subject, actor, details) "
                "VALUES (?, 'pseudonymise_on', NULL, ?, '{}')",
                (when.timestamp(), actor),
            )
        return True

    # -- deny list -----------------------------------------------------------------------------
    def deny(
        self,
        platform: str,
        entries: Iterable[tuple[DenyKind, str]],
        *,
        at: datetime,
        audit_id: int | None = None,
    ) -> int:
        """Add (kind, value) entries for ``platform``; returns how many were new."""
        rows = [
            (platform, kind, value.lower() if kind == "handle" else value, audit_id, at.timestamp())
            for kind, value in entries
        ]
        with self._tx() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO deny_list VALUES (?, ?, ?, ?, ?)", rows)
            added = db.total_changes - before
        return added

    def denied(self, platform: str | None = None) -> dict[str, dict[DenyKind, set[str]]]:
        """The deny list: platform -> kind -> values."""
        sql = "SELECT platform, kind, value FROM deny_list"
        rows = self.query(sql + " WHERE platform = ?", (platform,)) if platform else self.query(sql)
        out: dict[str, dict[DenyKind, set[str]]] = {}
        for plat, kind, value in rows:
            out.setdefault(plat, {}).setdefault(kind, set()).add(value)
        return out

    def is_denied(self, platform: str, handle: str) -> bool:
        rows = self.query(
            "SELECT 1 FROM deny_list WHERE platform = ? AND kind = 'handle' AND value = ? LIMIT 1",
            (platform, handle.lower().lstrip("@")),
        )
        return bool(rows)

    # -- audit log -----------------------------------------------------------------------------
    def add_audit(
        self, action: str, *, subject: str | None, actor: str, details: dict[str, Any], at: datetime
    ) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO audit_log (at, action, subject, actor, details) "
                "VALUES (?, ?, ?, ?, ?)",
                (at.timestamp(), action, subject, actor, orjson.dumps(details).decode()),
            )
            audit_id = cursor.lastrowid
        assert audit_id is not None
        return audit_id

    def audit_entries(self) -> list[AuditEntry]:
        rows = self.query(
            "SELECT id, at, action, subject, actor, details FROM audit_log ORDER BY id"
        )
        return [
            AuditEntry(
                r[0], datetime.fromtimestamp(r[1], tz=UTC), r[2], r[3], r[4], orjson.loads(r[5])
            )
            for r in rows
        ]

    # -- erasing what the catalog itself holds about an account -------------------------------
    def forget_catalog_rows(
        self, platform: str, handles: Sequence[str], raw_ids: Sequence[str], mentions: Any
    ) -> dict[str, int]:
        """Delete the account's schedules, cursors, events, quarantine entries and the raw index
        rows of dropped answers. ``mentions(text) -> bool`` decides whether free text (event
        messages, quarantine reasons and locations) names the account."""
        watch = [f"@{h}" for h in handles]
        counts: dict[str, int] = {}
        with self._tx() as db:
            for table, key in (("schedule", "tag"), ("cursors", "key")):
                marks = ",".join("?" for _ in watch) or "''"
                cur = db.execute(
                    f"DELETE FROM {table} WHERE platform = ? AND {key} IN ({marks})",
                    (platform, *watch),
                )
                counts[table] = cur.rowcount
            dropped = set(raw_ids)
            for chunk in _chunks(sorted(dropped)):
                marks = ",".join("?" for _ in chunk)
                cur = db.execute(f"DELETE FROM raw_index WHERE content_hash IN ({marks})", chunk)
                counts["raw_index"] = counts.get("raw_index", 0) + cur.rowcount
            counts.setdefault("raw_index", 0)
            events = [
                r[0]
                for r in db.execute("SELECT id, message, tag, raw_id FROM events").fetchall()
                if r[2] in watch or r[3] in dropped or mentions(r[1]) or mentions(r[2] or "")
            ]
            quarantine = [
                r[0]
                for r in db.execute(
                    "SELECT id, reason, raw_id, location FROM quarantine"
                ).fetchall()
                if r[2] in dropped or mentions(r[1]) or mentions(r[3] or "")
            ]
            for table, ids in (("events", events), ("quarantine", quarantine)):
                for chunk in _chunks(ids):
                    marks = ",".join("?" for _ in chunk)
                    db.execute(f"DELETE FROM {table} WHERE id IN ({marks})", chunk)
                counts[table] = len(ids)
        return counts


def _chunks(values: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
