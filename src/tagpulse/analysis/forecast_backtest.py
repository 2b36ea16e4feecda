"""Rolling-origin backtest of the seasonal model against two baselines.

At each origin (the last one leaves exactly one test window at the end of the history, the
others step back a day at a time) every method sees only the slots before the origin and
forecasts the next ``horizon`` slots:

* **model**: the seasonal regression (:mod:`~tagpulse.analysis.forecast_model`), refitted;
* **naive**: the last observed slot, repeated;
* **seasonal naive**: the same slot one season earlier — a week when the training part holds a
  week, else a day (and the naive forecast when it holds neither).

Scores, over the observed test slots of all windows:

* **MAPE** (%): mean of ``|error| / actual`` over slots whose actual is above zero. It breaks
  near zero (a slot with one post and a forecast of three is 200 % off), so it is reported but
  not used to rank;
* **MASE**: mean absolute error divided by the in-sample mean absolute error of the one-season
  naive forecast on the window's training part (Hyndman & Koehler 2006), averaged over the
  windows. Below 1 beats the in-sample seasonal naive; it ranks the methods;
* **coverage**: the share of test slots inside the model's prediction interval.

The backtest also calibrates the interval (split conformal, on the model's own held-out
errors): each held-out slot's distance from the point forecast, in units of the band's half
width on its side, is ranked (a slot held out by several windows counts once, at its median
distance, so one burst near the end of the history does not count five times); the ``level``
quantile of those distances is the factor that would have made the band cover ``level`` of the
held-out slots. Where it is above 1 (the band was too
narrow: a short history, a rhythm the model could not see yet) the forecast's band is widened by
it; a band that was wide enough is left as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tagpulse.analysis.forecast_model import WEEK_S, fit_seasonal
from tagpulse.analysis.forecast_slots import SlotSeries

__all__ = [
    "BASELINES",
    "METHODS",
    "MODEL",
    "NAIVE",
    "SEASONAL_NAIVE",
    "Backtest",
    "MethodScore",
    "backtest_windows",
    "min_train_slots",
    "naive_forecast",
    "run_backtest",
    "seasonal_naive_forecast",
    "seasonal_period",
]

Array = npt.NDArray[np.float64]

MODEL = "seasonal model"
NAIVE = "naive (last value)"
SEASONAL_NAIVE = "seasonal naive"
BASELINES = (NAIVE, SEASONAL_NAIVE)
METHODS = (MODEL, *BASELINES)
_MAX_FOLDS = 5
_BACKTEST_PATHS = 500


@dataclass(frozen=True, slots=True)
class MethodScore:
    method: str
    mape: float | None
    mase: float | None


@dataclass(slots=True)
class Backtest:
    folds: int
    horizon_slots: int
    interval_s: int
    level: float
    scores: list[MethodScore] = field(default_factory=list)
    #: Share of held-out slots inside the model's interval (before any widening).
    coverage: float | None = None
    #: The factor the forecast's band is widened by (1: the band covered enough).
    widen: float = 1.0
    points: int = 0

    def score(self, method: str) -> MethodScore:
        return next(s for s in self.scores if s.method == method)

    @property
    def beaten_by(self) -> list[str]:
        """The baselines whose MASE is at or below the model's (empty: the model wins)."""
        model = self.score(MODEL).mase
        if model is None:
            return []
        return [
            s.method
            for s in self.scores
            if s.method != MODEL and s.mase is not None and s.mase <= model
        ]


def min_train_slots(interval_s: int) -> int:
    """The fewest slots a fit gets: two days, and at least twelve slots."""
    return max(12, 2 * (86_400 // interval_s))


def seasonal_period(train_slots: int, interval_s: int) -> int:
    """The season (in slots) the seasonal naive method repeats: a week, a day, or 1."""
    week = WEEK_S // interval_s
    day = 86_400 // interval_s
    if train_slots >= week:
        return week
    if train_slots >= day > 1:
        return day
    return 1


def naive_forecast(train: Array, horizon: int) -> Array:
    known = train[np.isfinite(train)]
    return np.full(horizon, known[-1] if known.size else 0.0)


def seasonal_naive_forecast(train: Array, horizon: int, period: int) -> Array:
    """Each slot's value one season before; further seasons back where that one is missing."""
    fallback = naive_forecast(train, 1)[0]
    out = np.empty(horizon)
    n = train.size
    for h in range(horizon):
        index = n + h - period * math.ceil((h + 1) / period)
        while index >= 0 and not np.isfinite(train[index]):
            index -= period
        out[h] = train[index] if index >= 0 else fallback
    return out


def _mase_scale(train: Array, period: int) -> float | None:
    known = train[np.isfinite(train)]
    if period >= train.size:
        period = 1
    diffs = np.abs(train[period:] - train[:-period])
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0 or known.size < 2:
        return None
    scale = float(diffs.mean())
    return scale if scale > 0 else None


def backtest_windows(n: int, horizon: int, interval_s: int) -> tuple[int, list[int]]:
    """The backtest horizon (slots) and origins for a history of ``n`` slots.

    The horizon is the forecast's, but at most a third of the history (in whole days when that
    is a day or more) and at least one day; origins step back a day from ``n - horizon``.
    """
    per_day = 86_400 // interval_s
    third = n // 3
    if third >= per_day:
        third -= third % per_day
    test = min(horizon, max(per_day, third))
    first = n - test
    origins = [first - k * per_day for k in range(_MAX_FOLDS)]
    return test, [o for o in origins if o >= min_train_slots(interval_s)]


def run_backtest(series: SlotSeries, horizon: int, level: float, seed: int = 0) -> Backtest:
    """Score the model and the baselines on ``series`` (see the module's doc)."""
    values, mids, interval = series.values, series.mids(), series.interval_s
    test, origins = backtest_windows(values.size, horizon, interval)
    result = Backtest(len(origins), test, interval, level)
    if not origins:
        return result
    rng = np.random.default_rng(seed)
    tail = (1.0 - level) / 2.0
    errors: dict[str, list[Array]] = {m: [] for m in METHODS}
    mase: dict[str, list[float]] = {m: [] for m in METHODS}
    actuals: list[Array] = []
    distances: dict[int, list[float]] = {}
    inside = 0
    for origin in origins:
        train, actual = values[:origin], values[origin : origin + test]
        observed = np.isfinite(actual)
        if not observed.any() or np.isfinite(train).sum() < 3:
            continue
        model = fit_seasonal(mids[:origin], train, interval)
        future = mids[origin : origin + test]
        paths = model.simulate(future, _BACKTEST_PATHS, rng)
        low, high = np.quantile(paths, [tail, 1.0 - tail], axis=0)
        period = seasonal_period(origin, interval)
        forecasts = {
            MODEL: model.predict(future),
            NAIVE: naive_forecast(train, test),
            SEASONAL_NAIVE: seasonal_naive_forecast(train, test, period),
        }
        scale = _mase_scale(train, period)
        for method, forecast in forecasts.items():
            error = np.abs(forecast - actual)[observed]
            errors[method].append(error)
            if scale is not None:
                mase[method].append(float(error.mean()) / scale)
        actuals.append(actual[observed])
        inside += int(((actual >= low) & (actual <= high))[observed].sum())
        distance = _band_distance(actual, forecasts[MODEL], low, high)
        for offset in np.flatnonzero(observed):
            distances.setdefault(origin + int(offset), []).append(float(distance[offset]))
    if not actuals:
        result.folds = 0
        return result
    actual_all = np.concatenate(actuals)
    positive = actual_all > 0
    for method in METHODS:
        error_all = np.concatenate(errors[method])
        mape = (
            float(np.mean(error_all[positive] / actual_all[positive]) * 100.0)
            if positive.any()
            else None
        )
        result.scores.append(
            MethodScore(
                method,
                mape,
                float(np.mean(mase[method])) if mase[method] else None,
            )
        )
    result.points = int(actual_all.size)
    result.coverage = inside / actual_all.size
    per_slot = np.array([float(np.median(d)) for d in distances.values()])
    result.widen = _conformal_factor(per_slot, level)
    result.folds = len(actuals)
    return result


def _band_distance(actual: Array, point: Array, low: Array, high: Array) -> Array:
    """How far each actual is from the point, in half-widths of the band on its side."""
    above = actual >= point
    half = np.where(above, high - point, point - low)
    gap = np.abs(actual - point)
    outside = np.where(gap > 0, np.inf, 0.0)
    return np.asarray(np.where(half > 0, gap / np.maximum(half, 1e-12), outside), np.float64)


def _conformal_factor(distances: Array, level: float) -> float:
    """The split-conformal quantile of the distances, at least 1 (a band is never narrowed)."""
    n = distances.size
    if n == 0:
        return 1.0
    rank = min(n, math.ceil((n + 1) * level))
    factor = float(np.sort(distances)[rank - 1])
    return max(1.0, factor) if math.isfinite(factor) else 1.0
