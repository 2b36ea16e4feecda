"""Engagement spikes: posts far above their author's usual, comments arriving fast, and hashtag
counts that jump.

* **Posts**: each post's latest likes and comments in the period, against its author's posts: a
  robust z-score ``(x - median) / (1.4826 * MAD)`` (a viral post cannot inflate the yardstick it
  is measured with) on ``log(1 + count)``, because engagement is heavy-tailed and multiplicative
  (a post with 3x its author's usual likes is a spike whatever the author's size). The scale
  has a floor of 0.25 (log units), so an author whose posts all score the same does not turn a
  doubling into a spike. Authors with fewer than ``min_posts`` posts are not scored.
* **Comment velocity**: comments per hour between a post's first and last observation.
* **Hashtags**: each interval's growth rate against the tag's own rates (same robust z-score).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from tagpulse.analysis.insights_timeline import rate_series
from tagpulse.analysis.timeline import timeline_points, utc_or_none
from tagpulse.lake.query import LakeQuery

__all__ = ["PostSpike", "Spikes", "TagAnomaly", "find_spikes", "robust_z"]

_MAD_TO_SIGMA = 1.4826


def robust_z(value: float, sample: Sequence[float]) -> float | None:
    """How many robust standard deviations ``value`` is above the sample's median."""
    if len(sample) < 2:
        return None
    median = statistics.median(sample)
    mad = statistics.median(abs(x - median) for x in sample)
    if mad == 0:
        return None if value == median else float("inf") if value > median else float("-inf")
    return (value - median) / (_MAD_TO_SIGMA * mad)


_LOG_SCALE_FLOOR = 0.25


def _log_z(counts: Sequence[int | None]) -> list[float | None]:
    """Robust z-scores of ``log(1 + count)`` within one author's posts (None where unknown)."""
    known = np.array([math.log1p(c) for c in counts if c is not None], dtype=np.float64)
    if known.size < 2:
        return [None] * len(counts)
    median = float(np.median(known))
    scale = max(_MAD_TO_SIGMA * float(np.median(np.abs(known - median))), _LOG_SCALE_FLOOR)
    return [None if c is None else (math.log1p(c) - median) / scale for c in counts]


@dataclass(slots=True, frozen=True)
class PostSpike:
    platform: str
    post_id: str
    owner: str
    likes: int | None
    comments: int | None
    author_median_likes: float | None
    likes_z: float | None
    comments_z: float | None
    comments_per_hour: float | None
    url: str | None


@dataclass(slots=True, frozen=True)
class TagAnomaly:
    tag: str
    at: datetime
    rate_per_day: float
    median_rate: float
    z: float


@dataclass(slots=True)
class Spikes:
    posts: list[PostSpike] = field(default_factory=list)
    tags: list[TagAnomaly] = field(default_factory=list)


def _post_rows(
    query: LakeQuery, since: datetime | None, until: datetime | None, platform: str | None
) -> list[dict[str, Any]]:
    where = ["owner_id IS NOT NULL OR owner_handle IS NOT NULL"]
    params: list[object] = []
    if since is not None:
        where.append("collected_at >= ?")
        params.append(since)
    if until is not None:
        where.append("collected_at < ?")
        params.append(until)
    if platform:
        where.append("platform = ?")
        params.append(platform)
    return query.rows(
        "SELECT platform, post_id, coalesce(owner_id, '@' || owner_handle) AS owner, "
        "arg_max(likes, collected_at) AS likes, arg_max(comments, collected_at) AS comments, "
        "arg_min(comments, collected_at) AS first_comments, "
        "epoch(max(collected_at)) - epoch(min(collected_at)) AS span_s, "
        "arg_max(url, collected_at) AS url "
        f"FROM posts WHERE ({') AND ('.join(where)}) GROUP BY platform, post_id, owner",
        params,
    )


def find_spikes(
    query: LakeQuery,
    tags: Sequence[str] = (),
    *,
    interval_s: int = 6 * 3600,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    threshold: float = 3.5,
    min_posts: int = 5,
) -> Spikes:
    since, until = utc_or_none(since), utc_or_none(until)
    result = Spikes()
    by_owner: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in _post_rows(query, since, until, platform):
        by_owner.setdefault((row["platform"], row["owner"]), []).append(row)
    for (plat, owner), rows in by_owner.items():
        if len(rows) < min_posts:
            continue
        likes_z = _log_z([r["likes"] for r in rows])
        comments_z = _log_z([r["comments"] for r in rows])
        known = [float(r["likes"]) for r in rows if r["likes"] is not None]
        median_likes = statistics.median(known) if known else None
        for row, lz, cz in zip(rows, likes_z, comments_z, strict=True):
            if max(lz or 0.0, cz or 0.0) < threshold:
                continue
            velocity = None
            if row["span_s"] and row["comments"] is not None and row["first_comments"] is not None:
                velocity = (row["comments"] - row["first_comments"]) / (row["span_s"] / 3600)
            result.posts.append(
                PostSpike(
                    plat, row["post_id"], owner, row["likes"], row["comments"], median_likes,
                    lz, cz, velocity, row["url"],
                )
            )  # fmt: skip
    result.posts.sort(key=lambda s: -max(s.likes_z or 0.0, s.comments_z or 0.0))
    found = timeline_points(
        query, tags, interval_s=interval_s, since=since, until=until, platform=platform
    )
    for label, points in found.items():
        rates = rate_series([(p.bucket, p.post_count) for p in points], [p.last_at for p in points])
        values = [r for _, r in rates]
        for at, rate in rates:
            z = robust_z(rate, values)
            if z is not None and z >= threshold:
                result.tags.append(TagAnomaly(label, at, rate, statistics.median(values), z))
    result.tags.sort(key=lambda a: -a.z)
    return result
