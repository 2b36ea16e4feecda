"""The MLP on a lake where likes depend on the hour and the faces in the image: its
preprocessing by hand, it beats both baselines on a grouped split, its ONNX export scores as
torch does (and needs no torch), and the same seed gives the same metrics."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest

from tagpulse.errors import InputError, MissingExtra
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.evaluate import BASELINES, cross_validate, grouped_kfold
from tagpulse.predict.features import Dataset, build_dataset
from tagpulse.predict.mlp import (
    MlpModel,
    MlpParams,
    OnnxMlp,
    Preprocessing,
    fit_mlp,
    mlp_predictor,
)
from tagpulse.predict.scoring import load_model
from tests.predict.lakes import build_planted_lake

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

QUICK = MlpParams(max_epochs=25, patience=5)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    lake = build_planted_lake(tmp_path_factory.mktemp("mlp"), accounts=50, per_account=20)
    return build_dataset(LakeQuery(lake.home / "lake"))


def test_preprocessing_by_hand() -> None:
    nan = math.nan
    X = np.array([[1.0, nan, nan], [3.0, 4.0, nan], [5.0, 8.0, nan], [7.0, 6.0, nan]])
    prep = Preprocessing.fit(X, ["a", "b", "c"])
    assert prep.medians == [4.0, 6.0, 0.0]  # all unknown: 0
    assert prep.columns == ["a", "b", "c", "b_missing", "c_missing"]
    Z = prep.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (4, 5)
    # b imputed with its median 6: [6, 4, 8, 6]; standardised columns: mean 0, std 1 (or 0).
    b = np.array([6.0, 4.0, 8.0, 6.0])
    assert Z[:, 1] == pytest.approx((b - b.mean()) / b.std(), abs=1e-6)
    assert Z[:, 3] == pytest.approx([math.sqrt(3), -1 / math.sqrt(3), -1 / math.sqrt(3),
                                     -1 / math.sqrt(3)], abs=1e-6)  # fmt: skip
    assert np.allclose(Z[:, 2], 0) and np.allclose(Z[:, 4], 0)  # constant columns
    # A feature known in every training row takes its median when unknown later, no indicator.
    later = prep.transform(np.array([[nan, nan, 2.0]]))
    assert later[0, 0] == pytest.approx((4.0 - 4.0) / np.std([1, 3, 5, 7]))
    assert later[0, 3] > 0  # b was unknown
    again = Preprocessing.from_dict(orjson.loads(orjson.dumps(prep.as_dict())))
    assert np.array_equal(again.transform(X), Z)
    with pytest.raises(InputError, match="feature columns"):
        prep.transform(np.zeros((2, 4)))


def test_mlp_beats_both_baselines_on_a_grouped_split(data: Dataset) -> None:
    metrics = cross_validate(
        data, dict(BASELINES) | {"mlp": mlp_predictor()}, grouped_kfold(data.groups, 5, 0)
    )
    mlp = metrics["mlp"]
    for name in BASELINES:
        base = metrics[name]
        assert mlp.rmse < 0.8 * base.rmse and mlp.mae < 0.8 * base.mae
        assert mlp.mape < base.mape and mlp.within_025 > base.within_025
        assert mlp.rmse_scaled < base.rmse_scaled
    assert mlp.spearman is not None and mlp.spearman >= 0.3


def test_onnx_scores_equal_the_torch_model(data: Dataset, tmp_path: Path) -> None:
    train, test = grouped_kfold(data.groups, 5, 1)[0]
    model = fit_mlp(data, train, MlpParams(max_epochs=40, patience=10))
    X = data.X[test].copy()
    X[::3, data.feature_names.index("faces")] = math.nan  # unknown in scoring, not in training
    torch_scores = model.predict(X)
    assert np.ptp(torch_scores) > 0.1  # not a constant
    onnx_scores = model.to_onnx().predict(X)
    np.testing.assert_allclose(onnx_scores, torch_scores, rtol=1e-5, atol=1e-5)
    path = model.save(tmp_path / "mlp.onnx")
    card = orjson.loads(orjson.dumps(model.card()))  # as the JSON card holds it
    loaded = OnnxMlp.load(path, card)
    np.testing.assert_allclose(loaded.predict(X), torch_scores, rtol=1e-5, atol=1e-5)


def test_same_seed_same_metrics(data: Dataset) -> None:
    def cv(seed: int) -> dict[str, object]:
        params = MlpParams(max_epochs=25, patience=5, seed=seed)
        folds = grouped_kfold(data.groups, 3, 0)
        return dict(cross_validate(data, {"mlp": mlp_predictor(params)}, folds))

    assert cv(4) == cv(4)
    assert cv(4) != cv(5)  # the seed reaches the model (weights, batches, early stopping)


def test_early_stopping_keeps_the_best_epoch(data: Dataset) -> None:
    model = fit_mlp(data, params=MlpParams(max_epochs=400, patience=5))
    assert 1 <= model.best_epoch < 400  # stopped early, on the held-out accounts


def test_the_saved_model_scores_without_torch(
    data: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    model = fit_mlp(data, params=QUICK)
    path = model.save(home / "models" / "mlp-grouped.onnx")
    card = {"protocol": "grouped", "features": {n: "" for n in data.feature_names}}
    path.with_suffix(".json").write_bytes(orjson.dumps(card | model.card()))
    expected = model.predict(data.X[:20])
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    stored = load_model(home, "grouped", "mlp")
    np.testing.assert_allclose(stored.predict(data.X[:20]), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(MissingExtra, match="'ml' extra"):
        MlpModel(QUICK).fit(data.X, data.y, data.feature_names, data.groups)


def test_without_onnxruntime_a_clear_missing_extra(
    data: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = fit_mlp(data, params=QUICK)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtra, match="'ml' extra"):
        model.to_onnx()


def test_a_broken_onnx_file_is_a_clear_error(data: Dataset, tmp_path: Path) -> None:
    prep = Preprocessing.fit(data.X, data.feature_names)
    bad = tmp_path / "mlp-grouped.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(InputError, match="predict train --model mlp"):
        OnnxMlp(bad, prep)
