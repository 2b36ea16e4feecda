"""Metrics by hand, baselines, and splits that keep each account on one side."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tagpulse.errors import InputError
from tagpulse.predict.evaluate import compute_metrics, grouped_kfold, random_kfold


def test_metrics_by_hand() -> None:
    y = np.array([0.5, 1.0, 1.5, 2.0, 1.0, 1.0])
    p = np.array([1.0, 1.0, 1.0, 1.5, 0.5, 1.6])
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    m = compute_metrics(y, p, groups, (0.5, 2.0))
    err = p - y
    assert m.n == 6
    assert m.rmse == pytest.approx(math.sqrt(np.mean(err**2)))
    assert m.mae == pytest.approx(np.mean(np.abs(err)))
    assert m.rmse_scaled == pytest.approx(m.rmse / 1.5)
    assert m.mae_scaled == pytest.approx(m.mae / 1.5)
    assert m.mape == pytest.approx(100 * np.mean(np.abs(err) / y))
    assert m.within_025 == pytest.approx(1 / 6)  # only the exact 1.0
    # Account a: constant predictions rank nothing (0); account b: truth 2,1,1 vs 1.5,0.5,1.6.
    rho_b = np.corrcoef([3, 1.5, 1.5], [2, 1, 3])[0, 1]
    assert m.spearman == pytest.approx((0 + rho_b) / 2)


def test_perfect_predictions() -> None:
    y = np.array([0.2, 0.9, 1.9, 1.0])
    m = compute_metrics(y, y.copy(), np.array(["a"] * 4), (0.2, 1.9))
    assert m.rmse == 0 and m.mape == 0 and m.within_025 == 1 and m.spearman == pytest.approx(1)


def test_grouped_folds_never_split_an_account() -> None:
    rng = np.random.default_rng(0)
    groups = np.array([f"g{i}" for i in rng.integers(0, 23, size=400)])
    folds = grouped_kfold(groups, 5, seed=1)
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(400))  # each post tested exactly once
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        assert 400 / 5 * 0.6 < len(test) < 400 / 5 * 1.4  # balanced
    again = grouped_kfold(groups, 5, seed=1)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))
    other = grouped_kfold(groups, 5, seed=2)
    assert any(len(a[1]) != len(b[1]) or (a[1] != b[1]).any()
               for a, b in zip(folds, other, strict=True))  # fmt: skip
    with pytest.raises(InputError):
        grouped_kfold(np.array(["a", "a"]), 5)


def test_random_folds_cover_every_post_once() -> None:
    folds = random_kfold(103, 5, seed=0)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(103))
    assert {len(t) for _, t in folds} <= {20, 21}
