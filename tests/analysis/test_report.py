"""`tagpulse insights report`: one self-contained page whose numbers are the insights' own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.analysis.insights_timeline import tag_timelines
from tagpulse.analysis.report import REPORT_DATA_ID, ReportScope, write_report
from tagpulse.analysis.report_sections import BASE_SECTIONS
from tagpulse.analysis.share import share_of_voice
from tagpulse.cli.app import app
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import HashtagSnapshot, ParsedRecords, Post

T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    writer = LakeWriter(home / "lake")
    snaps, slots = [], []
    # nike +100 an hour, then +400 an hour from hour 24 (a change point); adidas +50 an hour.
    for tag in ("nike", "adidas"):
        count = 10_000
        for h in range(48):
            at = T0 + timedelta(hours=h)
            snaps.append(HashtagSnapshot("instagram", tag, count, [], [], at, "a", None))
            slots.append(at)
            count += (400 if h >= 24 else 100) if tag == "nike" else 50
    writer.append_snapshots(snaps, slots)
    # One author with 9 ordinary posts and one viral one.
    posts = [
        Post("instagram", f"p{i}", T0 + timedelta(hours=30), "r", owner_id="u1",
             hashtags=["nike"], likes=1000 if i == 9 else 20 + i, comments=3,
             caption=HOSTILE, taken_at=T0 + timedelta(hours=i))
        for i in range(10)
    ]  # fmt: skip
    writer.append_records(ParsedRecords(posts=posts))
    return home


def _data(page: str) -> dict[str, object]:
    doc: dict[str, object] = orjson.loads(
        page.split(f'id="{REPORT_DATA_ID}">')[1].split("</script>")[0]
    )
    return doc


def test_report_sections_carry_the_insights_numbers(home: Path, tmp_path: Path) -> None:
    query = LakeQuery(home / "lake")
    scope = ReportScope(["nike", "adidas"], None, None, None, 6 * 3600, "Brands")
    out = tmp_path / "r.html"
    sections = write_report(query, scope, out, BASE_SECTIONS)
    assert [s.key for s in sections] == ["timeline", "share", "spikes", "influencers", "forecast"]
    page = out.read_text()
    data = _data(page)["sections"]
    assert isinstance(data, dict)
    # The change point of nike's rate (2,400/day → 9,600/day) is in the timeline section.
    [change] = data["timeline"]["nike"]["change_points"]
    assert change["rate_before"] == pytest.approx(2400) and change["rate_after"] > 3 * 2400
    at = datetime.fromisoformat(change["at"])
    assert T0 + timedelta(hours=24) <= at <= T0 + timedelta(hours=36)
    [direct_nike] = tag_timelines(query, ["nike"], interval_s=6 * 3600)
    assert change["rate_after"] == pytest.approx(direct_nike.change_points[0].rate_after)
    assert data["timeline"]["adidas"]["change_points"] == []
    # Share of voice equals the insight's own answer.
    direct = share_of_voice(query, ["nike", "adidas"], interval_s=6 * 3600)
    assert data["share"]["instagram"]["nike"]["posts_share"] == pytest.approx(
        direct.tags[0].posts_share
    )
    assert data["spikes"]["posts"] == ["p9"]
    # Self-contained: inline SVG, no external resources, no executable script.
    assert page.count("<svg") >= 3
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "<script>" not in page and "<script src" not in page


def test_cli_report_and_its_errors(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "report.html"
    result = runner.invoke(
        app, ["insights", "report", "nike", "--out", str(out), "--title", "Nike <b>",
              "--interval", "12h", "--home", str(home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<title>Nike &lt;b&gt;</title>" in page
    assert "Share of voice needs two tags or more" in page
    bad = runner.invoke(
        app, ["insights", "report", "nike", "--out", str(tmp_path / "r.pdf"), "--home", str(home)]
    )
    assert bad.exit_code == 2 and "--out" in bad.output
