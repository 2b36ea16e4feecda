"""Lake write: ``LakeWriter.write_table`` against ``pyarrow.parquet.write_table`` of one table.

Rows: M hashtag snapshots (200k; quick 5k) of 50 tags every 60 s over 3 days, each with the 9
top posts the sandbox world shows for that tag and hour (parsed into ``PostRef`` by the real
parser, so captions, URLs and counts look like the platform's), converted once to an Arrow
table by ``snapshots_to_table`` (timed, reported in the details, not in the ratio).

Baseline: ``pq.write_table(table, path)`` with pyarrow's defaults. Ours: the lake's write,
which splits by day into ``platform=/date=`` partitions and writes each atomically (temporary
name, fsync, rename) with zstd and 64k-row groups. Each run writes to a fresh place; dirty pages
of earlier runs are flushed (``os.sync``, untimed) before each run. Best of three each.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common import Result, best_of, main, report
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, LakeWriter, snapshots_to_table
from tagpulse.platforms.instagram.parse import parse_media_item
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, TagSpec, World
from tagpulse.records import HashtagSnapshot, PostRef

NAME = "lake write"
GOAL = 0.8
RUNS = 3
FULL_ROWS = 200_000
QUICK_ROWS = 5_000
TAGS = 50
INTERVAL_S = 60.0
DAYS = 3


def make_snapshots(rows: int) -> tuple[list[HashtagSnapshot], list[datetime]]:
    """``rows`` snapshots in time order (tags round-robin), and their schedule slots."""
    slots_per_tag = int(DAYS * DAY / INTERVAL_S)
    n_tags = min(TAGS, -(-rows // slots_per_tag))
    specs = [
        TagSpec(f"tag{i:03d}", 10_000 + 137_911 * i, 5.0 + 7.0 * i, 0.01, 0.1)
        for i in range(n_tags)
    ]
    world = World(seed=7, tags=specs)
    warnings: list[str] = []
    top: dict[tuple[str, int], list[PostRef]] = {}
    snapshots: list[HashtagSnapshot] = []
    slots: list[datetime] = []
    for k in range(-(-rows // n_tags)):
        slot = world.start + k * INTERVAL_S
        for j, spec in enumerate(specs):
            if len(snapshots) == rows:
                break
            at = slot + (7 * j + 13 * k) % 20
            hour = int((at - world.start) // HOUR)
            posts = top.get((spec.name, hour))
            if posts is None:
                items = world.top_posts(spec.name, at)
                refs = (parse_media_item(item, warnings) for item in items)
                posts = top[(spec.name, hour)] = [r for r in refs if r is not None]
            raw_id = "sha256:" + hashlib.sha256(f"{spec.name}:{k}".encode()).hexdigest()
            snapshots.append(
                HashtagSnapshot(
                    platform="instagram",
                    tag=spec.name,
                    post_count=world.true_count(spec.name, at),
                    top_posts=posts,
                    related_tags=[],
                    collected_at=utc_from_epoch(at),
                    account=f"acct{(k + j) % 20 + 1:02d}",
                    raw_id=raw_id,
                    extra={"tag_id": world.hashtag_id(spec.name)},
                )
            )
            slots.append(utc_from_epoch(slot))
    return snapshots, slots


def _sizes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*.parquet") if not p.name.startswith(".")]
    return len(files), sum(p.stat().st_size for p in files)


def run(quick: bool = False) -> list[Result]:
    rows = QUICK_ROWS if quick else FULL_ROWS
    start = time.perf_counter()
    snapshots, slots = make_snapshots(rows)
    make_s = time.perf_counter() - start
    LakeWriter.warm_up()  # pyarrow's one-off pandas-shim import is not the conversion's cost
    start = time.perf_counter()
    table: pa.Table = snapshots_to_table(snapshots, slots)
    to_table_s = time.perf_counter() - start
    del snapshots, slots

    tmp = Path(tempfile.mkdtemp(prefix="tagpulse-bench-lake-"))
    counter = iter(range(1_000_000))
    target: list[Path] = []

    def fresh() -> None:
        for old in target:
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink(missing_ok=True)
        target[:] = [tmp / f"run{next(counter)}"]
        os.sync()

    def baseline() -> Path:
        path = target[0].with_suffix(".parquet")
        target.append(path)
        pq.write_table(table, path)
        return path

    def ours() -> list[Path]:
        return LakeWriter(target[0]).write_table(HASHTAG_SNAPSHOTS, "instagram", table, "slot_at")

    try:
        base_s, base_path = best_of(RUNS, baseline, before=fresh)
        base_bytes = base_path.stat().st_size
        ours_s, paths = best_of(RUNS, ours, before=fresh)
        files, ours_bytes = _sizes(target[0])
        written = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
        if written != table.num_rows or files != len(paths):
            raise AssertionError(f"lake holds {written} rows in {files} files, wrote {len(paths)}")
        partitions = sorted(p.parent.name for p in paths)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base_rate = rows / base_s
    ours_rate = rows / ours_s
    top_posts = pc.sum(pc.list_value_length(table["top_posts"])).as_py()
    return [
        report(
            Result(
                name=NAME,
                value=ours_rate,
                baseline=base_rate,
                ratio=ours_rate / base_rate,
                goal=GOAL,
                unit="rows/s",
                higher_is_better=True,
                baseline_name="pq.write_table",
                details={
                    "rows": rows,
                    "top_posts": top_posts,
                    "arrow_bytes": table.nbytes,
                    "baseline_best_s": base_s,
                    "ours_best_s": ours_s,
                    "baseline_file_bytes": base_bytes,
                    "ours_files": files,
                    "ours_bytes": ours_bytes,
                    "partitions": partitions,
                    "snapshots_to_table_s": to_table_s,
                    "snapshots_to_table_rows_per_s": rows / to_table_s,
                    "make_records_s": make_s,
                    "runs": RUNS,
                },
            )
        )
    ]


if __name__ == "__main__":
    main(run)
