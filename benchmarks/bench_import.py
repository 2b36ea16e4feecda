"""Import a Zeeschuimer-shaped file end to end, against ``orjson.loads`` of the same lines.

The file holds N lines in Zeeschuimer's envelope around the recorded Instagram api/v1 items of
``tests/fixtures/instagram_web`` (the 12 reels and the 3 media items, cycled; each line gets its
own post id, shortcode and capture time, so every line is a distinct item), with one broken
line every 10,000. Baseline: ``orjson.loads`` of every line (the floor of any JSON pipeline).
Ours: ``run_import`` into a fresh lake — read, hash, archive the raw line (zstd), parse into
records, write Parquet, index in the catalog, quarantine the broken lines — as a user gets it: a
file this large is imported by one worker process per usable CPU (the full run; the quick one
stays in one process). Best of three runs each; ours starts from an empty lake every run. The
first run also starts the process server the workers fork from (it lives as long as this
process, as imported modules do); every run starts its own workers. All three times are kept.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from common import Result, best_of, main, report
from tagpulse.imports.base import PARALLEL_MIN_LINES, ImportSummary, run_import
from tagpulse.imports.lines import usable_cpus
from tagpulse.imports.zeeschuimer import ZeeschuimerImporter
from tagpulse.lake.catalog import Catalog

NAME = "import zeeschuimer"
GOAL = 0.4
RUNS = 3
FULL_N = 100_000
QUICK_N = 2_000
_BROKEN_EVERY = 10_000
_FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "instagram_web"
_T0 = 1_700_000_000_000


def _items() -> list[dict[str, Any]]:
    reels = orjson.loads((_FIXTURES / "reels.json").read_bytes())
    items = [entry["media"] for entry in reels["items"]]
    for name in ("media.json", "media-2.json", "media-3.json"):
        items.append(orjson.loads((_FIXTURES / name).read_bytes())["items"][0])
    return items


def build_file(path: Path, n: int) -> int:
    """Write ``n`` lines; returns how many are broken."""
    items = _items()
    broken = 0
    with path.open("wb") as fh:
        for i in range(n):
            if i % _BROKEN_EVERY == _BROKEN_EVERY - 1:
                fh.write(b'{"item_id": "cut", "data": {"pk": \n')
                broken += 1
                continue
            item = dict(items[i % len(items)])
            pk = str(3_000_000_000_000_000_000 + i)
            item["pk"] = pk
            item["id"] = f"{pk}_{item.get('user', {}).get('pk', 0)}"
            item["code"] = f"B{i:010d}"
            line = {
                "id": i,
                "nav_index": f"1:1:{i}",
                "item_id": pk,
                "timestamp_collected": _T0 + i * 10,
                "last_updated": _T0 + i * 10,
                "source_platform": "instagram.com",
                "source_platform_url": "https://www.instagram.com/",
                "source_url": "https://www.instagram.com/api/v1/feed/",
                "user_agent": "Mozilla/5.0",
                "data": item,
            }
            fh.write(orjson.dumps(line) + b"\n")
    return broken


def _baseline(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        for line in fh:
            with contextlib.suppress(orjson.JSONDecodeError):
                orjson.loads(line)
            n += 1
    return n


def _fresh(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)


def _ours(path: Path, home: Path, times: list[float]) -> ImportSummary:
    catalog = Catalog(home / "catalog.sqlite")
    start = time.perf_counter()
    try:
        return run_import(ZeeschuimerImporter(), path, lake_dir=home / "lake", catalog=catalog)
    finally:
        times.append(time.perf_counter() - start)
        catalog.close()


def run(quick: bool = False) -> list[Result]:
    n = QUICK_N if quick else FULL_N
    with tempfile.TemporaryDirectory(prefix="tagpulse-bench-import-") as tmp:
        path = Path(tmp) / "zeeschuimer.ndjson"
        broken = build_file(path, n)
        size = path.stat().st_size
        path.read_bytes()  # warm the OS cache
        home = Path(tmp) / "home"
        base_s, lines = best_of(RUNS, lambda: _baseline(path))
        runs: list[float] = []
        ours_s, summary = best_of(
            RUNS, lambda: _ours(path, home, runs), before=lambda: _fresh(home)
        )
        if lines != n or summary.imported != n - broken or summary.quarantined != broken:
            raise AssertionError(
                f"{n} lines: decoded {lines}, imported {summary.imported}, "
                f"quarantined {summary.quarantined} (expected {n - broken} and {broken})"
            )
        if summary.records.get("posts") != n - broken:
            raise AssertionError(f"posts: {summary.records}")
    base_rate = n / base_s
    ours_rate = n / ours_s
    return [
        report(
            Result(
                name=NAME,
                value=ours_rate,
                baseline=base_rate,
                ratio=ours_rate / base_rate,
                goal=GOAL,
                unit="items/s",
                higher_is_better=True,
                baseline_name="orjson.loads",
                details={
                    "items": n,
                    "broken_lines": broken,
                    "file_bytes": size,
                    "baseline_best_s": base_s,
                    "ours_best_s": ours_s,
                    "ours_runs_s": [round(t, 3) for t in runs],
                    "workers": usable_cpus() if n > PARALLEL_MIN_LINES else 1,
                    "ours_MB_per_s": size / ours_s / 1e6,
                },
            )
        )
    ]


if __name__ == "__main__":
    main(run)
