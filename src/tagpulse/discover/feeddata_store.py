"""Feed data kept per lake state: the blend's sources read the lake once, not per request.

Loading :class:`~tagpulse.discover.feeddata.FeedData` reads every post of the lake (hashtags and
captions for the interests source, the window's posts for all of them) and the likes; the ALS
factors and tag similarities are then cached on it. A :class:`FeedDataStore` keeps the loaded
data per ``(platform, at)`` and hands it out again while the lake's posts, profiles and edge
files are the ones it was read from and the :class:`~tagpulse.discover.graph_store.GraphStore`
still holds the same graph; any new, changed or removed file means a fresh load (with the
graph store's incrementally grown graph).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from tagpulse.discover.feeddata import FeedData, load_feed_data
from tagpulse.discover.graph_store import FileStamp, GraphStore
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.storage import ObjectStorageUnsupported

__all__ = ["FeedDataStore", "LoadedFeedData", "lake_files"]

#: The tables ``load_feed_data`` reads (names and handles come from all three).
_TABLES = ("posts", "profiles", "edges")
Key = tuple[str | None, datetime | None]


def lake_files(query: LakeQuery, platform: str | None = None) -> tuple[FileStamp, ...]:
    """The Parquet files of the tables the feed reads (one platform's when given), as stamps
    (path under ``tables``, size, mtime)."""
    if not isinstance(query.tables_dir, Path):
        raise ObjectStorageUnsupported(str(query.tables_dir), "feed (its data cache)")
    base = query.tables_dir
    out = []
    for table in _TABLES:
        for path in (base / table).glob(f"platform={platform or '*'}/date=*/[!.]*.parquet"):
            try:
                st = path.stat()
            except FileNotFoundError:  # compacted away between glob and stat
                continue
            out.append(FileStamp(path.relative_to(base).as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True)
class LoadedFeedData:
    #: None when the lake has no posts (for that platform, by ``at``).
    data: FeedData | None
    #: "memory" when reused, "lake" when read for this call.
    how: Literal["memory", "lake"]


@dataclass(frozen=True, slots=True)
class _Entry:
    files: tuple[FileStamp, ...]
    data: FeedData | None


class FeedDataStore:
    """Feed data of one lake by ``(platform, at)``, reused while the lake is unchanged; safe to
    share between threads (one load per key at a time)."""

    def __init__(self, graphs: GraphStore, max_entries: int = 4) -> None:
        self.graphs = graphs
        self.query = graphs.query
        self.max_entries = max_entries
        self._entries: dict[Key, _Entry] = {}
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.Lock()
        #: How many times data was read from the lake (for tests and metrics).
        self.loads = 0

    def load(self, platform: str | None = None, at: datetime | None = None) -> LoadedFeedData:
        """The feed data as ``load_feed_data`` reads it now, with the graph store's graph."""
        key: Key = (platform, at)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            # stamped before reading, so a file landing during the read is seen as new next time
            files = lake_files(self.query, platform)
            graph = self.graphs.load(platform).graph
            hit = self._entries.get(key)
            reusable = hit is not None and hit.files == files
            if hit is not None and reusable and (hit.data is None or hit.data.graph is graph):
                return LoadedFeedData(hit.data, "memory")
            data = load_feed_data(self.query, at=at, platform=platform, graph=graph)
            self.loads += 1
            with self._guard:
                if len(self._entries) >= self.max_entries and key not in self._entries:
                    self._entries.clear()
                self._entries[key] = _Entry(files, data)
            return LoadedFeedData(data, "lake")
