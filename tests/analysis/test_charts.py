"""Timelines and charts over a real lake: Parquet written by LakeWriter, read by DuckDB."""

from __future__ import annotations

import html
import re
import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from PIL import Image

from tagpulse.analysis.charts import (
    CHART_DATA_ID,
    chart_json,
    series_colors,
    write_chart,
    write_chart_html,
    write_chart_png,
)
from tagpulse.analysis.timeline import (
    Series,
    describe_interval,
    format_duration,
    parse_duration,
    parse_since,
    timeline_series,
)
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import HashtagSnapshot

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def snap(tag: str, count: int | None, at: datetime, platform: str = "instagram") -> HashtagSnapshot:
    return HashtagSnapshot(
        platform=platform,
        tag=tag,
        post_count=count,
        top_posts=[],
        related_tags=[],
        collected_at=at,
        account="alias",
        raw_id=None,
    )


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """Two tags of very different sizes, snapshots every 20 minutes for 10 hours."""
    lake_dir = tmp_path / "lake"
    snaps = []
    for i in range(30):
        at = T0 + timedelta(minutes=20 * i)
        snaps.append(snap("paris", 125_000_000 + 1_000 * i, at))
        snaps.append(snap("smalltag", 1_000 + i if i % 7 else None, at))
    LakeWriter(lake_dir).append_snapshots(snaps)
    return lake_dir


def embedded_data(page: str) -> dict[str, Any]:
    match = re.search(
        rf'<script type="application/json" id="{CHART_DATA_ID}">(.*?)</script>', page, re.S
    )
    assert match is not None
    data: dict[str, Any] = orjson.loads(match.group(1))
    return data


def svg_of(page: str) -> ET.Element:
    """The inline SVG, parsed as XML: proves it is well-formed whatever the labels were."""
    match = re.search(r"<svg .*?</svg>", page, re.S)
    assert match is not None
    return ET.fromstring(match.group(0))


def count_elements(svg: ET.Element, name: str) -> int:
    return sum(1 for el in svg.iter() if el.tag.rsplit("}", 1)[-1] == name)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- durations and starting points ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1_800),
        ("1h", 3_600),
        ("7d", 604_800),
        ("2w", 1_209_600),
        ("1d12h", 129_600),
        (" 1H30M ", 5_400),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "10", "1x", "1.5h", "-1h", "1h-", "0m", "abc"])
def test_parse_duration_rejects_bad_text(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_duration(text, field="interval")
    assert info.value.field == "interval"
    assert repr(text) in str(info.value)


def test_format_and_describe_interval() -> None:
    assert format_duration(5_400) == "1h30m"
    assert parse_duration(format_duration(129_600)) == 129_600
    assert describe_interval(3_600) == "hour"
    assert describe_interval(86_400) == "day"
    assert describe_interval(1_800) == "30m"


def test_parse_since() -> None:
    now = datetime(2026, 11, 8, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T06:30", now) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert parse_since("2026-11-01T06:30:00Z", now) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert parse_since("2026-11-01T08:30:00+02:00", now) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    # A naive "now" is UTC too.
    assert parse_since("1h", now.replace(tzinfo=None)) == datetime(2026, 11, 8, 11, tzinfo=UTC)
    with pytest.raises(InputError) as info:
        parse_since("last tuesday", now)
    assert info.value.field == "since"


# --- series -----------------------------------------------------------------------------------


def test_timeline_series_matches_query(lake: Path) -> None:
    query = LakeQuery(lake)
    series = timeline_series(
        query, ["#Paris", "SMALLTAG", "missing"], interval_s=3_600, since=None, until=None
    )
    assert list(series) == ["paris", "smalltag", "missing"]
    assert series["missing"] == []
    points = query.timeline(["paris", "smalltag"], interval_s=3_600)
    for tag in ("paris", "smalltag"):
        assert series[tag] == [(p.bucket, p.post_count) for p in points if p.tag == tag]
    assert len(series["paris"]) == 10
    # Max per bucket: the last of three snapshots in each hour.
    assert series["paris"][0] == (T0, 125_002_000)


def test_timeline_series_window_and_naive_bounds(lake: Path) -> None:
    series = timeline_series(
        LakeQuery(lake),
        ["paris"],
        interval_s=3_600,
        since=datetime(2026, 11, 1, 2, 0),
        until=T0 + timedelta(hours=4),
    )
    assert [bucket.hour for bucket, _ in series["paris"]] == [2, 3]


def test_timeline_series_labels_platforms_when_several(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    LakeWriter(lake_dir).append_snapshots(
        [snap("paris", 10, T0), snap("paris", 20, T0, platform="tiktok")]
    )
    query = LakeQuery(lake_dir)
    both = timeline_series(query, ["paris", "nope"], interval_s=3_600, since=None, until=None)
    assert both == {"instagram:paris": [(T0, 10)], "tiktok:paris": [(T0, 20)], "nope": []}
    one = timeline_series(
        query, ["paris"], interval_s=3_600, since=None, until=None, platform="tiktok"
    )
    assert one == {"paris": [(T0, 20)]}


def test_timeline_series_rejects_bad_interval(lake: Path) -> None:
    with pytest.raises(InputError):
        timeline_series(LakeQuery(lake), ["paris"], interval_s=0, since=None, until=None)


# --- HTML -------------------------------------------------------------------------------------


def test_html_chart_carries_exact_timeline_points(lake: Path, tmp_path: Path) -> None:
    query = LakeQuery(lake)
    series = timeline_series(
        query, ["paris", "smalltag", "missing"], interval_s=3_600, since=None, until=None
    )
    out = write_chart(series, tmp_path / "charts" / "tags.html", title="Paris", interval_s=3_600)
    page = out.read_text(encoding="utf-8")

    data = embedded_data(page)
    assert data["title"] == "Paris"
    assert data["interval_s"] == 3_600
    assert set(data["series"]) == {"paris", "smalltag", "missing"}
    expected: dict[str, list[list[Any]]] = {"paris": [], "smalltag": [], "missing": []}
    for p in query.timeline(["paris", "smalltag"], interval_s=3_600):
        expected[p.tag].append([p.bucket.strftime("%Y-%m-%dT%H:%M:%SZ"), p.post_count])
    assert data["series"] == expected

    svg = svg_of(page)
    assert count_elements(svg, "polyline") == 2  # "missing" has no line
    assert "max post count per hour" in page
    assert "missing (no data)" in page
    y_labels = re.findall(r'class="ytick"[^>]*>([^<]*)<', page)
    assert "50,000,000" in y_labels  # thousands separators on the count axis
    assert "2026-11-01" in page  # a date tick
    # Self-contained: nothing is fetched when the page is opened.
    assert not re.search(r"\b(src|href)\s*=", page)
    assert not list(tmp_path.glob("charts/.*"))  # no temp file left behind


def test_html_chart_polylines_have_distinct_colours(lake: Path, tmp_path: Path) -> None:
    series = timeline_series(
        LakeQuery(lake), ["paris", "smalltag"], interval_s=1_800, since=None, until=None
    )
    page = write_chart_html(series, tmp_path / "c.html", title="", interval_s=1_800).read_text()
    svg = svg_of(page)
    strokes = [el.get("stroke") for el in svg.iter() if el.tag.endswith("polyline")]
    assert len(strokes) == 2 and len(set(strokes)) == 2
    assert "Max post count per 30m" in page
    assert len(set(series_colors(25))) == 25


def test_html_chart_escapes_hostile_labels(tmp_path: Path) -> None:
    label = "</script><script>alert(1)</script><!-- & \"'"
    series: Series = {label: [(T0, 5), (T0 + timedelta(hours=1), 7)], "ok": [(T0, 1_234_567)]}
    page = write_chart_html(
        series, tmp_path / "c.html", title="<b>title</b>", interval_s=3_600
    ).read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "<b>title</b>" not in page
    assert page.count("</script>") == 2  # the data element and the tooltip script
    assert "<!--" not in page
    assert html.escape(label) in page
    data = embedded_data(page)
    assert list(data["series"]) == [label, "ok"]
    assert data["title"] == "<b>title</b>"
    svg = svg_of(page)  # still well-formed XML
    assert count_elements(svg, "polyline") == 2
    assert "1,000,000" in re.findall(r'class="ytick"[^>]*>([^<]*)<', page)


def test_html_chart_log_scale_and_single_point(tmp_path: Path) -> None:
    series: Series = {"big": [(T0, 125_000_000)], "small": [(T0, 0), (T0 + timedelta(days=3), 900)]}
    page = write_chart_html(
        series, tmp_path / "c.html", title="mixed", interval_s=86_400, log_scale=True
    ).read_text()
    assert "log scale" in page
    assert "1,000,000,000" in page or "100,000,000" in page
    assert count_elements(svg_of(page), "polyline") == 2
    assert embedded_data(page)["series"]["big"] == [["2026-11-01T00:00:00Z", 125_000_000]]


@pytest.mark.parametrize("series", [{}, {"quiet": [], "silent": []}])
def test_html_chart_without_data_says_so(tmp_path: Path, series: Series) -> None:
    page = write_chart(series, tmp_path / "c.html", title="none", interval_s=3_600).read_text()
    assert ">no data<" in page
    assert count_elements(svg_of(page), "polyline") == 0
    assert embedded_data(page)["series"] == {k: [] for k in series}


# --- PNG --------------------------------------------------------------------------------------


def test_png_chart_is_a_png_with_the_series_inside(lake: Path, tmp_path: Path) -> None:
    series = timeline_series(
        LakeQuery(lake), ["paris", "smalltag", "missing"], interval_s=3_600, since=None, until=None
    )
    out = write_chart(series, tmp_path / "tags.png", title="Paris", interval_s=3_600)
    assert png_size(out) == (1200, 600)
    with Image.open(out) as image:
        text: dict[str, str] = image.text  # type: ignore[attr-defined]
        assert image.format == "PNG"
    embedded = orjson.loads(text["Description"])
    assert embedded == orjson.loads(chart_json(series, title="Paris", interval_s=3_600))
    assert len(embedded["series"]["paris"]) == 10
    assert embedded["series"]["missing"] == []


def test_png_chart_log_scale_unicode_and_empty(tmp_path: Path) -> None:
    series: Series = {"café🎉": [(T0, 0), (T0 + timedelta(hours=1), 125_000_000)], "x": [(T0, 3)]}
    out = write_chart_png(series, tmp_path / "log.png", title="é", interval_s=3_600, log_scale=True)
    png_size(out)
    with Image.open(out) as image:
        text: dict[str, str] = image.text  # type: ignore[attr-defined]
    # Non-Latin-1 text lands in an iTXt chunk, which PIL returns as a str subclass.
    assert list(orjson.loads(str(text["Description"]))["series"]) == ["café🎉", "x"]

    empty = write_chart({}, tmp_path / "empty.png", title="none", interval_s=3_600)
    assert png_size(empty) == (1200, 600)
    with Image.open(empty) as image:
        text = image.text  # type: ignore[attr-defined]
    assert orjson.loads(text["Description"])["series"] == {}


def test_write_chart_rejects_unknown_suffix(tmp_path: Path) -> None:
    out = tmp_path / "chart.svg"
    with pytest.raises(InputError) as info:
        write_chart({}, out, title="t", interval_s=3_600)
    assert info.value.path == str(out)
    assert ".html" in str(info.value) and ".png" in str(info.value)
    assert not out.exists()
