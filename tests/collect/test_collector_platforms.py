"""The tracker across Instagram, X and TikTok against the one sandbox server over loopback:
what lands in the lake equals each platform's ground truth, a platform without accounts is
skipped with one event, and an X app out of budget does not hold up the other platforms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import pairwise

from tagpulse.collect.accounts import AccountSpec
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.server import Limits
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.tiktok_world import tiktok_tag_truth, tiktok_user_truth
from tagpulse.platforms.sandbox.world import World
from tagpulse.platforms.sandbox.x_world import (
    x_counts_truth,
    x_tweet_count,
    x_user_truth,
    x_view,
)
from tests.collect.conftest import Rig

X_APP = AccountSpec("x01", "sandbox-x-token-1", platform="x", requests_per_hour=200.0, burst=5.0)
JITTER_S = 0.1 * 1800


def pick(world: World, t: float) -> SocialAccount:
    """A public account with followers whose handle is the same on all three platforms."""
    social = world.social
    return next(
        a
        for a in social.accounts
        if social.resolve(a.username, t)[1] == "active"
        and not a.is_private
        and a.old_username is None
        and "." not in a.username
        and len(a.username) <= 15
        and social.followers(a, t)
    )


def platform_rig(make_rig: Callable[..., Rig], tags: str, **kwargs: object) -> tuple[Rig, str]:
    rig = make_rig("", **kwargs)
    handle = pick(rig.world, rig.clock.time()).username
    assert x_view(rig.world).x_handle(handle) == handle
    rig.tags_file.write_text(tags.format(handle=handle))
    return rig, handle


EVERY_PLATFORM = "paris\nx:#nike\ntiktok:#paris\nx:@{handle}\ntiktok:@{handle}\n"


def test_every_platform_is_collected_and_equals_the_truth(
    make_rig: Callable[..., Rig],
) -> None:
    rig, handle = platform_rig(make_rig, EVERY_PLATFORM)
    world = rig.world
    stats = rig.collector(once=True, extra_accounts=[X_APP]).run()
    assert stats.snapshots == 5 and stats.failures == 0
    rig.collector(hours=3, extra_accounts=[X_APP]).run()

    q = LakeQuery(rig.settings.lake_dir)
    counts = q.rows(
        "SELECT tag, epoch(bucket_start) AS s, epoch(bucket_end) AS e, count, raw_id, "
        "epoch(collected_at) AS at FROM tag_counts WHERE platform = 'x'"
    )
    assert {r["tag"] for r in counts} == {"nike"}
    for row in counts:
        assert row["count"] == x_tweet_count(world, "nike", row["s"], row["e"]), row
    observations = Counter(r["raw_id"] for r in counts)
    # The once pass at 02:00, then the slots of 02:30 … 04:30.
    assert len(observations) == 6
    # 7 days of hours, cut at both ends (168 when the request came on the hour).
    assert set(observations.values()) <= {168, 169}
    for raw_id in observations:
        rows = [r for r in counts if r["raw_id"] == raw_id]
        truth = x_counts_truth(world, "nike", rows[0]["at"])
        assert sum(r["count"] for r in rows) == truth["total_tweet_count"]

    tiktok = q.rows(
        "SELECT tag, post_count, epoch(collected_at) AS at, epoch(slot_at) AS slot "
        "FROM hashtag_snapshots WHERE platform = 'tiktok' ORDER BY slot_at"
    )
    served = [r for r in rig.server.request_log() if r.outcome == "tiktok:ok" and r.tag == "paris"]
    assert len(tiktok) == 6 and len(served) == len(tiktok)
    for row, record in zip(tiktok, served, strict=True):
        assert abs(record.sim_time - row["at"]) < 1e-3
        truth = tiktok_tag_truth(world, "paris", record.sim_time)
        assert row["post_count"] == record.media_count == truth["video_count"]
    assert {b - a for a, b in pairwise(r["slot"] for r in tiktok)} == {1800.0}

    profiles = q.rows(
        "SELECT platform, handle, user_id, followers, following, posts_count, state, "
        "epoch(collected_at) AS at FROM profiles_all WHERE platform IN ('x', 'tiktok')"
    )  # _all: an unchanged answer is one raw body, so one row in the deduplicated view
    assert Counter(r["platform"] for r in profiles) == Counter(
        {"x": len(observations), "tiktok": len(tiktok)}
    )
    for row in profiles:
        assert row["handle"] == handle and row["state"] == "ok"
        if row["platform"] == "x":
            x_truth = x_user_truth(world, handle, row["at"])
            assert x_truth is not None
            want = (x_truth["id"], x_truth["followers"], x_truth["following"], x_truth["tweets"])
        else:
            t_truth = tiktok_user_truth(world, handle, row["at"])
            assert t_truth is not None
            want = (t_truth["id"], t_truth["followers"], t_truth["following"], t_truth["videos"])
        assert (row["user_id"], row["followers"], row["following"], row["posts_count"]) == want

    instagram = q.rows(
        "SELECT count(*) AS n FROM hashtag_snapshots WHERE platform = 'instagram' AND tag = 'paris'"
    )
    assert instagram[0]["n"] == len(tiktok)
    x_requests = [r for r in rig.server.request_log() if r.outcome.startswith("x:")]
    assert x_requests and all(r.account == "x01" and r.outcome == "x:ok" for r in x_requests)


def test_an_x_entry_without_an_x_account_is_skipped_once(make_rig: Callable[..., Rig]) -> None:
    rig, handle = platform_rig(make_rig, EVERY_PLATFORM)
    stats = rig.collector(hours=3).run()  # no X app among the accounts
    catalog = Catalog(rig.settings.catalog_path)
    events = catalog.events(kind="no_accounts")
    catalog.close()
    assert sorted((e.platform, e.tag) for e in events) == [("x", f"@{handle}"), ("x", "nike")]
    assert all(e.level == "error" and "bearer_token" in e.message for e in events)
    assert not any(r.outcome.startswith("x:") for r in rig.server.request_log())
    # The other platforms went on, every slot.
    q = LakeQuery(rig.settings.lake_dir)
    rows = q.rows(
        "SELECT platform, count(*) AS n FROM hashtag_snapshots GROUP BY platform ORDER BY platform"
    )
    assert [(r["platform"], r["n"]) for r in rows] == [("instagram", 6), ("tiktok", 6)]
    assert stats.failures == 0


def test_an_x_app_out_of_budget_cools_while_the_others_go_on(
    make_rig: Callable[..., Rig],
) -> None:
    # One counts request per app and 15 minutes: the second X tag of a slot gets a 429.
    tags = "paris\nx:#paris\nx:#nike\ntiktok:#paris\ntiktok:#nike\n"
    rig, _ = platform_rig(make_rig, tags, limits=Limits(x_rate_scale=1 / 300))
    rig.collector(hours=4, extra_accounts=[X_APP]).run()
    log = rig.server.request_log()
    x_log = [r for r in log if r.outcome.startswith("x:")]
    throttled = [r for r in x_log if r.outcome == "x:throttled"]
    assert throttled and all(r.status == 429 and r.account == "x01" for r in throttled)
    for hit in throttled:
        # The breaker opened (15 min or more): nothing went to the app while it cooled.
        later = [r for r in x_log if r.sim_time > hit.sim_time]
        assert not later or later[0].sim_time >= hit.sim_time + 900
    catalog = Catalog(rig.settings.catalog_path)
    trips = catalog.events(kind="breaker_open")
    catalog.close()
    assert len(trips) == len(throttled)
    assert all(e.account == "x01" and "XRateLimited" in e.message for e in trips)

    q = LakeQuery(rig.settings.lake_dir)
    rows = q.rows(
        "SELECT platform, tag, epoch(collected_at) AS at, epoch(slot_at) AS slot "
        "FROM hashtag_snapshots ORDER BY slot_at"
    )
    per_entry = Counter((r["platform"], r["tag"]) for r in rows)
    assert per_entry == Counter(
        {("instagram", "paris"): 8, ("tiktok", "paris"): 8, ("tiktok", "nike"): 8}
    )
    for entry in per_entry:
        slots = [r["slot"] for r in rows if (r["platform"], r["tag"]) == entry]
        assert {b - a for a, b in pairwise(slots)} == {1800.0}
    # On time: within the schedule's jitter of their slot, 429s next door notwithstanding.
    assert all(0 <= r["at"] - r["slot"] <= JITTER_S + 1 for r in rows)
    x_counts = q.rows("SELECT tag, count(DISTINCT raw_id) AS n FROM tag_counts GROUP BY tag")
    assert {r["tag"] for r in x_counts} == {"paris", "nike"}


def test_a_handle_x_cannot_take_is_refused_once(make_rig: Callable[..., Rig]) -> None:
    # Watchlist handles may hold dots (Instagram's do); X's may not, and its client refuses
    # them before sending: the entry is skipped with one event, the run goes on.
    rig = make_rig("")
    t = rig.clock.time()
    social = rig.world.social
    dotted = next(
        a.username
        for a in social.accounts
        if "." in a.username and not a.is_private and social.resolve(a.username, t)[1] == "active"
    )
    rig.tags_file.write_text(f"paris\nx:@{dotted}\ntiktok:@{dotted}\n")
    stats = rig.collector(hours=2, extra_accounts=[X_APP]).run()
    catalog = Catalog(rig.settings.catalog_path)
    events = catalog.events(kind="invalid_entry")
    catalog.close()
    assert [(e.platform, e.tag, e.account) for e in events] == [("x", f"@{dotted}", "x01")]
    assert "not X handles" in events[0].message
    assert not any(r.outcome.startswith("x:") for r in rig.server.request_log())
    q = LakeQuery(rig.settings.lake_dir)
    tiktok = q.rows("SELECT handle, followers FROM profiles_all WHERE platform = 'tiktok'")
    assert len(tiktok) == 4 and {r["handle"] for r in tiktok} == {dotted}
    truth = tiktok_user_truth(rig.world, dotted, t)
    assert truth is not None and tiktok[0]["followers"] == truth["followers"]
    assert stats.failures == 0 and stats.snapshots == 8
