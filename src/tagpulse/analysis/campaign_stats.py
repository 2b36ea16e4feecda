"""The campaign's statistics: the uplift test and the counterfactual from the pre-period trend.

**Uplift** (during vs before): a Welch t-test on the log of the seasonally adjusted posts per
hour of each block (several hours averaged, see :mod:`~tagpulse.analysis.campaign_rates`).
Why this test:

* post counts are over-dispersed (a day's level moves more than a Poisson law allows), so the
  variance is taken from the blocks themselves, never assumed from the counts;
* seasonality (time of day, day of week) is divided out before testing, so a campaign covering
  more evening peaks than its baseline is not called an uplift;
* neighbouring hours are correlated; blocks of several hours are close enough to independent
  for a t-test, and the test degrades gracefully (fewer degrees of freedom) with few blocks;
* the log makes the effect multiplicative (a campaign adds a share, not a fixed number, to a
  tag's volume) and evens out the variance between quiet and busy periods; Welch's form does not
  assume the two periods are equally noisy (a campaign rarely is).

The estimate is the ratio of the periods' geometric mean rates minus one, with the Welch
confidence interval of the difference of the logs mapped back the same way.

**Counterfactual**: a straight line (ordinary least squares) through the pre-period's adjusted
block rates, projected hour by hour over the campaign (and after it) and multiplied back by each
hour's seasonal factor: what the tags would have gained had the pre-period simply continued.
Its interval combines the line's parameter uncertainty (which widens the further it is
projected) with the blocks' own noise, with Student's t quantiles on the fit's degrees of
freedom. ``actual / expected - 1`` is the campaign's effect against that counterfactual.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tagpulse.analysis.campaign_rates import Block, FloatArray

__all__ = [
    "Counterfactual",
    "TrendFit",
    "Uplift",
    "block_band",
    "fit_trend",
    "project",
    "uplift_test",
]


@dataclass(slots=True, frozen=True)
class Uplift:
    """During vs before: ``estimate`` is relative (0.4 = +40 %), ``low``/``high`` its CI."""

    estimate: float
    low: float
    high: float
    p_value: float
    t: float
    df: float
    before_blocks: int
    during_blocks: int
    level: float


def uplift_test(
    before: Sequence[float], during: Sequence[float], *, offset: float, level: float = 0.95
) -> Uplift | None:
    """Welch's t-test on ``log(rate + offset)`` of the blocks; None with fewer than 2 a side.

    ``offset`` (half a post per block, in the rates' unit) keeps an empty block finite.
    """
    b = np.log(np.asarray(before, dtype=np.float64).clip(0) + offset)
    d = np.log(np.asarray(during, dtype=np.float64).clip(0) + offset)
    nb, nd = b.size, d.size
    if nb < 2 or nd < 2:
        return None
    diff = float(d.mean() - b.mean())
    vb, vd = float(b.var(ddof=1)) / nb, float(d.var(ddof=1)) / nd
    se = math.sqrt(vb + vd)
    if se == 0.0:
        # Noise-free blocks (synthetic data): any difference at all is certain.
        p = 0.0 if diff != 0 else 1.0
        t_stat = math.copysign(math.inf, diff) if diff else 0.0
        return Uplift(math.expm1(diff), math.expm1(diff), math.expm1(diff), p, t_stat,
                      float(nb + nd - 2), nb, nd, level)  # fmt: skip
    df = (vb + vd) ** 2 / (vb**2 / (nb - 1) + vd**2 / (nd - 1))
    t_stat = diff / se
    p = float(2 * stats.t.sf(abs(t_stat), df))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return Uplift(
        math.expm1(diff), math.expm1(diff - half), math.expm1(diff + half), p, t_stat, df,
        nb, nd, level,
    )  # fmt: skip


@dataclass(slots=True, frozen=True)
class TrendFit:
    """``rate = intercept + slope * hours`` (adjusted posts per hour; hours from the start)."""

    intercept: float
    slope: float
    #: Covariance of (intercept, slope).
    cov: tuple[tuple[float, float], tuple[float, float]]
    #: Residual standard deviation of a block's mean rate.
    sigma: float
    df: int
    block_hours: float

    def level(self, hours: FloatArray) -> FloatArray:
        result: FloatArray = self.intercept + self.slope * hours
        return result

    def level_variance(self, hours: FloatArray) -> FloatArray:
        (c00, c01), (_, c11) = self.cov
        result: FloatArray = c00 + 2 * c01 * hours + c11 * hours**2
        return result


def fit_trend(blocks: Sequence[Block]) -> TrendFit | None:
    """OLS line through the blocks' adjusted rates; None with fewer than three blocks."""
    if len(blocks) < 3:
        return None
    x = np.array([b.mid_h for b in blocks], dtype=np.float64)
    y = np.array([b.adjusted_per_hour for b in blocks], dtype=np.float64)
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    df = x.size - 2
    residuals = y - design @ coef
    sigma2 = float(residuals @ residuals) / df
    cov = sigma2 * np.linalg.inv(design.T @ design)
    return TrendFit(
        float(coef[0]), float(coef[1]),
        ((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
        math.sqrt(sigma2), df, float(np.mean([b.hours for b in blocks])),
    )  # fmt: skip


@dataclass(slots=True, frozen=True)
class Counterfactual:
    """Actual posts of a period against the pre-period trend's projection over the same hours."""

    period: str
    hours: int
    actual: float
    expected: float
    low: float
    high: float
    p_value: float | None
    level: float

    @property
    def effect(self) -> float | None:
        """``actual / expected - 1`` (0.4 = 40 % above the counterfactual)."""
        return self.actual / self.expected - 1 if self.expected > 0 else None

    @property
    def effect_low(self) -> float | None:
        return self.actual / self.high - 1 if self.high > 0 else None

    @property
    def effect_high(self) -> float | None:
        return self.actual / self.low - 1 if self.low > 0 else None


def _quantile(level: float, df: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2, df))


def project(
    fit: TrendFit,
    period: str,
    hours_mid: FloatArray,
    factors: FloatArray,
    actual: FloatArray,
    *,
    level: float = 0.95,
) -> Counterfactual | None:
    """The trend projected over the hours of a period that have data, with its interval.

    ``hours_mid`` is each hour's middle in hours from the campaign's start, ``factors`` its
    seasonal factor and ``actual`` its posts (NaN when missing).
    """
    present = np.isfinite(actual)
    if not present.any():
        return None
    t, s = hours_mid[present], factors[present]
    expected = float(np.clip(fit.level(t), 0, None) @ s)
    gradient = np.array([s.sum(), (s * t).sum()])
    cov = np.array(fit.cov)
    # An hour's rate varies block_hours times as much as a block's mean rate does.
    variance = float(gradient @ cov @ gradient) + fit.block_hours * fit.sigma**2 * float(s @ s)
    sd = math.sqrt(max(variance, 0.0))
    total = float(actual[present].sum())
    half = _quantile(level, fit.df) * sd
    p_value = float(2 * stats.t.sf(abs(total - expected) / sd, fit.df)) if sd > 0 else None
    return Counterfactual(
        period, int(present.sum()), total, expected, max(expected - half, 0.0), expected + half,
        p_value, level,
    )  # fmt: skip


def block_band(fit: TrendFit, block: Block, *, level: float = 0.95) -> tuple[float, float, float]:
    """A block's counterfactual posts per hour and its prediction interval (for charts)."""
    mid = np.array([block.mid_h])
    mean = max(float(fit.level(mid)[0]), 0.0) * block.factor
    sd = block.factor * math.sqrt(float(fit.level_variance(mid)[0]) + fit.sigma**2)
    half = _quantile(level, fit.df) * sd
    return mean, max(mean - half, 0.0), mean + half
