"""Blending invariants, the evaluation's metrics on hand-computed cases, and the blend against
the popularity baseline on the sandbox social world."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.discover.blend import DEFAULT_WEIGHTS, blend, parse_weights
from tagpulse.discover.evaluate import (
    evaluate_data,
    holdout_likes,
    ndcg_at_k,
    recall_at_k,
    split_users,
)
from tagpulse.discover.feeddata import RecentPost, load_feed_data
from tagpulse.discover.sources import Candidate
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.world import DAY, World
from tests.discover.social_lake import write_social_lake

AT = datetime(2026, 11, 1, tzinfo=UTC)


def cands(source: str, ids: list[str]) -> list[Candidate]:
    return [
        Candidate(RecentPost(p, "ig", "o", None, AT, 1, 0, None, ()), source, 1.0, source)
        for p in ids
    ]


def test_blend_no_duplicates_seeded_and_exhaustive() -> None:
    ranked = {
        "network": cands("network", ["a", "b", "c", "d"]),
        "popular": cands("popular", ["b", "a", "e"]),
        "als": cands("als", ["f"]),
    }
    weights = {"network": 1.0, "popular": 1.0, "als": 1.0}
    for seed in range(30):
        out = blend(ranked, weights, 10, seed=seed)
        ids = [c.post.post_id for c in out]
        assert len(ids) == len(set(ids)) == 6  # every distinct post once, then it stops
        assert blend(ranked, weights, 10, seed=seed) == out
        # each source's posts come in its own order
        for name, items in ranked.items():
            mine = [c.post.post_id for c in out if c.source == name]
            order = [c.post.post_id for c in items]
            assert mine == [p for p in order if p in mine]
    assert blend(ranked, {"network": 1.0}, 3) == ranked["network"][:3]  # weight 0: left out


def test_blend_respects_weights_in_expectation() -> None:
    ranked = {s: cands(s, [f"{s}{i}" for i in range(50)]) for s in ("network", "popular", "als")}
    weights = {"network": 0.6, "popular": 0.3, "als": 0.1}
    counts: Counter[str] = Counter()
    for seed in range(200):
        counts.update(c.source for c in blend(ranked, weights, 10, seed=seed))
    total = sum(counts.values())
    for name, w in weights.items():
        share = counts[name] / total
        assert abs(share - w) < 4 * math.sqrt(w * (1 - w) / total), (name, share)


def test_parse_weights() -> None:
    assert parse_weights(None) == DEFAULT_WEIGHTS
    assert parse_weights("network=2, als=0") == DEFAULT_WEIGHTS | {"network": 2.0, "als": 0.0}
    for bad in ("nope=1", "network", "network=x", "network=-1"):
        with pytest.raises(InputError, match="weights"):
            parse_weights(bad)
    with pytest.raises(InputError, match="every weight"):
        parse_weights(",".join(f"{s}=0" for s in DEFAULT_WEIGHTS))


def test_metrics_by_hand() -> None:
    relevant = {"b", "d", "z"}
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, relevant, 10) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(1 / 3)
    # hits at ranks 2 and 4; ideal: 3 hits at ranks 1-3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, relevant, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["b", "d", "z"], relevant, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "b"], {"b"}, 1) == 0.0
    with pytest.raises(InputError):
        recall_at_k(ranked, set(), 10)


def test_split_users_is_a_seeded_partition() -> None:
    users = [f"u{i}" for i in range(101)]
    a, b = split_users(users)
    assert a | b == set(users) and not a & b and len(a) == 50
    assert split_users(list(reversed(users))) == (a, b)
    assert split_users(users, seed=1) != (a, b)


@pytest.fixture(scope="module")
def social(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = World(seed=7)
    home = tmp_path_factory.mktemp("social-eval")
    write_social_lake(home, world, world.start + 16 * DAY)
    return home


@pytest.mark.slow
def test_blend_beats_popularity_on_the_sandbox_test_users(social: Path) -> None:
    data = load_feed_data(LakeQuery(social / "lake"))
    assert data is not None
    hidden = holdout_likes(data)
    for user, posts in hidden.items():  # the latest 20 % of each user's likes
        assert len(posts) == max(1, round(len(data.liked[user]) * 0.2))
    # DEFAULT_WEIGHTS were tuned (feed-eval --tune) on the validation half only
    _, test = split_users(sorted(hidden))
    result = evaluate_data(data, users=test)
    blended, popular = result.score("blend"), result.score("popular")
    assert result.users > 100
    assert blended.recall > popular.recall and blended.ndcg > popular.ndcg
    assert result.score("network").recall > popular.recall
    for s in result.scores:
        assert 0 <= s.ndcg <= 1 and 0 <= s.recall <= 1


@pytest.mark.slow
def test_cli_feed_eval_and_blended_feed(social: Path) -> None:
    runner = CliRunner()
    home = ["--home", str(social)]
    done = runner.invoke(app, ["feed-eval", "--json", "--min-likes", "60", "--k", "5", *home])
    assert done.exit_code == 0, done.output
    doc = orjson.loads(done.output)
    assert doc["k"] == 5 and doc["users"] > 0 and doc["split"] == "all"
    assert [s["source"] for s in doc["scores"]] == ["blend", *DEFAULT_WEIGHTS]
    table = runner.invoke(app, ["feed-eval", "--min-likes", "60", "--weights", "network=1",
                                "--holdout", "0.3", *home])  # fmt: skip
    assert table.exit_code == 0 and "NDCG@10" in table.output, table.output
    bad = runner.invoke(app, ["feed-eval", "--holdout", "1.5", *home])
    assert bad.exit_code == 2 and "holdout" in bad.output
    data = load_feed_data(LakeQuery(social / "lake"))
    assert data is not None
    user = max(data.liked, key=lambda u: len(data.liked[u]))
    feed = runner.invoke(app, ["feed", user, "--json", "--n", "12", "--seed", "3", *home])
    assert feed.exit_code == 0, feed.output
    items = orjson.loads(feed.output)["items"]
    assert len(items) == 12 and len({i["post_id"] for i in items}) == 12
    assert {i["source"] for i in items} <= set(DEFAULT_WEIGHTS)
    assert not {i["post_id"] for i in items} & data.liked[user]
    for source in ("fof", "interests", "als", "popular"):
        one = runner.invoke(app, ["feed", user, "--source", source, "--explain", *home])
        assert one.exit_code == 0, one.output
    wrong = runner.invoke(app, ["feed", user, "--source", "magic", *home])
    assert wrong.exit_code == 2 and "source" in wrong.output
