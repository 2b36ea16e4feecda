"""Each Spark job on local Spark equals the embedded engine (DuckDB) on the same lake: exact
for counts, within 1e-9 for floats. The lake is the sandbox world's truth (``spark_lakes``);
a hand-built lake checks the answers themselves."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tagpulse.analysis.campaign import campaign_report
from tagpulse.analysis.influencer_data import load_influencer_data
from tagpulse.analysis.influencers import engagement_rate
from tagpulse.cli.app import app
from tagpulse.discover.graph import EdgeWeights, load_graph
from tagpulse.lake.campaigns import make_campaign
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.records import Edge, ParsedRecords
from tagpulse.scale.spark.campaign import CampaignPeriod, campaign_job
from tagpulse.scale.spark.graph import graph_job
from tagpulse.scale.spark.influencers import influencer_job
from tagpulse.scale.spark.timeline import timeline_job
from tests.scale.spark_lakes import IG, sandbox_lake

pytestmark = pytest.mark.slow


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, world: World) -> Path:
    home = tmp_path_factory.mktemp("spark-sandbox")
    sandbox_lake(home, world)
    return home / "lake"


@pytest.mark.parametrize(
    ("interval_s", "platform", "days"),
    [(3600, None, None), (6 * 3600, IG, (2, 7)), (7 * 86400, None, None), (1200, "tiktok", None)],
)
def test_timeline_equals_duckdb(
    spark: Any,
    lake: Path,
    world: World,
    tmp_path: Path,
    interval_s: int,
    platform: str | None,
    days: tuple[int, int] | None,
) -> None:
    since = until = None
    if days is not None:
        since = utc_from_epoch(world.start + days[0] * DAY + 5 * HOUR)
        until = utc_from_epoch(world.start + days[1] * DAY)
    expected = LakeQuery(lake).timeline(
        [], interval_s=interval_s, since=since, until=until, platform=platform
    )
    got = timeline_job(
        spark,
        lake,
        interval_s=interval_s,
        out=tmp_path / "timeline",
        since=since,
        until=until,
        platform=platform,
    )
    assert len(expected) > 0
    rows = sorted(got.to_pylist(), key=lambda r: (r["tag"], r["platform"], r["bucket"]))
    assert [
        (r["tag"], r["platform"], r["bucket"], r["post_count"], r["last_at"]) for r in rows
    ] == [(p.tag, p.platform, p.bucket, p.post_count, p.last_at) for p in expected]
    # The result is Parquet under --out, and what was returned is what was written.
    assert pq.read_table(tmp_path / "timeline").num_rows == len(expected)


def test_timeline_by_hand(spark: Any, tmp_path: Path) -> None:
    """A 12:59:59.999999 snapshot stays in the 12:00 bucket; duplicates do not change a max;
    weekly buckets start on Mondays (DuckDB's origin)."""
    from tagpulse.records import HashtagSnapshot

    t0 = datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday
    snaps = [
        HashtagSnapshot(IG, "x", n, [], [], t0 + dt, "a", None)
        for n, dt in (
            (10, timedelta(0)),
            (15, timedelta(hours=1) - timedelta(microseconds=1)),
            (20, timedelta(hours=1)),
            (None, timedelta(hours=1, minutes=5)),
        )
    ]
    writer = LakeWriter(tmp_path / "lake")
    writer.append_snapshots(snaps)
    writer.append_snapshots(snaps)
    hourly = timeline_job(spark, tmp_path / "lake", interval_s=3600).to_pylist()
    assert [(r["bucket"], r["post_count"], r["last_at"]) for r in hourly] == [
        (t0, 15, t0 + timedelta(hours=1) - timedelta(microseconds=1)),
        (t0 + timedelta(hours=1), 20, t0 + timedelta(hours=1)),
    ]
    weekly = timeline_job(spark, tmp_path / "lake", interval_s=7 * 86400).to_pylist()
    assert [r["bucket"] for r in weekly] == [datetime(2026, 3, 2, tzinfo=UTC)]


def test_campaign_equals_duckdb(spark: Any, lake: Path, world: World, tmp_path: Path) -> None:
    start = utc_from_epoch(world.start + 3 * DAY + 9 * HOUR)
    campaign = make_campaign(
        "jdi", tags=["nike", "justdoit"], handles=[], start=start, end=start + timedelta(hours=36)
    )
    report = campaign_report(LakeQuery(lake), campaign)
    periods = [CampaignPeriod(p.period.name, p.period.start, p.period.end) for p in report.periods]
    got = campaign_job(
        spark, lake, tags=campaign.tags, periods=periods, out=tmp_path / "campaign"
    ).to_pylist()
    assert [r["period"] for r in got] == ["before", "during", "after"]
    for row, period in zip(got, report.periods, strict=True):
        s = period.posts
        assert s.posts_seen > 0
        assert (row["posts_seen"], row["unique_authors"], row["likes"], row["comments"]) == (
            s.posts_seen,
            s.unique_authors,
            s.likes,
            s.comments,
        )
        assert close(row["engagement_per_post"], s.engagement_per_post)
        assert close(row["engagement_rate"], s.engagement_rate)
        assert (row["start"], row["end"]) == (period.period.start, period.period.end)


def test_influencers_equal_duckdb(spark: Any, lake: Path, world: World, tmp_path: Path) -> None:
    since = utc_from_epoch(world.start + DAY)
    until = utc_from_epoch(world.start + 8 * DAY)
    for tags in (list(world.tags), ["nike"]):
        data = load_influencer_data(LakeQuery(lake), tags, since=since, until=until)
        got = influencer_job(
            spark, lake, tags=tags, since=since, until=until, out=tmp_path / "influencers"
        ).to_pylist()
        assert len(data.accounts) > 10
        assert {(r["platform"], r["account"]) for r in got} == set(data.accounts)
        for row in got:
            activity = data.accounts[(row["platform"], row["account"])]
            followers = activity.followers_at(until)
            likes = [p.likes for p in activity.posts if p.likes is not None]
            comments = [p.comments for p in activity.posts if p.comments is not None]
            assert (row["posts"], row["followers"]) == (len(activity.posts), followers)
            assert close(row["mean_likes"], statistics.mean(likes) if likes else None)
            assert close(row["mean_comments"], statistics.mean(comments) if comments else None)
            assert close(row["engagement_rate"], engagement_rate(activity.posts, followers))
            assert row["first_post"] == min(p.at for p in activity.posts)


@pytest.mark.parametrize(
    "weights", [None, EdgeWeights(like=2.0, comment=1.0, mention=3.0, follow=0.25)]
)
def test_graph_equals_duckdb(
    spark: Any, lake: Path, tmp_path: Path, weights: EdgeWeights | None
) -> None:
    graph = load_graph(LakeQuery(lake), weights=weights)
    coo = graph.weights.tocoo()
    expected = {
        (graph.nodes[i], graph.nodes[j]): float(v)
        for i, j, v in zip(coo.row, coo.col, coo.data, strict=True)
        if v != 0
    }
    got = graph_job(spark, lake, weights=weights, out=tmp_path / "graph").to_pylist()
    assert len(expected) > 100
    assert {(r["src"], r["dst"]) for r in got} == set(expected)
    assert all(close(r["weight"], expected[(r["src"], r["dst"])]) for r in got)
    likes = graph.likes.tocoo()
    liked = {
        (graph.nodes[i], graph.nodes[j]): float(v)
        for i, j, v in zip(likes.row, likes.col, likes.data, strict=True)
    }
    assert all(r["likes"] == liked.get((r["src"], r["dst"]), 0.0) for r in got)
    # Mentions by @HANDLE were resolved to ids: no "@" end survives for a known account.
    assert any(r["weight"] >= 1 and not r["follows"] and r["likes"] == 0 for r in got)


def test_graph_by_hand(spark: Any, tmp_path: Path) -> None:
    """u liked two of v's posts (one like seen twice), commented once and follows v; w only
    follows v; v mentions @U (u's handle); u's like of its own post is a self-loop."""
    at = datetime(2026, 3, 4, tzinfo=UTC)
    edges = [
        Edge(IG, "u", "v", "liked", at, "r1", post_id="p1"),
        Edge(IG, "u", "v", "liked", at + timedelta(hours=1), "r2", post_id="p1"),
        Edge(IG, "u", "v", "liked", at, "r1", post_id="p2"),
        Edge(IG, "u", "v", "commented", at, "r1", post_id="p2"),
        Edge(IG, "u", "v", "follows", at, "r1"),
        Edge(IG, "w", "v", "follows", at, "r1"),
        Edge(IG, "v", "@U", "mentioned", at, "r1", post_id="p3"),
        Edge(IG, "u", "u", "liked", at, "r1", post_id="p4"),
        Edge(IG, "u", "v", "reposted", at, "r1", post_id="p1"),
        Edge(IG, "x", "u", "liked", at, "r1", post_id="p5", src_handle="xx", dst_handle="u"),
    ]
    LakeWriter(tmp_path / "lake").append_records(ParsedRecords(edges=edges))
    got = {
        (r["src"], r["dst"]): (r["weight"], r["likes"], r["follows"])
        for r in graph_job(spark, tmp_path / "lake").to_pylist()
    }
    assert got == {
        ("u", "v"): (3.0, 2.0, True),
        ("w", "v"): (0.5, 0.0, True),
        ("v", "u"): (1.0, 0.0, False),
        ("x", "u"): (1.0, 1.0, False),
    }


def test_cli_runs_a_job_and_writes_parquet(spark: Any, lake: Path, tmp_path: Path) -> None:
    home, out = lake.parent, tmp_path / "graph-out"
    runner = CliRunner()
    done = runner.invoke(app, ["spark", "graph", "--home", str(home), "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    rows = orjson.loads(done.output)
    assert len(rows) == pq.read_table(out).num_rows > 100
    table = runner.invoke(app, ["spark", "timeline", "--home", str(home), "--interval", "1d",
                                "--tags", "#Nike", "--out", str(tmp_path / "t")])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "nike" in table.output and "adidas" not in table.output
    bad = runner.invoke(app, ["spark", "campaign", "--home", str(home)])
    assert bad.exit_code == 2 and "--campaign" in bad.output
    assert spark.sparkContext.master == "local[2]"  # the shared session is still up
