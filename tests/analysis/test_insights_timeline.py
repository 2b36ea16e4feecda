"""`tagpulse insights timeline` on a lake of the sandbox world's true counts: nike's campaign
(a 36-hour burst starting on day 4 at 09:00) is found at both ends; steady tags have none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.analysis.insights_timeline import rate_series, tag_timelines
from tagpulse.cli.app import app
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.records import HashtagSnapshot

DAYS = 10


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    world = World(seed=7)
    home = tmp_path_factory.mktemp("home")
    snaps: list[HashtagSnapshot] = []
    slots = []
    for h in range(DAYS * 24):
        t = world.start + h * HOUR
        for tag in ("nike", "paris", "adidas"):
            at = utc_from_epoch(t)
            snaps.append(
                HashtagSnapshot("instagram", tag, world.true_count(tag, t), [], [], at, "a", None)
            )
            slots.append(at)
    LakeWriter(home / "lake").append_snapshots(snaps, slots)
    return home, world


def test_the_campaign_is_found_at_both_ends(lake: tuple[Path, World]) -> None:
    home, world = lake
    (nike,) = tag_timelines(LakeQuery(home / "lake"), ["nike"], interval_s=6 * 3600)
    start = utc_from_epoch(world.start + 3 * DAY + 9 * HOUR)
    end = start + timedelta(hours=36)
    assert len(nike.change_points) == 2
    up, down = nike.change_points
    assert abs(up.at - start) <= timedelta(hours=12) and up.rate_after > 3 * up.rate_before
    assert abs(down.at - end) <= timedelta(hours=12) and down.rate_after < down.rate_before / 3
    # The rate during the burst is the world's: base 300/h + 2,400/h extra, about 64,800/day.
    assert 40_000 < up.rate_after < 90_000


def test_steady_tags_have_no_change_point(lake: tuple[Path, World]) -> None:
    home, _ = lake
    result = tag_timelines(LakeQuery(home / "lake"), ["paris", "adidas"], interval_s=6 * 3600)
    assert [t.change_points for t in result] == [[], []]
    paris = result[0]
    assert paris.mean_rate is not None and 8_000 < paris.mean_rate < 12_000  # ~420/h


def test_rate_series_is_posts_per_day() -> None:
    from datetime import UTC, datetime

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(t0, 100), (t0 + timedelta(hours=12), 150), (t0 + timedelta(days=1), 250)]
    assert rate_series(points) == [(points[1][0], 100.0), (points[2][0], 200.0)]


def test_cli_table_json_and_charts(lake: tuple[Path, World], tmp_path: Path) -> None:
    home, _ = lake
    runner = CliRunner()
    out = tmp_path / "rates.html"
    result = runner.invoke(
        app, ["insights", "timeline", "nike", "paris", "--interval", "6h", "--json",
              "--out", str(out), "--home", str(home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert [d["tag"] for d in doc] == ["nike", "paris"]
    assert len(doc[0]["change_points"]) == 2 and doc[1]["change_points"] == []
    assert "tagpulse-chart-data" in out.read_text()
    png = tmp_path / "rates.png"
    table = runner.invoke(
        app, ["insights", "timeline", "--interval", "6h", "--out", str(png), "--home", str(home)]
    )
    assert table.exit_code == 0, table.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "#nike" in table.output and "→" in table.output


def test_a_partly_observed_last_bucket_is_not_a_drop(tmp_path: Path) -> None:
    # +100 posts an hour for 49 hourly snapshots: with 6 h buckets the last bucket holds one
    # snapshot (at its start). Its rate is still 2,400 a day, and there is no change point.
    start = utc_from_epoch(1_793_491_200)
    snaps = [
        HashtagSnapshot("instagram", "steady", 10_000 + 100 * h, [], [],
                        start + timedelta(hours=h), "a", None)
        for h in range(49)
    ]  # fmt: skip
    LakeWriter(tmp_path / "lake").append_snapshots(snaps, [s.collected_at for s in snaps])
    [timeline] = tag_timelines(LakeQuery(tmp_path / "lake"), ["steady"], interval_s=6 * HOUR)
    assert len(timeline.points) == 9
    assert [round(r) for _, r in timeline.rates] == [2400] * 8
    assert timeline.change_points == []
    # Without the observation times the last bucket reads as a drop to a sixth.
    naive = rate_series(timeline.points)
    assert round(naive[-1][1]) == 400
