"""`insights campaign` on lakes where the answer is known: a planted +40 % uplift, no uplift, a
planted linear trend, the sandbox's #nike campaign against the world's truth, and the posts
seen per period."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from tagpulse.analysis.campaign import CampaignReport, campaign_report, report_dict
from tagpulse.lake.campaigns import make_campaign
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.records import HashtagSnapshot, ParsedRecords, Post, Profile

from .campaign_lakes import T0, Planted, plant


def _report(lake: Path, planted: Planted, **kwargs: object) -> CampaignReport:
    campaign = make_campaign("c", tags=["brand"], start=planted.start, end=planted.end)
    return campaign_report(LakeQuery(lake), campaign, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def uplift40(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Planted]:
    lake = tmp_path_factory.mktemp("uplift") / "lake"
    return lake, plant(lake, seed=11, uplift=0.40, days=42, campaign_day=28)


def test_a_planted_40_percent_uplift_is_found(uplift40: tuple[Path, Planted]) -> None:
    lake, planted = uplift40
    report = _report(lake, planted)
    u = report.uplift
    assert u is not None
    assert u.p_value < 0.01
    assert u.estimate == pytest.approx(0.40, abs=0.08)
    # What these draws hold: +40 % times the chance difference of the periods' day levels.
    assert u.estimate == pytest.approx(planted.realized_uplift, abs=0.03)
    assert u.low < planted.realized_uplift < u.high and u.low > 0.2
    # Seven days a period: one block a day; four weeks of history give the weekly shape.
    assert (report.block_hours, u.before_blocks, u.during_blocks) == (24, 7, 7)
    assert report.seasonality == "hour of week"
    during = report.counterfactuals[0]
    assert during.period == "during"
    assert during.effect == pytest.approx(0.40, abs=0.10)
    assert during.p_value is not None and during.p_value < 0.01
    assert during.low <= planted.expected_without(planted.start, planted.end) <= during.high
    # New posts per period come from the counts: exactly what was drawn (up to interpolation).
    before, dur, after = report.periods
    assert [p.period.name for p in report.periods] == ["before", "during", "after"]
    assert before.period.start == planted.start - timedelta(days=7)
    assert dur.new_posts == pytest.approx(planted.actual(planted.start, planted.end), rel=0.002)
    assert dur.new_posts_by_tag == {"brand": dur.new_posts}
    assert after.period.end == planted.end + timedelta(days=7) and not after.period.clipped
    assert dur.sentiment is None
    assert [r.period for r in report.rates].count("during") == 7


def test_no_uplift_is_not_significant(tmp_path: Path) -> None:
    planted = plant(tmp_path / "lake", seed=14, uplift=0.0)
    report = _report(tmp_path / "lake", planted)
    assert report.uplift is not None
    # One fixed draw; how often the test errs over many draws is checked in test_campaign_stats.
    assert report.uplift.p_value > 0.05
    assert report.uplift.low < 0 < report.uplift.high
    assert report.uplift.estimate == pytest.approx(planted.realized_uplift, abs=0.03)
    during = report.counterfactuals[0]
    assert during.effect_low is not None and during.effect_high is not None
    assert during.effect_low < 0 < during.effect_high


def test_the_counterfactual_follows_a_planted_linear_trend(tmp_path: Path) -> None:
    # 100 posts/hour growing by 0.5 posts/hour every hour: +84 posts/hour a week.
    planted = plant(
        tmp_path / "lake", seed=13, uplift=0.30, base=100.0, slope_per_hour=0.5, day_sd=0.02
    )
    report = _report(tmp_path / "lake", planted)
    truth = planted.expected_without(planted.start, planted.end)
    during = report.counterfactuals[0]
    assert during.expected == pytest.approx(truth, rel=0.04)
    assert during.low <= truth <= during.high
    assert during.effect == pytest.approx(0.30, abs=0.06)
    after = report.counterfactuals[1]
    after_truth = planted.expected_without(planted.end, planted.end + timedelta(days=7))
    assert after.low <= after_truth <= after.high
    assert after.p_value is not None and after.p_value > 0.05  # no uplift after the campaign
    # Against the flat before level, the trend itself looks like an uplift; the counterfactual
    # is what takes it out.
    assert report.uplift is not None and report.uplift.estimate > during.effect + 0.1  # type: ignore[operator]


def test_the_baseline_and_block_size_can_be_set(uplift40: tuple[Path, Planted]) -> None:
    lake, planted = uplift40
    report = _report(lake, planted, baseline_s=14 * 86_400, block_hours=12)
    before = report.period("before")
    assert before.period.start == planted.start - timedelta(days=14)
    assert report.uplift is not None
    assert (report.uplift.before_blocks, report.uplift.during_blocks) == (28, 14)
    assert report.uplift.estimate == pytest.approx(0.40, abs=0.08)


def test_periods_are_clipped_at_the_data(tmp_path: Path) -> None:
    # Data for 24 days: the campaign (days 21-28) is cut after 3 days; no after period.
    planted = plant(tmp_path / "lake", seed=14, uplift=0.4, days=24)
    report = _report(tmp_path / "lake", planted)
    during, after = report.period("during"), report.period("after")
    assert during.period.clipped
    assert during.period.end == T0 + timedelta(days=24)  # the last snapshot
    assert after.period.days == 0 and after.new_posts is None
    assert report.uplift is not None and report.uplift.p_value < 0.01
    assert [c.period for c in report.counterfactuals] == ["during"]


def test_an_empty_lake_says_so(tmp_path: Path) -> None:
    campaign = make_campaign("c", tags=["nothing"], start=T0, end=T0 + timedelta(days=1))
    report = campaign_report(LakeQuery(tmp_path / "lake"), campaign)
    assert report.uplift is None and report.counterfactuals == []
    assert all(p.new_posts is None and p.posts.posts_seen == 0 for p in report.periods)
    assert report.rate_source == "none"
    assert any("no counts or posts" in n for n in report.notes)
    assert any(n.startswith("#nothing: no counts") for n in report.notes)
    assert report_dict(report)["uplift"] is None


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Posts around a one-day campaign on 2026-10-10: known sums, authors and followers."""
    lake = tmp_path_factory.mktemp("seen") / "lake"
    day = T0 + timedelta(days=9)

    def post(
        pid: str,
        hours: float,
        owner: str,
        likes: int,
        comments: int,
        tags: tuple[str, ...] = ("brand",),
        platform: str = "instagram",
    ) -> Post:
        at = day + timedelta(hours=hours)
        return Post(platform, pid, at + timedelta(hours=1), "r", owner_id=f"id-{owner}",
                    owner_handle=owner, taken_at=at, likes=likes, comments=comments,
                    hashtags=list(tags))  # fmt: skip

    posts = [
        post("b1", 1, "ann", 10, 1),  # before
        post("d1", 25, "ann", 100, 10),  # during, seen twice: the latest counts
        dataclasses.replace(post("d1", 25, "ann", 300, 30), collected_at=day + timedelta(days=5)),
        post("d2", 30, "bob", 50, 5),
        post("d3", 40, "cat", 20, 0, tags=("other",)),  # by a campaign handle, without the tag
        post("d4", 41, "dan", 999, 99, tags=("other",)),  # neither tag nor handle
        post("d5", 42, "eve", 7, 0, platform="tiktok"),
        post("a1", 50, "bob", 30, 3),  # after
    ]
    profiles = [
        Profile("instagram", "id-ann", "ann", day, "r", followers=1_000),
        Profile("instagram", "id-ann", "ann", day + timedelta(days=2), "r", followers=3_000),
        Profile("instagram", "id-bob", "bob", day, "r", followers=1_000),
    ]
    LakeWriter(lake).append_records(ParsedRecords(posts=posts, profiles=profiles))
    return lake


def test_posts_seen_per_period(seen: Path) -> None:
    start = T0 + timedelta(days=10)
    campaign = make_campaign(
        "c", tags=["brand"], handles=["@Cat"], start=start, end=start + timedelta(days=1)
    )
    report = campaign_report(LakeQuery(seen), campaign, top=2)
    before, during, after = (p.posts for p in report.periods)
    assert (before.posts_seen, during.posts_seen, after.posts_seen) == (1, 4, 1)
    assert during.unique_authors == 4
    assert (during.likes, during.comments) == (300 + 50 + 20 + 7, 30 + 5)
    assert during.engagement_per_post == pytest.approx((377 + 35) / 4)
    # Followers known for ann (latest: 3000) and bob (1000): (330 + 55) / 4000.
    assert during.engagement_rate == pytest.approx((330 + 55) / 4_000)
    assert [p.post_id for p in during.top_posts] == ["d1", "d2"]
    assert [(a.owner, a.posts, a.followers) for a in during.top_authors] == [
        ("ann", 1, 3_000),
        ("bob", 1, 1_000),
    ]
    # No counts in this lake: the rates are the posts seen per hour.
    assert report.rate_source == "posts seen"
    assert any("posts seen per hour" in n for n in report.notes)
    only_instagram = campaign_report(LakeQuery(seen), campaign, platform="instagram")
    assert only_instagram.period("during").posts.posts_seen == 3


def test_a_handles_only_campaign_rates_posts_seen(seen: Path) -> None:
    start = T0 + timedelta(days=10)
    campaign = make_campaign("c", tags=[], handles=["bob"], start=start,
                             end=start + timedelta(days=1))  # fmt: skip
    report = campaign_report(LakeQuery(seen), campaign)
    assert report.rate_source == "posts seen"
    assert report.period("during").new_posts is None
    assert report.period("during").posts.posts_seen == 1
    # Two posts by bob, one during and one after: every post seen lands in one block.
    assert report.block_hours == 3
    assert sum(r.posts_per_day / 24 * 3 for r in report.rates) == pytest.approx(2)


@pytest.fixture(scope="module")
def nike(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    """The sandbox's #nike and #justdoit counts every 30 minutes for 9 days, from its truth."""
    world = World(seed=7)
    lake = tmp_path_factory.mktemp("nike") / "lake"
    snaps, slots = [], []
    for tag in ("nike", "justdoit"):
        for k in range(int(9 * DAY / 1800)):
            t = world.start + k * 1800 + 60
            at = utc_from_epoch(t)
            snaps.append(HashtagSnapshot("instagram", tag, world.true_count(tag, t), [], [], at,
                                         "a", None))  # fmt: skip
            slots.append(at)
    LakeWriter(lake).append_snapshots(snaps, slots)
    return lake, world


def test_the_sandbox_nike_campaign_against_the_world_truth(nike: tuple[Path, World]) -> None:
    lake, world = nike
    tags = ("nike", "justdoit")
    start = world.start + 3 * DAY + 9 * HOUR  # world.py: the campaign starts day 4, 09:00
    end = start + 36 * HOUR
    campaign = make_campaign("nike", tags=list(tags), start=utc_from_epoch(start),
                             end=utc_from_epoch(end))  # fmt: skip
    report = campaign_report(LakeQuery(lake), campaign)

    def gained(w: World, a: float, b: float) -> int:
        return sum(w.true_count(t, b) - w.true_count(t, a) for t in tags)

    before, during = gained(world, start - 36 * HOUR, start), gained(world, start, end)
    # Counts at the campaign's edges are interpolated between snapshots 30 minutes apart,
    # so the burst's first minute leaks a little into the before period.
    assert report.period("before").new_posts == pytest.approx(before, rel=0.01)
    assert report.period("during").new_posts == pytest.approx(during, rel=0.01)
    assert report.period("during").new_posts_by_tag["nike"] == pytest.approx(
        world.true_count("nike", end) - world.true_count("nike", start), rel=0.01
    )
    u = report.uplift
    assert u is not None and u.p_value < 1e-3
    truth_ratio = during / before  # about 12x: +2400/h on #nike's ~300, +900/h on #justdoit's 40
    assert 0.8 < (1 + u.estimate) / truth_ratio < 1.25
    # The counterfactual: the same world without its bursts, same seed.
    calm = World(seed=7, tags=[dataclasses.replace(s, bursts=()) for s in world.tags.values()])
    calm_during = gained(calm, start, end)
    cf = report.counterfactuals[0]
    assert cf.low <= calm_during <= cf.high
    assert cf.expected == pytest.approx(calm_during, rel=0.2)
    assert cf.effect is not None
    assert 0.8 < (1 + cf.effect) / (during / calm_during) < 1.25
