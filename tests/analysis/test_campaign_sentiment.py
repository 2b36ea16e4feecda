"""A campaign's periods carry the mean caption sentiment of their enriched posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from typer.testing import CliRunner

from tagpulse.analysis.campaign import campaign_report
from tagpulse.analysis.report import REPORT_DATA_ID
from tagpulse.cli.app import app
from tagpulse.config import load_settings
from tagpulse.enrich.runner import enrich_text
from tagpulse.lake.campaigns import make_campaign
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import HashtagSnapshot, ParsedRecords, Post

T0 = datetime(2026, 10, 1, tzinfo=UTC)
START, END = T0 + timedelta(days=7), T0 + timedelta(days=14)
CAPTION = {
    "before": "This is awful, I hate it, terrible quality 😡",
    "during": "I love it, absolutely wonderful and great ❤️",
    "after": "It is a shoe.",
}


def build(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path / "lake")
    snaps = [
        HashtagSnapshot("instagram", "brand", 1000 + 10 * h, [], [], T0 + timedelta(hours=h),
                        "a", None)
        for h in range(21 * 24)
    ]  # fmt: skip
    writer.append_snapshots(snaps, [s.collected_at for s in snaps])
    posts = []
    for i in range(21):
        at = T0 + timedelta(days=i, hours=12)
        period = "before" if at < START else "during" if at < END else "after"
        posts.append(
            Post("instagram", f"p{i}", at + timedelta(hours=1), "r", owner_id="u", owner_handle="u",
                 hashtags=["brand"], caption=CAPTION[period], likes=10, comments=1, taken_at=at)
        )  # fmt: skip
    writer.append_records(ParsedRecords(posts=posts))


def test_periods_have_the_captions_mean_sentiment(tmp_path: Path) -> None:
    build(tmp_path)
    campaign = make_campaign("c", tags=["brand"], start=START, end=END)
    query = LakeQuery(tmp_path / "lake")
    assert [p.sentiment for p in campaign_report(query, campaign).periods] == [None] * 3
    enrich_text(load_settings(home=tmp_path))
    before, during, after = campaign_report(query, campaign).periods
    assert before.sentiment is not None and before.sentiment < -0.5
    assert during.sentiment is not None and during.sentiment > 0.5
    assert after.sentiment is not None and abs(after.sentiment) < 0.2


def test_report_for_a_campaign(tmp_path: Path) -> None:
    build(tmp_path)
    runner = CliRunner()
    home = ["--home", str(tmp_path)]
    made = runner.invoke(app, ["campaign", "create", "launch", "--tags", "brand", "--start",
                               START.isoformat(), "--end", END.isoformat(), *home])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["enrich", *home]).exit_code == 0
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["insights", "report", "--campaign", "launch", "--out", str(out),
                                 *home])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text()
    data = orjson.loads(page.split(f'id="{REPORT_DATA_ID}">')[1].split("</script>")[0])
    assert data["campaign"] == "launch" and data["tags"] == ["brand"]
    sections = data["sections"]
    assert next(iter(sections)) == "campaign" and "sentiment" in sections
    periods = sections["campaign"]["periods"]
    assert periods["before"]["sentiment"] < -0.5 < 0.5 < periods["during"]["sentiment"]
    assert sections["sentiment"]["n"] == 21
    assert "<title>Campaign launch: #brand</title>" in page
    none = runner.invoke(app, ["insights", "report", "--out", str(out), *home])
    assert none.exit_code == 2 and "--campaign" in none.output
