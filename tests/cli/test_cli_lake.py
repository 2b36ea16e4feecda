"""`tagpulse chart`, `export`, `compact` and `sandbox serve` from the command line."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import HashtagSnapshot, PostRef

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def lake_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    writer = LakeWriter(home / "lake")
    ref = PostRef("42", "CKrfLPHM4a7", "9", "capucine", NOW - timedelta(days=3), 178, 9,
                  "image", "rooftop #paris", "https://example.invalid/p.jpg")  # fmt: skip
    snaps = []
    for hours in range(0, 72, 1):
        at = NOW - timedelta(hours=72 - hours)
        snaps.append(HashtagSnapshot("instagram", "paris", 1000 + hours, [ref], [], at, "a", "r"))
        snaps.append(HashtagSnapshot("instagram", "nike", 50 + 2 * hours, [], [], at, "a", "r"))
    snaps.append(HashtagSnapshot("instagram", "newyears", None, [], [], NOW, "a", "r"))
    writer.append_snapshots(snaps)
    writer.append_snapshots(snaps[:10])  # duplicates of ten slots
    return home


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def chart_data(html: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="tagpulse-chart-data">(.*?)</script>', html, re.S
    )
    assert match
    return dict(orjson.loads(match.group(1)))


def test_chart_html_has_a_series_per_tag(lake_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "chart.html"
    since = (NOW - timedelta(days=2)).isoformat()
    text = invoke("chart", "paris", "#NIKE", "--since", since, "--interval", "6h",
                  "--out", str(out), "--home", str(lake_home))  # fmt: skip
    assert "2 series" in text
    data = chart_data(out.read_text())
    series = data["series"]
    assert isinstance(series, dict) and set(series) == {"paris", "nike"}
    expected = LakeQuery(lake_home / "lake").timeline(
        ["paris"], interval_s=6 * 3600, since=NOW - timedelta(days=2)
    )
    assert [p[1] for p in series["paris"]] == [p.post_count for p in expected]
    assert 8 <= len(series["paris"]) <= 9
    assert out.read_text().count("<polyline") == 2


def test_chart_png(lake_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    invoke("chart", "--out", str(out), "--home", str(lake_home), "--log")
    raw = out.read_bytes()
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"Description" in raw
    width = int.from_bytes(raw[16:20], "big")
    assert width > 400
    for tag in (b"paris", b"nike", b"newyears"):
        assert tag in raw


def test_chart_bad_options(lake_home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["chart", "--interval", "soon", "--home", str(lake_home)])
    assert result.exit_code == 2 and "--interval" in result.output
    result = runner.invoke(app, ["chart", "--out", str(tmp_path / "c.gif"),
                                 "--home", str(lake_home)])  # fmt: skip
    assert result.exit_code == 2 and "c.gif" in result.output


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "es-bulk"])
def test_export_formats(lake_home: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"snaps.{fmt}"
    text = invoke("export", "hashtag_snapshots", "--format", fmt, "--out", str(out),
                  "--home", str(lake_home))  # fmt: skip
    assert "145 rows" in text  # 72 + 72 + 1, duplicates dropped
    if fmt == "parquet":
        assert pq.read_table(out).num_rows == 145
    elif fmt == "csv":
        assert len(out.read_text().splitlines()) == 146
    elif fmt == "jsonl":
        docs = [orjson.loads(x) for x in out.read_bytes().splitlines()]
        assert len(docs) == 145 and {d["tag"] for d in docs} == {"paris", "nike", "newyears"}
    else:
        lines = out.read_bytes().splitlines()
        assert len(lines) == 290
        actions = [orjson.loads(x) for x in lines[0::2]]
        docs = [orjson.loads(x) for x in lines[1::2]]
        assert all(set(a) == {"index"} and a["index"]["_index"] == "tagpulse-hashtags"
                   for a in actions)  # fmt: skip
        assert len({a["index"]["_id"] for a in actions}) == 145
        assert all({"tag_name", "tag_posts", "timestamp", "tag_popular_posts"} <= set(d)
                   for d in docs)  # fmt: skip
        paris = next(d for d in docs if d["tag_name"] == "paris")
        assert paris["tag_popular_posts"][0]["url"] == "https://www.instagram.com/p/CKrfLPHM4a7/"
        assert paris["timestamp"].endswith("Z")
        assert next(d for d in docs if d["tag_name"] == "newyears")["tag_posts"] is None
        template = orjson.loads((tmp_path / "snaps.template.json").read_bytes())
        assert template["index_patterns"] == ["tagpulse-hashtags*"]
        props = template["template"]["mappings"]["properties"]
        assert props["tag_posts"]["type"] == "long" and props["timestamp"]["type"] == "date"


def test_export_errors_and_filters(lake_home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "nope", "--home", str(lake_home)])
    assert result.exit_code == 2 and "hashtag_snapshots" in result.output
    result = runner.invoke(app, ["export", "hashtag_snapshots", "--format", "xml",
                                 "--home", str(lake_home)])  # fmt: skip
    assert result.exit_code == 2 and "es-bulk" in result.output
    out = tmp_path / "nike.jsonl"
    text = invoke("export", "hashtag_snapshots", "--format", "jsonl", "--tag", "nike",
                  "--since", "1d", "--out", str(out), "--home", str(lake_home))  # fmt: skip
    assert "23 rows" in text or "24 rows" in text  # hourly, the last 24 h (edge: clock moved)


def test_compact_command(lake_home: Path) -> None:
    text = invoke("compact", "--home", str(lake_home))
    assert "partitions compacted" in text
    rows = LakeQuery(lake_home / "lake").rows("SELECT count(*) AS n FROM hashtag_snapshots_all")
    assert rows == [{"n": 145}]


@pytest.mark.subprocess
def test_sandbox_serve_prints_base_url_and_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tagpulse", "sandbox", "serve", "--port", "0", "--speed", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", first), first
        deadline = time.monotonic() + 10
        while True:
            try:
                clock = httpx.get(first + "/__sandbox/clock", timeout=2).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert clock["speed"] == 60
        answer = httpx.get(
            first + "/api/v1/tags/web_info/",
            params={"tag_name": "paris"},
            headers={"X-IG-App-ID": "936619743392459"},
            cookies={"sessionid": "sess-acct01"},
        )
        assert answer.status_code == 200 and answer.json()["data"]["media_count"] > 125_000_000
    finally:
        proc.terminate()
        proc.wait(10)


def test_chart_growth(lake_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "growth.html"
    invoke("chart", "paris", "nike", "--growth", "--interval", "1h", "--out", str(out),
           "--home", str(lake_home))  # fmt: skip
    html = out.read_text()
    series = chart_data(html)["series"]
    assert isinstance(series, dict)
    assert [p[1] for p in series["paris"][:3]] == [0, 1, 2]
    assert [p[1] for p in series["nike"][:3]] == [0, 2, 4]
    assert "posts added since the first point" in html
