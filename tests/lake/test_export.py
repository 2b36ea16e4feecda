"""Exports from a real lake (Parquet via LakeWriter, DuckDB views) into real files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tagpulse.errors import InputError, StorageError
from tagpulse.lake import export
from tagpulse.lake.export import (
    EXPORT_FORMATS,
    ExportResult,
    es_index_template,
    export_table,
    template_path,
)
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, LakeWriter
from tagpulse.records import HashtagSnapshot, PostRef

T0 = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
COLUMNS = (
    "snapshot_id, tag, post_count, collected_at, slot_at, account, raw_id, top_posts, "
    "related_tags, extra, platform, date"
)
ES_DOC_FIELDS = {"tag_name", "tag_posts", "timestamp", "tag_popular_posts", "platform"}
ES_POST_FIELDS = {
    "post_id",
    "shortcode",
    "url",
    "owner",
    "likes",
    "comments",
    "taken_at",
    "media_type",
    "caption",
}


def post(i: int, *, shortcode: str | None = "auto") -> PostRef:
    return PostRef(
        post_id=f"p{i}",
        shortcode=f"SC{i}" if shortcode == "auto" else shortcode,
        owner_id=f"o{i}",
        owner_handle=f"user_{i}" if i % 2 else None,
        taken_at=T0 - timedelta(hours=i, microseconds=1_000 * i),  # fractions: 0 and not 0
        likes=10 * i,
        comments=None if i % 3 == 0 else i,
        media_type="image",
        caption=f'caption {i}, with "quotes", a comma,\na newline and émoji 🎉',
        display_url=None,
    )


def make_snapshots() -> list[HashtagSnapshot]:
    """12 snapshots: two platforms, two days, a missing count, posts with and without codes."""
    snaps: list[HashtagSnapshot] = []
    for i in range(6):
        at = T0 + timedelta(hours=5 * i)  # crosses into the next day's partition
        snaps.append(
            HashtagSnapshot(
                platform="instagram",
                tag="paris",
                post_count=125_000_000 + i if i != 2 else None,
                top_posts=[post(i), post(i + 1, shortcode=None)],
                related_tags=["france", "eiffel"],
                collected_at=at,
                account="alias1",
                raw_id=f"raw{i}",
                extra={"source": "test", "n": i},
            )
        )
        snaps.append(
            HashtagSnapshot(
                platform="tiktok",
                tag="dance",
                post_count=1_000 + i,
                top_posts=[],
                related_tags=[],
                collected_at=at + timedelta(minutes=1),
                account=None,
                raw_id=None,
            )
        )
    return snaps


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    lake_dir = tmp_path / "lake"
    writer = LakeWriter(lake_dir)
    writer.append_snapshots(make_snapshots())
    writer.append_snapshots(make_snapshots())  # written twice: must be exported once
    return lake_dir


def expected_rows(lake: Path, where: str = "") -> list[dict[str, Any]]:
    return LakeQuery(lake).rows(
        f"SELECT {COLUMNS} FROM hashtag_snapshots {where} ORDER BY collected_at, snapshot_id"
    )


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_parquet_round_trip_and_dedup(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "snaps.parquet"
    result = export_table(LakeQuery(lake), HASHTAG_SNAPSHOTS, "parquet", out)
    assert result == ExportResult(rows=12, path=out, extra_files=[])
    expected = expected_rows(lake)
    assert len(expected) == 12  # the raw files hold 24 rows
    assert len(LakeQuery(lake).rows("SELECT snapshot_id FROM hashtag_snapshots_all")) == 24
    assert pq.read_table(out).to_pylist() == expected
    assert no_temp_files(out.parent)


def test_small_batches_give_the_same_export(lake: Path, tmp_path: Path) -> None:
    query = LakeQuery(lake)
    for fmt in EXPORT_FORMATS:
        one = export_table(query, HASHTAG_SNAPSHOTS, fmt, tmp_path / f"one.{fmt}")  # type: ignore[arg-type]
        many = export_table(
            query,
            HASHTAG_SNAPSHOTS,
            fmt,  # type: ignore[arg-type]
            tmp_path / f"many.{fmt}",
            batch_rows=5,
        )
        assert one.rows == many.rows == 12
        if fmt == "parquet":
            assert pq.read_table(one.path).equals(pq.read_table(many.path))
        else:
            assert one.path.read_bytes() == many.path.read_bytes()


def test_csv_round_trip(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "snaps.csv"
    assert export_table(LakeQuery(lake), HASHTAG_SNAPSHOTS, "csv", out).rows == 12
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == [c.strip() for c in COLUMNS.split(",")]
    records = frame.to_dict(orient="records")
    for got, want in zip(records, expected_rows(lake), strict=True):
        assert got["snapshot_id"] == want["snapshot_id"]
        assert got["tag"] == want["tag"]
        assert got["post_count"] == ("" if want["post_count"] is None else str(want["post_count"]))
        assert got["collected_at"] == iso(want["collected_at"])
        assert got["collected_at"].endswith("Z")
        assert got["date"] == want["date"].isoformat()
        assert got["account"] == (want["account"] or "")
        assert json.loads(got["related_tags"]) == want["related_tags"]
        posts = json.loads(got["top_posts"])
        assert [p["post_id"] for p in posts] == [p["post_id"] for p in want["top_posts"]]
        assert [p["caption"] for p in posts] == [p["caption"] for p in want["top_posts"]]
        assert [p["taken_at"] for p in posts] == [iso(p["taken_at"]) for p in want["top_posts"]]
        assert got["extra"] == (want["extra"] or "")


def test_jsonl_round_trip(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "snaps.jsonl"
    assert export_table(LakeQuery(lake), HASHTAG_SNAPSHOTS, "jsonl", out).rows == 12
    lines = out.read_bytes().splitlines()
    assert len(lines) == 12
    for line, want in zip(lines, expected_rows(lake), strict=True):
        got = orjson.loads(line)
        assert list(got) == [c.strip() for c in COLUMNS.split(",")]
        assert got["collected_at"] == iso(want["collected_at"])
        assert got["slot_at"].endswith("Z")
        assert got["post_count"] == want["post_count"]
        assert got["extra"] == (orjson.loads(want["extra"]) if want["extra"] else None)
        assert got["top_posts"] == [
            {**p, "taken_at": iso(p["taken_at"])} for p in want["top_posts"]
        ]
        assert got["date"] == want["date"].isoformat()


def test_es_bulk_export(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "bulk" / "snaps.ndjson"
    result = export_table(LakeQuery(lake), HASHTAG_SNAPSHOTS, "es-bulk", out, index="tp-test")
    assert result.rows == 12
    assert result.extra_files == [tmp_path / "bulk" / "snaps.template.json"]
    assert template_path(out) == result.extra_files[0]

    raw = out.read_bytes()
    assert raw.endswith(b"\n")  # _bulk requires a final newline
    lines = [orjson.loads(line) for line in raw.splitlines()]
    assert len(lines) == 24
    actions, docs = lines[0::2], lines[1::2]
    ids = []
    for action in actions:
        assert list(action) == ["index"]
        assert set(action["index"]) == {"_index", "_id"}
        assert action["index"]["_index"] == "tp-test"
        ids.append(action["index"]["_id"])
    assert len(set(ids)) == 12
    want = expected_rows(lake)
    assert ids == [r["snapshot_id"] for r in want]
    for doc, row in zip(docs, want, strict=True):
        assert set(doc) == ES_DOC_FIELDS
        assert doc["tag_name"] == row["tag"]
        assert doc["tag_posts"] == row["post_count"]
        assert doc["platform"] == row["platform"]
        assert doc["timestamp"] == iso(row["collected_at"])
        assert len(doc["tag_popular_posts"]) == len(row["top_posts"])
        for got, ref in zip(doc["tag_popular_posts"], row["top_posts"], strict=True):
            assert set(got) == ES_POST_FIELDS
            assert got["post_id"] == ref["post_id"]
            assert got["owner"] == (ref["owner_handle"] or ref["owner_id"])
            assert got["taken_at"] == iso(ref["taken_at"])
            assert got["likes"] == ref["likes"]
            if ref["shortcode"]:
                assert got["url"] == f"https://www.instagram.com/p/{ref['shortcode']}/"
            else:
                assert got["url"] is None
    assert docs[0]["timestamp"] == "2026-11-01T00:30:00Z"
    assert any(d["tag_posts"] is None for d in docs)

    template = json.loads(result.extra_files[0].read_text())
    assert template["index_patterns"] == ["tp-test*"]
    props = template["template"]["mappings"]["properties"]
    assert props["tag_name"] == {"type": "keyword"}
    assert props["tag_posts"] == {"type": "long"}
    assert props["timestamp"] == {"type": "date"}
    assert props["platform"] == {"type": "keyword"}
    assert props["tag_popular_posts"]["type"] == "nested"
    assert set(props["tag_popular_posts"]["properties"]) == ES_POST_FIELDS
    assert set(props) == ES_DOC_FIELDS
    assert es_index_template()["index_patterns"] == ["tagpulse-hashtags*"]
    assert no_temp_files(out.parent)


def test_filters(lake: Path, tmp_path: Path) -> None:
    query = LakeQuery(lake)
    out = tmp_path / "f.jsonl"

    def exported(**kwargs: Any) -> list[dict[str, Any]]:
        export_table(query, HASHTAG_SNAPSHOTS, "jsonl", out, **kwargs)
        return [orjson.loads(line) for line in out.read_bytes().splitlines()]

    assert {r["tag"] for r in exported(tags=["#PARIS"])} == {"paris"}
    assert {r["platform"] for r in exported(platform="tiktok")} == {"tiktok"}
    window = exported(since=T0 + timedelta(hours=5), until=datetime(2026, 11, 1, 15, 30))
    assert [r["collected_at"] for r in window] == [
        "2026-11-01T05:30:00Z",
        "2026-11-01T05:31:00Z",
        "2026-11-01T10:30:00Z",
        "2026-11-01T10:31:00Z",
    ]
    assert exported(tags=["nothing"]) == []


def test_empty_lake_exports(tmp_path: Path) -> None:
    query = LakeQuery(tmp_path / "empty-lake")
    parquet = export_table(query, HASHTAG_SNAPSHOTS, "parquet", tmp_path / "e.parquet")
    assert parquet.rows == 0
    table = pq.read_table(parquet.path)
    assert table.num_rows == 0
    assert table.column_names == [c.strip() for c in COLUMNS.split(",")]
    csv_out = export_table(query, HASHTAG_SNAPSHOTS, "csv", tmp_path / "e.csv")
    assert csv_out.path.read_text().splitlines() == [COLUMNS.replace(" ", "")]
    bulk = export_table(query, HASHTAG_SNAPSHOTS, "es-bulk", tmp_path / "e.ndjson")
    assert bulk.rows == 0 and bulk.path.read_bytes() == b""
    assert bulk.extra_files[0].exists()


def test_unknown_table_format_and_index(lake: Path, tmp_path: Path) -> None:
    query = LakeQuery(lake)
    with pytest.raises(InputError) as info:
        export_table(query, "nope", "csv", tmp_path / "x.csv")
    assert info.value.field == "table" and HASHTAG_SNAPSHOTS in str(info.value)
    with pytest.raises(InputError) as info:
        export_table(query, HASHTAG_SNAPSHOTS, "xml", tmp_path / "x.xml")  # type: ignore[arg-type]
    assert info.value.field == "format"
    assert all(fmt in str(info.value) for fmt in EXPORT_FORMATS)
    for bad in ("Upper", "_hidden", "a b", "a/b", "a*"):
        with pytest.raises(InputError) as info:
            export_table(query, HASHTAG_SNAPSHOTS, "es-bulk", tmp_path / "x.ndjson", index=bad)
        assert info.value.field == "index"
    with pytest.raises(InputError):
        export_table(query, HASHTAG_SNAPSHOTS, "csv", tmp_path)  # a directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake"]


def test_failed_export_leaves_nothing_behind(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous export\n")

    def half_then_fail(schema: Any, batches: Any, tmp: Path, index: str) -> int:
        tmp.write_text("half a line")
        raise OSError("disk full")

    monkeypatch.setitem(export._WRITERS, "jsonl", (half_then_fail, None))
    with pytest.raises(StorageError, match="disk full"):
        export_table(LakeQuery(lake), HASHTAG_SNAPSHOTS, "jsonl", out)
    assert out.read_text() == "previous export\n"  # the old file is untouched
    assert no_temp_files(tmp_path)


def test_compaction_while_exporting(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compaction replaces the lake's files while an export streams: the export is whole."""
    real_writer, columns = export._WRITERS["jsonl"]
    calls: list[int] = []

    def compact_first(schema: Any, batches: Any, tmp: Path, index: str) -> int:
        calls.append(1)
        if len(calls) == 1:
            LakeWriter(lake).compact()
        return real_writer(schema, batches, tmp, index)

    monkeypatch.setitem(export._WRITERS, "jsonl", (compact_first, columns))
    out = tmp_path / "out.jsonl"
    result = export_table(LakeQuery(lake), HASHTAG_SNAPSHOTS, "jsonl", out, batch_rows=2)
    assert result.rows == 12
    assert len(out.read_bytes().splitlines()) == 12
    assert len({orjson.loads(line)["snapshot_id"] for line in out.read_bytes().splitlines()}) == 12
    assert calls
