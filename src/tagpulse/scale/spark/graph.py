"""The discovery graph's weighted edge list on Spark, as :func:`tagpulse.discover.graph.load_graph`
weighs it.

Per (src, dst) account pair: each kind of interaction counted once per post (a like seen in two
collections is one like), ``@handle`` ends mapped to the account's id where the lake knows the
handle; weight = likes x ``like`` + comments x ``comment`` + (mentions + tags) x ``mention``,
and a follow with no interaction weighs ``follow``. Self-loops and other kinds (reposts,
quotes) are dropped. Also per pair: ``likes`` (posts liked) and ``follows``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from tagpulse.discover.graph import EdgeWeights
from tagpulse.lake.schemas import EDGES
from tagpulse.scale.spark.lake import read_table, write_result
from tagpulse.scale.spark.names import handle_ids, resolve
from tagpulse.scale.spark.session import pyspark_modules

__all__ = ["graph_frame", "graph_job"]


def graph_frame(
    spark: Any,
    lake_dir: Path | str,
    *,
    platform: str | None = None,
    weights: EdgeWeights | None = None,
) -> Any:
    """The edge list: ``src, dst, weight, likes, follows`` (pairs of weight 0 left out)."""
    w = weights or EdgeWeights()
    _, F, _ = pyspark_modules()
    edges = read_table(spark, lake_dir, EDGES)
    if platform:
        edges = edges.where(F.col("platform") == platform)
    counted = edges.groupBy("src", "dst", "kind").agg(
        F.countDistinct(F.coalesce(F.col("post_id"), F.lit(""))).alias("n")
    )
    ids = handle_ids(spark, lake_dir, platform, per_platform=False)
    for end in ("src", "dst"):
        counted = resolve(counted, end, ids, per_platform=False)
    per_kind = {
        "liked": w.like,
        "commented": w.comment,
        "mentioned": w.mention,
        "tagged": w.mention,
    }
    kind_weight = F.lit(0.0)
    for kind, weight in per_kind.items():
        kind_weight = F.when(F.col("kind") == kind, F.lit(float(weight))).otherwise(kind_weight)
    kept = counted.where(
        (F.col("src") != F.col("dst")) & F.col("kind").isin(["follows", *per_kind])
    )
    pairs = kept.groupBy("src", "dst").agg(
        F.sum(F.when(F.col("kind") != "follows", F.col("n") * kind_weight).otherwise(0.0)).alias(
            "interactions"
        ),
        F.sum(F.when(F.col("kind") == "liked", F.col("n")).otherwise(0))
        .cast("double")
        .alias("likes"),
        F.bool_or(F.col("kind") == "follows").alias("follows"),
    )
    follow_only = F.col("follows") & ~(F.col("interactions") > 0)
    weight = F.when(F.col("interactions") != 0, F.col("interactions")).otherwise(0.0) + F.when(
        follow_only, F.lit(float(w.follow))
    ).otherwise(0.0)
    return (
        pairs.withColumn("weight", weight)
        .where(F.col("weight") != 0)
        .select("src", "dst", "weight", "likes", "follows")
        .orderBy("src", "dst")
    )


def graph_job(
    spark: Any,
    lake_dir: Path | str,
    *,
    platform: str | None = None,
    weights: EdgeWeights | None = None,
    out: Path | str | None = None,
) -> pa.Table:
    """Compute the weighted edge list, write it under ``out`` (Parquet) and return it."""
    return write_result(graph_frame(spark, lake_dir, platform=platform, weights=weights), out)
