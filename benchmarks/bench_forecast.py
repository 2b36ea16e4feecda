"""Forecast accuracy: the seasonal model against the seasonal naive forecast, on held-out weeks.

Data: the sandbox world's six seasonal tags (seed 7), hourly true counts. For each origin (days
21, 28, 35 and 42 after the world's start; quick: day 21 only) the model sees the 21 days
before it, as hourly snapshots, and forecasts the next 7 days per hour
(``forecast_series``, backtest and simulation included, as the CLI runs it).

Baseline: what an analyst does without a model: the seasonal naive forecast (each hour's posts
one week earlier). Measure: mean absolute error per hour over all tags and held-out hours
(lower is better); ratio = baseline MAE / model MAE. Also recorded: the naive (last hour)
MAE, the share of held-out hours inside the model's 90 % band, and seconds per forecast.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from common import Result, main, report
from tagpulse.analysis.forecast import forecast_series
from tagpulse.analysis.forecast_slots import slots_from_snapshots
from tagpulse.platforms.sandbox.world import DAY, HOUR, World

NAME = "forecast accuracy"
GOAL = 1.15
TAGS = ("paris", "nike", "adidas", "puma", "justdoit", "sunset")
HISTORY_DAYS = 21
AHEAD_DAYS = 7
ORIGINS = (21, 28, 35, 42)


def run(quick: bool = False) -> list[Result]:
    world = World(seed=7)
    origins = ORIGINS[:1] if quick else ORIGINS
    errors: dict[str, list[float]] = {"model": [], "seasonal naive": [], "naive": []}
    inside: list[bool] = []
    per_tag: dict[str, float] = {}
    elapsed: list[float] = []
    for tag in TAGS:
        tag_model: list[float] = []
        tag_seasonal: list[float] = []
        for origin in origins:
            first = world.start + (origin - HISTORY_DAYS) * DAY
            hours = (HISTORY_DAYS + AHEAD_DAYS) * 24
            times = first + np.arange(hours + 1) * HOUR
            counts = np.array([world.true_count(tag, t) for t in times], dtype=np.float64)
            cut = HISTORY_DAYS * 24
            truth = np.diff(counts[cut:])
            history = np.diff(counts[: cut + 1])
            started = time.perf_counter()
            series = slots_from_snapshots(times[: cut + 1], counts[: cut + 1], 3600)
            result = forecast_series(series, label=tag, days=AHEAD_DAYS)
            elapsed.append(time.perf_counter() - started)
            point = np.array([s.posts for s in result.slots])
            low = np.array([s.low for s in result.slots])
            high = np.array([s.high for s in result.slots])
            model = np.abs(point - truth)
            seasonal = np.abs(np.tile(history[-168:], AHEAD_DAYS // 7) - truth)
            errors["model"] += model.tolist()
            errors["seasonal naive"] += seasonal.tolist()
            errors["naive"] += np.abs(history[-1] - truth).tolist()
            inside += ((truth >= low) & (truth <= high)).tolist()
            tag_model += model.tolist()
            tag_seasonal += seasonal.tolist()
        per_tag[tag] = float(np.mean(tag_seasonal) / np.mean(tag_model))
    mae = {name: float(np.mean(values)) for name, values in errors.items()}
    details: dict[str, Any] = {
        "tags": list(TAGS),
        "origins_days": list(origins),
        "history_days": HISTORY_DAYS,
        "ahead_days": AHEAD_DAYS,
        "mae_per_hour": mae,
        "ratio_per_tag": per_tag,
        "band_90_coverage": float(np.mean(inside)),
        "seconds_per_forecast": float(np.mean(elapsed)),
    }
    return [
        report(
            Result(
                name=NAME,
                value=mae["model"],
                baseline=mae["seasonal naive"],
                ratio=mae["seasonal naive"] / mae["model"],
                goal=GOAL,
                unit="posts/hour MAE",
                higher_is_better=False,
                baseline_name="seasonal naive (same hour last week)",
                details=details,
            )
        )
    ]


if __name__ == "__main__":
    main(run)
