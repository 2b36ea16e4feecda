"""Gradient boosting (LightGBM, the ``ml`` extra) on the likes ratio.

LightGBM is imported when a model is fitted, never at import time, so everything else works
without the extra; without it, fitting raises :class:`~tagpulse.errors.MissingExtra`. Training
is seeded, single-threaded and ``deterministic``, so the same data and seed give the same model
and metrics. Unknown features (NaN) go down LightGBM's learned missing-value branch; category,
top label and language are categorical features when their codes are unscaled (protocol
``grouped``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.errors import InputError
from tagpulse.extras import require
from tagpulse.predict.evaluate import Index, Predictor
from tagpulse.predict.features import CATEGORICAL, Dataset

__all__ = [
    "GbmModel",
    "GbmParams",
    "categorical_features",
    "fit_gbm",
    "gbm_predictor",
    "load_booster",
]


@dataclass(frozen=True, slots=True)
class GbmParams:
    rounds: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.9
    bagging_fraction: float = 0.8
    seed: int = 0

    def lightgbm(self) -> dict[str, Any]:
        return {
            "objective": "regression",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbosity": -1,
        }


def _lightgbm() -> Any:
    return require("lightgbm", "ml")


class GbmModel:
    """A LightGBM regressor of the ratio."""

    def __init__(self, params: GbmParams | None = None) -> None:
        self.params = params or GbmParams()
        self.feature_names: list[str] = []
        self._booster: Any = None

    def fit(
        self,
        X: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        feature_names: list[str],
        *,
        categorical: list[str] | None = None,
    ) -> GbmModel:
        if len(y) < 2:
            raise InputError(f"cannot train on {len(y)} posts: need at least 2")
        lgb = _lightgbm()
        self.feature_names = list(feature_names)
        train = lgb.Dataset(
            X, label=y, feature_name=self.feature_names,
            categorical_feature=categorical or [], free_raw_data=True,
            params={"verbosity": -1},
        )  # fmt: skip
        self._booster = lgb.train(self.params.lightgbm(), train, self.params.rounds)
        return self

    def _fitted(self) -> Any:
        if self._booster is None:
            raise InputError("the model is not trained yet: call fit() first")
        return self._booster

    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(self._fitted().predict(X), dtype=np.float64)

    def importance(self) -> list[tuple[str, float]]:
        """Each feature's share of the total split gain, largest first."""
        gain = np.asarray(self._fitted().feature_importance(importance_type="gain"), dtype=float)
        total = float(gain.sum()) or 1.0
        pairs = [(n, float(g) / total) for n, g in zip(self.feature_names, gain, strict=True)]
        return sorted(pairs, key=lambda p: (-p[1], p[0]))

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self._fitted().model_to_string())
        tmp.replace(path)
        return path


def categorical_features(data: Dataset) -> list[str]:
    """Categorical features LightGBM can take as such: codes, not MinMax-scaled values."""
    return [] if data.scaling else [n for n in CATEGORICAL if n in data.feature_names]


def fit_gbm(data: Dataset, rows: Index | None = None, params: GbmParams | None = None) -> GbmModel:
    """A model fitted on ``rows`` of ``data`` (default: all)."""
    X, y = (data.X, data.y) if rows is None else (data.X[rows], data.y[rows])
    return GbmModel(params).fit(X, y, data.feature_names, categorical=categorical_features(data))


def gbm_predictor(params: GbmParams | None = None) -> Predictor:
    """A :data:`~tagpulse.predict.evaluate.Predictor` that fits a fresh model per fold."""

    def predict(data: Dataset, train: Index, test: Index) -> npt.NDArray[np.float64]:
        return fit_gbm(data, train, params).predict(data.X[test])

    return predict


def load_booster(path: Path) -> Any:
    """A LightGBM booster saved by :meth:`GbmModel.save`."""
    return _lightgbm().Booster(model_file=str(path))
