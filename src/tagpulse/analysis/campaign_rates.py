"""Hourly new-post series for a campaign, their seasonal factors and their blocks.

The series behind the campaign's uplift test and counterfactual:

* **hourly posts** from the tags' counts: each (platform, tag) count series is interpolated
  linearly at the edges of an hourly grid aligned on the campaign's start, and the differences
  are the posts of each hour, summed over the campaign's tags and platforms. An hour counts as
  missing where a series does not cover it or where its snapshots around it are more than
  :data:`MAX_GAP_S` apart (interpolating across a long gap would smear a burst);
* **seasonal factors**: the usual shape of a day (hour of day, from two whole days or more of
  history before the campaign) or, with four whole weeks, of a week (hour of week), as the
  median over whole cycles of each hour's posts divided by its cycle's mean, normalised to a
  mean of one. Dividing by them puts every hour on the same footing, so a campaign that starts
  at the evening peak is not an uplift. Fewer weeks would not do for the weekly shape: with two
  or three values per hour of week, the factors learn the baseline's own chance ups and downs
  and make it look steadier than it is (a too-small p-value);
* **blocks**: consecutive hours of a period averaged, the unit of the test (hours next to each
  other are correlated; blocks of several hours much less so).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "HOUR_S",
    "MAX_GAP_S",
    "Block",
    "FloatArray",
    "arrays",
    "block_ranges",
    "choose_block_hours",
    "hour_of_week",
    "hourly_posts",
    "make_blocks",
    "seasonal_factors",
]

FloatArray = npt.NDArray[np.float64]

HOUR_S = 3600
#: Snapshots further apart than this leave the hours between them missing.
MAX_GAP_S = 6 * HOUR_S
_DAY_H = 24
_WEEK_H = 168
#: Block sizes tried, largest first, until each period holds :data:`_MIN_BLOCKS` of them.
_BLOCK_HOURS = (24, 12, 6, 3, 1)
_MIN_BLOCKS = 6


def hourly_posts(
    series: Mapping[tuple[str, str], tuple[FloatArray, FloatArray]],
    edges: FloatArray,
    *,
    max_gap_s: float = MAX_GAP_S,
) -> FloatArray:
    """Posts per hour between consecutive ``edges`` (epoch seconds), summed over the series.

    ``series`` maps a key (platform, tag) to sorted snapshot times and counts. An hour is NaN
    where any series with data in the grid's span does not cover it; series without a single
    snapshot in the span are left out (a tag nobody collected must not blank the rest).
    """
    hours = edges.size - 1
    total = np.zeros(max(hours, 0), dtype=np.float64)
    if hours <= 0:
        return total
    used = 0
    for times, counts in series.values():
        if times.size == 0 or times[-1] < edges[0] or times[0] > edges[-1]:
            continue
        used += 1
        cumulative = np.interp(edges, times, counts)
        posts = np.diff(cumulative)
        lo, hi = edges[:-1], edges[1:]
        covered = (lo >= times[0]) & (hi <= times[-1])
        # The snapshots bracketing each hour: the last at or before its start, the first at or
        # after its end; their distance is the widest gap interpolated over.
        left = times[np.clip(np.searchsorted(times, lo, side="right") - 1, 0, times.size - 1)]
        right = times[np.clip(np.searchsorted(times, hi, side="left"), 0, times.size - 1)]
        covered &= right - left <= max_gap_s
        total += np.where(covered, posts, np.nan)
    if used == 0:
        total[:] = np.nan
    return total


def seasonal_factors(
    posts: FloatArray, phase: npt.NDArray[np.int64], history: npt.NDArray[np.bool_]
) -> tuple[FloatArray, str]:
    """Per grid hour, the seasonal factor to divide by, and which seasonality it is.

    ``phase`` is each grid hour's hour of week (0-167, Monday 00:00 UTC = 0); ``history`` marks
    the hours (before the campaign, ending at its start) to learn the factors from. Cycles are
    counted back from the last history hour, so the last cycle ends at the campaign's start.
    Returns factors of one and ``"none"`` when there are fewer than two whole days (cycles with
    less than 80 % of their hours, or no posts, do not count).
    """
    idx = np.flatnonzero(history)
    ones = np.ones(posts.size, dtype=np.float64)
    if idx.size == 0:
        return ones, "none"
    end = int(idx[-1]) + 1
    for cycle, kind, fewest in ((_WEEK_H, "hour of week", 4), (_DAY_H, "hour of day", 2)):
        begin = int(idx[0])
        n_cycles = (end - begin) // cycle
        if n_cycles < fewest:
            continue
        first = end - n_cycles * cycle
        block = posts[first:end].reshape(n_cycles, cycle)
        present = np.isfinite(block)
        sums = np.where(present, block, 0.0).sum(axis=1, keepdims=True)
        means = sums / np.maximum(present.sum(axis=1, keepdims=True), 1)
        # A cycle with too few hours, or no posts, says nothing about the shape.
        usable = (present.mean(axis=1, keepdims=True) >= 0.8) & (means > 0)
        if int(usable.sum()) < fewest:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = np.where(usable & present, block / means, np.nan)
        key = (phase[first:end] % cycle).reshape(n_cycles, cycle)[0]
        shape = np.ones(cycle, dtype=np.float64)
        for column in range(cycle):
            values = ratios[:, column]
            values = values[np.isfinite(values)]
            if values.size:
                shape[key[column]] = float(np.median(values))
        shape = np.clip(shape, 0.05, None)
        shape /= shape.mean()
        return shape[phase % cycle], kind
    return ones, "none"


def hour_of_week(edges: FloatArray) -> npt.NDArray[np.int64]:
    """Each grid hour's hour of week, by its midpoint (the epoch began on a Thursday)."""
    mid = (edges[:-1] + edges[1:]) / 2
    result: npt.NDArray[np.int64] = (np.floor(mid / HOUR_S).astype(np.int64) + 72) % _WEEK_H
    return result


def choose_block_hours(*period_hours: int) -> int:
    """The largest block size (hours) leaving every period at least six blocks, else 1."""
    shortest = min(period_hours, default=0)
    for size in _BLOCK_HOURS:
        if shortest // size >= _MIN_BLOCKS:
            return size
    return 1


@dataclass(slots=True, frozen=True)
class Block:
    """``hours`` grid hours of one period from index ``first``; values are posts per hour."""

    period: str
    first: int
    hours: int
    #: Middle of the block in hours from the campaign's start (negative before it).
    mid_h: float
    posts_per_hour: float
    adjusted_per_hour: float
    factor: float


def block_ranges(first: int, count: int, size: int, *, from_end: bool) -> list[tuple[int, int]]:
    """Grid ranges of ``size`` hours tiling ``[first, first + count)``; a shorter remainder goes
    at the far end from the campaign (``from_end``: the ranges end exactly at ``first + count``,
    as a before period's do at the campaign's start)."""
    if count <= 0:
        return []
    if from_end:
        stop = first + count
        return [(max(b - size, first), b) for b in range(stop, first, -size)][::-1]
    return [(b, min(b + size, first + count)) for b in range(first, first + count, size)]


def make_blocks(
    period: str,
    ranges: Sequence[tuple[int, int]],
    size: int,
    origin: int,
    posts: FloatArray,
    factors: FloatArray,
) -> list[Block]:
    """One block per grid range with at least half of a block's hours present.

    ``origin`` is the grid index of the campaign's start; ``size`` the nominal block hours.
    """
    blocks: list[Block] = []
    for begin, stop in ranges:
        values = posts[begin:stop]
        present = np.isfinite(values)
        if present.sum() < max(1, math.ceil(size / 2)):
            continue
        raw = float(values[present].mean())
        f = factors[begin:stop][present]
        blocks.append(
            Block(
                period, begin, stop - begin, (begin + stop) / 2 - origin, raw,
                float((values[present] / f).mean()), float(f.mean()),
            )
        )  # fmt: skip
    return blocks


def arrays(points: Sequence[tuple[float, float]]) -> tuple[FloatArray, FloatArray]:
    """Sorted (times, counts) arrays from (epoch seconds, count) pairs, last count per time."""
    by_time = dict(sorted(points))
    times = np.fromiter(by_time.keys(), dtype=np.float64, count=len(by_time))
    counts = np.fromiter(by_time.values(), dtype=np.float64, count=len(by_time))
    return times, counts
