"""A large line-based import across worker processes gives what one process gives.

The file is built from the recorded fixtures: the composed Zeeschuimer file (Instagram items,
tweets, broken lines, a blank line, a repeated line) at its start and again at its end, so its
lines repeat across ranges, around Instagram api/v1 items of ``instagram_web`` with their own
ids and days, and broken lines (one of them twice).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tagpulse.imports.base import ImportSummary, run_import
from tagpulse.imports.lines import RangeOutcome, _Applier, plan_ranges
from tagpulse.imports.zeeschuimer import ZeeschuimerImporter
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import read_raw_file
from tagpulse.lake.tables import SCHEMAS, id_column
from tests.imports.conftest import FIXTURES

IG = FIXTURES / "instagram_web"
COMPOSED = FIXTURES / "zeeschuimer" / "zeeschuimer-composed.ndjson"
T0 = 1_700_000_000_000
#: Small ranges and a low threshold, so a file of a few hundred lines takes the parallel path.
PARALLEL = {"workers": 2, "parallel_min_lines": 100, "batch_items": 40}


def _items() -> list[dict[str, Any]]:
    reels = orjson.loads((IG / "reels.json").read_bytes())
    items = [entry["media"] for entry in reels["items"]]
    for name in ("media.json", "media-2.json", "media-3.json"):
        items.append(orjson.loads((IG / name).read_bytes())["items"][0])
    return items


def _line(i: int, item: dict[str, Any]) -> bytes:
    item = dict(item)
    pk = str(3_000_000_000_000_000_000 + i)
    item["pk"], item["id"], item["code"] = pk, f"{pk}_{item.get('user', {}).get('pk', 0)}", f"B{i}"
    doc = {
        "id": i,
        "item_id": pk,
        "timestamp_collected": T0 + i * 3_600_000,  # an hour apart: several days
        "source_platform": "instagram.com",
        "source_url": "https://www.instagram.com/api/v1/feed/",
        "data": item,
    }
    return orjson.dumps(doc)


def build_file(path: Path, n: int = 480) -> None:
    composed = COMPOSED.read_bytes().rstrip(b"\n").split(b"\n")
    generated = [_line(i, item) for i, item in zip(range(n), itertools.cycle(_items()))]
    broken = [b'{"item_id": "cut", "data": {"pk": ', b'{"source_platform": "myspace.com"}']
    lines = list(composed)
    for i, line in enumerate(generated):
        lines.append(line)
        if i % 97 == 50:
            lines.append(broken[0])  # the same broken bytes at several places
        if i == 100:
            lines += [b"   ", broken[1], line + b"\r"]  # blank, broken, the same item (CRLF)
    lines += [generated[7], *composed]  # lines seen before, far from their first place
    path.write_bytes(b"\n".join(lines) + b"\n")


def _import(path: Path, home: Path, **options: Any) -> ImportSummary:
    catalog = Catalog(home / "catalog.sqlite")
    try:
        return run_import(
            ZeeschuimerImporter(), path, lake_dir=home / "lake", catalog=catalog, **options
        )
    finally:
        catalog.close()


def _summary(summary: ImportSummary) -> dict[str, Any]:
    return {
        "items": summary.items,
        "imported": summary.imported,
        "already_known": summary.already_known,
        "quarantined": summary.quarantined,
        "warnings": summary.warnings,
        "records": summary.records,
    }


def _lake(home: Path) -> dict[str, Any]:
    """Every table's de-duplicated rows (sorted by id), and the raw answers archived."""
    q = LakeQuery(home / "lake")
    tables = {}
    for table in SCHEMAS:
        key = id_column(table)
        tables[table] = q.rows(f"SELECT * FROM {table} ORDER BY {key}")
    raw = {
        env["content_hash"]: env["body"]
        for file in (home / "lake" / "raw").rglob("*.ndjson.zst")
        for env in read_raw_file(file)
    }
    return {"tables": tables, "raw": raw}


def _catalog(home: Path) -> dict[str, Any]:
    catalog = Catalog(home / "catalog.sqlite")
    try:
        index = catalog.query(
            "SELECT content_hash, platform, endpoint, collected_at FROM raw_index "
            "ORDER BY content_hash"
        )
        quarantine = [row[1:] for row in catalog.quarantined()]  # not the time
    finally:
        catalog.close()
    return {"raw_index": index, "quarantine": quarantine}


def _all_rows(home: Path) -> dict[str, int]:
    q = LakeQuery(home / "lake")
    return {t: q.rows(f"SELECT count(*) AS n FROM {t}_all")[0]["n"] for t in SCHEMAS}


@pytest.mark.subprocess
def test_parallel_import_equals_one_process(tmp_path: Path) -> None:
    path = tmp_path / "large.ndjson"
    build_file(path)
    ranges = plan_ranges(path, workers=2, min_lines=100, batch_items=40)
    assert ranges is not None and len(ranges) > 4
    assert ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))

    one, many = tmp_path / "one", tmp_path / "many"
    single = _import(path, one, workers=1)
    steps: list[int] = []
    parallel = _import(path, many, progress=steps.append, **PARALLEL)

    assert _summary(parallel) == _summary(single)
    assert len(steps) > 4 and sum(steps) == parallel.items  # per range
    # Read twice: the composed file's 20 good lines (see test_zeeschuimer), generated items 7
    # and 100 (once with a CR before its line break, which is not part of the line).
    assert single.already_known >= 22
    assert single.quarantined > 6 and single.records["posts"] > 480
    assert _lake(many) == _lake(one)
    catalog = _catalog(many)
    assert catalog == _catalog(one)
    assert len(catalog["raw_index"]) == single.imported
    names = {row[3] for row in catalog["quarantine"]}
    assert len(names) == len(catalog["quarantine"])  # once per line

    before = _all_rows(many)
    again = _import(path, many, **PARALLEL)
    assert again.imported == 0
    assert again.already_known == single.imported + single.already_known
    assert again.quarantined == single.quarantined
    assert _all_rows(many) == before
    assert _catalog(many) == catalog


def test_an_item_two_ranges_imported_is_counted_once(tmp_path: Path) -> None:
    # Two ranges import the same line at once (neither saw it in the raw index yet): the summary
    # says what one process would, imported once and already known once.
    catalog = Catalog(tmp_path / "catalog.sqlite")
    summary = ImportSummary(source="zeeschuimer", path=tmp_path / "f.ndjson")
    applier = _Applier(ZeeschuimerImporter(), summary.path, catalog, summary, None, _now)
    post, post_edge = (0, 0, 1, 0, 0, 0, 0), (0, 0, 1, 0, 1, 0, 2)
    row = ("sha256:b", "raw/b.ndjson.zst", "instagram", "import:zeeschuimer", 1.0)
    first = RangeOutcome(lines=2, numbered=2, imported=["sha256:a", "sha256:b"])
    first.counts, first.totals = [post, post_edge], [0, 0, 2, 0, 1, 0, 2]
    first.index = [("sha256:a", *row[1:]), row]
    second = RangeOutcome(lines=3, numbered=4, already_known=1, imported=["sha256:b", "sha256:c"])
    second.counts, second.totals = [post_edge, post], [0, 0, 2, 0, 1, 0, 2]
    second.index = [row, ("sha256:c", *row[1:])]
    second.quarantined = [(4, "not JSON", "sha256:d")]
    applier.apply(first, 0)
    applier.apply(second, first.numbered)
    applier.write_index()
    assert (summary.items, summary.imported, summary.already_known) == (5, 3, 2)
    assert summary.records == {"posts": 3, "edges": 1} and summary.warnings == 2
    assert summary.quarantined == 1
    assert [r[4] for r in catalog.quarantined()] == ["f.ndjson:6"]
    assert len(catalog.query("SELECT * FROM raw_index")) == 3
    catalog.close()


def _now() -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC)


def test_small_file_stays_in_one_process(tmp_path: Path) -> None:
    assert plan_ranges(COMPOSED, workers=8, min_lines=5_000, batch_items=2_000) is None
    path = tmp_path / "large.ndjson"
    build_file(path)
    assert plan_ranges(path, workers=1, min_lines=100, batch_items=40) is None
