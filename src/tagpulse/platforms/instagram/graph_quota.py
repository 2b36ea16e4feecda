"""Client-side bookkeeping for the Instagram Graph API's hashtag limits, in a small SQLite file.

The Graph API lets one Instagram business/creator account query at most 30 *unique* hashtags in
any rolling 7 days: a hashtag counts from its first query on, repeats inside the 7 days are free
and do not restart its timer. :class:`HashtagQuota` enforces that before any request is sent,
so a 31st hashtag is refused here (with the time its slot frees) instead of costing a request
and an error. :class:`HashtagIdCache` keeps the hashtag ids the search answered (an id never
changes), so a tracked tag needs one search in its life.

Both own one ``sqlite3`` connection in WAL mode and may share a file (the catalog will take
these tables over later). They take ``now`` (epoch seconds) so tests and simulations can run
them on the sandbox's clock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from tagpulse.errors import InputError, StorageError
from tagpulse.platforms.instagram.exceptions import HashtagQuotaExceeded

__all__ = [
    "HASHTAG_LIMIT",
    "HASHTAG_WINDOW_S",
    "HashtagIdCache",
    "HashtagQuota",
    "normalise_tag",
]

HASHTAG_LIMIT = 30
"""Unique hashtags one Instagram account may query in :data:`HASHTAG_WINDOW_S`."""
HASHTAG_WINDOW_S = 7 * 86400.0

_QUOTA_SCHEMA = """
CREATE TABLE IF NOT EXISTS graph_hashtag_quota (
    ig_user_id TEXT NOT NULL,
    hashtag TEXT NOT NULL,
    first_queried_at REAL NOT NULL,
    PRIMARY KEY (ig_user_id, hashtag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS graph_hashtag_quota_by_time
    ON graph_hashtag_quota (ig_user_id, first_queried_at);
"""
_IDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS graph_hashtag_ids (
    hashtag TEXT PRIMARY KEY,
    hashtag_id TEXT NOT NULL,
    resolved_at REAL NOT NULL
) WITHOUT ROWID;
"""


def _tag_char(char: str) -> bool:
    # Letters, digits, marks (Devanagari vowel signs are part of a word), '_' and joiners.
    return char == "_" or char in "\u200c\u200d" or unicodedata.category(char)[0] in "LNM"


def normalise_tag(tag: str) -> str:
    """A hashtag as the quota and the cache key it: lower case, no ``#``, no spaces."""
    name = tag.strip().lstrip("#").strip().lower()
    if not name or len(name) > 100 or not all(_tag_char(char) for char in name):
        raise InputError(
            f"{tag!r} is not a hashtag: use letters, digits and '_' (at most 100)", field="tag"
        )
    return name


def _connect(path: str | Path, schema: str) -> sqlite3.Connection:
    where = str(path)
    try:
        if where != ":memory:":
            Path(where).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE) where a read
        # decides a write, so two processes cannot both take the 30th slot.
        connection = sqlite3.connect(
            where, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(schema)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"{where}: cannot open the hashtag quota database: {exc}") from exc
    return connection


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class HashtagQuota:
    """Which hashtags each Instagram account queried in the last 7 days, and when first.

    :meth:`acquire` is called before every hashtag request: free for a hashtag already in the
    account's window, takes a slot for a new one, and raises :class:`HashtagQuotaExceeded`
    (naming when the oldest slot frees) when all ``limit`` slots are taken.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        limit: int = HASHTAG_LIMIT,
        window_s: float = HASHTAG_WINDOW_S,
        now: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise InputError("the hashtag quota needs limit >= 1 and window_s > 0")
        self.path = str(path)
        self.limit = limit
        self.window_s = window_s
        self._now = now
        self._lock = threading.Lock()
        self._db = _connect(path, _QUOTA_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> HashtagQuota:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _active(self, ig_user_id: str, now: float) -> list[tuple[str, float]]:
        rows = self._db.execute(
            "SELECT hashtag, first_queried_at FROM graph_hashtag_quota "
            "WHERE ig_user_id = ? AND first_queried_at > ? ORDER BY first_queried_at, hashtag",
            (ig_user_id, now - self.window_s),
        ).fetchall()
        return [(str(tag), float(at)) for tag, at in rows]

    def _refusal(
        self, ig_user_id: str, tag: str, active: list[tuple[str, float]]
    ) -> HashtagQuotaExceeded:
        oldest, first_at = active[len(active) - self.limit]
        frees_at = _utc(first_at + self.window_s)
        in_window = ", ".join(f"#{name}" for name, _ in active[:8])
        more = f" and {len(active) - 8} more" if len(active) > 8 else ""
        return HashtagQuotaExceeded(
            f"instagram account {ig_user_id} has queried {len(active)} unique hashtags in the "
            f"last {self.window_s / 86400:g} days, the Graph API's limit is {self.limit}: "
            f"#{tag} is refused before sending. The oldest (#{oldest}) leaves the window at "
            f"{frees_at:%Y-%m-%d %H:%M:%S} UTC; until then only hashtags already in the window "
            f"are free to query ({in_window}{more})",
            ig_user_id=ig_user_id,
            hashtag=tag,
            frees_at=frees_at,
            used=len(active),
            limit=self.limit,
        )

    def acquire(self, ig_user_id: str, hashtag: str) -> bool:
        """Count a query of ``hashtag`` by ``ig_user_id`` now: ``True`` if it took a new slot,
        ``False`` if the hashtag was already in the window (free). Raises
        :class:`HashtagQuotaExceeded` when a new hashtag would exceed the limit."""
        tag = normalise_tag(hashtag)
        with self._lock:
            now = self._now()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    row = self._db.execute(
                        "SELECT first_queried_at FROM graph_hashtag_quota "
                        "WHERE ig_user_id = ? AND hashtag = ?",
                        (ig_user_id, tag),
                    ).fetchone()
                    if row is not None and float(row[0]) > now - self.window_s:
                        self._db.execute("COMMIT")
                        return False
                    active = self._active(ig_user_id, now)
                    if len(active) >= self.limit:
                        raise self._refusal(ig_user_id, tag, active)
                    # An expired row restarts: the hashtag counts anew from now.
                    self._db.execute(
                        "INSERT OR REPLACE INTO graph_hashtag_quota "
                        "(ig_user_id, hashtag, first_queried_at) VALUES (?, ?, ?)",
                        (ig_user_id, tag, now),
                    )
                    self._db.execute(
                        "DELETE FROM graph_hashtag_quota "
                        "WHERE ig_user_id = ? AND first_queried_at <= ?",
                        (ig_user_id, now - self.window_s),
                    )
                    self._db.execute("COMMIT")
                    return True
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: hashtag quota update failed: {exc}") from exc

    def check(self, ig_user_id: str, hashtag: str) -> None:
        """Raise :class:`HashtagQuotaExceeded` if querying ``hashtag`` now would be refused;
        records nothing."""
        tag = normalise_tag(hashtag)
        with self._lock:
            active = self._active(ig_user_id, self._now())
        if tag not in {name for name, _ in active} and len(active) >= self.limit:
            raise self._refusal(ig_user_id, tag, active)

    def used(self, ig_user_id: str) -> list[tuple[str, datetime]]:
        """The hashtags in the account's window with their first query time, oldest first."""
        with self._lock:
            active = self._active(ig_user_id, self._now())
        return [(tag, _utc(at)) for tag, at in active]

    def remaining(self, ig_user_id: str) -> int:
        """How many new hashtags the account may still query now."""
        return max(0, self.limit - len(self.used(ig_user_id)))

    def frees_at(self, ig_user_id: str) -> datetime | None:
        """When the next slot frees if all are taken now, else ``None``."""
        with self._lock:
            active = self._active(ig_user_id, self._now())
        if len(active) < self.limit:
            return None
        return _utc(active[len(active) - self.limit][1] + self.window_s)


class HashtagIdCache:
    """Hashtag name -> Graph hashtag id (ids are static and global): in memory, or in SQLite
    when ``path`` is given (then it survives restarts)."""

    def __init__(self, path: str | Path | None = None, *, now: Callable[[], float] = time.time):
        self.path = None if path is None else str(path)
        self._now = now
        self._lock = threading.Lock()
        self._memory: dict[str, str] = {}
        self._db = None if path is None else _connect(path, _IDS_SCHEMA)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()

    def get(self, hashtag: str) -> str | None:
        tag = normalise_tag(hashtag)
        with self._lock:
            if tag in self._memory or self._db is None:
                return self._memory.get(tag)
            try:
                row = self._db.execute(
                    "SELECT hashtag_id FROM graph_hashtag_ids WHERE hashtag = ?", (tag,)
                ).fetchone()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: hashtag id lookup failed: {exc}") from exc
            if row is None:
                return None
            self._memory[tag] = str(row[0])
            return self._memory[tag]

    def put(self, hashtag: str, hashtag_id: str) -> None:
        tag = normalise_tag(hashtag)
        with self._lock:
            self._memory[tag] = hashtag_id
            if self._db is None:
                return
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO graph_hashtag_ids (hashtag, hashtag_id, resolved_at) "
                    "VALUES (?, ?, ?)",
                    (tag, hashtag_id, self._now()),
                )
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: hashtag id store failed: {exc}") from exc
