"""The campaign's building blocks on arrays: hourly posts from counts, seasonal factors, blocks,
the uplift test's error rates and the counterfactual's interval coverage."""

from __future__ import annotations

import numpy as np
import pytest

from tagpulse.analysis.campaign_rates import (
    HOUR_S,
    Block,
    block_ranges,
    choose_block_hours,
    hour_of_week,
    hourly_posts,
    make_blocks,
    seasonal_factors,
)
from tagpulse.analysis.campaign_stats import fit_trend, project, uplift_test

# 2026-11-02 00:00 UTC, a Monday.
MONDAY = 1793577600.0


def test_hourly_posts_interpolate_and_leave_gaps_missing() -> None:
    edges = MONDAY + HOUR_S * np.arange(11, dtype=np.float64)
    # Tag a: snapshots every 30 minutes with 100 posts an hour, but none between 3:00 and 10:00.
    times_a = MONDAY + np.array([0, 1800, 3600, 5400, 7200, 9000, 10800, 36000, 37800])
    counts_a = (times_a - MONDAY) / 36.0
    # Tag b: 10 posts an hour, from 1:00 only.
    times_b = MONDAY + HOUR_S * np.arange(1, 12, dtype=np.float64)
    counts_b = 10.0 * np.arange(11)
    # Tag c: nothing in the grid's span; it must not blank the others.
    times_c = np.array([MONDAY - 10 * HOUR_S, MONDAY - 9 * HOUR_S])
    counts_c = np.array([1.0, 2.0])
    series = {
        ("instagram", "a"): (times_a, counts_a),
        ("instagram", "b"): (times_b, counts_b),
        ("instagram", "c"): (times_c, counts_c),
    }
    posts = hourly_posts(series, edges)
    assert np.isnan(posts[0])  # b does not cover 0:00-1:00
    assert posts[1:3] == pytest.approx([110.0, 110.0])
    assert np.isnan(posts[3:10]).all()  # a's 7-hour gap is more than six hours
    assert posts.size == 10
    wide = hourly_posts(series, edges, max_gap_s=8 * HOUR_S)
    assert wide[3:10] == pytest.approx([110.0] * 7)  # a linear gap: 100/hour all along


def test_seasonal_factors_recover_a_daily_shape() -> None:
    rng = np.random.default_rng(1)
    edges = MONDAY + HOUR_S * np.arange(24 * 10 + 1, dtype=np.float64)
    phase = hour_of_week(edges)
    assert phase[0] == 0 and phase[24] == 24 and phase[-1] == (24 * 10 - 1) % 168
    hod = phase % 24
    shape = 1 + 0.5 * np.cos(2 * np.pi * (hod - 19) / 24)
    posts = rng.poisson(2_000 * shape).astype(np.float64)
    history = np.arange(posts.size) < 24 * 7
    factors, kind = seasonal_factors(posts, phase, history)
    assert kind == "hour of day"
    assert factors == pytest.approx(shape, rel=0.05)
    assert factors[:24].mean() == pytest.approx(1.0)
    # Fewer than two whole days: nothing to learn from.
    ones, none = seasonal_factors(posts, phase, np.arange(posts.size) < 40)
    assert none == "none" and (ones == 1).all()


def test_seasonal_factors_use_the_week_with_four_weeks() -> None:
    rng = np.random.default_rng(2)
    hours = 24 * 7 * 5
    edges = MONDAY + HOUR_S * np.arange(hours + 1, dtype=np.float64)
    phase = hour_of_week(edges)
    weekend = np.where(phase >= 120, 1.6, 0.76)  # Saturday and Sunday busier
    posts = rng.poisson(500 * weekend).astype(np.float64)
    factors, kind = seasonal_factors(posts, phase, np.arange(hours) < 24 * 28)
    assert kind == "hour of week"
    assert factors[phase >= 120].mean() / factors[phase < 120].mean() == pytest.approx(
        1.6 / 0.76, rel=0.05
    )
    _, three_weeks = seasonal_factors(posts, phase, np.arange(hours) < 24 * 21)
    assert three_weeks == "hour of day"


def test_blocks_tile_periods_and_need_half_their_hours() -> None:
    assert block_ranges(10, 10, 4, from_end=False) == [(10, 14), (14, 18), (18, 20)]
    assert block_ranges(10, 10, 4, from_end=True) == [(10, 12), (12, 16), (16, 20)]
    assert block_ranges(0, 0, 4, from_end=True) == []
    assert choose_block_hours(168, 168) == 24
    assert choose_block_hours(36, 168) == 6
    assert choose_block_hours(5) == 1 and choose_block_hours() == 1
    posts = np.array([1, 2, 3, np.nan, np.nan, np.nan, 7, 8], dtype=np.float64)
    factors = np.array([1, 1, 1, 1, 1, 1, 2, 2], dtype=np.float64)
    blocks = make_blocks("during", [(0, 4), (4, 8)], 4, 0, posts, factors)
    assert blocks == [
        Block("during", 0, 4, 2.0, 2.0, 2.0, 1.0),
        Block("during", 4, 4, 6.0, 7.5, 3.75, 2.0),
    ]
    # Only one hour of four present: not a block.
    assert make_blocks("during", [(2, 6)], 4, 0, posts, factors) == []


def _overdispersed_blocks(rng: np.random.Generator, n: int, level: float) -> np.ndarray:
    # A block's mean rate: a random level per block (15 %), then Poisson noise on 24 hours.
    rates = level * np.exp(rng.normal(0.0, 0.15, n))
    return np.asarray(rng.poisson(rates * 24) / 24.0, dtype=np.float64)


def test_the_uplift_test_errs_at_its_level_and_finds_40_percent() -> None:
    rng = np.random.default_rng(3)
    runs = 600
    false = true = covered = 0
    for _ in range(runs):
        before = _overdispersed_blocks(rng, 7, 200.0)
        same = uplift_test(before, _overdispersed_blocks(rng, 7, 200.0), offset=0.02)
        more = uplift_test(before, _overdispersed_blocks(rng, 7, 280.0), offset=0.02)
        assert same is not None and more is not None
        false += same.p_value < 0.05
        true += more.p_value < 0.05
        covered += more.low < 0.40 < more.high
    assert 0.02 < false / runs < 0.08
    assert true / runs > 0.85
    assert 0.91 < covered / runs < 0.98


def test_uplift_test_edge_cases() -> None:
    assert uplift_test([1.0], [2.0, 3.0], offset=0.1) is None
    exact = uplift_test([10.0, 10.0], [14.0, 14.0], offset=0.0)
    assert exact is not None
    assert exact.p_value == 0 and exact.estimate == pytest.approx(0.4)
    empty = uplift_test([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], offset=0.5)
    assert empty is not None and empty.p_value == 1 and empty.estimate == 0


def _before_blocks(rates: np.ndarray, hours: int = 24) -> list[Block]:
    n = rates.size
    return [
        Block("before", i * hours, hours, (i - n + 0.5) * hours, float(r), float(r), 1.0)
        for i, r in enumerate(rates)
    ]


def test_the_counterfactual_is_exact_on_an_exact_line() -> None:
    mids = (np.arange(7) - 7 + 0.5) * 24
    fit = fit_trend(_before_blocks(100 + 0.5 * mids))
    assert fit is not None
    assert (fit.intercept, fit.slope) == pytest.approx((100.0, 0.5))
    hours = np.arange(168, dtype=np.float64) + 0.5
    factors = np.where(np.arange(168) % 24 < 12, 0.5, 1.5)
    actual = (100 + 0.5 * hours) * factors * 1.3
    cf = project(fit, "during", hours, factors, actual)
    assert cf is not None
    assert cf.expected == pytest.approx(float(((100 + 0.5 * hours) * factors).sum()))
    assert cf.effect == pytest.approx(0.3)
    assert cf.high - cf.low == pytest.approx(0.0, abs=1e-6)
    actual[:100] = np.nan  # only the hours with data are compared
    part = project(fit, "during", hours, factors, actual)
    assert part is not None and part.hours == 68
    assert fit_trend(_before_blocks(np.array([1.0, 2.0]))) is None


def test_the_counterfactual_interval_covers_at_its_level() -> None:
    rng = np.random.default_rng(4)
    runs, covered = 400, 0
    hours = np.arange(168, dtype=np.float64) + 0.5
    mids = (np.arange(7) - 7 + 0.5) * 24
    for _ in range(runs):
        noise = rng.normal(0.0, 8.0, 7)
        fit = fit_trend(_before_blocks(100 + 0.5 * mids + noise))
        assert fit is not None
        # The future's blocks: the same line, the same noise per 24-hour block.
        block_noise = np.repeat(rng.normal(0.0, 8.0, 7), 24)
        actual = 100 + 0.5 * hours + block_noise
        cf = project(fit, "during", hours, np.ones(168), actual)
        assert cf is not None
        covered += cf.low <= actual.sum() <= cf.high
    assert 0.90 < covered / runs < 0.985
