"""`insights spikes` against the sandbox's truth: the viral posts (x8-x40 engagement) of the
accounts are the spikes, and a campaign burst is the hashtag anomaly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.analysis.spikes import find_spikes, robust_z
from tagpulse.cli.app import app
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.records import HashtagSnapshot, ParsedRecords, Post


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str], int]:
    world = World(seed=7)
    social = world.social
    t = world.start + 60 * DAY
    home = tmp_path_factory.mktemp("home")
    posts: list[Post] = []
    viral: set[str] = set()
    accounts = [a for a in social.accounts if not a.deleted(t)]
    for account in accounts:
        # Posts old enough that their engagement has settled (the growth curve's tail).
        settled = [p for p in social.posts_at(account, t) if t - p.taken_at > 5 * DAY][:40]
        if len(settled) < 20:
            continue
        for p in settled:
            posts.append(
                Post("instagram", str(p.pk), utc_from_epoch(t), "truth", owner_id=str(account.pk),
                     likes=social.like_count(p, t), comments=social.comment_count(p, t))
            )  # fmt: skip
            if p.viral:
                viral.add(str(p.pk))
    writer = LakeWriter(home / "lake")
    writer.append_records(ParsedRecords(posts=posts))
    snaps, slots = [], []
    for h in range(10 * 24):
        at = utc_from_epoch(world.start + h * HOUR)
        count = world.true_count("nike", world.start + h * HOUR)
        snaps.append(HashtagSnapshot("instagram", "nike", count, [], [], at, "a", None))
        slots.append(at)
    writer.append_snapshots(snaps, slots)
    return home, viral, len(posts)


def test_viral_posts_are_the_spikes(lake: tuple[Path, set[str], int]) -> None:
    home, viral, n = lake
    assert n > 500 and len(viral) >= 5
    found = {s.post_id for s in find_spikes(LakeQuery(home / "lake"), []).posts}
    hits = found & viral
    assert len(hits) >= 0.8 * len(viral)  # recall
    assert len(hits) >= 0.8 * len(found)  # precision


def test_the_campaign_is_the_hashtag_anomaly(lake: tuple[Path, set[str], int]) -> None:
    home, _, _ = lake
    world = World(seed=7)
    start = utc_from_epoch(world.start + 3 * DAY + 9 * HOUR)
    tags = find_spikes(LakeQuery(home / "lake"), ["nike"], interval_s=6 * 3600).tags
    # Buckets are stamped at their start: the 06:00 bucket holds the 09:00 start.
    window = (start - timedelta(hours=6), start + timedelta(hours=48))
    assert tags and all(window[0] <= a.at <= window[1] for a in tags)
    assert tags[0].rate_per_day > 5 * tags[0].median_rate


def test_robust_z() -> None:
    assert robust_z(10.0, [1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(7 / 1.4826)
    assert robust_z(3.0, [3.0, 3.0, 3.0]) is None
    assert robust_z(1.0, [1.0]) is None


def test_cli_json(lake: tuple[Path, set[str], int]) -> None:
    home, viral, _ = lake
    result = CliRunner().invoke(app, ["insights", "spikes", "nike", "--json", "--home", str(home)])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert {p["post_id"] for p in doc["posts"]} & viral
    assert doc["tags"] and doc["tags"][0]["tag"] == "nike"
