"""``tagpulse insights timeline``: per tag, post count and growth rate with its change points.

The growth rate (posts per day) of each interval comes from the maximum count per bucket (the
chart's series): ``(count_i - count_{i-1}) / (t_i - t_{i-1})``. Change points are where the rate
moved to a new level (a campaign starting or ending, a tag taking off), found by
:func:`~tagpulse.analysis.changepoints.change_points`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from tagpulse.analysis.changepoints import change_points
from tagpulse.analysis.timeline import timeline_points
from tagpulse.lake.query import LakeQuery, TimelinePoint

__all__ = ["ChangePoint", "TagTimeline", "rate_series", "tag_timelines"]

_DAY = 86_400.0


@dataclass(slots=True, frozen=True)
class ChangePoint:
    at: datetime
    rate_before: float
    rate_after: float


@dataclass(slots=True)
class TagTimeline:
    label: str
    points: list[tuple[datetime, int]]
    rates: list[tuple[datetime, float]]
    change_points: list[ChangePoint] = field(default_factory=list)

    @property
    def first_count(self) -> int | None:
        return self.points[0][1] if self.points else None

    @property
    def last_count(self) -> int | None:
        return self.points[-1][1] if self.points else None

    @property
    def mean_rate(self) -> float | None:
        if len(self.points) < 2:
            return None
        (t0, c0), (t1, c1) = self.points[0], self.points[-1]
        seconds = (t1 - t0).total_seconds()
        return (c1 - c0) / seconds * _DAY if seconds > 0 else None


def rate_series(
    points: Sequence[tuple[datetime, int]], seen: Sequence[datetime | None] | None = None
) -> list[tuple[datetime, float]]:
    """Posts per day between consecutive points, stamped at the later point.

    ``seen``: when each point's count was observed (a bucket's latest snapshot). The elapsed
    time between two counts is then the time between those observations, so a bucket observed
    for only part of its length (the last one, while collection goes on) is not read as a drop.
    """
    rates: list[tuple[datetime, float]] = []
    for i, ((t0, c0), (t1, c1)) in enumerate(itertools.pairwise(points)):
        a, b = (seen[i], seen[i + 1]) if seen is not None else (t0, t1)
        seconds = ((b or t1) - (a or t0)).total_seconds()
        if seconds > 0:
            rates.append((t1, (c1 - c0) / seconds * _DAY))
    return rates


def _timeline(label: str, buckets: list[TimelinePoint], min_size: int) -> TagTimeline:
    points = [(p.bucket, p.post_count) for p in buckets]
    rates = rate_series(points, [p.last_at for p in buckets])
    if not rates:
        return TagTimeline(label, points, rates, [])
    values = np.array([r for _, r in rates], dtype=np.float64)
    found = change_points(values, min_size=min_size)
    bounds = [0, *found, values.size]
    means = [float(values[a:b].mean()) for a, b in itertools.pairwise(bounds)]
    marks = [ChangePoint(rates[k][0], means[i], means[i + 1]) for i, k in enumerate(found)]
    return TagTimeline(label, points, rates, marks)


def tag_timelines(
    query: LakeQuery,
    tags: Sequence[str],
    *,
    interval_s: int,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    min_size: int = 3,
) -> list[TagTimeline]:
    """One :class:`TagTimeline` per tag (every tag in the lake when ``tags`` is empty)."""
    found = timeline_points(
        query, tags, interval_s=interval_s, since=since, until=until, platform=platform
    )
    return [_timeline(label, points, min_size) for label, points in found.items()]
