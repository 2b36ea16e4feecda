"""Spark ``local[2]`` against the embedded engine (DuckDB) on the same lake job.

Data: a synthetic ``hashtag_snapshots`` table of 10M rows (quick: 200k): 500 tags (quick: 50)
observed every few minutes, hive-partitioned by platform and date as the lake writes it.
Job: the hashtag timeline, the maximum post count per tag and hour with the hour's latest
snapshot time (``LakeQuery.timeline``'s query; ``tagpulse spark timeline``'s frame), collected
as one Arrow table. Both engines get the machine's cores (Spark: two local executors). Spark's
session start is reported apart; its time is a warm run (quick: one cold run). The two
results must be equal, else it raises. Ratio = DuckDB seconds / Spark seconds (above 1: Spark
faster).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common import Result, best_of, main, report
from tagpulse.lake.query import LakeQuery

NAME = "Spark vs DuckDB"
#: Spark earns its place by scaling out, not on one small machine: within 10x of DuckDB here.
GOAL = 0.1
START = datetime(2026, 1, 5, tzinfo=UTC)


def write_snapshots(lake: Path, rows: int, tags: int, seed: int = 9) -> None:
    """``rows`` snapshots of ``tags`` tags, one file per day, growing counts with noise."""
    rng = np.random.default_rng(seed)
    per_tag = rows // tags
    step_s = 300
    start_us = int(START.timestamp()) * 1_000_000
    times = start_us + np.arange(per_tag, dtype=np.int64) * step_s * 1_000_000
    days = (times - start_us) // (86_400 * 1_000_000)
    names = np.array([f"tag{i:04d}" for i in range(tags)], dtype=object)
    base = rng.integers(1_000, 5_000_000, tags)
    root = lake / "tables" / "hashtag_snapshots" / "platform=instagram"
    for day in np.unique(days):
        idx = np.nonzero(days == day)[0]
        t = np.tile(times[idx], tags)
        tag = np.repeat(names, idx.size)
        count = np.repeat(base, idx.size) + np.tile(idx, tags) * 3 + rng.integers(0, 50, t.size)
        folder = root / f"date={(START + timedelta(days=int(day))).date()}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "snapshot_id": pa.array(np.char.add("s", np.arange(t.size).astype(str))),
                "tag": pa.array(tag, pa.string()),
                "post_count": pa.array(count, pa.int64()),
                "collected_at": pa.array(t, pa.timestamp("us", tz="UTC")),
            }
        )
        pq.write_table(table, folder / "part-0.parquet")


_DUCKDB_SQL = (
    "SELECT tag, platform, time_bucket(to_seconds(3600), collected_at) AS bucket, "
    "max(post_count) AS post_count, max(collected_at) AS last_at "
    "FROM hashtag_snapshots_all WHERE post_count IS NOT NULL GROUP BY ALL"
)


def _sorted(table: pa.Table) -> pa.Table:
    return table.select(["tag", "platform", "bucket", "post_count", "last_at"]).sort_by(
        [("tag", "ascending"), ("platform", "ascending"), ("bucket", "ascending")]
    )


def run(quick: bool = False) -> list[Result]:
    from tagpulse.scale.spark.session import spark_session
    from tagpulse.scale.spark.timeline import timeline_frame

    rows, tags = (200_000, 50) if quick else (10_000_000, 500)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "lake"
        t0 = time.perf_counter()
        write_snapshots(lake, rows, tags)
        write_s = time.perf_counter() - t0
        query = LakeQuery(lake)
        runs = 3 if quick else 2
        duck_s, duck = best_of(runs, lambda: query.arrow(_DUCKDB_SQL))
        t0 = time.perf_counter()
        spark = spark_session("local[2]", app_name="tagpulse-bench")
        start_s = time.perf_counter() - t0
        try:

            def job() -> pa.Table:
                result: pa.Table = timeline_frame(spark, lake, interval_s=3600).toArrow()
                return result

            if not quick:
                job()  # warm: JIT, class loading, the file listing cache
            spark_s, ours = best_of(1 if quick else runs, job)
        finally:
            spark.stop()
        a, b = _sorted(duck), _sorted(ours)
        equal = a.num_rows == b.num_rows and all(
            a.column(c).to_pylist() == b.column(c).to_pylist() for c in a.column_names
        )
        if not equal:
            raise AssertionError("Spark and DuckDB timelines differ")
        details: dict[str, Any] = {
            "rows": rows,
            "tags": tags,
            "points": a.num_rows,
            "results_equal": equal,
            "write_s": write_s,
            "spark_session_start_s": start_s,
            "spark_master": "local[2]",
        }
    return [
        report(
            Result(
                name=NAME,
                value=spark_s,
                baseline=duck_s,
                ratio=duck_s / spark_s,
                goal=GOAL,
                unit="s",
                higher_is_better=False,
                baseline_name="DuckDB (LakeQuery)",
                details=details,
            )
        )
    ]


if __name__ == "__main__":
    main(run)
