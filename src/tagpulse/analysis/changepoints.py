"""Change points in a series' level: where a tag's posting rate moved to a new mean.

Binary segmentation with a Gaussian (squared-error) cost: split a segment where the cost falls
the most, keep the split when the fall beats a penalty of ``beta * sigma² * log(n)``, recurse.
``sigma`` is estimated robustly from first differences (median absolute deviation), so one
spike does not inflate it and a level shift does not either. The series is first passed through
a running median of three, so a single-bucket spike (one viral post, one bad count) is not taken
for a new level, while a shift that lasts is kept. Pure numpy; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["change_points", "noise_scale"]

_MAD_TO_SIGMA = 1.4826


def noise_scale(values: npt.NDArray[np.float64]) -> float:
    """The noise's standard deviation, from the MAD of first differences (robust to shifts)."""
    if values.size < 3:
        return 0.0
    diffs = np.diff(values)
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return _MAD_TO_SIGMA * mad / math.sqrt(2.0)


def _running_median3(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out = values.copy()
    windows = np.lib.stride_tricks.sliding_window_view(values, 3)
    out[1:-1] = np.median(windows, axis=1)
    return out


def _best_split(values: npt.NDArray[np.float64], min_size: int) -> tuple[int, float] | None:
    n = values.size
    if n < 2 * min_size:
        return None
    cum = np.cumsum(values)
    cum2 = np.cumsum(values * values)
    total = cum[-1]
    total2 = cum2[-1]
    ks = np.arange(min_size, n - min_size + 1)
    left_n = ks.astype(np.float64)
    right_n = n - left_n
    left_sum = cum[ks - 1]
    right_sum = total - left_sum
    left_cost = cum2[ks - 1] - left_sum**2 / left_n
    right_cost = (total2 - cum2[ks - 1]) - right_sum**2 / right_n
    whole = total2 - total**2 / n
    gains = whole - (left_cost + right_cost)
    best = int(np.argmax(gains))
    return int(ks[best]), float(gains[best])


def change_points(
    values: Sequence[float] | npt.NDArray[np.float64],
    *,
    min_size: int = 3,
    beta: float = 4.0,
    sigma: float | None = None,
) -> list[int]:
    """Indices where a new level starts (sorted). ``min_size``: fewest points per segment."""
    data = np.asarray(values, dtype=np.float64)
    if data.size < 2 * min_size or not np.all(np.isfinite(data)):
        return []
    # The noise is measured on the series as it is; the running median only lowers it.
    scale = noise_scale(data) if sigma is None else sigma
    data = _running_median3(data)
    # A flat series (no noise at all) still splits on a real shift: a floor on the noise.
    spread = float(np.ptp(data))
    scale = max(scale, 1e-9 * max(spread, 1.0))
    penalty = beta * scale * scale * math.log(data.size)
    found: list[int] = []
    segments = [(0, data.size)]
    while segments:
        start, end = segments.pop()
        split = _best_split(data[start:end], min_size)
        if split is None:
            continue
        k, gain = split
        if gain <= penalty:
            continue
        found.append(start + k)
        segments += [(start, start + k), (start + k, end)]
    return sorted(found)
