"""Campaign aggregates on Spark: the posts part of each period of ``insights campaign``.

Per period (before, during, after, or any named ``[start, end)``), over the posts that carry
one of the campaign's tags or were posted by one of its handles, each at its latest
observation and placed by its ``taken_at``: posts seen, unique authors, likes, comments,
engagement per post and the engagement rate (likes + comments per follower, over the posts
whose author's latest follower count is known and positive), as
:func:`~tagpulse.analysis.campaign_posts.post_stats` computes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from tagpulse.errors import InputError
from tagpulse.lake.campaigns import Campaign
from tagpulse.lake.schemas import POSTS, PROFILES
from tagpulse.scale.spark.lake import read_table, write_result
from tagpulse.scale.spark.session import pyspark_modules

__all__ = ["CampaignPeriod", "campaign_frame", "campaign_job", "campaign_periods"]

_HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class CampaignPeriod:
    name: str
    start: datetime
    end: datetime


def campaign_periods(campaign: Campaign, baseline_s: int | None = None) -> list[CampaignPeriod]:
    """Before, during and after in whole hours from the start, as ``insights campaign`` sets
    them before clipping them to the lake's data (the Spark job does not clip)."""
    if baseline_s is not None and baseline_s < _HOUR_S:
        raise InputError("the baseline must be at least one hour", field="--baseline")
    during_h = max(1, math.floor(campaign.duration_s / _HOUR_S))
    before_h = max(1, (baseline_s or during_h * _HOUR_S) // _HOUR_S)
    start = campaign.start
    end = start + timedelta(hours=during_h)
    return [
        CampaignPeriod("before", start - timedelta(hours=before_h), start),
        CampaignPeriod("during", start, end),
        CampaignPeriod("after", end, end + timedelta(hours=during_h)),
    ]


def _latest_followers(profiles: Any, key: Any, name: str) -> Any:
    _, F, window = pyspark_modules()
    known = profiles.where(F.col("followers").isNotNull() & key.isNotNull())
    known = known.withColumn(name, key)
    order = window.partitionBy("platform", name).orderBy(F.col("collected_at").desc())
    return (
        known.withColumn("_rn", F.row_number().over(order))
        .where(F.col("_rn") == 1)
        .select("platform", name, F.col("followers").alias(f"followers_{name}"))
    )


def campaign_frame(
    spark: Any,
    lake_dir: Path | str,
    *,
    tags: Sequence[str],
    handles: Sequence[str] = (),
    periods: Sequence[CampaignPeriod],
    platform: str | None = None,
) -> Any:
    """One row per period: ``period, start, end, posts_seen, unique_authors, likes, comments,
    engagement_per_post, engagement_rate``."""
    if not periods:
        raise InputError("no periods to aggregate", field="periods")
    _, F, window = pyspark_modules()
    order = {p.name: i for i, p in enumerate(periods)}
    bounds = spark.createDataFrame(
        [(p.name, order[p.name], p.start, p.end) for p in periods],
        "period string, period_order int, `start` timestamp, `end` timestamp",
    )
    posts = read_table(spark, lake_dir, POSTS)
    match = F.lit(False)
    if tags:
        match = match | F.arrays_overlap(F.col("hashtags"), F.array(*(F.lit(t) for t in tags)))
    if handles:
        match = match | F.lower(F.col("owner_handle")).isin(list(handles))
    lo, hi = min(p.start for p in periods), max(p.end for p in periods)
    posts = posts.where((F.col("taken_at") >= F.lit(lo)) & (F.col("taken_at") < F.lit(hi)) & match)
    if platform:
        posts = posts.where(F.col("platform") == platform)
    latest = window.partitionBy("platform", "post_id").orderBy(F.col("collected_at").desc())
    posts = (
        posts.withColumn("_rn", F.row_number().over(latest))
        .where(F.col("_rn") == 1)
        .select(
            "platform",
            "owner_id",
            "owner_handle",
            "taken_at",
            F.coalesce(F.col("likes"), F.lit(0)).alias("likes"),
            F.coalesce(F.col("comments"), F.lit(0)).alias("comments"),
        )
    )
    profiles = read_table(spark, lake_dir, PROFILES)
    by_id = _latest_followers(profiles, F.col("user_id"), "owner_id")
    by_handle = _latest_followers(profiles, F.lower(F.col("handle")), "handle")
    posts = (
        posts.withColumn("handle", F.lower(F.col("owner_handle")))
        .join(by_id, ["platform", "owner_id"], "left")
        .join(by_handle, ["platform", "handle"], "left")
        .withColumn("followers", F.coalesce("followers_owner_id", "followers_handle"))
    )

    def present(column: str) -> Any:
        return F.when(F.col(column) != "", F.col(column))

    author = F.coalesce(present("owner_id"), present("owner_handle"), F.lit("?"))
    engaged = F.col("likes") + F.col("comments")
    known = F.col("followers") > 0
    per_period = (
        posts.join(bounds, (posts.taken_at >= bounds.start) & (posts.taken_at < bounds.end))
        .groupBy("period")
        .agg(
            F.count(F.lit(1)).alias("posts_seen"),
            F.countDistinct(F.col("platform"), author).alias("unique_authors"),
            F.sum("likes").alias("likes"),
            F.sum("comments").alias("comments"),
            F.sum(F.when(known, engaged)).alias("_engaged_known"),
            F.sum(F.when(known, F.col("followers"))).alias("_followers_known"),
        )
    )
    posts_seen = F.coalesce(F.col("posts_seen"), F.lit(0))
    return (
        bounds.join(per_period, "period", "left")
        .select(
            "period",
            "start",
            "end",
            posts_seen.alias("posts_seen"),
            F.coalesce(F.col("unique_authors"), F.lit(0)).alias("unique_authors"),
            F.coalesce(F.col("likes"), F.lit(0)).cast("long").alias("likes"),
            F.coalesce(F.col("comments"), F.lit(0)).cast("long").alias("comments"),
            F.when(posts_seen > 0, (F.col("likes") + F.col("comments")) / posts_seen).alias(
                "engagement_per_post"
            ),
            F.when(
                F.col("_followers_known") > 0, F.col("_engaged_known") / F.col("_followers_known")
            ).alias("engagement_rate"),
            "period_order",
        )
        .orderBy("period_order")
        .drop("period_order")
    )


def campaign_job(
    spark: Any,
    lake_dir: Path | str,
    *,
    tags: Sequence[str],
    handles: Sequence[str] = (),
    periods: Sequence[CampaignPeriod],
    platform: str | None = None,
    out: Path | str | None = None,
) -> pa.Table:
    """Compute the periods' aggregates, write them under ``out`` (Parquet) and return them."""
    frame = campaign_frame(
        spark, lake_dir, tags=tags, handles=handles, periods=periods, platform=platform
    )
    return write_result(frame, out)
