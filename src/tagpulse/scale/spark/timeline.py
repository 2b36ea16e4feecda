"""Hashtag timelines on Spark: :meth:`LakeQuery.timeline` for every tag at once.

Per tag, platform and time bucket: the maximum post count and the latest snapshot time. The
buckets are DuckDB's ``time_bucket``: ``width`` seconds counted from its origin, Monday
2000-01-03 00:00 UTC (which only shows for widths that do not divide a day). The maximum is
unchanged by duplicate rows, so the raw files are read without de-duplication, as there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from tagpulse.errors import InputError
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS
from tagpulse.scale.spark.lake import read_table, write_result
from tagpulse.scale.spark.session import pyspark_modules

__all__ = ["BUCKET_ORIGIN_US", "timeline_frame", "timeline_job"]

#: DuckDB's default ``time_bucket`` origin for sub-month widths, in µs since the epoch.
BUCKET_ORIGIN_US = 946_857_600 * 1_000_000


def timeline_frame(
    spark: Any,
    lake_dir: Path | str,
    *,
    interval_s: int,
    tags: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
) -> Any:
    """The timeline as a DataFrame: ``tag, platform, bucket, post_count, last_at``."""
    if interval_s <= 0:
        raise InputError(f"interval must be positive, got {interval_s}s", field="--interval")
    _, F, _ = pyspark_modules()
    rows = read_table(spark, lake_dir, HASHTAG_SNAPSHOTS, latest=False)
    rows = rows.where(F.col("post_count").isNotNull())
    if tags:
        rows = rows.where(F.col("tag").isin(list(tags)))
    if platform:
        rows = rows.where(F.col("platform") == platform)
    if since is not None:
        rows = rows.where((F.col("collected_at") >= F.lit(since)) & (F.col("date") >= since.date()))
    if until is not None:
        rows = rows.where((F.col("collected_at") < F.lit(until)) & (F.col("date") <= until.date()))
    width = int(interval_s) * 1_000_000
    micros = F.unix_micros(F.col("collected_at")) - F.lit(BUCKET_ORIGIN_US)
    # Integer arithmetic: a float division misplaces a row a microsecond before a boundary.
    bucket_us = micros - F.pmod(micros, F.lit(width)) + F.lit(BUCKET_ORIGIN_US)
    return (
        rows.withColumn("bucket", F.timestamp_micros(bucket_us))
        .groupBy("tag", "platform", "bucket")
        .agg(F.max("post_count").alias("post_count"), F.max("collected_at").alias("last_at"))
        .orderBy("tag", "platform", "bucket")
    )


def timeline_job(
    spark: Any,
    lake_dir: Path | str,
    *,
    interval_s: int,
    out: Path | str | None = None,
    tags: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
) -> pa.Table:
    """Compute the timeline, write it under ``out`` (Parquet) and return it."""
    frame = timeline_frame(
        spark,
        lake_dir,
        interval_s=interval_s,
        tags=tags,
        since=since,
        until=until,
        platform=platform,
    )
    return write_result(frame, out)
