"""From a tag's cumulative counts (snapshots at any times) to new posts per regular slot.

Slots are aligned on the epoch (a ``1d`` slot runs from 00:00 UTC, like the charts' buckets). The
cumulative count at each slot boundary is interpolated linearly between the snapshots around it,
and a slot's new posts are the difference of its two boundaries. A slot is *missing* (NaN) when
any stretch between two snapshots that overlaps it

* is longer than :data:`MAX_GAP_SLOTS` slots (the collector was away: spreading the posts evenly
  over the gap would flatten the daily rhythm), or
* goes down (a counter reset, or the platform recounting): the posts of that stretch are
  unknown, and the count that follows is taken as the new level.

The model needs no imputation: missing slots are left out of the fit and the backtest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tagpulse.analysis.forecast_model import DAY_S
from tagpulse.errors import InputError

__all__ = ["MAX_GAP_SLOTS", "SlotSeries", "check_interval", "slots_from_snapshots"]

Array = npt.NDArray[np.float64]

#: A stretch between two snapshots longer than this many slots leaves its slots missing.
MAX_GAP_SLOTS = 2.5


def check_interval(interval_s: int, *, field: str = "--interval") -> int:
    """The slot size, if it divides a day (the daily and weekly rhythms need whole slots)."""
    if interval_s <= 0 or interval_s > DAY_S or DAY_S % interval_s:
        raise InputError(
            f"a forecast interval must divide a day (e.g. 30m, 1h, 3h, 6h, 1d), got {interval_s}s",
            field=field,
        )
    return interval_s


@dataclass(frozen=True, slots=True)
class SlotSeries:
    """New posts per slot (NaN = missing) and where the cumulative count stands at the end."""

    start_s: float
    interval_s: int
    values: Array
    #: The cumulative count at the end of the last slot (what the forecast adds to).
    end_count: float
    last_count: int
    last_at_s: float
    resets: int

    @property
    def end_s(self) -> float:
        return self.start_s + self.values.size * self.interval_s

    @property
    def per_day(self) -> int:
        return DAY_S // self.interval_s

    def mids(self) -> Array:
        """Slot centres (epoch seconds)."""
        offsets = (np.arange(self.values.size, dtype=np.float64) + 0.5) * self.interval_s
        return np.asarray(self.start_s + offsets, dtype=np.float64)

    def tail(self, slots: int) -> SlotSeries:
        """The last ``slots`` slots (the whole series if it is shorter)."""
        if slots >= self.values.size:
            return self
        drop = self.values.size - slots
        return SlotSeries(
            self.start_s + drop * self.interval_s,
            self.interval_s,
            self.values[drop:],
            self.end_count,
            self.last_count,
            self.last_at_s,
            self.resets,
        )


def slots_from_snapshots(
    times_s: Sequence[float] | Array, counts: Sequence[float] | Array, interval_s: int
) -> SlotSeries:
    """New posts per ``interval_s`` slot from cumulative ``counts`` observed at ``times_s``.

    Snapshots may come in any order and repeat (the largest count at a time wins). Raises
    :class:`InputError` when fewer than one whole slot lies between the first and last one.
    """
    check_interval(interval_s)
    t = np.asarray(times_s, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    order = np.lexsort((c, t))
    t, c = t[order], c[order]
    # One count per time: the largest (the last after the sort).
    last_of_time = np.append(t[1:] != t[:-1], True)
    t, c = t[last_of_time], c[last_of_time]
    if t.size < 2:
        raise InputError("needs at least two counts at different times")
    first = math.ceil(t[0] / interval_s) * interval_s
    last = math.floor(t[-1] / interval_s) * interval_s
    n = round((last - first) / interval_s)
    if n < 1:
        raise InputError(
            f"the counts span {t[-1] - t[0]:.0f}s, less than one whole slot of {interval_s}s"
        )
    steps = np.diff(c)
    bad = (steps < 0) | (np.diff(t) > MAX_GAP_SLOTS * interval_s)
    # The cumulative count with resets removed: a drop starts a new level, it is not posts lost.
    adjusted = np.concatenate(([0.0], np.cumsum(np.where(steps < 0, 0.0, steps))))
    bounds = first + np.arange(n + 1, dtype=np.float64) * interval_s
    at_bounds = np.interp(bounds, t, adjusted)
    values = np.diff(at_bounds)
    # Step i (1-based) runs from t[i-1] to t[i]; a slot is bad if any step it overlaps is bad.
    bad_before = np.concatenate(([0], np.cumsum(bad)))
    lo = np.searchsorted(t, bounds[:-1], side="right")
    hi = np.searchsorted(t, bounds[1:], side="left")
    overlaps_bad = bad_before[hi] - bad_before[lo - 1] > 0
    values[overlaps_bad] = np.nan
    end_count = float(c[-1] - (adjusted[-1] - at_bounds[-1]))
    return SlotSeries(
        start_s=float(first),
        interval_s=interval_s,
        values=values,
        end_count=end_count,
        last_count=int(c[-1]),
        last_at_s=float(t[-1]),
        resets=int((steps < 0).sum()),
    )
