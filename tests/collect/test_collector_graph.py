"""The tracker over the official Graph API (`ig-graph:` entries) against the sandbox."""

from __future__ import annotations

from collections.abc import Callable

from tagpulse.collect.accounts import AccountSpec
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.routes_graph import sandbox_ig_user_id
from tests.collect.conftest import Rig
from tests.platforms.instagram.test_graph_api import DAY, business, truth_tagged

GRAPH = AccountSpec(
    "biz01", "sandbox-token-1", platform="ig-graph", ig_user_id=sandbox_ig_user_id(1),
    requests_per_hour=400.0, burst=10.0,
)  # fmt: skip


def test_graph_tags_and_business_discovery_equal_the_truth(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("")
    social = rig.world.social
    t = rig.clock.time()
    biz = business(social, t, min_posts=5)
    rig.tags_file.write_text(f"ig-graph:#paris\nig-graph:@{biz.username}\n")
    stats = rig.collector(once=True, extra_accounts=[GRAPH]).run()
    assert stats.snapshots == 2 and stats.failures == 0
    q = LakeQuery(rig.settings.lake_dir)
    recent = q.rows(
        "SELECT post_id, epoch(collected_at) AS at FROM posts "
        "WHERE seen_via = 'graph:tag:paris:recent' ORDER BY taken_at DESC, post_id DESC"
    )
    at = recent[0]["at"]
    truth = truth_tagged(social, "paris", at, at - DAY)
    # The first page (the API's default 25) of the last 24 hours, newest first.
    assert [r["post_id"] for r in recent] == [str(p.pk) for p in truth][: len(recent)]
    assert len(recent) == min(25, len(truth)) and truth
    (profile,) = q.rows("SELECT * FROM profiles WHERE handle = ?", [biz.username])
    at = profile["collected_at"].timestamp()
    assert profile["followers"] == social.follower_count(biz, at)
    assert profile["posts_count"] == social.post_count(biz, at)
    assert profile["is_business"] is True
    # The answers were archived under the platform that asked: reparse knows them.
    assert (rig.settings.lake_dir / "raw" / "platform=ig-graph").exists()


def test_the_31st_hashtag_of_the_week_is_refused_without_a_request(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig("")
    tags = [f"tag{i:02d}" for i in range(31)]
    rig.tags_file.write_text("".join(f"ig-graph:#{t}\n" for t in tags))
    rig.collector(once=True, extra_accounts=[GRAPH]).run()
    graph_log = [r for r in rig.server.request_log() if "/recent_media" in r.path]
    assert len(graph_log) == 30
    catalog = Catalog(rig.settings.catalog_path)
    events = catalog.events(kind="hashtag_quota")
    catalog.close()
    assert len(events) == 1 and "30" in events[0].message
    refused = events[0].tag
    # Every other tag was asked for once; the refused one never reached the platform.
    assert refused in tags
    searches = [r.path for r in rig.server.request_log() if "ig_hashtag_search" in r.path]
    assert len(searches) == 30 and not [p for p in searches if f"q={refused}" in p]
    asked = {r.path.split("/recent_media")[0] for r in graph_log}
    assert len(asked) == 30  # thirty distinct hashtag ids, each once
