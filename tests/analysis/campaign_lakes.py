"""Hand-built lakes for the campaign insight, where the right answer is known.

One tag, ``brand``, whose posts per hour are Poisson around a planted rate: a base level with
an optional linear trend, a daily shape (evening peak), a random level per day (over-dispersion:
real days vary more than a Poisson law allows) and a planted uplift during the campaign.
Snapshots are taken every hour at minute 7, so the analysis has to interpolate, and at the
very end of the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tagpulse.lake.tables import LakeWriter
from tagpulse.records import HashtagSnapshot

__all__ = ["T0", "Planted", "plant"]

T0 = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Planted:
    start: datetime
    end: datetime
    #: Posts per hour as drawn, and the planted mean rate (trend x daily shape, no uplift).
    posts: npt.NDArray[np.int64]
    mean_rate: npt.NDArray[np.float64]
    #: The uplift as drawn: the planted one times the chance difference between the periods'
    #: random day levels (what an analyst could at best recover from these data).
    realized_uplift: float

    def actual(self, a: datetime, b: datetime) -> int:
        i, j = (int((x - T0).total_seconds() // 3600) for x in (a, b))
        return int(self.posts[i:j].sum())

    def expected_without(self, a: datetime, b: datetime) -> float:
        i, j = (int((x - T0).total_seconds() // 3600) for x in (a, b))
        return float(self.mean_rate[i:j].sum())


def plant(
    lake_dir: Path,
    *,
    seed: int,
    uplift: float,
    days: int = 35,
    campaign_day: int = 21,
    campaign_days: int = 7,
    base: float = 200.0,
    slope_per_hour: float = 0.0,
    day_sd: float = 0.05,
    tag: str = "brand",
    platform: str = "instagram",
) -> Planted:
    rng = np.random.default_rng(seed)
    hours = days * 24
    t = np.arange(hours)
    shape = 1 + 0.3 * np.cos(2 * np.pi * (t % 24 - 19) / 24)
    mean_rate = (base + slope_per_hour * t) * shape
    day_level = rng.normal(0.0, day_sd, days)
    rate = mean_rate * np.exp(day_level)[t // 24]
    during = (t >= campaign_day * 24) & (t < (campaign_day + campaign_days) * 24)
    posts = rng.poisson(np.where(during, rate * (1 + uplift), rate))
    cumulative = 10_000 + np.concatenate([[0], np.cumsum(posts)])
    snaps, slots = [], []
    for h in range(hours):
        at = T0 + timedelta(hours=h, minutes=7)
        count = int(cumulative[h] + posts[h] * 7 // 60)
        snaps.append(HashtagSnapshot(platform, tag, count, [], [], at, "a", None))
        slots.append(at)
    end = T0 + timedelta(hours=hours)  # a last snapshot at the very end of the data
    snaps.append(HashtagSnapshot(platform, tag, int(cumulative[-1]), [], [], end, "a", None))
    slots.append(end)
    LakeWriter(lake_dir).append_snapshots(snaps, slots)
    start = T0 + timedelta(days=campaign_day)
    before = day_level[campaign_day - campaign_days : campaign_day].mean()
    during_level = day_level[campaign_day : campaign_day + campaign_days].mean()
    realized = (1 + uplift) * float(np.exp(during_level - before)) - 1
    return Planted(
        start, start + timedelta(days=campaign_days), posts.astype(np.int64), mean_rate, realized
    )
