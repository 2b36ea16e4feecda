"""`tagpulse import twarc2` on the recorded twarc2 files (DocNow/twarc-csv, MIT)."""

from __future__ import annotations

from pathlib import Path

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tests.imports.conftest import FIXTURES, import_json

TWARC = FIXTURES / "twarc2"


def test_stream_file_keeps_good_lines_and_quarantines_the_cut_one(home: Path) -> None:
    summary = import_json("twarc2", TWARC / "streaming_output_with_error.jsonl", home)
    # 8 lines: 7 tweets, line 8 a truncated 44-byte fragment.
    assert summary["items"] == 8 and summary["imported"] == 7 and summary["quarantined"] == 1
    catalog = Catalog(home / "catalog.sqlite")
    (row,) = catalog.quarantined()
    catalog.close()
    assert row[4] == "streaming_output_with_error.jsonl:8" and "not JSON" in row[2]
    q = LakeQuery(home / "lake")
    ids = q.rows("SELECT DISTINCT post_id FROM posts WHERE seen_via LIKE 'stream:%'")
    assert len(ids) == 7


def test_search_and_counts_files(home: Path) -> None:
    brexit = import_json("twarc2", TWARC / "brexit.jsonl", home)
    assert brexit["items"] == 1 and brexit["imported"] == 1
    q = LakeQuery(home / "lake")
    search = q.rows("SELECT count(DISTINCT post_id) AS n FROM posts WHERE seen_via LIKE 'search:%'")
    assert search == [{"n": 100}]  # meta.result_count
    first = q.rows("SELECT * FROM posts WHERE post_id = '1440716895355764743'")
    assert len(first) == 1 and first[0]["platform"] == "x"

    counts = import_json("twarc2", TWARC / "counts.jsonl", home)
    assert counts["records"]["tag_counts"] == 169
    total = q.rows("SELECT sum(count) AS n, max(count) AS peak FROM tag_counts WHERE tag = 'dogs'")
    assert total == [{"n": 771_665, "peak": 8_600}]
    again = import_json("twarc2", TWARC / "counts.jsonl", home)
    assert again["imported"] == 0 and again["already_known"] == 1
    assert q.rows("SELECT count(*) AS n FROM tag_counts_all") == [{"n": 169}]
