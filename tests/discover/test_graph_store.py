"""The stored graph: appended edge files are merged into it (equal to a full rebuild, old node
ids kept), a compaction or a newly known handle rebuilds it, a restart reads it from disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tagpulse.discover.graph import SocialGraph, load_graph
from tagpulse.discover.graph_store import GraphStore, edge_files
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.schemas import EDGES
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import Edge, ParsedRecords, Profile

T0 = datetime(2026, 11, 1, tzinfo=UTC)
IG = "instagram"


def ties(graph: SocialGraph) -> dict[str, dict[tuple[str, str], float]]:
    """Every matrix of the graph by node names (independent of the node order)."""
    out: dict[str, dict[tuple[str, str], float]] = {}
    for name in ("weights", "follows", "likes"):
        m = getattr(graph, name).tocoo()
        out[name] = {
            (graph.nodes[r], graph.nodes[c]): float(v)
            for r, c, v in zip(m.row.tolist(), m.col.tolist(), m.data.tolist(), strict=True)
            if v != 0
        }
    return out


def follow(a: str, b: str, at: datetime = T0) -> Edge:
    return Edge(IG, a, b, "follows", at, f"f-{a}-{b}")


def like(a: str, b: str, post: str, at: datetime = T0) -> Edge:
    return Edge(IG, a, b, "liked", at, f"l-{a}-{post}-{at:%H}", post_id=post)


@pytest.fixture()
def lake(tmp_path: Path) -> Path:
    LakeWriter(tmp_path / "lake").append_records(ParsedRecords(edges=[
        follow("U", "A"), follow("U", "B"), follow("A", "C"),
        like("U", "B", "b1"), like("U", "B", "b2"), like("A", "C", "c1"),
    ]))  # fmt: skip
    return tmp_path


def test_first_load_equals_load_graph_and_is_reused(lake: Path) -> None:
    query = LakeQuery(lake / "lake")
    store = GraphStore(query, lake / "cache" / "discover")
    first = store.load()
    assert first.how == "full" and first.files_read == 1
    assert ties(first.graph) == ties(load_graph(query))
    assert ties(first.graph)["weights"][("U", "B")] == 2.0  # two liked posts
    assert store.load().how == "memory"
    # Another process (a restart) reads it from disk, touching no edge file.
    again = GraphStore(query, lake / "cache" / "discover").load()
    assert again.how == "disk" and again.files_read == 0
    assert again.graph.nodes == first.graph.nodes and ties(again.graph) == ties(first.graph)


def test_appended_edges_are_merged_and_old_ids_stay(lake: Path) -> None:
    query = LakeQuery(lake / "lake")
    store = GraphStore(query, lake / "cache" / "discover")
    before = store.load().graph
    writer = LakeWriter(lake / "lake")
    later = T0 + timedelta(hours=5)
    # b1 liked again (seen in a later collection: still one like), a new like, new accounts.
    writer.append_records(ParsedRecords(edges=[
        like("U", "B", "b1", later), like("U", "B", "b3", later), follow("AA", "U", later),
        follow("C", "ZZ", later), like("C", "A", "a1", later),
    ]))  # fmt: skip
    grown = store.load()
    assert grown.how == "incremental" and grown.files_read == 1
    full = load_graph(query)
    assert ties(grown.graph) == ties(full)
    assert ties(grown.graph)["likes"][("U", "B")] == 3.0
    # Old nodes keep their ids; the new ones come after them.
    assert grown.graph.nodes[: len(before.nodes)] == before.nodes
    assert set(grown.graph.nodes[len(before.nodes) :]) == {"AA", "ZZ"}
    # The full rebuild sorts the nodes instead: same graph, other ids.
    assert full.nodes != grown.graph.nodes and sorted(full.nodes) == sorted(grown.graph.nodes)
    # And the grown graph was persisted: a restart needs no edge file.
    assert GraphStore(query, lake / "cache" / "discover").load().how == "disk"


def test_compaction_and_forgotten_files_rebuild_in_full(lake: Path) -> None:
    query = LakeQuery(lake / "lake")
    store = GraphStore(query, lake / "cache" / "discover")
    store.load()
    writer = LakeWriter(lake / "lake")
    writer.append_records(ParsedRecords(edges=[follow("B", "D")]))
    assert store.load().how == "incremental"
    assert len(edge_files(query)) == 2
    writer.compact(EDGES)
    assert len(edge_files(query)) == 1
    rebuilt = store.load()
    assert rebuilt.how == "full" and rebuilt.files_read == 1
    assert ties(rebuilt.graph) == ties(load_graph(query))
    # A file removed without replacement (forget) also rebuilds, and drops its ties.
    for path in (query.tables_dir / EDGES).rglob("*.parquet"):
        path.unlink()
    writer.append_records(ParsedRecords(edges=[follow("X", "Y")]))
    gone = store.load()
    assert gone.how == "full" and set(gone.graph.nodes) == {"X", "Y"}


def test_a_handle_learned_later_moves_its_node_by_a_rebuild(lake: Path) -> None:
    query = LakeQuery(lake / "lake")
    store = GraphStore(query, lake / "cache" / "discover")
    writer = LakeWriter(lake / "lake")
    writer.append_records(ParsedRecords(edges=[
        Edge(IG, "U", "@zed", "mentioned", T0, "m1", post_id="u9"),
    ]))  # fmt: skip
    assert "@zed" in store.load().graph.index
    # The profile tells zed's id: no new edge file, but the node must become "Z".
    writer.append_records(ParsedRecords(profiles=[Profile(IG, "Z", "zed", T0, "p")]))
    moved = store.load()
    assert moved.how == "full" and "Z" in moved.graph.index and "@zed" not in moved.graph.index
    assert ties(moved.graph) == ties(load_graph(query))


def test_platform_graphs_are_apart_and_a_damaged_cache_is_rebuilt(lake: Path) -> None:
    query = LakeQuery(lake / "lake")
    LakeWriter(lake / "lake").append_records(ParsedRecords(edges=[
        Edge("tiktok", "T1", "T2", "follows", T0, "t"),
    ]))  # fmt: skip
    store = GraphStore(query, lake / "cache" / "discover")
    tiktok = store.load("tiktok").graph
    assert tiktok.nodes == ("T1", "T2")
    assert ties(store.load(IG).graph) == ties(load_graph(query, platform=IG))
    assert set(store.load().graph.nodes) >= {"T1", "U"}
    store.path(IG).write_bytes(b"not an npz")
    fresh = GraphStore(query, lake / "cache" / "discover").load(IG)
    assert fresh.how == "full" and ties(fresh.graph) == ties(load_graph(query, platform=IG))
    assert np.array_equal(fresh.graph.weights.indptr, store.load(IG).graph.weights.indptr)
