"""`tagpulse insights share`: shares of new posts (from counts) and of engagement (from posts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.analysis.area import AREA_DATA_ID
from tagpulse.analysis.pie import PIE_DATA_ID
from tagpulse.analysis.share import share_by_platform, share_of_voice
from tagpulse.cli.app import app
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import HashtagSnapshot, ParsedRecords, Post

T0 = datetime(2026, 11, 1, tzinfo=UTC)
# Counts every 6 hours for 2 days: nike +300 a bucket, adidas +100, puma +0 then +200.
GROWTH = {"nike": [300] * 8, "adidas": [100] * 8, "puma": [0] * 4 + [200] * 4}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    writer = LakeWriter(home / "lake")
    snaps, slots = [], []
    for tag, steps in GROWTH.items():
        count = 1_000
        for i in range(len(steps) + 1):
            at = T0 + timedelta(hours=6 * i)
            snaps.append(HashtagSnapshot("instagram", tag, count, [], [], at, "a", None))
            slots.append(at)
            if i < len(steps):
                count += steps[i]
    writer.append_snapshots(snaps, slots)
    posts = [
        # One post seen twice: only its latest observation counts (50 + 5).
        Post("instagram", "p1", T0, "r1", hashtags=["nike"], likes=10, comments=1),
        Post("instagram", "p1", T0 + timedelta(hours=5), "r2", hashtags=["nike"], likes=50,
             comments=5),
        Post("instagram", "p2", T0, "r1", hashtags=["nike", "adidas"], likes=20, comments=0),
        Post("instagram", "p3", T0, "r1", hashtags=["puma"], likes=None, comments=25),
        Post("instagram", "p4", T0, "r1", hashtags=["paris"], likes=999, comments=0),
    ]  # fmt: skip
    writer.append_records(ParsedRecords(posts=posts))
    return home


def test_shares_of_posts_engagement_and_over_time(home: Path) -> None:
    result = share_of_voice(
        LakeQuery(home / "lake"), ["#Nike", "adidas", "puma"], interval_s=6 * 3600
    )
    by_tag = {t.tag: t for t in result.tags}
    assert [by_tag[t].posts for t in ("nike", "adidas", "puma")] == [2400, 800, 800]
    assert by_tag["nike"].posts_share == pytest.approx(0.6)
    assert by_tag["puma"].posts_share == pytest.approx(0.2)
    # nike: p1 (55) + p2 (20); adidas: p2 (20); puma: p3 (25); paris's post is not counted.
    assert [by_tag[t].engagement for t in ("nike", "adidas", "puma")] == [75, 20, 25]
    assert by_tag["nike"].engagement_share == pytest.approx(75 / 120)
    assert [by_tag[t].posts_seen for t in ("nike", "adidas", "puma")] == [2, 1, 1]
    first, last = result.over_time[0][1], result.over_time[-1][1]
    assert first == pytest.approx({"nike": 0.75, "adidas": 0.25, "puma": 0.0})
    assert last == pytest.approx({"nike": 0.5, "adidas": 1 / 6, "puma": 1 / 3})


def test_one_tag_is_refused(home: Path) -> None:
    with pytest.raises(InputError, match="two tags"):
        share_of_voice(LakeQuery(home / "lake"), ["nike", "#NIKE"], interval_s=3600)


def test_cli_json_pie_and_over_time(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    pie, lines = tmp_path / "pie.html", tmp_path / "share.png"
    result = runner.invoke(
        app, ["insights", "share", "nike", "adidas", "puma", "--interval", "6h", "--json",
              "--out", str(pie), "--over-time", str(lines), "--home", str(home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert [p["platform"] for p in doc["platforms"]] == ["instagram"]
    assert [t["posts"] for t in doc["platforms"][0]["tags"]] == [2400, 800, 800]
    page = pie.read_text()
    data = orjson.loads(page.split(f'id="{PIE_DATA_ID}">')[1].split("</script>")[0])
    assert [round(s["share"], 3) for s in data["slices"]] == [0.6, 0.2, 0.2]
    assert lines.read_bytes()[:4] == b"\x89PNG"
    png = tmp_path / "pie.png"
    table = runner.invoke(
        app, ["insights", "share", "nike", "adidas", "--out", str(png), "--home", str(home)]
    )
    assert table.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"
    assert "#nike" in table.output and "75.0%" in table.output


def test_engagement_over_time_by_the_posts_own_time(home: Path) -> None:
    result = share_of_voice(LakeQuery(home / "lake"), ["nike", "adidas", "puma"], interval_s=86400)
    # Every post was taken on T0's day: nike 75, adidas 20, puma 25 of 120.
    assert [at for at, _ in result.engagement_over_time] == [T0]
    assert result.engagement_over_time[0][1] == pytest.approx(
        {"nike": 75 / 120, "adidas": 20 / 120, "puma": 25 / 120}
    )


def test_stacked_area_html_holds_shares_that_stack_to_one(home: Path, tmp_path: Path) -> None:
    area = tmp_path / "area.html"
    result = CliRunner().invoke(
        app, ["insights", "share", "nike", "adidas", "puma", "--interval", "6h",
              "--over-time", str(area), "--home", str(home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = area.read_text()
    data = orjson.loads(page.split(f'id="{AREA_DATA_ID}">')[1].split("</script>")[0])
    assert data["labels"] == ["#nike", "#adidas", "#puma"]
    assert len(data["buckets"]) == 8
    for bucket in data["buckets"]:
        assert sum(bucket["shares"].values()) == pytest.approx(1.0)
    assert data["buckets"][-1]["shares"]["#puma"] == pytest.approx(1 / 3)
    assert page.count("<polygon") == 3


def test_each_platform_gets_its_own_share(tmp_path: Path) -> None:
    home = tmp_path / "home"
    writer = LakeWriter(home / "lake")
    snaps, slots = [], []
    # Instagram: nike +100/h, adidas +100/h; TikTok: nike +10/h, adidas +30/h.
    for platform, steps in (("instagram", {"nike": 100, "adidas": 100}),
                            ("tiktok", {"nike": 10, "adidas": 30})):  # fmt: skip
        for tag, step in steps.items():
            for i in range(5):
                at = T0 + timedelta(hours=i)
                snaps.append(HashtagSnapshot(platform, tag, 1000 + step * i, [], [], at, "a", None))
                slots.append(at)
    writer.append_snapshots(snaps, slots)
    by_platform = dict(
        share_by_platform(LakeQuery(home / "lake"), ["nike", "adidas"], interval_s=3600)
    )
    assert sorted(by_platform) == ["instagram", "tiktok"]
    tiktok = {t.tag: t for t in by_platform["tiktok"].tags}
    assert tiktok["nike"].posts == 40 and tiktok["nike"].posts_share == pytest.approx(0.25)
    insta = {t.tag: t for t in by_platform["instagram"].tags}
    assert insta["adidas"].posts_share == pytest.approx(0.5)
    pie = tmp_path / "pie.png"
    result = CliRunner().invoke(
        app, ["insights", "share", "nike", "adidas", "--out", str(pie), "--home", str(home)]
    )
    assert result.exit_code == 0, result.output
    assert "on instagram" in result.output and "on tiktok" in result.output
    assert (tmp_path / "pie-instagram.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "pie-tiktok.png").exists() and not pie.exists()
