"""Workspace watchlists in the catalog: what each workspace tracks, and so what it may see.

An entry is a watchlist line (``nike``, ``tiktok:#nike``, ``@handle``, a post link), validated
by the same rules as ``tags.txt``. A workspace's data views (timelines, snapshots, posts,
insights) cover the tags and accounts on its watchlist, and nothing else; the collector tracks
the union of every workspace's entries (:meth:`WatchlistStore.write_tags_file`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tagpulse.collect.watchlist import WatchEntry, parse_watchlist
from tagpulse.errors import InputError, StorageError
from tagpulse.service.auth_store import AuthStore

__all__ = ["WatchItem", "WatchlistStore"]

WATCHLIST_SCHEMA = """
CREATE TABLE IF NOT EXISTS watchlist_entries (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    platform TEXT NOT NULL,
    tag TEXT NOT NULL,
    interval_s REAL NOT NULL,
    added_by TEXT NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (workspace_id, platform, tag)
);
"""

_MIN_INTERVAL_S = 60.0
_MAX_INTERVAL_S = 7 * 86400.0


@dataclass(slots=True, frozen=True)
class WatchItem:
    platform: str
    tag: str
    interval_s: float
    added_by: str
    added_at: float

    @property
    def kind(self) -> str:
        return (
            "account"
            if self.tag.startswith("@")
            else "post"
            if self.tag.startswith("p/")
            else "tag"
        )


class WatchlistStore(AuthStore):
    """The service catalog: users and keys (:class:`AuthStore`) plus watchlists."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._conn().executescript(WATCHLIST_SCHEMA)

    def _workspace_id(self, workspace: str) -> int:
        rows = self.query("SELECT id FROM workspaces WHERE name = ?", (workspace,))
        if not rows:
            raise InputError(f"no workspace {workspace!r}", field="workspace")
        return int(rows[0][0])

    @staticmethod
    def parse_entry(line: str) -> WatchEntry:
        """One watchlist line, validated like a ``tags.txt`` line."""
        if "\n" in line or "\r" in line:
            raise InputError("one entry at a time: no line breaks", field="entry")
        entries = parse_watchlist(line, "entry")
        if len(entries) != 1:
            raise InputError("an entry is one tag, @handle or post link", field="entry")
        return entries[0]

    def add(self, workspace: str, line: str, *, interval_s: float, user: str) -> WatchItem:
        if not _MIN_INTERVAL_S <= interval_s <= _MAX_INTERVAL_S:
            raise InputError(
                f"interval must be between {_MIN_INTERVAL_S:.0f}s and {_MAX_INTERVAL_S:.0f}s, "
                f"got {interval_s:g}s",
                field="interval_s",
            )
        entry = self.parse_entry(line)
        workspace_id = self._workspace_id(workspace)
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO watchlist_entries VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (workspace_id, platform, tag) DO UPDATE SET "
                "interval_s = excluded.interval_s",
                (workspace_id, entry.platform, entry.tag, interval_s, user, now),
            )
        return next(
            i for i in self.items(workspace) if (i.platform, i.tag) == (entry.platform, entry.tag)
        )

    def remove(self, workspace: str, platform: str, tag: str) -> bool:
        workspace_id = self._workspace_id(workspace)
        with self._tx() as db:
            cur = db.execute(
                "DELETE FROM watchlist_entries WHERE workspace_id = ? AND platform = ? AND tag = ?",
                (workspace_id, platform, tag),
            )
        return cur.rowcount > 0

    def items(self, workspace: str) -> list[WatchItem]:
        rows = self.query(
            "SELECT e.platform, e.tag, e.interval_s, e.added_by, e.added_at "
            "FROM watchlist_entries e JOIN workspaces w ON w.id = e.workspace_id WHERE w.name = ? "
            "ORDER BY e.platform, e.tag",
            (workspace,),
        )
        return [WatchItem(*r) for r in rows]

    def watched(self, workspace: str) -> set[tuple[str, str]]:
        """``(platform, tag)`` pairs a workspace may see."""
        return {(i.platform, i.tag) for i in self.items(workspace)}

    def all_entries(self) -> list[tuple[str, str, float]]:
        """Every workspace's entries, merged: ``(platform, tag, shortest interval)``."""
        rows = self.query(
            "SELECT platform, tag, min(interval_s) FROM watchlist_entries "
            "GROUP BY platform, tag ORDER BY platform, tag"
        )
        return [(p, t, float(i)) for p, t, i in rows]

    def write_tags_file(self, path: Path) -> int:
        """Write the union of the watchlists as a ``tags.txt`` the collector reads (atomic)."""
        # A post link carries its platform; every other entry is written platform:entry.
        lines = [t if t.startswith("p/") else f"{p}:{t}" for p, t, _ in self.all_entries()]
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise StorageError(f"could not write {path}: {exc}") from exc
        return len(lines)
