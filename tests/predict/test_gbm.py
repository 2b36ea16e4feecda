"""LightGBM on a lake where likes depend on the hour and the faces in the image: it beats both
baselines on a grouped split, ranks within accounts, finds the planted features, and is
reproducible."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tagpulse.errors import MissingExtra
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.evaluate import BASELINES, cross_validate, grouped_kfold, random_kfold
from tagpulse.predict.features import Dataset, build_dataset
from tagpulse.predict.gbm import GbmModel, GbmParams, fit_gbm, gbm_predictor
from tests.predict.lakes import PLANTED, build_planted_lake

pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    lake = build_planted_lake(tmp_path_factory.mktemp("gbm"), accounts=50, per_account=20)
    return build_dataset(LakeQuery(lake.home / "lake"))


def _cv(data: Dataset, seed: int = 0) -> dict[str, object]:
    predictors = dict(BASELINES) | {"gbm": gbm_predictor(GbmParams(seed=seed))}
    return dict(cross_validate(data, predictors, grouped_kfold(data.groups, 5, seed)))


def test_gbm_beats_both_baselines_on_a_grouped_split(data: Dataset) -> None:
    metrics = cross_validate(
        data, dict(BASELINES) | {"gbm": gbm_predictor()}, grouped_kfold(data.groups, 5, 0)
    )
    gbm = metrics["gbm"]
    for name in BASELINES:
        base = metrics[name]
        assert gbm.rmse < 0.8 * base.rmse and gbm.mae < 0.8 * base.mae
        assert gbm.mape < base.mape and gbm.within_025 > base.within_025
        assert gbm.rmse_scaled < base.rmse_scaled
    assert gbm.spearman is not None and gbm.spearman >= 0.3
    assert metrics["account mean"].spearman == 0  # a constant ranks nothing


def test_feature_importance_ranks_the_planted_features_first(data: Dataset) -> None:
    ranking = fit_gbm(data).importance()
    assert sum(g for _, g in ranking) == pytest.approx(1)
    top = [name for name, _ in ranking[:3]]
    assert set(top) <= PLANTED and "faces" in [n for n, _ in ranking[:4]]
    assert sum(g for n, g in ranking if n in PLANTED) > 0.7


def test_same_seed_same_metrics(data: Dataset) -> None:
    assert _cv(data, 4) == _cv(data, 4)
    a = gbm_predictor(GbmParams(seed=4))(data, *random_kfold(len(data.y), 5, 4)[0])
    b = gbm_predictor(GbmParams(seed=5))(data, *random_kfold(len(data.y), 5, 4)[0])
    assert not np.array_equal(a, b)  # the seed reaches the model (bagging)


def test_without_lightgbm_a_clear_missing_extra(
    data: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    with pytest.raises(MissingExtra, match="'ml' extra"):
        GbmModel().fit(data.X, data.y, data.feature_names)
