"""Influencer stats on Spark: per account, what the influencer ranking reads from the lake.

The candidates are the accounts that posted with one of the tags in ``[since, until)``
(:func:`~tagpulse.analysis.influencer_data.load_influencer_data`: each post at its latest
observation, placed by ``taken_at`` else when first seen, owners by id or resolved
``@handle``). Per account: its tagged posts, its followers at the period's end (the latest
count before ``until``, else the earliest), the mean likes and comments over the posts that
show them, and the engagement rate of the ranking (the median per post of
``(likes + comments + view_weight * views) / followers``, views of videos and reels only, over
the posts whose likes show).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from tagpulse.lake.schemas import POSTS, PROFILES
from tagpulse.scale.spark.lake import read_table, write_result
from tagpulse.scale.spark.names import handle_ids, latest_by, resolve
from tagpulse.scale.spark.session import pyspark_modules

__all__ = ["influencer_frame", "influencer_job"]

_VIDEO = ("video", "reel")


def _owner(F: Any) -> Any:
    """The owner's id, else ``@handle`` (resolved afterwards), as ``_Names.owner`` keys it."""
    has_id = F.col("owner_id").isNotNull() & (F.col("owner_id") != "")
    has_handle = F.col("owner_handle").isNotNull() & (F.col("owner_handle") != "")
    return F.when(has_id, F.col("owner_id")).when(
        has_handle, F.concat(F.lit("@"), F.col("owner_handle"))
    )


def influencer_frame(
    spark: Any,
    lake_dir: Path | str,
    *,
    tags: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    view_weight: float = 0.05,
) -> Any:
    """One row per candidate: ``platform, account, posts, followers, mean_likes,
    mean_comments, engagement_rate, first_post, last_post``."""
    _, F, _ = pyspark_modules()
    tags = [t.strip().lstrip("#").lower() for t in tags if t.strip().lstrip("#")]
    ids = handle_ids(spark, lake_dir, platform, per_platform=True)
    posts = read_table(spark, lake_dir, POSTS, latest=False)
    if platform:
        posts = posts.where(F.col("platform") == platform)
    tagged = (
        F.coalesce(
            F.arrays_overlap(F.col("hashtags"), F.array(*(F.lit(t) for t in tags))), F.lit(False)
        )
        if tags
        else F.lit(True)
    )
    posts = posts.groupBy("platform", "post_id").agg(
        latest_by("owner_id").alias("owner_id"),
        latest_by("owner_handle").alias("owner_handle"),
        F.coalesce(F.min("taken_at"), F.min("collected_at")).alias("posted_at"),
        latest_by("likes").alias("likes"),
        latest_by("comments").alias("comments"),
        latest_by("views").alias("views"),
        latest_by("media_type").alias("media_type"),
        F.bool_or(tagged).alias("tagged"),
    )
    if since is not None:
        posts = posts.where(F.col("posted_at") >= F.lit(since))
    if until is not None:
        posts = posts.where(F.col("posted_at") < F.lit(until))
    posts = posts.where(F.col("tagged")).withColumn("account", _owner(F))
    posts = resolve(posts, "account", ids, per_platform=True).where(F.col("account").isNotNull())

    profiles = read_table(spark, lake_dir, PROFILES, latest=False)
    if platform:
        profiles = profiles.where(F.col("platform") == platform)
    seen = (
        profiles.where(F.col("followers").isNotNull())
        .select("platform", "user_id", "handle", "collected_at", "followers")
        .distinct()
        .withColumnsRenamed({"user_id": "owner_id", "handle": "owner_handle"})
        .withColumn("account", _owner(F))
    )
    seen = resolve(seen, "account", ids, per_platform=True).where(F.col("account").isNotNull())
    before = F.col("collected_at") < F.lit(until) if until is not None else F.lit(True)
    followers = seen.groupBy("platform", "account").agg(
        F.coalesce(
            F.max_by(F.col("followers"), F.when(before, F.col("collected_at"))),
            F.min_by(F.col("followers"), F.col("collected_at")),
        ).alias("followers")
    )

    video = F.col("media_type").isin(list(_VIDEO))
    views = F.when(video, F.lit(view_weight) * F.coalesce(F.col("views"), F.lit(0))).otherwise(0.0)
    score = F.col("likes") + F.coalesce(F.col("comments"), F.lit(0)) + views
    rate = F.when(F.col("likes").isNotNull() & (F.col("followers") > 0), score / F.col("followers"))
    return (
        posts.join(followers, ["platform", "account"], "left")
        .groupBy("platform", "account")
        .agg(
            F.count(F.lit(1)).alias("posts"),
            F.first("followers", ignorenulls=True).alias("followers"),
            F.avg("likes").alias("mean_likes"),
            F.avg("comments").alias("mean_comments"),
            F.median(rate).alias("_median_rate"),
            F.min("posted_at").alias("first_post"),
            F.max("posted_at").alias("last_post"),
        )
        .withColumn("engagement_rate", F.when(F.col("followers") > 0, F.col("_median_rate")))
        .drop("_median_rate")
        .orderBy("platform", "account")
    )


def influencer_job(
    spark: Any,
    lake_dir: Path | str,
    *,
    tags: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    view_weight: float = 0.05,
    out: Path | str | None = None,
) -> pa.Table:
    """Compute the per-account stats, write them under ``out`` (Parquet) and return them."""
    frame = influencer_frame(
        spark,
        lake_dir,
        tags=tags,
        since=since,
        until=until,
        platform=platform,
        view_weight=view_weight,
    )
    return write_result(frame, out)
