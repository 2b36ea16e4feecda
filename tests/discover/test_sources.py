"""The feed's sources on a hand-built lake whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tagpulse.discover.als import als_source
from tagpulse.discover.feeddata import FeedData, hide_likes, load_feed_data
from tagpulse.discover.interests import interest_profile, interests_source
from tagpulse.discover.sources import fof_source, network_source, popular_source
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import Edge, ParsedRecords, Post

T0 = datetime(2026, 11, 1, tzinfo=UTC)
IG = "instagram"
SEEN = T0 + timedelta(days=10)


def post(pid: str, owner: str, age_h: float, likes: int, tags: tuple[str, ...] = ()) -> Post:
    return Post(IG, pid, SEEN, "r", owner_id=owner, owner_handle=owner.lower(),
                taken_at=SEEN - timedelta(hours=age_h), likes=likes, comments=0,
                hashtags=list(tags))  # fmt: skip


def like(user: str, owner: str, pid: str) -> Edge:
    return Edge(IG, user, owner, "liked", SEEN, "e", post_id=pid)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> FeedData:
    """U follows A; A follows C and D; U liked D's old post (#cake) and wrote u0 (#cake
    #baking). E posts about cake, baking and football. L1-L4 liked q1-q3, M1-M4 liked r1-r3,
    V liked q1 and q2."""
    home = tmp_path_factory.mktemp("sources")
    posts = [
        post("a1", "A", 5, 100),
        post("c1", "C", 5, 100),
        post("d1", "D", 5, 100),
        post("d-old", "D", 24 * 20, 10, ("cake",)),
        post("u0", "U", 24 * 20, 10, ("cake", "baking")),
        post("e1", "E", 5, 10, ("baking",)),
        post("e2", "E", 5, 1000, ("cake",)),
        post("e3", "E", 5, 5000, ("football",)),
        *(post(f"q{i}", "Q", 3, 20) for i in (1, 2, 3)),
        *(post(f"r{i}", "R", 3, 20) for i in (1, 2, 3)),
    ]
    edges = [Edge(IG, a, b, "follows", SEEN, "f") for a, b in (("U", "A"), ("A", "C"), ("A", "D"))]
    edges.append(like("U", "D", "d-old"))
    for i in range(1, 5):
        edges += [like(f"L{i}", "Q", f"q{j}") for j in (1, 2, 3)]
        edges += [like(f"M{i}", "R", f"r{j}") for j in (1, 2, 3)]
    edges += [like("V", "Q", "q1"), like("V", "Q", "q2")]
    LakeWriter(home / "lake").append_records(ParsedRecords(posts=posts, edges=edges))
    loaded = load_feed_data(LakeQuery(home / "lake"))
    assert loaded is not None
    return loaded


def test_feed_data(data: FeedData) -> None:
    assert data.at == SEEN
    assert {p.post_id for p in data.posts} == {"a1", "c1", "d1", "e1", "e2", "e3", "q1", "q2",
                                               "q3", "r1", "r2", "r3"}  # fmt: skip
    assert data.liked["U"] == {"d-old"} and data.hashtags["u0"] == ("cake", "baking")
    rest = hide_likes(data, {"V": {"q2"}})
    assert rest.liked["V"] == {"q1"} and data.liked["V"] == {"q1", "q2"}
    v, q = rest.graph.node("V"), rest.graph.node("Q")
    assert v is not None and q is not None and rest.graph.likes[v, q] == 1


def test_network_source_reasons(data: FeedData) -> None:
    items = network_source(data, "U", 10)
    reasons = {c.post.post_id: c.reason for c in items}
    assert reasons["a1"] == "because you follow @a"
    assert reasons["d1"] == "because you liked @d"  # a like tie outweighs the 2-hop path
    assert reasons["c1"] == "2 hops via @a"
    assert all(c.source == "network" and c.ppr > 0 for c in items)
    assert network_source(data, "nobody", 10) == []


def test_fof_source(data: FeedData) -> None:
    items = fof_source(data, "U", 10)
    # C and D are followed by A (U's only friend); U liked D's posts, so D comes first.
    assert [c.post.post_id for c in items] == ["d1", "c1"]
    assert items[0].reason == "because you liked @d"
    assert items[1].reason == "followed by @a"
    assert items[0].score == pytest.approx(3 * items[1].score)
    assert fof_source(data, "C", 10) == []  # follows nobody


def test_interests_source(data: FeedData) -> None:
    profile = interest_profile(data, "U")
    assert profile == {"cake": 2.0, "baking": 1.0}  # football never co-occurs with them
    items = interests_source(data, "U", 10)
    assert [c.post.post_id for c in items] == ["e2", "e1"]
    assert items[0].reason == "popular in #cake" and items[1].reason == "popular in #baking"
    assert interests_source(data, "C", 10) == []


def test_popular_source(data: FeedData) -> None:
    items = popular_source(data, "U", 3)
    assert [c.post.post_id for c in items] == ["e3", "e2", "a1"]
    assert items[0].reason == "popular this week (5,000 likes)"
    assert "e3" not in {c.post.post_id for c in popular_source(data, "E", 20)}  # own posts


def test_als_recommends_what_similar_users_liked(data: FeedData) -> None:
    items = als_source(data, "V", 3)
    assert items and items[0].post.post_id == "q3"
    assert items[0].reason == "liked by people like you" and items[0].source == "als"
    assert {"q1", "q2"}.isdisjoint(c.post.post_id for c in items)
    assert als_source(data, "U", 3) is not None and als_source(data, "nobody", 3) == []
    # reproducible: the same likes give the same scores
    again = als_source(hide_likes(data, {}), "V", 3)
    assert [(c.post.post_id, c.score) for c in again] == [(c.post.post_id, c.score) for c in items]
