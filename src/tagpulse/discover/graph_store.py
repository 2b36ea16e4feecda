"""The social graph kept between runs: built once, then grown from the lake's new edge files.

A :class:`GraphStore` persists, per platform (or for all platforms), under
``<home>/cache/discover/``:

* the graph (node names and the CSR arrays of :class:`~tagpulse.discover.graph.SocialGraph`);
* what it was built from: the raw ``(src, dst, kind)`` ties with their counts, a sorted set of
  64-bit fingerprints of every distinct interaction ``(src, dst, kind, post_id)`` (so an
  interaction seen again in a new file is not counted twice, as ``load_graph`` counts each
  post once), and the edge files read (relative name, size, mtime; on object storage the
  object's size and last-modified time, from one listing).

On the next :meth:`GraphStore.load` only edge files that are not in that list are read; their
new interactions are added and the graph rebuilt from the ties in memory, with old nodes keeping
their ids and new nodes appended (in name order). A file that is gone or has changed (a
compaction, ``tagpulse forget``) means a full rebuild, as does an ``@handle`` end whose account
id the lake has since learned (its node would merge into another). The result always equals
``load_graph`` on the same lake, up to the order of the nodes.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import orjson
import scipy.sparse

from tagpulse.discover.graph import EdgeWeights, SocialGraph, build_graph, load_names
from tagpulse.errors import StorageError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.schemas import EDGES

__all__ = ["FileStamp", "GraphStore", "LoadedGraph", "edge_files"]

#: Bumped when the stored layout changes: an older cache is rebuilt, not misread.
_FORMAT = 1
_KINDS = ("follows", "liked", "commented", "mentioned", "tagged")
_SEP = "chr(31)"

log = logging.getLogger(__name__)
How = Literal["memory", "disk", "incremental", "full"]


@dataclass(frozen=True, slots=True, order=True)
class FileStamp:
    """An edge file as it was when read: its path under ``tables/edges``, size and mtime."""

    name: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class LoadedGraph:
    graph: SocialGraph
    #: Where it came from: this process's memory, the disk cache, the cache plus new files,
    #: or every edge file.
    how: How
    #: Edge files read from the lake for this load.
    files_read: int


def edge_files(query: LakeQuery, platform: str | None = None) -> list[FileStamp]:
    """The lake's edge files now (one platform's when given), sorted by name: local files with
    their size and mtime, or objects with their size and last-modified time."""
    pattern = f"platform={platform or '*'}/date=*/[!.]*.parquet"
    if query.store is not None:
        prefix = query.store.key("tables", EDGES) + "/"
        return sorted(
            FileStamp(key.removeprefix(prefix), size, mtime_ns)
            for key, size, mtime_ns in query.store.stats(f"tables/{EDGES}/{pattern}")
        )
    base = Path(query.tables_dir) / EDGES
    out = []
    for path in base.glob(pattern):
        try:
            st = path.stat()
        except FileNotFoundError:  # compacted away between glob and stat
            continue
        out.append(FileStamp(path.relative_to(base).as_posix(), st.st_size, st.st_mtime_ns))
    return sorted(out)


def _edge_path(query: LakeQuery, name: str) -> str:
    """Where DuckDB reads the edge file ``name`` (a path under ``tables/edges``)."""
    if query.store is not None:
        return query.store.url_of(query.store.key("tables", EDGES, name))
    return str(Path(query.tables_dir) / EDGES / name)


@dataclass(slots=True)
class _State:
    """Everything persisted for one graph."""

    files: list[FileStamp]
    #: Raw endpoint names (ids, or ``@handle`` where the id was not known), in id order.
    raw: list[str]
    #: The graph node each raw name maps to (its account id once the handle is known).
    mapped: list[str]
    tie_src: npt.NDArray[np.int32]
    tie_dst: npt.NDArray[np.int32]
    tie_kind: npt.NDArray[np.int8]
    tie_count: npt.NDArray[np.float64]
    #: Sorted fingerprints of the distinct interactions.
    seen: npt.NDArray[np.uint64]
    graph: SocialGraph


class GraphStore:
    """Graphs of one lake, cached in memory and under ``cache_dir``; safe to share between
    threads (one load per graph at a time)."""

    def __init__(
        self, query: LakeQuery, cache_dir: Path, weights: EdgeWeights | None = None
    ) -> None:
        self.query = query
        self.cache_dir = cache_dir
        self.weights = weights or EdgeWeights()
        self._states: dict[str, _State] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _key(self, platform: str | None) -> str:
        return platform or "_all"

    def path(self, platform: str | None) -> Path:
        """The cache file of one platform's graph (``_all`` for every platform)."""
        return self.cache_dir / f"graph-{self._key(platform)}.npz"

    def load(self, platform: str | None = None, *, full: bool = False) -> LoadedGraph:
        """The graph of the lake's edges now (one platform's when given); ``full`` ignores the
        cache."""
        key = self._key(platform)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            files = edge_files(self.query, platform)
            state = None if full else self._states.get(key)
            how: How = "memory"
            if state is None and not full:
                state, how = self._read(platform), "disk"
            if state is not None:
                remapped = self._map(state.raw, platform) != state.mapped
                if state.files == files and not remapped:
                    self._states[key] = state
                    return LoadedGraph(state.graph, how, 0)
                old = set(state.files)
                if old <= set(files) and not remapped:
                    new = [f for f in files if f not in old]
                    grown = self._grow(state, new, platform)
                    if grown is not None:
                        self._keep(key, grown, platform)
                        return LoadedGraph(grown.graph, "incremental", len(new))
            fresh = self._build(files, platform)
            self._keep(key, fresh, platform)
            return LoadedGraph(fresh.graph, "full", len(files))

    # --- building -------------------------------------------------------------------------

    def _interactions(
        self, files: Sequence[FileStamp], platform: str | None
    ) -> tuple[list[str], list[str], list[str], npt.NDArray[np.uint64]]:
        """The distinct interactions in ``files``: src, dst, kind and fingerprint of each."""
        if not files:
            return [], [], [], np.zeros(0, dtype=np.uint64)
        base = f"{self.query.tables_dir}/{EDGES}"
        paths = [_edge_path(self.query, f.name) for f in files]
        where = "AND platform = ?" if platform else ""
        con = self.query.connect([])
        try:
            table = con.sql(
                "SELECT src, dst, kind, md5_number_lower(concat_ws("
                f"{_SEP}, src, dst, kind, coalesce(post_id, ''))) AS h "
                "FROM read_parquet(?, hive_partitioning = true, union_by_name = true, "
                "hive_types = {'platform': VARCHAR, 'date': DATE}) "
                f"WHERE src IS NOT NULL AND dst IS NOT NULL AND list_contains(?, kind) {where} "
                "GROUP BY ALL",
                params=[paths, list(_KINDS), *([platform] if platform else [])],
            ).to_arrow_table()
        except Exception as exc:  # a file compacted away mid-read, or a broken file
            raise StorageError(f"reading edge files under {base} failed: {exc}") from exc
        finally:
            con.close()
        return (
            [str(x) for x in table.column("src").to_pylist()],
            [str(x) for x in table.column("dst").to_pylist()],
            [str(x) for x in table.column("kind").to_pylist()],
            table.column("h").to_numpy(zero_copy_only=False).astype(np.uint64),
        )

    def _build(self, files: list[FileStamp], platform: str | None) -> _State:
        src, dst, kind, seen = self._interactions(files, platform)
        empty_i = np.zeros(0, dtype=np.int32)
        state = _State(
            files=[],
            raw=[],
            mapped=[],
            tie_src=empty_i,
            tie_dst=empty_i,
            tie_kind=np.zeros(0, dtype=np.int8),
            tie_count=np.zeros(0),
            seen=np.zeros(0, dtype=np.uint64),
            graph=build_graph([], [], [], [], self.weights),
        )
        grown = self._merge(state, src, dst, kind, seen, files, platform, keep_order=False)
        if grown is None:  # cannot happen from an empty state
            raise StorageError("building the social graph from scratch failed")
        return grown

    def _grow(self, state: _State, new: list[FileStamp], platform: str | None) -> _State | None:
        src, dst, kind, seen = self._interactions(new, platform)
        return self._merge(state, src, dst, kind, seen, sorted(state.files + new), platform, True)

    def _merge(
        self,
        state: _State,
        src: list[str],
        dst: list[str],
        kind: list[str],
        fingerprints: npt.NDArray[np.uint64],
        files: list[FileStamp],
        platform: str | None,
        keep_order: bool,
    ) -> _State | None:
        """``state`` plus the interactions not seen before; None when old nodes would change."""
        fresh = ~np.isin(fingerprints, state.seen)
        # Duplicates among the new rows themselves were merged by the query's GROUP BY.
        pick = np.flatnonzero(fresh)
        raw = list(state.raw)
        at = {name: i for i, name in enumerate(raw)}
        for i in pick.tolist():
            for name in (src[i], dst[i]):
                if name not in at:
                    at[name] = len(raw)
                    raw.append(name)
        new_src = np.array([at[src[i]] for i in pick.tolist()], dtype=np.int32)
        new_dst = np.array([at[dst[i]] for i in pick.tolist()], dtype=np.int32)
        codes = {k: j for j, k in enumerate(_KINDS)}
        new_kind = np.array([codes[kind[i]] for i in pick.tolist()], dtype=np.int8)
        tie_src = np.concatenate([state.tie_src, new_src])
        tie_dst = np.concatenate([state.tie_dst, new_dst])
        tie_kind = np.concatenate([state.tie_kind, new_kind])
        tie_count = np.concatenate([state.tie_count, np.ones(len(pick))])
        tie_src, tie_dst, tie_kind, tie_count = _sum_ties(tie_src, tie_dst, tie_kind, tie_count)
        mapped = self._map(raw, platform)
        if keep_order and mapped[: len(state.mapped)] != state.mapped:
            return None  # an @handle end now resolves to an id: its node would move
        names = np.asarray(mapped, dtype=object)
        graph = build_graph(
            names[tie_src].tolist(),
            names[tie_dst].tolist(),
            [_KINDS[k] for k in tie_kind.tolist()],
            tie_count,
            self.weights,
        )
        if keep_order:
            ordered = _reorder(graph, state.graph.nodes)
            if ordered is None:
                return None
            graph = ordered
        seen = np.union1d(state.seen, fingerprints[fresh]).astype(np.uint64)
        return _State(list(files), raw, mapped, tie_src, tie_dst, tie_kind, tie_count, seen, graph)

    def _map(self, raw: list[str], platform: str | None) -> list[str]:
        """Each raw name's node: ``@handle`` ends become the account's id where known."""
        if not any(name.startswith("@") for name in raw):
            return list(raw)
        ids = load_names(self.query, platform).ids
        return [ids.get(x[1:].lower(), x) if x.startswith("@") else x for x in raw]

    # --- persistence ----------------------------------------------------------------------

    def _keep(self, key: str, state: _State, platform: str | None) -> None:
        self._states[key] = state
        self._write(platform, state)

    def _write(self, platform: str | None, state: _State) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        g = state.graph
        meta = {
            "format": _FORMAT,
            "platform": platform,
            "weights": [self.weights.like, self.weights.comment, self.weights.mention,
                        self.weights.follow],
            "files": [[f.name, f.size, f.mtime_ns] for f in state.files],
        }  # fmt: skip
        arrays: dict[str, Any] = {
            "meta": np.frombuffer(orjson.dumps(meta), dtype=np.uint8),
            "raw": np.asarray(state.raw, dtype=str),
            "mapped": np.asarray(state.mapped, dtype=str),
            "nodes": np.asarray(g.nodes, dtype=str),
            "tie_src": state.tie_src,
            "tie_dst": state.tie_dst,
            "tie_kind": state.tie_kind,
            "tie_count": state.tie_count,
            "seen": state.seen,
        }
        for name in ("weights", "follows", "likes"):
            m: scipy.sparse.csr_array = getattr(g, name)
            arrays[f"{name}_indptr"] = m.indptr
            arrays[f"{name}_indices"] = m.indices
            arrays[f"{name}_data"] = m.data
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".graph-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, **arrays)
            os.replace(tmp, self.path(platform))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, platform: str | None) -> _State | None:
        """The stored state, or None when there is none or it is of another format/weights
        (then it is rebuilt, never misread)."""
        path = self.path(platform)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = orjson.loads(z["meta"].tobytes())
                weights = [self.weights.like, self.weights.comment, self.weights.mention,
                           self.weights.follow]  # fmt: skip
                if meta.get("format") != _FORMAT or meta.get("weights") != weights:
                    return None
                nodes = tuple(str(x) for x in z["nodes"].tolist())
                n = len(nodes)
                mats = {
                    name: scipy.sparse.csr_array(
                        (z[f"{name}_data"], z[f"{name}_indices"], z[f"{name}_indptr"]),
                        shape=(n, n),
                    )
                    for name in ("weights", "follows", "likes")
                }
                return _State(
                    files=[FileStamp(str(a), int(b), int(c)) for a, b, c in meta["files"]],
                    raw=[str(x) for x in z["raw"].tolist()],
                    mapped=[str(x) for x in z["mapped"].tolist()],
                    tie_src=z["tie_src"].astype(np.int32),
                    tie_dst=z["tie_dst"].astype(np.int32),
                    tie_kind=z["tie_kind"].astype(np.int8),
                    tie_count=z["tie_count"].astype(np.float64),
                    seen=z["seen"].astype(np.uint64),
                    graph=SocialGraph(
                        nodes=nodes,
                        index={name: i for i, name in enumerate(nodes)},
                        weights=mats["weights"],
                        follows=mats["follows"],
                        likes=mats["likes"],
                    ),
                )
        except (OSError, ValueError, KeyError, orjson.JSONDecodeError) as exc:
            # A damaged cache costs one rebuild, not an error.
            log.warning("ignoring the graph cache %s: %s", path, exc)
            return None


def _sum_ties(
    src: npt.NDArray[np.int32],
    dst: npt.NDArray[np.int32],
    kind: npt.NDArray[np.int8],
    count: npt.NDArray[np.float64],
) -> tuple[
    npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int8], npt.NDArray[np.float64]
]:
    """One row per (src, dst, kind), counts added."""
    if len(src) == 0:
        return src, dst, kind, count
    key = np.stack([src.astype(np.int64), dst.astype(np.int64), kind.astype(np.int64)], axis=1)
    unique, inverse = np.unique(key, axis=0, return_inverse=True)
    total = np.bincount(inverse.ravel(), weights=count, minlength=len(unique))
    return (
        unique[:, 0].astype(np.int32),
        unique[:, 1].astype(np.int32),
        unique[:, 2].astype(np.int8),
        total.astype(np.float64),
    )


def _reorder(graph: SocialGraph, old_nodes: Sequence[str]) -> SocialGraph | None:
    """``graph`` with ``old_nodes`` first, in their order, and the other nodes after them (in
    name order); None when an old node is missing."""
    if any(name not in graph.index for name in old_nodes):
        return None
    old = set(old_nodes)
    order = list(old_nodes) + [name for name in graph.nodes if name not in old]
    perm = np.array([graph.index[name] for name in order], dtype=np.int64)

    def permuted(m: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
        out = scipy.sparse.csr_array(m[perm][:, perm])
        out.sort_indices()
        return out

    nodes = tuple(order)
    return SocialGraph(
        nodes=nodes,
        index={name: i for i, name in enumerate(nodes)},
        weights=permuted(graph.weights),
        follows=permuted(graph.follows),
        likes=permuted(graph.likes),
    )
