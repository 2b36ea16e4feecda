"""The feed: a hand-built lake whose order is known, and the sandbox social world against its
truth (posts of followed accounts, ranked by the study's formula)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.discover.feed import build_feed, post_score
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.world import DAY, World
from tagpulse.records import Edge, ParsedRecords, Post, Profile
from tests.discover.social_lake import write_social_lake

T0 = datetime(2026, 11, 1, tzinfo=UTC)
IG = "instagram"


def day(d: float) -> datetime:
    return T0 + timedelta(days=d)


# --- a hand-built lake -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """U follows A and B and liked three of B's posts; A follows C; B follows U; D follows U
    (D is not reachable from U). Posts in the last 7 days before day 10 by A, B, C, D and U."""
    home = tmp_path_factory.mktemp("small")
    seen = day(10)

    def post(
        pid: str,
        owner: str,
        at: float,
        likes: int | None,
        comments: int = 0,
        collected: datetime = seen,
    ) -> Post:
        return Post(IG, pid, collected, "r", owner_id=owner, owner_handle=owner.lower(),
                    taken_at=day(at), likes=likes, comments=comments)  # fmt: skip

    posts = [
        post("a1", "A", 9.6, 10, 1, collected=day(9.7)),  # an earlier observation of a1
        post("a1", "A", 9.5, 100, 10),
        post("a0", "A", 9.7, 0),  # no likes: scores 0
        post("a-old", "A", 2.0, 5000),  # more than 7 days old
        post("b1", "B", 9.0, 50, 0),
        post("b2", "B", 9.9, 5, 3),
        post("b-liked", "B", 9.5, 400),  # U liked it already
        post("c1", "C", 9.8, 1000, 100),
        post("d1", "D", 9.9, 1_000_000),  # no tie from U
        post("u1", "U", 9.9, 1_000_000),  # U's own
    ]
    likes = [Edge(IG, "U", "B", "liked", seen, "e", post_id=p) for p in ("b-old1", "b-old2")]
    likes += [
        Edge(IG, "U", "B", "liked", seen, "e", post_id="b-liked"),
        Edge(IG, "U", "B", "liked", day(9.8), "e0", post_id="b-liked"),  # seen twice: one like
    ]
    follows = [
        Edge(IG, a, b, "follows", seen, "f", src_handle=a.lower(), dst_handle=b.lower())
        for a, b in (("U", "A"), ("U", "B"), ("A", "C"), ("B", "U"), ("D", "U"))
    ]
    profiles = [Profile(IG, x, x.lower(), seen, "p") for x in "UABCD"]
    LakeWriter(home / "lake").append_records(
        ParsedRecords(posts=posts, profiles=profiles, edges=likes + follows)
    )
    return home


def test_feed_order_on_a_small_lake(small: Path) -> None:
    feed = build_feed(LakeQuery(small / "lake"), "@u")
    assert feed.user == "U" and feed.at == day(10)
    # Weights: U->A 0.5 (follow only), U->B 3 (three liked posts), A->C 0.5, B->U 0.5, D->U 0.5.
    g = nx.DiGraph()
    g.add_weighted_edges_from(
        [("U", "A", 0.5), ("U", "B", 3.0), ("A", "C", 0.5), ("B", "U", 0.5), ("D", "U", 0.5)]
    )
    ppr = nx.pagerank(g, personalization={"U": 1.0}, tol=1e-14, max_iter=10_000)
    hours = 3600.0
    expected = {
        "a1": post_score(100, 10, ppr["A"], 12 * hours, 0.5),  # the latest observation
        "b1": post_score(50, 0, ppr["B"], 24 * hours, 3.0),
        "b2": post_score(5, 3, ppr["B"], 2.4 * hours, 3.0),
        "c1": post_score(1000, 100, ppr["C"], 4.8 * hours, 0.5),  # 2 hops: min(0.5, 0.5)
    }
    order = sorted(expected, key=lambda p: -expected[p])
    assert [item.post_id for item in feed.items] == order
    for item in feed.items:
        assert item.score == pytest.approx(expected[item.post_id], rel=1e-6)
    why = {item.post_id: item.why for item in feed.items}
    assert why["a1"] == ("followed by you",)
    assert why["b1"] == ("followed by you", "liked by you (3 posts)")
    assert why["c1"] == ("2 hops via @a",)
    # a0 (no likes) is a candidate that scores 0; a-old, b-liked, d1, u1 are not candidates.
    assert feed.candidates == 5
    assert [i.post_id for i in build_feed(LakeQuery(small / "lake"), "U", n=2).items] == order[:2]


def test_feed_bad_users(small: Path) -> None:
    query = LakeQuery(small / "lake")
    with pytest.raises(InputError, match="nobody"):
        build_feed(query, "@nobody")
    with pytest.raises(InputError):
        build_feed(query, "@u", n=0)
    # C follows nobody and liked nothing: its feed is empty, not an error.
    assert build_feed(query, "@c").items == []


def test_cli_feed_table_json_and_explain(small: Path) -> None:
    runner = CliRunner()
    home = ["--home", str(small)]
    done = runner.invoke(app, ["feed", "@u", "--json", "--n", "3", "--source", "network", *home])
    assert done.exit_code == 0, done.output
    doc = orjson.loads(done.output)
    assert [i["post_id"] for i in doc["items"]] == [
        i.post_id for i in build_feed(LakeQuery(small / "lake"), "u", n=3).items
    ]
    assert doc["user"] == "U" and doc["window_days"] == 7
    table = runner.invoke(
        app, ["feed", "u", "--explain", "--source", "network", "--platform", IG, *home]
    )
    assert table.exit_code == 0, table.output
    assert "hops" in table.output and "ppr" in table.output  # (narrow: cells wrap)
    plain = runner.invoke(app, ["feed", "u", "--at", day(9.85).isoformat(), *home])
    assert plain.exit_code == 0 and "ppr" not in plain.output
    assert "b2" not in plain.output  # taken after --at
    missing = runner.invoke(app, ["feed", "@nobody", *home])
    assert missing.exit_code == 2 and "nobody" in missing.output


# --- the sandbox social world ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World, float]:
    """The last 8 days of the social world's public posts (counts as of ``seen``), their likers
    (``liked`` edges) and every account's followings at ``seen`` (:mod:`social_lake`)."""
    world = World(seed=7)
    seen = world.start + 16 * DAY
    home = tmp_path_factory.mktemp("social")
    write_social_lake(home, world, seen)
    return home, world, seen


def test_sandbox_feed_ranks_followed_accounts_by_the_formula(
    sandbox: tuple[Path, World, float],
) -> None:
    home, world, seen = sandbox
    social = world.social
    # The truth, computed apart from discover/: ties, their weights, the graph, PageRank.
    liked: dict[tuple[str, str], set[str]] = {}
    follows: set[tuple[str, str]] = set()
    lake_posts = {}
    for account in social.accounts:
        if account.ever_deleted:
            continue
        follows |= {(account.id, o.id) for o in social.following(account, seen)}
        if account.is_private:
            continue
        for p in social.iter_posts(account, seen):
            if p.taken_at < seen - 8 * DAY:
                break
            lake_posts[str(p.pk)] = p
            for liker in social.likers(p, seen):
                if liker.id != account.id:
                    liked.setdefault((liker.id, account.id), set()).add(str(p.pk))
    weight = {pair: float(len(ps)) for pair, ps in liked.items()}
    weight |= {pair: 0.5 for pair in follows if pair not in weight and pair[0] != pair[1]}
    g = nx.DiGraph()
    g.add_weighted_edges_from((a, b, w) for (a, b), w in weight.items())
    # A user who follows many public accounts.
    user = max(
        (a for a in social.accounts if not a.ever_deleted and not a.is_private),
        key=lambda a: sum(1 for o in social.following(a, seen) if not o.is_private),
    )
    feed = build_feed(LakeQuery(home / "lake"), "@" + user.username_at(seen), n=30)
    assert feed.user == user.id and len(feed.items) == 30
    ppr = nx.pagerank(g, personalization={user.id: 1.0}, tol=1e-14, max_iter=10_000)
    followed = {b for (a, b) in follows if a == user.id}
    direct = [i for i in feed.items if (user.id, i.author) in weight]
    assert direct and {i.author for i in direct} & followed
    assert any("followed by you" in i.why for i in direct)
    for item in feed.items:
        post = lake_posts[item.post_id]
        assert post.owner != user.idx
        assert item.post_id not in liked.get((user.id, item.author), set())
        assert post.taken_at > seen - 7 * DAY
        assert item.likes == social.like_count(post, seen)
        assert item.comments == social.comment_count(post, seen)
        assert item.ppr == pytest.approx(ppr[item.author], rel=1e-6)
    for item in direct:
        post = lake_posts[item.post_id]
        expected = post_score(item.likes, item.comments, ppr[item.author],
                              seen - post.taken_at, weight[(user.id, item.author)])  # fmt: skip
        assert item.score == pytest.approx(expected, rel=1e-6)
        assert ("followed by you" in item.why) == (item.author in followed)
    scores = [i.score for i in feed.items]
    assert scores == sorted(scores, reverse=True) and all(math.isfinite(s) for s in scores)
    # Every post of a followed account in the window that scores above the feed's last item is
    # in the feed.
    shown = {i.post_id for i in feed.items}
    for pid, post in lake_posts.items():
        author = social.accounts[post.owner].id
        if author not in followed or post.taken_at <= seen - 7 * DAY or post.likes_hidden:
            continue
        if pid in liked.get((user.id, author), set()):
            continue
        likes, comments = social.like_count(post, seen), social.comment_count(post, seen)
        age = seen - post.taken_at
        score = post_score(likes, comments, ppr[author], age, weight[(user.id, author)])
        if score > scores[-1] * (1 + 1e-9):
            assert pid in shown
