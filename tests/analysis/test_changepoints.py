"""Change points: found where the level moves, not in noise or at a lone spike."""

from __future__ import annotations

import numpy as np
import pytest

from tagpulse.analysis.changepoints import change_points, noise_scale


@pytest.mark.parametrize("seed", range(5))
def test_noise_alone_has_no_change_point(seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert change_points(rng.normal(100, 10, 200)) == []


@pytest.mark.parametrize("seed", range(5))
def test_a_burst_is_found_at_both_ends(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(100, 10, 30), rng.normal(400, 10, 12), rng.normal(100, 10, 30)]
    found = change_points(x)
    assert len(found) == 2
    assert abs(found[0] - 30) <= 1 and abs(found[1] - 42) <= 1


def test_a_lone_spike_is_not_a_change_of_level() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(100, 10, 60)
    x[30] = 1000
    assert change_points(x, min_size=3) == []


def test_step_without_noise_and_short_input() -> None:
    assert change_points([5.0] * 10 + [9.0] * 10) == [10]
    assert change_points([1.0, 2.0, 3.0]) == []
    assert change_points([1.0, float("nan")] * 5) == []


def test_noise_scale_ignores_level_shifts() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 2, 500), rng.normal(1000, 2, 500)]
    assert noise_scale(x) == pytest.approx(2.0, rel=0.15)
