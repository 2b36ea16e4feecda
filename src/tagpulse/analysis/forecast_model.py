"""The seasonal model behind ``tagpulse insights forecast``: a robust regression of new posts per
interval on a linear trend and daily and weekly Fourier terms, with simulated future paths.

Why this model: a tag's posting rate is a slowly moving level times a daily and a weekly rhythm,
and its history carries campaign bursts that must not bend the rhythm. A regression on
``trend + Σ cos/sin(2πk t / day) + Σ cos/sin(2πk t / week)``

* works with missing intervals (they are left out of the fit: no imputation needed),
* needs few parameters (at most 2 + 8 + 6), so a few days already give a daily profile,
* is fitted by iteratively reweighted least squares (Huber, then Tukey's bisquare, on residuals
  scaled by a variance that grows as a power of the level), so a burst gets weight zero instead
  of becoming part of the "usual" Saturday,
* weighs older data less (half-life :data:`HALF_LIFE_DAYS`), so the trend is local.

How many harmonics it uses depends on the history it is given (:func:`choose_terms`): daily terms
from two days on, weekly ones from one week on (more harmonics with more weeks).

Prediction intervals come from simulated paths: each path draws the coefficients from their
(heteroscedasticity-robust, sandwich) sampling distribution, so the trend's uncertainty widens the
band with the horizon, and adds residuals resampled in blocks of one day from the fit (block
bootstrap: the residuals' own shape and autocorrelation), scaled to the path's level. Residuals of
points the robust fit rejected (bursts) are not resampled: the band covers ordinary variation,
not campaigns nobody has announced. Sums over a day and the cumulative count are read off the
same paths, so their intervals are consistent with the per-interval ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "DAY_S",
    "HALF_LIFE_DAYS",
    "WEEK_S",
    "FittedModel",
    "SeasonalTerms",
    "choose_terms",
    "fit_seasonal",
]

Array = npt.NDArray[np.float64]

DAY_S = 86_400
WEEK_S = 7 * DAY_S
#: Observations this many days older than the newest weigh half as much in the fit.
HALF_LIFE_DAYS = 28.0
_MAX_DAILY = 4
_MAX_WEEKLY = 3
_HUBER_C = 1.345
_BISQUARE_C = 4.685
_HUBER_ITERATIONS = 0
_BISQUARE_ITERATIONS = 10
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class SeasonalTerms:
    """Harmonics of each season in the model (0 = that season is left out)."""

    daily: int
    weekly: int

    def parameters(self, interval_s: int) -> int:
        """Columns of the design: level, trend, and a cos/sin pair per harmonic."""
        nyquist = 1 if self.daily and 2 * self.daily * interval_s == DAY_S else 0
        return 2 + 2 * self.daily + 2 * self.weekly - nyquist

    def describe(self) -> str:
        parts = ["trend"]
        if self.daily:
            parts.append(f"daily ({self.daily} harmonic{'s' if self.daily > 1 else ''})")
        if self.weekly:
            parts.append(f"weekly ({self.weekly} harmonic{'s' if self.weekly > 1 else ''})")
        return " + ".join(parts)


def choose_terms(span_s: float, interval_s: int) -> SeasonalTerms:
    """The seasons a history of ``span_s`` seconds at ``interval_s`` can support.

    A season needs at least two slots per cycle and enough cycles to tell it from the trend: two
    days for the daily rhythm, one week for the weekly one (one harmonic; two from two weeks on,
    three from three weeks on).
    """
    daily = 0
    per_day = DAY_S // interval_s
    if per_day >= 2 and span_s >= 2 * DAY_S:
        daily = min(_MAX_DAILY, per_day // 2)
    weekly = 0
    if span_s >= WEEK_S:
        weekly = min(_MAX_WEEKLY, 1 + int((span_s - WEEK_S) // WEEK_S))
    return SeasonalTerms(daily, weekly)


def _design(mid_s: Array, origin_s: float, terms: SeasonalTerms, interval_s: int) -> Array:
    """Columns: 1, days since ``origin_s``, then cos/sin pairs of each season's harmonics."""
    columns = [np.ones_like(mid_s), (mid_s - origin_s) / DAY_S]
    for period, harmonics in ((DAY_S, terms.daily), (WEEK_S, terms.weekly)):
        for k in range(1, harmonics + 1):
            angle = 2.0 * np.pi * k * (mid_s % period) / period
            columns.append(np.cos(angle))
            # At the Nyquist frequency (two slots a cycle) the sine is zero at every slot.
            if 2 * k * interval_s != period:
                columns.append(np.sin(angle))
    return np.column_stack(columns)


def _wls(x: Array, y: Array, w: Array) -> Array:
    root = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(x * root[:, None], y * root, rcond=None)
    return np.asarray(beta, dtype=np.float64)


def _level_scale(level: Array, power: float, floor: float) -> Array:
    """Residual scale at a level (up to a constant): ``max(level, floor) ** (power / 2)``."""
    scaled: Array = np.maximum(level, floor) ** (power / 2.0)
    return scaled


def _variance_power(fitted: Array, residuals: Array) -> float:
    """``p`` in ``var ∝ level^p``: 0 (constant noise), 1 (Poisson counts), 2 (proportional).

    Read from the slope of log(robust spread) on log(level) over five bins of the fitted level;
    1 when the levels do not spread enough to tell.
    """
    keep = fitted > 0
    if keep.sum() < 25:
        return 1.0
    fitted, residuals = fitted[keep], residuals[keep]
    edges = np.quantile(fitted, np.linspace(0.0, 1.0, 6))
    if edges[-1] < 1.3 * edges[0]:
        return 1.0
    which = np.clip(np.searchsorted(edges, fitted, side="right") - 1, 0, 4)
    xs, ys = [], []
    for b in range(5):
        r = residuals[which == b]
        spread = float(np.median(np.abs(r - np.median(r)))) if r.size >= 5 else 0.0
        if spread > 0:
            xs.append(math.log(float(np.mean(fitted[which == b]))))
            ys.append(math.log(spread))
    if len(xs) < 3 or max(xs) - min(xs) < math.log(1.3):
        return 1.0
    slope = float(np.polyfit(xs, ys, 1)[0])
    return float(np.clip(2.0 * slope, 0.0, 2.0))


@dataclass(slots=True)
class FittedModel:
    """A fitted seasonal regression; see the module's doc for what it is."""

    terms: SeasonalTerms
    interval_s: int
    origin_s: float
    beta: Array
    covariance: Array
    power: float
    floor: float
    #: Standardised residuals in time order; NaN where the slot was missing or rejected.
    standardised: Array
    outliers: int
    observations: int

    def design(self, mid_s: Array) -> Array:
        return _design(mid_s, self.origin_s, self.terms, self.interval_s)

    def predict(self, mid_s: Array) -> Array:
        """Expected new posts in the slots centred on ``mid_s`` (never below zero)."""
        mean: Array = np.maximum(self.design(mid_s) @ self.beta, 0.0)
        return mean

    def simulate(self, mid_s: Array, paths: int, rng: np.random.Generator) -> Array:
        """``paths`` × ``len(mid_s)`` simulated new posts per slot (see the module's doc)."""
        x = self.design(mid_s)
        betas = rng.multivariate_normal(self.beta, self.covariance, size=paths, method="eigh")
        levels = betas @ x.T
        noise = self._resampled(paths, mid_s.size, rng)
        point = x @ self.beta
        values: Array = levels + noise * _level_scale(point, self.power, self.floor)[None, :]
        return np.maximum(values, 0.0)

    def _resampled(self, paths: int, steps: int, rng: np.random.Generator) -> Array:
        pool = self.standardised
        valid = pool[np.isfinite(pool)]
        if valid.size == 0:
            return np.zeros((paths, steps))
        # Missing and rejected slots are filled from the valid ones so blocks stay contiguous.
        filled = pool.copy()
        holes = ~np.isfinite(filled)
        filled[holes] = rng.choice(valid, size=int(holes.sum()))
        block = max(1, min(DAY_S // self.interval_s, filled.size // 4))
        n_blocks = -(-steps // block)
        starts = rng.integers(0, filled.size - block + 1, size=(paths, n_blocks))
        index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(paths, -1)
        noise: Array = filled[index[:, :steps]]
        return noise


def fit_seasonal(
    mid_s: Array, values: Array, interval_s: int, terms: SeasonalTerms | None = None
) -> FittedModel:
    """Fit the model to new posts per slot (``values``, NaN = missing) at slot centres ``mid_s``.

    ``terms`` default to what the history's span supports (:func:`choose_terms`). The caller
    makes sure there are enough observed slots (more than the model's parameters).
    """
    observed = np.isfinite(values)
    t, y = mid_s[observed], values[observed]
    span = float(mid_s[-1] - mid_s[0]) + interval_s
    terms = terms or choose_terms(span, interval_s)
    # Three observations per parameter at least: drop weekly, then daily harmonics until so.
    while terms.parameters(interval_s) * 3 > y.size and (terms.weekly or terms.daily):
        if terms.weekly:
            terms = SeasonalTerms(terms.daily, terms.weekly - 1)
        else:
            terms = SeasonalTerms(terms.daily - 1, 0)
    origin = float(mid_s[-1])
    x = _design(t, origin, terms, interval_s)
    discount = 0.5 ** ((origin - t) / (HALF_LIFE_DAYS * DAY_S))
    # Below one post per slot the noise is that of counting, whatever the level.
    floor = max(0.05 * float(np.median(np.abs(y))), 1.0)
    power = 1.0
    sigma = 1.0
    robust = _gross_outlier_weights(y)
    weights = discount * robust
    beta = _wls(x, y, weights)
    for iteration in range(_HUBER_ITERATIONS + _BISQUARE_ITERATIONS):
        fitted = x @ beta
        if iteration >= 2:
            power = _variance_power(fitted[robust > 0], (y - fitted)[robust > 0])
        scale = _level_scale(fitted, power, floor)
        u = (y - fitted) / scale
        sigma = _robust_sigma(u, fitted, scale)
        z = np.abs(u) / sigma
        if iteration < _HUBER_ITERATIONS:
            robust = np.minimum(1.0, _HUBER_C / np.maximum(z, 1e-12))
        else:
            robust = np.where(z < _BISQUARE_C, (1.0 - (z / _BISQUARE_C) ** 2) ** 2, 0.0)
        weights = discount * robust / scale**2
        beta = _wls(x, y, weights)
    fitted = x @ beta
    residuals = y - fitted
    scale = _level_scale(fitted, power, floor)
    covariance = _m_sandwich(x, residuals / scale, scale, sigma, discount)
    standardised = np.full(values.shape, np.nan)
    # Fitted residuals are smaller than new errors by about sqrt((n - k) / n): undo that.
    inflate = math.sqrt(y.size / max(y.size - x.shape[1], 1))
    kept = np.where(robust > 0, inflate * residuals / scale, np.nan)
    standardised[observed] = kept
    return FittedModel(
        terms=terms,
        interval_s=interval_s,
        origin_s=origin,
        beta=beta,
        covariance=covariance,
        power=power,
        floor=floor,
        standardised=standardised,
        outliers=int((robust <= 0).sum()),
        observations=int(y.size),
    )


def _gross_outlier_weights(y: Array) -> Array:
    """Starting weights: zero for values far from the median of all (bisquare at twice the usual
    cut-off). A burst of several days would otherwise be fitted by the weekly harmonic in the
    first, non-robust fit, and the robust iterations could not undo it; ordinary seasonal
    swings (even ±90 % around the mean) stay well inside."""
    median = float(np.median(y))
    spread = max(_MAD_TO_SIGMA * float(np.median(np.abs(y - median))), math.sqrt(max(median, 1.0)))
    z = np.abs(y - median) / spread
    cut = 2.0 * _BISQUARE_C
    weights: Array = np.where(z < cut, (1.0 - (z / cut) ** 2) ** 2, 0.0)
    return weights


def _robust_sigma(u: Array, fitted: Array, scale: Array) -> float:
    """MAD of the scaled residuals, but never below counting (Poisson) noise: with a few posts
    per slot the residuals take few values, the MAD collapses and ordinary counts would look
    like outliers."""
    mad = _MAD_TO_SIGMA * float(np.median(np.abs(u - np.median(u))))
    counting = float(np.median(np.sqrt(np.maximum(fitted, 1.0)) / scale))
    return max(mad, counting)


def _m_sandwich(x: Array, u: Array, scale: Array, sigma: float, discount: Array) -> Array:
    """Covariance of the bisquare M-estimate: ``A⁻¹ B A⁻¹`` with ``A = Σ d ψ'(z) x xᵀ / s²`` and
    ``B = Σ d² ψ(z)² x xᵀ / s²`` (``z = u / σ``, ``s = σ · scale``), scaled by ``n / (n - k)``.

    Using ψ' (not the IRLS weight ψ(z)/z) in ``A`` matters: with the weight, the standard errors
    came out about 20 % too small in simulation, and so did the bands.
    """
    n, k = x.shape
    z = u / sigma
    inside = np.abs(z) < _BISQUARE_C
    q = (z / _BISQUARE_C) ** 2
    psi = np.where(inside, z * (1.0 - q) ** 2, 0.0)
    dpsi = np.where(inside, (1.0 - q) * (1.0 - 5.0 * q), 0.0)
    s = sigma * scale
    bread = np.linalg.pinv((x * (discount * dpsi / s**2)[:, None]).T @ x)
    meat_rows = x * (discount * psi / s)[:, None]
    covariance: Array = bread @ (meat_rows.T @ meat_rows) @ bread * (n / max(n - k, 1))
    covariance = (covariance + covariance.T) / 2.0
    # Keep it positive semi-definite (ψ' can be negative far out): clip negative eigenvalues.
    values, vectors = np.linalg.eigh(covariance)
    clipped: Array = (vectors * np.maximum(values, 0.0)) @ vectors.T
    return clipped
