"""Which account id a ``@handle`` names: every (handle, id) pair the lake has seen, the latest
pair winning after a rename (profiles, post owners, both ends of edges), as the embedded
engine's ``_Names`` (influencers, per platform) and ``load_names`` (graph) resolve them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tagpulse.lake.schemas import EDGES, POSTS, PROFILES
from tagpulse.scale.spark.lake import read_table
from tagpulse.scale.spark.session import pyspark_modules

__all__ = ["handle_ids", "latest_by", "resolve"]


def latest_by(column: str, order: str = "collected_at") -> Any:
    """DuckDB's ``arg_max(column, order)``: the value at the latest ``order`` where it is
    not null (Spark's ``max_by`` would return a null there)."""
    _, F, _ = pyspark_modules()
    return F.max_by(F.col(column), F.when(F.col(column).isNotNull(), F.col(order)))


def handle_ids(
    spark: Any, lake_dir: Path | str, platform: str | None, *, per_platform: bool
) -> Any:
    """``[platform,] handle (lower case) -> id``: the id seen latest with each handle."""
    _, F, _ = pyspark_modules()
    parts = [
        read_table(spark, lake_dir, PROFILES, latest=False).select(
            "platform", "handle", F.col("user_id").alias("id"), F.col("collected_at").alias("seen")
        ),
        read_table(spark, lake_dir, POSTS, latest=False).select(
            "platform",
            F.col("owner_handle").alias("handle"),
            F.col("owner_id").alias("id"),
            F.col("collected_at").alias("seen"),
        ),
    ]
    edges = read_table(spark, lake_dir, EDGES, latest=False)
    for end in ("src", "dst"):
        parts.append(
            edges.select(
                "platform",
                F.col(f"{end}_handle").alias("handle"),
                F.col(end).alias("id"),
                F.col("seen_at").alias("seen"),
            )
        )
    pairs = parts[0]
    for part in parts[1:]:
        pairs = pairs.unionByName(part)
    pairs = pairs.where(
        F.col("handle").isNotNull() & F.col("id").isNotNull() & ~F.col("id").startswith("@")
    )
    if platform:
        pairs = pairs.where(F.col("platform") == platform)
    keys = ["platform", "handle"] if per_platform else ["handle"]
    return (
        pairs.withColumn("handle", F.lower(F.col("handle")))
        .groupBy(*keys)
        .agg(F.max_by(F.col("id"), F.col("seen")).alias("id"))
    )


def resolve(frame: Any, column: str, ids: Any, *, per_platform: bool) -> Any:
    """``column`` with each ``@handle`` replaced by its id where known (else ``@handle`` in
    lower case when ``per_platform``, as the influencer data keys it; else left as it is)."""
    _, F, _ = pyspark_modules()
    marked = F.col(column).startswith("@")
    lookup = ids.select(
        *(["platform"] if per_platform else []),
        F.col("handle").alias(f"_{column}_handle"),
        F.col("id").alias(f"_{column}_id"),
    )
    keys = ["platform", f"_{column}_handle"] if per_platform else [f"_{column}_handle"]
    with_key = frame.withColumn(
        f"_{column}_handle", F.when(marked, F.lower(F.substring(F.col(column), 2, 1 << 30)))
    )
    fallback = F.concat(F.lit("@"), F.col(f"_{column}_handle")) if per_platform else F.col(column)
    return (
        with_key.join(lookup, keys, "left")
        .withColumn(
            column,
            F.when(marked, F.coalesce(F.col(f"_{column}_id"), fallback)).otherwise(F.col(column)),
        )
        .drop(f"_{column}_handle", f"_{column}_id")
    )
