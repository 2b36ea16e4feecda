"""Chart query (hourly max post count of 3 tags over the last 7 days) from the lake's files.

Data: synthetic snapshot rows in ``HASHTAG_SNAPSHOT_SCHEMA`` for 50 tags over 60 days (10M rows;
quick: 200k), generated with numpy/pyarrow (no Python loop over rows) and written with
``LakeWriter.write_table`` in time-ordered chunks, so the files are the real lake layout
(``tables/hashtag_snapshots/platform=instagram/date=…/part-….parquet``). ``top_posts`` and
``related_tags`` are empty lists; ``raw_id`` is a random ``sha256:<hex>`` per row as the
collector writes it; about 0.1 % of the counts are missing.

Baseline: what a notebook user does: ``pandas.read_parquet(<table dir>)``, filter to the 3 tags
and the last 7 days, ``groupby([tag, collected_at.dt.floor("1h")])["post_count"].max()``.
Ours: ``LakeQuery(lake_dir).timeline(tags, interval_s=3600, since=…)``. Same files, OS cache
warm (each runs once untimed first), best of three; the two results must be equal.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from common import Result, best_of, main, report
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import (
    HASHTAG_SNAPSHOT_SCHEMA,
    HASHTAG_SNAPSHOTS,
    POST_REF_TYPE,
    LakeWriter,
)
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, DEFAULT_START

NAME = "chart query"
GOAL = 20.0
RUNS = 3
FULL_ROWS = 10_000_000
QUICK_ROWS = 200_000
TAGS = 50
DAYS = 60
ACCOUNTS = 20
CHUNK_ROWS = 400_000  # 2.4 days: some partitions get two files, as before compaction
QUERY_TAGS = ("tag007", "tag023", "tag041")
LAST_DAYS = 7

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_PREFIX = np.frombuffer(b"sha256:", dtype=np.uint8)


def _hash_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random ``sha256:<64 hex>`` strings, built as one Arrow buffer."""
    width = len(_PREFIX) + 64
    chars = np.empty((n, width), dtype=np.uint8)
    chars[:, : len(_PREFIX)] = _PREFIX
    chars[:, len(_PREFIX) :] = _HEX[rng.integers(0, 16, size=(n, 64), dtype=np.uint8)]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _empty_lists(n: int, item: pa.DataType) -> pa.Array:
    offsets = pa.array(np.zeros(n + 1, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array([], type=item))


class _Generator:
    """Rows ``[lo, hi)`` of the synthetic table: row r is tag ``r % TAGS`` at step ``r // TAGS``."""

    def __init__(self, rows: int, seed: int = 7) -> None:
        self.rows = rows
        self.step_s = DAYS * DAY * TAGS / rows  # seconds between two snapshots of a tag
        rng = np.random.default_rng(seed)
        self.tag_names = pa.array([f"tag{i:03d}" for i in range(TAGS)])
        self.accounts = pa.array([f"acct{i:02d}" for i in range(1, ACCOUNTS + 1)])
        self.extras = pa.array([f'{{"tag_id":"17841{i:012d}"}}' for i in range(TAGS)])
        self.base = rng.integers(1_000, 300_000_000, size=TAGS)
        self.rate_per_s = rng.uniform(0.5, 500.0, size=TAGS) / 3600.0
        self.seed = seed

    def chunk(self, lo: int, hi: int) -> pa.Table:
        n = hi - lo
        rng = np.random.default_rng([self.seed, lo])
        r = np.arange(lo, hi, dtype=np.int64)
        tag = r % TAGS
        step = r // TAGS
        slot_s = np.floor(DEFAULT_START + step * self.step_s).astype(np.int64)
        slot_us = slot_s * 1_000_000
        delay_us = rng.integers(0, int(self.step_s * 0.5 * 1e6) + 1, size=n)
        collected_us = slot_us + delay_us
        elapsed_s = (collected_us - int(DEFAULT_START * 1e6)) / 1e6
        counts = self.base[tag] + (self.rate_per_s[tag] * elapsed_s).astype(np.int64)
        counts = counts + rng.integers(0, 3, size=n)
        missing = rng.random(n) < 0.001
        tag_idx = pa.array(tag.astype(np.int32))
        tags = self.tag_names.take(tag_idx)
        ts = pa.timestamp("us", tz="UTC")
        columns: dict[str, pa.Array] = {
            "snapshot_id": pc.binary_join_element_wise(
                "instagram", tags, pc.cast(pa.array(slot_s), pa.string()), ":"
            ),
            "tag": tags,
            "post_count": pa.array(counts, mask=missing),
            "collected_at": pa.array(collected_us, type=pa.int64()).cast(ts),
            "slot_at": pa.array(slot_us, type=pa.int64()).cast(ts),
            "account": self.accounts.take(pa.array((step % ACCOUNTS).astype(np.int32))),
            "raw_id": _hash_ids(rng, n),
            "top_posts": _empty_lists(n, POST_REF_TYPE),
            "related_tags": _empty_lists(n, pa.string()),
            "extra": self.extras.take(tag_idx),
        }
        return pa.table(columns, schema=HASHTAG_SNAPSHOT_SCHEMA)


def build_lake(lake_dir: Path, rows: int) -> tuple[int, datetime]:
    """Write the synthetic table into ``lake_dir``; returns (files, time of the last row)."""
    gen = _Generator(rows)
    writer = LakeWriter(lake_dir)
    files = 0
    last_us = 0
    for lo in range(0, rows, CHUNK_ROWS):
        table = gen.chunk(lo, min(rows, lo + CHUNK_ROWS))
        files += len(writer.write_table(HASHTAG_SNAPSHOTS, "instagram", table, "slot_at"))
        last_us = max(last_us, pc.max(table["collected_at"]).cast(pa.int64()).as_py())
        del table
    return files, utc_from_epoch(last_us / 1e6)


Points = set[tuple[str, int, int]]


def _pandas(table_dir: Path, since: datetime) -> Points:
    df = pd.read_parquet(table_dir)
    recent = df[df["tag"].isin(QUERY_TAGS) & (df["collected_at"] >= pd.Timestamp(since))]
    del df
    hourly = recent.groupby([recent["tag"], recent["collected_at"].dt.floor("1h")])[
        "post_count"
    ].max()
    return {
        (str(tag), int(pd.Timestamp(bucket).timestamp()), int(count))
        for (tag, bucket), count in hourly.dropna().items()
    }


def _ours(lake_dir: Path, since: datetime) -> Points:
    points = LakeQuery(lake_dir).timeline(list(QUERY_TAGS), interval_s=3600, since=since)
    return {(p.tag, int(p.bucket.timestamp()), p.post_count) for p in points}


def _pandas_pushdown(table_dir: Path, since: datetime) -> float:
    """For the record: pandas told which columns and rows to read (not the baseline)."""
    start = time.perf_counter()
    df = pd.read_parquet(
        table_dir,
        columns=["tag", "collected_at", "post_count"],
        filters=[("tag", "in", list(QUERY_TAGS)), ("collected_at", ">=", pd.Timestamp(since))],
    )
    df.groupby([df["tag"], df["collected_at"].dt.floor("1h")])["post_count"].max()
    return time.perf_counter() - start


def _check_equal(expected: Points, got: Points) -> None:
    if expected != got:
        only_pandas = sorted(expected - got)[:5]
        only_ours = sorted(got - expected)[:5]
        raise AssertionError(
            f"chart query results differ: {len(expected)} pandas points, {len(got)} ours; "
            f"only in pandas {only_pandas}, only in ours {only_ours}"
        )


def run(quick: bool = False) -> list[Result]:
    rows = QUICK_ROWS if quick else FULL_ROWS
    tmp = Path(tempfile.mkdtemp(prefix="tagpulse-bench-chart-"))
    try:
        lake_dir = tmp / "lake"
        start = time.perf_counter()
        files, last = build_lake(lake_dir, rows)
        build_s = time.perf_counter() - start
        gc.collect()
        table_dir = lake_dir / "tables" / HASHTAG_SNAPSHOTS
        size = sum(p.stat().st_size for p in table_dir.rglob("*.parquet"))
        since = utc_from_epoch(last.timestamp() - LAST_DAYS * DAY)

        # Untimed first runs: OS cache warm, imports and DuckDB extensions loaded.
        expected = _pandas(table_dir, since)
        got = _ours(lake_dir, since)
        _check_equal(expected, got)
        del expected, got
        base_s, expected = best_of(RUNS, lambda: _pandas(table_dir, since))
        ours_s, got = best_of(RUNS, lambda: _ours(lake_dir, since))
        _check_equal(expected, got)
        pushdown_s = min(_pandas_pushdown(table_dir, since) for _ in range(RUNS))
        details: dict[str, Any] = {
            "rows": rows,
            "tags": TAGS,
            "days": DAYS,
            "files": files,
            "parquet_bytes": size,
            "generate_and_write_s": build_s,
            "query": {
                "tags": list(QUERY_TAGS),
                "since": since.isoformat(),
                "interval_s": 3600,
                "points": len(got),
            },
            "results_equal": True,
            "pandas_best_s": base_s,
            "ours_best_s": ours_s,
            "pandas_with_columns_and_filters_s": pushdown_s,
            "runs": RUNS,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [
        report(
            Result(
                name=NAME,
                value=ours_s,
                baseline=base_s,
                ratio=base_s / ours_s,
                goal=GOAL,
                unit="s",
                higher_is_better=False,
                baseline_name="pandas.read_parquet+filter+groupby",
                details=details,
            )
        )
    ]


if __name__ == "__main__":
    main(run)
