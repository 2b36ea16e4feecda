"""``tagpulse insights forecast``: a tag's new posts and count for the next days, with intervals.

For each tag (and platform) the lake's counts become new posts per slot
(:mod:`~tagpulse.analysis.forecast_slots`: missing slots and counter resets handled), a seasonal
regression is fitted to them (:mod:`~tagpulse.analysis.forecast_model`: trend + daily + weekly
rhythm, robust to bursts) and simulated forward; the projected count is the count at the end of
the history plus the simulated new posts. A rolling-origin backtest
(:mod:`~tagpulse.analysis.forecast_backtest`) scores the model against a naive and a seasonal
naive forecast, so a reader can see whether the model earns its keep on this tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from tagpulse.analysis.forecast_backtest import (
    MODEL,
    Backtest,
    min_train_slots,
    run_backtest,
)
from tagpulse.analysis.forecast_model import DAY_S, fit_seasonal
from tagpulse.analysis.forecast_slots import SlotSeries, check_interval, slots_from_snapshots
from tagpulse.analysis.timeline import format_duration, normalise_tag, utc_or_none
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS

__all__ = [
    "MAX_DAYS",
    "MAX_HISTORY_DAYS",
    "DayForecast",
    "SlotForecast",
    "TagForecast",
    "forecast_series",
    "forecast_tags",
]

#: Only this much of the newest history is used (the trend is local; older data weighs little).
MAX_HISTORY_DAYS = 112
#: The longest forecast asked for, in days.
MAX_DAYS = 365
_PATHS = 2000


@dataclass(frozen=True, slots=True)
class SlotForecast:
    """New posts expected in the slot starting at ``start``, with its prediction interval."""

    start: datetime
    posts: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class DayForecast:
    """Day ``day`` of the forecast (ending at ``end``): its new posts and the count at its end."""

    day: int
    end: datetime
    posts: float
    posts_low: float
    posts_high: float
    count: float
    count_low: float
    count_high: float


@dataclass(slots=True)
class TagForecast:
    label: str
    interval_s: int
    level: float
    model: str
    #: New posts per slot of the history used (None where the slot is missing).
    history: list[tuple[datetime, float | None]]
    slots: list[SlotForecast]
    days: list[DayForecast]
    #: The count at the end of the history, where the forecast starts.
    start_count: float
    start: datetime
    last_count: int
    last_at: datetime
    backtest: Backtest
    missing_slots: int = 0
    resets: int = 0
    outliers: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def beats_baselines(self) -> bool:
        """Whether the model's backtest MASE is below every baseline's."""
        bt = self.backtest
        return bt.folds > 0 and bt.score(MODEL).mase is not None and not bt.beaten_by


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


def _min_history_slots(interval_s: int) -> int:
    """A fit (two days, twelve slots at least) plus one day held out for the backtest."""
    return min_train_slots(interval_s) + max(1, DAY_S // interval_s)


def forecast_series(
    series: SlotSeries,
    *,
    label: str,
    days: int,
    level: float = 0.9,
    seed: int = 0,
) -> TagForecast:
    """Forecast ``days`` days after ``series`` (see the module's doc)."""
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"forecast 1 to {MAX_DAYS} days, got {days}", field="--days")
    if not 0.5 <= level < 1.0:
        raise InputError(
            f"the interval's coverage must be at least 0.5 and below 1, got {level}",
            field="--level",
        )
    interval = series.interval_s
    per_day = DAY_S // interval
    series = series.tail(MAX_HISTORY_DAYS * per_day)
    needed = _min_history_slots(interval)
    observed = int(np.isfinite(series.values).sum())
    if series.values.size < needed or observed < needed // 2:
        raise InputError(
            f"#{label} has {observed} usable slots of {format_duration(interval)} "
            f"({format_duration(int(series.values.size * interval))} of counts); a forecast "
            f"with its backtest needs at least {needed} ({format_duration(needed * interval)}): "
            "collect longer, or use a shorter --interval"
        )
    horizon = days * per_day
    backtest = run_backtest(series, horizon, level, seed)
    model = fit_seasonal(series.mids(), series.values, interval)
    future = series.end_s + (np.arange(horizon, dtype=np.float64) + 0.5) * interval
    rng = np.random.default_rng(seed)
    point = model.predict(future)
    # Widened around the point where the backtest found the band too narrow (calibration).
    simulated = model.simulate(future, _PATHS, rng)
    paths = np.maximum(point + backtest.widen * (simulated - point), 0.0)
    tail = (1.0 - level) / 2.0
    quantiles = (tail, 1.0 - tail)
    low, high = np.quantile(paths, quantiles, axis=0)
    day_paths = paths.reshape(_PATHS, days, per_day).sum(axis=2)
    day_low, day_high = np.quantile(day_paths, quantiles, axis=0)
    count_paths = series.end_count + np.cumsum(day_paths, axis=1)
    count_low, count_high = np.quantile(count_paths, quantiles, axis=0)
    day_point = point.reshape(days, per_day).sum(axis=1)
    count_point = series.end_count + np.cumsum(day_point)
    result = TagForecast(
        label=label,
        interval_s=interval,
        level=level,
        model=model.terms.describe(),
        history=[
            (_utc(series.start_s + i * interval), None if not np.isfinite(v) else float(v))
            for i, v in enumerate(series.values)
        ],
        slots=[
            SlotForecast(_utc(series.end_s + i * interval), float(p), float(lo), float(hi))
            for i, (p, lo, hi) in enumerate(zip(point, low, high, strict=True))
        ],
        days=[
            DayForecast(
                d + 1,
                _utc(series.end_s + (d + 1) * DAY_S),
                float(day_point[d]),
                float(day_low[d]),
                float(day_high[d]),
                float(count_point[d]),
                float(count_low[d]),
                float(count_high[d]),
            )
            for d in range(days)
        ],
        start_count=series.end_count,
        start=_utc(series.end_s),
        last_count=series.last_count,
        last_at=_utc(series.last_at_s),
        backtest=backtest,
        missing_slots=int(series.values.size - observed),
        resets=series.resets,
        outliers=model.outliers,
    )
    test_days = backtest.horizon_slots * interval / DAY_S
    if backtest.horizon_slots < horizon:
        result.notes.append(
            f"the backtest forecasts {test_days:g} days ahead, not {days}: the history is too "
            "short to hold out more"
        )
    return result


def _snapshots(
    query: LakeQuery,
    tags: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    platform: str | None,
) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    where = ["post_count IS NOT NULL", f"tag IN ({','.join('?' for _ in tags)})"]
    params: list[object] = list(tags)
    if platform:
        where.append("platform = ?")
        params.append(platform)
    if since is not None:
        where.append("collected_at >= ? AND date >= ?")
        params += [since, since.date()]
    if until is not None:
        where.append("collected_at < ? AND date <= ?")
        params += [until, until.date()]
    # Max per instant: a duplicated snapshot counts once, and the raw files can be read
    # without the de-duplicating view.
    rows = query.rows(
        "SELECT tag, platform, epoch(collected_at) AS t, max(post_count) AS c "
        f"FROM {HASHTAG_SNAPSHOTS}_all WHERE {' AND '.join(where)} "
        "GROUP BY ALL ORDER BY tag, platform, t",
        params,
    )
    found: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for row in rows:
        times, counts = found.setdefault((row["tag"], row["platform"]), ([], []))
        times.append(float(row["t"]))
        counts.append(float(row["c"]))
    return found


def forecast_tags(
    query: LakeQuery,
    tags: Sequence[str],
    *,
    days: int = 7,
    interval_s: int = 3600,
    level: float = 0.9,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
) -> list[TagForecast]:
    """One :class:`TagForecast` per tag and platform (``platform:tag`` labels when several)."""
    check_interval(interval_s)
    wanted = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags) if t))
    if not wanted:
        raise InputError("name at least one tag to forecast", field="TAGS")
    found = _snapshots(query, wanted, utc_or_none(since), utc_or_none(until), platform)
    window = "".join(
        f" {name} {value}"
        for name, value in (("--since", since), ("--until", until), ("--platform", platform))
        if value is not None
    )
    missing = [t for t in wanted if not any(tag == t for tag, _ in found)]
    if missing:
        raise InputError(
            f"no counts for {', '.join('#' + t for t in missing)} in the lake{window}: "
            "track the tag first (tagpulse track), or check its spelling and the window",
            field="TAGS",
        )
    several = len({plat for _, plat in found}) > 1
    results: list[TagForecast] = []
    for tag in wanted:
        for (name, plat), (times, counts) in found.items():
            if name != tag:
                continue
            label = f"{plat}:{tag}" if several else tag
            try:
                series = slots_from_snapshots(times, counts, interval_s)
            except InputError as exc:
                raise InputError(
                    f"#{label}: {exc.reason}; a forecast needs at least "
                    f"{format_duration(_min_history_slots(interval_s) * interval_s)} of counts"
                ) from None
            results.append(forecast_series(series, label=label, days=days, level=level))
    return results
