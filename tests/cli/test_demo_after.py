"""What the demo does after collecting: enrichment, the campaign, the report, the login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from tagpulse.analysis.report import REPORT_DATA_ID
from tagpulse.demo_after import after_collection
from tagpulse.lake.campaigns import CampaignStore
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import HashtagSnapshot, ParsedRecords, Post
from tagpulse.service.campaigns import WorkspaceCampaigns
from tagpulse.service.watchlists import WatchlistStore

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_after_collection(tmp_path: Path) -> None:
    home = tmp_path / "tagpulse-data"
    writer = LakeWriter(home / "lake")
    snaps = [
        HashtagSnapshot("instagram", tag, 1000 + step * h, [], [], T0 + timedelta(hours=h), "a",
                        None)
        for tag, step in (("nike", 30), ("adidas", 10))
        for h in range(10 * 24)
    ]  # fmt: skip
    writer.append_snapshots(snaps, [s.collected_at for s in snaps])
    posts = [
        Post("instagram", f"p{i}", T0 + timedelta(days=3), "r", owner_id="u", hashtags=["nike"],
             caption="I love these shoes ❤️", taken_at=T0 + timedelta(hours=5 * i))
        for i in range(20)
    ]  # fmt: skip
    writer.append_records(ParsedRecords(posts=posts))
    extras = after_collection(home, ["nike", "adidas"], tmp_path)
    assert extras.text.enriched == 20
    catalog = Catalog(home / "catalog.sqlite")
    [campaign] = CampaignStore(catalog).all()
    assert campaign.name == "justdoit" and campaign.tags == ("nike", "justdoit")
    assert campaign.end - campaign.start == timedelta(hours=36)
    store = WatchlistStore(home / "catalog.sqlite")
    _, principal = store.login(extras.login.user, extras.login.password)
    assert principal.roles == {"demo": "admin"}
    assert store.watched("demo") == {("instagram", t) for t in ("nike", "adidas", "justdoit")}
    assert [c.name for c in WorkspaceCampaigns(store).all("demo")] == ["justdoit"]
    page = extras.report.read_text()
    data = orjson.loads(page.split(f'id="{REPORT_DATA_ID}">')[1].split("</script>")[0])
    assert list(data["sections"])[:2] == ["campaign", "timeline"]
    assert "classes" in data["sections"]  # no pictures here: the section says how to get them
    assert extras.images is not None and extras.images.labelled == 0
    # The report starts two campaign lengths (72 h) before it: 2026-11-01 09:00, after the
    # first two posts (0 h and 5 h).
    assert data["sections"]["sentiment"]["n"] == 18


def test_demo_reads_the_influencers_and_buyers() -> None:
    from tagpulse.demo import DEMO_ACCOUNTS, demo_handles
    from tagpulse.platforms.sandbox.world import DAY, World

    world = World(seed=7)
    t = world.start + 14 * DAY
    handles = demo_handles(world, t)
    social = world.social
    by_handle = {a.username_at(t): a for a in social.accounts}
    picked = [by_handle[h] for h in handles]
    assert len(handles) == len(set(handles)) == DEMO_ACCOUNTS
    assert not any(a.is_private or a.deleted(t) for a in picked)
    public = [a for a in social.accounts if not a.is_private and not a.deleted(t)]
    assert {a.idx for a in public if a.influencer} <= {a.idx for a in picked}
    assert {a.idx for a in public if a.idx in social.bought} <= {a.idx for a in picked}
