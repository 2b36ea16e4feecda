"""`insights sentiment`: a planted shift in a hand-built lake is found where it was planted, and
the sandbox's #puma shift (ground truth) is found from collected-shaped posts after enrichment;
a tag without a shift shows none."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.analysis.sentiment import tag_sentiment
from tagpulse.cli.app import app
from tagpulse.config import Settings
from tagpulse.enrich.runner import enrich_text
from tagpulse.enrich.text import TextModel
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.records import Comment, ParsedRecords, Post

T0 = datetime(2026, 11, 1, tzinfo=UTC)
GOOD = ["Love these, best shoes ever 😍", "So happy with my new pair", "Amazing quality 🔥"]
BAD = ["Worst purchase ever 😡", "Terrible quality, so disappointed", "They broke, I hate it 👎"]


@pytest.fixture(scope="module")
def model() -> TextModel:
    return TextModel()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, model: TextModel) -> Path:
    """#brand turns negative on day 6 (of 10); #other stays positive throughout."""
    home = tmp_path_factory.mktemp("planted")
    posts, comments = [], []
    for i in range(200):
        taken = T0 + timedelta(hours=1.2 * i)
        brand_bad = taken >= T0 + timedelta(days=6)
        for tag, bad in (("brand", brand_bad), ("other", False)):
            texts = BAD if bad else GOOD
            pid = f"{tag}{i}"
            posts.append(
                Post("instagram", pid, taken + timedelta(hours=1), "r", owner_id=str(i % 7),
                     taken_at=taken, caption=f"{texts[i % 3]} #{tag}", hashtags=[tag],
                     url=f"https://example.invalid/{pid}")
            )  # fmt: skip
            comments.append(
                Comment("instagram", f"c{pid}", pid, taken + timedelta(hours=2), "r",
                        owner_id="9", text=texts[(i + 1) % 3],
                        created_at=taken + timedelta(minutes=20))
            )  # fmt: skip
    LakeWriter(home / "lake").append_records(ParsedRecords(posts=posts, comments=comments))
    enrich_text(Settings(home=home), model=model)
    return home


def test_planted_shift_is_found(planted: Path) -> None:
    report = tag_sentiment(LakeQuery(planted / "lake"), ["#Brand"], interval_s=12 * 3600)
    assert report.n == 400  # 200 captions + 200 comments
    assert len(report.shifts) == 1
    shift = report.shifts[0]
    assert shift.at == T0 + timedelta(days=6)
    assert shift.mean_before > 0.5 and shift.mean_after < -0.5 and shift.p_value < 1e-6
    before = [p for p in report.points if p.at < shift.at]
    after = [p for p in report.points if p.at >= shift.at]
    assert all(p.positive_share == 1 for p in before) and all(p.negative_share == 1 for p in after)
    assert all(i.sentiment < -0.5 and "#brand" in (i.text or "") for i in report.most_negative)
    assert report.most_negative[0].url and report.most_positive[0].sentiment > 0.5


def test_no_shift_where_none_was_planted(planted: Path) -> None:
    report = tag_sentiment(LakeQuery(planted / "lake"), ["other"], interval_s=12 * 3600)
    assert report.n == 400 and report.shifts == [] and report.most_negative == []


def test_kind_and_window(planted: Path) -> None:
    query = LakeQuery(planted / "lake")
    captions = tag_sentiment(query, ["brand"], kind="caption", since=T0 + timedelta(days=6))
    assert captions.n == sum(1 for i in range(200) if 1.2 * i >= 144)
    assert captions.mean is not None and captions.mean < -0.5


def test_cli(planted: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    chart = tmp_path / "sentiment.html"
    result = runner.invoke(
        app,
        ["insights", "sentiment", "brand", "--interval", "12h", "--top", "2", "--json",
         "--out", str(chart), "--home", str(planted)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["shifts"][0]["at"].startswith("2026-11-07") and len(doc["most_negative"]) == 2
    data = re.search(r'id="tagpulse-chart-data">(.*?)</script>', chart.read_text(), re.S)
    assert data and orjson.loads(data.group(1))["series"]["#brand"][0][1] > 50
    table = runner.invoke(app, ["insights", "sentiment", "brand", "--home", str(planted)])
    assert table.exit_code == 0 and "shift at 2026-11-07" in table.output, table.output


def test_says_to_enrich_first(tmp_path: Path) -> None:
    posts = [Post("instagram", "p", T0, "r", taken_at=T0, caption="hello #brand")]
    LakeWriter(tmp_path / "lake").append_records(ParsedRecords(posts=posts))
    result = CliRunner().invoke(app, ["insights", "sentiment", "brand", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "tagpulse enrich" in result.output


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, model: TextModel) -> tuple[Path, World]:
    """What tracking #puma and #adidas for 14 days stores: each hour's top and recent posts on
    the tag pages (the demo's collection), from the world's truth; then enriched."""
    world = World(seed=7)
    home = tmp_path_factory.mktemp("sandbox")
    posts: list[Post] = []
    for tag in ("puma", "adidas"):
        for h in range(14 * 24):
            t = world.start + h * HOUR
            for item in world.top_posts(tag, t) + world.recent_posts(tag, t):
                text = item["caption"]["text"]
                posts.append(
                    Post("instagram", str(item["pk"]), utc_from_epoch(t), f"r{h}",
                         owner_id=str(item["user"]["pk"]),
                         taken_at=utc_from_epoch(item["taken_at"]), caption=text,
                         hashtags=re.findall(r"#(\w+)", text))
                )  # fmt: skip
    LakeWriter(home / "lake").append_records(ParsedRecords(posts=posts))
    enrich_text(Settings(home=home), model=model)
    return home, world


def test_sandbox_shift_is_found(sandbox: tuple[Path, World]) -> None:
    home, world = sandbox
    truth = world.sentiment_shift
    assert truth is not None and truth.tag == "puma"
    starts = utc_from_epoch(truth.starts_at(world.start))
    report = tag_sentiment(
        LakeQuery(home / "lake"), ["puma"], interval_s=86_400, since=utc_from_epoch(world.start)
    )
    assert report.n > 500
    assert len(report.shifts) == 1
    shift = report.shifts[0]
    assert abs(shift.at - starts) <= timedelta(days=1)
    assert shift.mean_before > 0.2 and shift.mean_after < -0.2
    assert truth.share > 0.5  # most of the posts after the start turned negative


def test_sandbox_tag_without_shift(sandbox: tuple[Path, World]) -> None:
    home, world = sandbox
    report = tag_sentiment(
        LakeQuery(home / "lake"), ["adidas"], interval_s=86_400, since=utc_from_epoch(world.start)
    )
    assert report.n > 500 and report.shifts == [] and (report.mean or 0) > 0.2


def test_sandbox_posts_before_the_start_are_untouched() -> None:
    shifted, plain = World(seed=7), World(seed=7, sentiment_shift=None)
    t = shifted.start + 12 * DAY
    for tag in ("puma", "adidas"):
        a, b = shifted.top_posts(tag, t), plain.top_posts(tag, t)
        assert [x["pk"] for x in a] == [x["pk"] for x in b]  # the same posts, the same order
        starts = shifted.start + 8 * DAY
        for x, y in zip(a, b, strict=True):
            same = x["caption"]["text"] == y["caption"]["text"]
            assert same or (tag == "puma" and x["taken_at"] >= starts)
            assert {k: v for k, v in x.items() if k != "caption"} == {
                k: v for k, v in y.items() if k != "caption"
            }
