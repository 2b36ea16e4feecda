"""Feed data on the graph store's graph, kept per lake state: the same candidates and reasons
as data read with its own graph, read again only when the lake's files change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tagpulse.discover.blend import SOURCES, build_source_feed
from tagpulse.discover.feeddata import FeedData, load_feed_data
from tagpulse.discover.feeddata_store import FeedDataStore, lake_files
from tagpulse.discover.graph_store import GraphStore
from tagpulse.discover.sources import Candidate
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import Edge, ParsedRecords, Post, Profile

IG = "instagram"
SEEN = datetime(2026, 11, 11, tzinfo=UTC)


def _post(pid: str, owner: str, age_h: float, likes: int, *tags: str) -> Post:
    return Post(IG, pid, SEEN, "r", owner_id=owner, owner_handle=owner.lower(),
                taken_at=SEEN - timedelta(hours=age_h), likes=likes, comments=1,
                hashtags=list(tags))  # fmt: skip


def _follows(*pairs: tuple[str, str]) -> list[Edge]:
    return [Edge(IG, a, b, "follows", SEEN, "f") for a, b in pairs]


def _like(user: str, owner: str, pid: str) -> Edge:
    return Edge(IG, user, owner, "liked", SEEN, "e", post_id=pid)


def _write(home: Path, posts: list[Post], edges: list[Edge]) -> None:
    names = sorted(
        {e.src for e in edges} | {e.dst for e in edges} | {p.owner_id or "" for p in posts}
    )
    profiles = [Profile(IG, x, x.lower(), SEEN, "p") for x in names if x]
    LakeWriter(home / "lake").append_records(
        ParsedRecords(posts=posts, profiles=profiles, edges=edges)
    )


def _view(items: list[Candidate]) -> list[tuple[str, str, str]]:
    return [(c.post.post_id, c.source, c.reason) for c in items]


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """U follows A and B, liked B's b0 (#run); A follows C, B follows D; W liked c1 and e1."""
    posts = [
        _post("a1", "A", 3, 50), _post("b0", "B", 24 * 10, 5, "run"), _post("b1", "B", 4, 20),
        _post("c1", "C", 2, 80, "run"), _post("d1", "D", 6, 300), _post("e1", "E", 1, 900, "run"),
    ]  # fmt: skip
    edges = _follows(("U", "A"), ("U", "B"), ("A", "C"), ("B", "D"))
    edges += [_like("U", "B", "b0"), _like("W", "C", "c1"), _like("W", "E", "e1")]
    _write(tmp_path, posts, edges)
    return tmp_path


def _same_sources(kept: FeedData, fresh: FeedData, user: str) -> None:
    for name, source in SOURCES.items():
        got, want = source(kept, user, 10), source(fresh, user, 10)
        assert _view(got) == _view(want), name
        assert [c.score for c in got] == pytest.approx([c.score for c in want], rel=1e-9)


def test_reused_until_the_lake_changes_and_equal_to_a_fresh_read(home: Path) -> None:
    query = LakeQuery(home / "lake")
    store = FeedDataStore(GraphStore(query, home / "cache"))
    first = store.load(IG)
    assert first.how == "lake" and first.data is not None
    again = store.load(IG)
    assert again.how == "memory" and again.data is first.data and store.loads == 1
    fresh = load_feed_data(query, platform=IG)
    assert fresh is not None and first.data.graph.nodes == fresh.graph.nodes
    _same_sources(first.data, fresh, "U")
    # "0X", a new account named before every old one, is appended to the kept graph's nodes
    # (old ids stay), so node order no longer follows names: the reasons must not change.
    _write(home, [_post("f1", "F", 1, 40)],
           _follows(("U", "0X"), ("0X", "C"), ("0X", "F"), ("A", "F")))  # fmt: skip
    grown = store.load(IG)
    assert grown.how == "lake" and grown.data is not None and store.loads == 2
    nodes = grown.data.graph.nodes
    assert nodes.index("0X") > nodes.index("A") and "f1" in {p.post_id for p in grown.data.posts}
    fresh = load_feed_data(query, platform=IG)
    assert fresh is not None and fresh.graph.nodes[0] == "0X"
    _same_sources(grown.data, fresh, "U")
    fof = {c.post.post_id: c.reason for c in SOURCES["fof"](grown.data, "U", 10)}
    assert fof["c1"] == fof["f1"] == "followed by @0x and 1 other you follow"


def test_a_changed_file_reads_again(home: Path) -> None:
    query = LakeQuery(home / "lake")
    store = FeedDataStore(GraphStore(query, home / "cache"))
    store.load(IG)
    before = lake_files(query, IG)
    assert {f.name.split("/")[0] for f in before} == {"posts", "profiles", "edges"}
    _write(home, [_post("g1", "G", 1, 10**4)], [])  # a post file only; the graph is the same
    kept = store.load(IG)
    assert kept.how == "lake" and kept.data is not None and store.loads == 2
    assert "g1" in {p.post_id for p in kept.data.posts}
    # An ``at`` of its own is another entry; the lake without posts for a platform is None.
    assert store.load(IG, SEEN - timedelta(hours=3)).how == "lake"
    assert store.load("tiktok").data is None


def test_build_source_feed_with_the_kept_graph_equals_its_own(home: Path) -> None:
    query = LakeQuery(home / "lake")
    graphs = GraphStore(query, home / "cache")
    graphs.load(IG)
    _write(home, [], _follows(("U", "0X"), ("0X", "D")))
    loaded = graphs.load(IG)
    assert loaded.how == "incremental"
    for seed in (0, 1, 2):
        kept = build_source_feed(query, "@u", n=6, platform=IG, seed=seed, graph=loaded.graph)
        own = build_source_feed(query, "@u", n=6, platform=IG, seed=seed)
        assert [(i.post_id, i.source, i.why) for i in kept.items] == [
            (i.post_id, i.source, i.why) for i in own.items
        ]
        assert kept.candidates == own.candidates
