"""The catalog: collector state in SQLite (WAL), safe with concurrent readers.

Holds schedules and checkpoints, the account pool (secrets encrypted), the raw index, events and
the quarantine index. Each method is one short transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tagpulse.errors import StorageError
from tagpulse.lake.catalog_models import MODELS_SCHEMA, ModelsCatalog
from tagpulse.lake.catalog_privacy import PRIVACY_SCHEMA, PrivacyCatalog
from tagpulse.records import Event

__all__ = ["AccountRow", "Catalog", "CursorRow", "ScheduleRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schedule (
    platform TEXT NOT NULL,
    tag TEXT NOT NULL,
    interval_s REAL NOT NULL,
    last_slot REAL,
    last_success_at REAL,
    last_count INTEGER,
    last_error TEXT,
    next_due REAL,
    PRIMARY KEY (platform, tag)
);
CREATE TABLE IF NOT EXISTS accounts (
    alias TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    secret_enc BLOB,
    proxy_enc BLOB,
    source_address TEXT,
    rate_per_hour REAL NOT NULL,
    burst REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'ok',
    cooldown_until REAL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at REAL
);
CREATE TABLE IF NOT EXISTS raw_index (
    content_hash TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    platform TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    collected_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    level TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    platform TEXT,
    tag TEXT,
    account TEXT,
    raw_id TEXT
);
CREATE INDEX IF NOT EXISTS events_tag ON events (platform, tag);
CREATE TABLE IF NOT EXISTS cursors (
    platform TEXT NOT NULL,
    key TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT 'posts',
    cursor TEXT NOT NULL,
    user_id TEXT,
    posts INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    slot REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (platform, key)
);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw_id TEXT,
    location TEXT
);
"""


@dataclass(slots=True, frozen=True)
class CursorRow:
    """Where an unfinished listing (an account's posts) continues after a restart."""

    platform: str
    key: str
    stage: str
    cursor: str
    user_id: str | None
    posts: int
    pages: int
    slot: float


@dataclass(slots=True, frozen=True)
class ScheduleRow:
    platform: str
    tag: str
    interval_s: float
    last_slot: float | None
    last_success_at: float | None
    last_count: int | None
    last_error: str | None
    next_due: float | None


@dataclass(slots=True, frozen=True)
class AccountRow:
    alias: str
    platform: str
    secret_enc: bytes | None
    proxy_enc: bytes | None
    source_address: str | None
    rate_per_hour: float
    burst: float
    state: str
    cooldown_until: float | None
    failures: int
    last_error: str | None


def _ts(dt: datetime) -> float:
    return dt.timestamp()


class Catalog(PrivacyCatalog, ModelsCatalog):
    """A connection per thread to ``catalog.sqlite``; the deny list, audit log and privacy
    settings come from :class:`~tagpulse.lake.catalog_privacy.PrivacyCatalog`, the model
    registry from :class:`~tagpulse.lake.catalog_models.ModelsCatalog`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            self._conn().executescript(_SCHEMA + PRIVACY_SCHEMA + MODELS_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot create catalog {self.path}: {exc}") from exc
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '1')")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            except sqlite3.Error as exc:
                raise StorageError(f"cannot open catalog {self.path}: {exc}") from exc
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"catalog {self.path}: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self._conn().execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"catalog {self.path}: {exc}") from exc

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- schedule ---------------------------------------------------------------------------
    def ensure_schedule(self, platform: str, tag: str, interval_s: float) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO schedule (platform, tag, interval_s) VALUES (?, ?, ?) "
                "ON CONFLICT (platform, tag) DO UPDATE SET interval_s = excluded.interval_s",
                (platform, tag, interval_s),
            )

    def schedules(self) -> list[ScheduleRow]:
        rows = self.query(
            "SELECT platform, tag, interval_s, last_slot, last_success_at, last_count, "
            "last_error, next_due FROM schedule ORDER BY platform, tag"
        )
        return [ScheduleRow(*r) for r in rows]

    def acknowledge(self, done: Sequence[tuple[str, str, float, float, int | None, float]]) -> None:
        """Record flushed snapshots: (platform, tag, slot, success_at, count, next_due)."""
        with self._tx() as db:
            db.executemany(
                "UPDATE schedule SET last_slot = ?, last_success_at = ?, last_count = ?, "
                "last_error = NULL, next_due = ? WHERE platform = ? AND tag = ?",
                [(slot, at, count, due, p, t) for p, t, slot, at, count, due in done],
            )

    def schedule_error(self, platform: str, tag: str, error: str, next_due: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE schedule SET last_error = ?, next_due = ? WHERE platform = ? AND tag = ?",
                (error, next_due, platform, tag),
            )

    # -- accounts ---------------------------------------------------------------------------
    def upsert_account(
        self,
        alias: str,
        platform: str,
        secret_enc: bytes | None,
        proxy_enc: bytes | None,
        source_address: str | None,
        rate_per_hour: float,
        burst: float,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO accounts (alias, platform, secret_enc, proxy_enc, source_address, "
                "rate_per_hour, burst) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alias) DO UPDATE "
                "SET platform = excluded.platform, secret_enc = excluded.secret_enc, "
                "proxy_enc = excluded.proxy_enc, source_address = excluded.source_address, "
                "rate_per_hour = excluded.rate_per_hour, burst = excluded.burst",
                (alias, platform, secret_enc, proxy_enc, source_address, rate_per_hour, burst),
            )

    def accounts(self, platform: str | None = None) -> list[AccountRow]:
        sql = (
            "SELECT alias, platform, secret_enc, proxy_enc, source_address, rate_per_hour, burst, "
            "state, cooldown_until, failures, last_error FROM accounts"
        )
        rows = (
            self.query(sql + " WHERE platform = ? ORDER BY alias", (platform,))
            if platform
            else self.query(sql + " ORDER BY alias")
        )
        return [AccountRow(*r) for r in rows]

    def set_account_state(
        self,
        alias: str,
        state: str,
        cooldown_until: float | None,
        failures: int,
        last_error: str | None,
        at: float,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE accounts SET state = ?, cooldown_until = ?, failures = ?, last_error = ?, "
                "updated_at = ? WHERE alias = ?",
                (state, cooldown_until, failures, last_error, at, alias),
            )

    def remove_accounts_except(self, platform: str, keep: Sequence[str]) -> None:
        with self._tx() as db:
            marks = ",".join("?" for _ in keep) or "''"
            db.execute(
                f"DELETE FROM accounts WHERE platform = ? AND alias NOT IN ({marks})",
                (platform, *keep),
            )

    # -- listing cursors ----------------------------------------------------------------------
    def cursor(self, platform: str, key: str) -> CursorRow | None:
        rows = self.query(
            "SELECT platform, key, stage, cursor, user_id, posts, pages, slot FROM cursors "
            "WHERE platform = ? AND key = ?",
            (platform, key),
        )
        return CursorRow(*rows[0]) if rows else None

    def save_cursors(
        self, changes: Sequence[tuple[str, str, CursorRow | None]], at: datetime
    ) -> None:
        """Store or (``None``) forget each listing's cursor, in one transaction."""
        with self._tx() as db:
            for platform, key, row in changes:
                if row is None:
                    db.execute(
                        "DELETE FROM cursors WHERE platform = ? AND key = ?", (platform, key)
                    )
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO cursors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            platform,
                            key,
                            row.stage,
                            row.cursor,
                            row.user_id,
                            row.posts,
                            row.pages,
                            row.slot,
                            _ts(at),
                        ),
                    )

    # -- raw index, events, quarantine --------------------------------------------------------
    def known_raw(self, hashes: Sequence[str]) -> set[str]:
        if not hashes:
            return set()
        marks = ",".join("?" for _ in hashes)
        rows = self.query(
            f"SELECT content_hash FROM raw_index WHERE content_hash IN ({marks})", list(hashes)
        )
        return {r[0] for r in rows}

    def index_raw(self, entries: Sequence[tuple[str, str, str, str, float]]) -> None:
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO raw_index VALUES (?, ?, ?, ?, ?)", entries)

    def add_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        with self._tx() as db:
            db.executemany(
                "INSERT INTO events (at, level, kind, message, platform, tag, account, raw_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (_ts(e.at), e.level, e.kind, e.message, e.platform, e.tag, e.account, e.raw_id)
                    for e in events
                ],
            )

    def events(
        self, *, tag: str | None = None, kind: str | None = None, limit: int = 1000
    ) -> list[Event]:
        where, params = [], []
        if tag is not None:
            where.append("tag = ?")
            params.append(tag)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        sql = "SELECT at, level, kind, message, platform, tag, account, raw_id FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self.query(sql, [*params, limit])
        return [
            Event(
                at=datetime.fromtimestamp(r[0], tz=UTC),
                level=r[1],
                kind=r[2],
                message=r[3],
                platform=r[4],
                tag=r[5],
                account=r[6],
                raw_id=r[7],
            )
            for r in rows
        ]

    def warning_counts(self) -> dict[tuple[str, str], int]:
        rows = self.query(
            "SELECT platform, tag, COUNT(*) FROM events "
            "WHERE level = 'warning' AND tag IS NOT NULL GROUP BY platform, tag"
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def quarantine(
        self, source: str, reason: str, at: datetime, raw_id: str | None, location: str | None
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO quarantine (at, source, reason, raw_id, location) VALUES (?,?,?,?,?)",
                (_ts(at), source, reason, raw_id, location),
            )

    def is_quarantined(self, source: str, location: str | None, raw_id: str | None) -> bool:
        """Whether this exact input (source, place, body) is quarantined already."""
        rows = self.query(
            "SELECT 1 FROM quarantine WHERE source = ? AND location IS ? AND raw_id IS ? LIMIT 1",
            (source, location, raw_id),
        )
        return bool(rows)

    def quarantined(self) -> list[tuple[Any, ...]]:
        return self.query("SELECT at, source, reason, raw_id, location FROM quarantine ORDER BY id")
