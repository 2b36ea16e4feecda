"""Honest evaluation: baselines, metrics and splits for the likes ratio.

Every model is reported beside two baselines, and counts only where it beats them:

- ``account mean``: predict the account's mean likes, i.e. a ratio of exactly 1.0;
- ``median``: predict the median ratio of the training posts.

Metrics over the pooled out-of-fold predictions: RMSE and MAE on the ratio and on the study's
MinMax-scaled target, MAPE (%), Spearman rank correlation *within* each account (averaged over
accounts with at least three test posts whose ratios differ; predictions that do not vary
within an account rank nothing and score 0), and the share of predictions within 0.25 of the
true ratio.

Splits: ``grouped`` k-fold by account (no account in both train and test, as GroupKFold does:
accounts shuffled with the seed, then each given to the fold with the fewest posts so far) is
the default; ``random`` k-fold over posts is the study's random split, for comparison (an
account's posts then sit on both sides, which flatters models that learn the account).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

from tagpulse.errors import InputError
from tagpulse.predict.features import Dataset, scale_target

__all__ = [
    "BASELINES",
    "INTERVAL_COVERAGE",
    "SPLITS",
    "Fold",
    "Index",
    "Metrics",
    "Predictor",
    "Split",
    "compute_metrics",
    "cross_validate",
    "grouped_kfold",
    "mean_baseline",
    "median_baseline",
    "out_of_fold",
    "random_kfold",
    "residual_interval",
    "splits_for",
]

Split = Literal["grouped", "random"]
SPLITS: tuple[Split, ...] = ("grouped", "random")

#: The share of held-out posts the stored prediction interval is meant to cover.
INTERVAL_COVERAGE = 0.8

Index = npt.NDArray[np.intp]
Fold = tuple[Index, Index]
#: Fits on the train rows of a dataset and predicts the ratio of its test rows.
Predictor = Callable[[Dataset, Index, Index], npt.NDArray[np.float64]]


@dataclass(slots=True, frozen=True)
class Metrics:
    n: int
    rmse: float
    mae: float
    rmse_scaled: float
    mae_scaled: float
    #: Mean absolute percentage error, in percent (over posts whose ratio is not 0).
    mape: float
    #: Mean Spearman correlation within accounts; None when no account has one.
    spearman: float | None
    #: Share of predictions within 0.25 of the true ratio.
    within_025: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _spearman(truth: npt.NDArray[np.float64], pred: npt.NDArray[np.float64]) -> float | None:
    if len(truth) < 3 or np.ptp(truth) == 0:
        return None
    if np.ptp(pred) == 0:
        return 0.0
    a, b = rankdata(truth), rankdata(pred)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt(float((a * a).sum() * (b * b).sum())))


def compute_metrics(
    y_true: npt.NDArray[np.float64],
    y_pred: npt.NDArray[np.float64],
    groups: npt.NDArray[np.str_],
    y_range: tuple[float, float],
) -> Metrics:
    """The metrics of predictions ``y_pred`` of the ratios ``y_true``."""
    if len(y_true) == 0 or len(y_true) != len(y_pred):
        raise InputError(f"cannot score {len(y_pred)} predictions of {len(y_true)} ratios")
    err = y_pred - y_true
    scaled_err = scale_target(y_pred, y_range) - scale_target(y_true, y_range)
    nonzero = y_true != 0
    mape = float(np.mean(np.abs(err[nonzero] / y_true[nonzero])) * 100) if nonzero.any() else 0.0
    rhos = []
    for g in np.unique(groups):
        mask = groups == g
        rho = _spearman(y_true[mask], y_pred[mask])
        if rho is not None:
            rhos.append(rho)
    return Metrics(
        n=len(y_true),
        rmse=float(np.sqrt(np.mean(err**2))),
        mae=float(np.mean(np.abs(err))),
        rmse_scaled=float(np.sqrt(np.mean(scaled_err**2))),
        mae_scaled=float(np.mean(np.abs(scaled_err))),
        mape=mape,
        spearman=float(np.mean(rhos)) if rhos else None,
        within_025=float(np.mean(np.abs(err) <= 0.25)),
    )


def grouped_kfold(groups: npt.NDArray[np.str_], k: int = 5, seed: int = 0) -> list[Fold]:
    """k folds with no group on both sides (k is capped at the number of groups)."""
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    if len(names) < 2:
        raise InputError("a grouped split needs at least two accounts", field="--split")
    k = min(k, len(names))
    order = np.random.default_rng(seed).permutation(len(names))
    # Largest first (stable on the shuffled order), each to the lightest fold: balanced folds.
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold_of = np.empty(len(names), dtype=np.intp)
    load = np.zeros(k, dtype=np.int64)
    for g in order:
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += sizes[g]
    row_fold = fold_of[inverse]
    return [_fold(row_fold, f) for f in range(k)]


def random_kfold(n: int, k: int = 5, seed: int = 0) -> list[Fold]:
    """The study's random split, as k folds over posts."""
    if n < 2:
        raise InputError("a split needs at least two posts", field="--split")
    k = min(k, n)
    row_fold = np.empty(n, dtype=np.intp)
    row_fold[np.random.default_rng(seed).permutation(n)] = np.arange(n) % k
    return [_fold(row_fold, f) for f in range(k)]


def _fold(row_fold: npt.NDArray[np.intp], f: int) -> Fold:
    return np.flatnonzero(row_fold != f), np.flatnonzero(row_fold == f)


def splits_for(data: Dataset, split: Split, folds: int = 5, seed: int = 0) -> list[Fold]:
    if folds < 2:
        raise InputError("--folds must be at least 2", field="--folds")
    if split == "grouped":
        return grouped_kfold(data.groups, folds, seed)
    if split == "random":
        return random_kfold(len(data.y), folds, seed)
    raise InputError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}", field="--split")


def mean_baseline(data: Dataset, train: Index, test: Index) -> npt.NDArray[np.float64]:
    """The account's mean: a ratio of 1.0."""
    return np.ones(len(test), dtype=np.float64)


def median_baseline(data: Dataset, train: Index, test: Index) -> npt.NDArray[np.float64]:
    """The median ratio of the training posts."""
    return np.full(len(test), float(np.median(data.y[train])), dtype=np.float64)


BASELINES: dict[str, Predictor] = {"account mean": mean_baseline, "median": median_baseline}


def out_of_fold(data: Dataset, predict: Predictor, folds: list[Fold]) -> npt.NDArray[np.float64]:
    """Each row's prediction by the model fitted on the folds without it (NaN: in no fold)."""
    pred = np.full(len(data.y), np.nan)
    for train, test in folds:
        pred[test] = predict(data, train, test)
    return pred


def residual_interval(
    y_true: npt.NDArray[np.float64], y_pred: npt.NDArray[np.float64], coverage: float = 0.8
) -> tuple[float, float]:
    """The ``(low, high)`` quantiles of ``y_true - y_pred`` holding ``coverage`` of the residuals
    between them: ``prediction + low .. prediction + high`` is the prediction interval."""
    if not 0 < coverage < 1:
        raise InputError(f"coverage must be between 0 and 1, not {coverage}", field="coverage")
    residuals = (y_true - y_pred)[~np.isnan(y_pred)]
    if len(residuals) == 0:
        raise InputError("no out-of-fold prediction to take residuals from")
    tail = (1 - coverage) / 2
    low, high = np.quantile(residuals, [tail, 1 - tail])
    return float(low), float(high)


def cross_validate(
    data: Dataset,
    predictors: Mapping[str, Predictor],
    folds: list[Fold],
    *,
    predictions: dict[str, npt.NDArray[np.float64]] | None = None,
) -> dict[str, Metrics]:
    """Per predictor the metrics of its out-of-fold predictions, pooled over the folds; those
    predictions go into ``predictions`` when given."""
    out: dict[str, Metrics] = {}
    for name, predict in predictors.items():
        pred = out_of_fold(data, predict, folds)
        if predictions is not None:
            predictions[name] = pred
        scored = ~np.isnan(pred)
        out[name] = compute_metrics(data.y[scored], pred[scored], data.groups[scored], data.y_range)
    return out
