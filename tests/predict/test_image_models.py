"""The ``cnn`` and ``mixed`` models on a lake where the likes ratio is planted in the
brightness of the post's picture: the side-by-side input by hand, the pictures found in the
media store, the CNN beating both baselines on a grouped split, the mixed network beating the
MLP (which cannot see the picture), ONNX scores equal to torch's, the same seed giving the same
metrics, and the CLI training and scoring them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import orjson
import pytest
from PIL import Image
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.errors import InputError, MissingExtra
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.evaluate import BASELINES, cross_validate, grouped_kfold
from tagpulse.predict.features import Dataset, build_dataset
from tagpulse.predict.mlp import MlpParams, mlp_predictor
from tagpulse.predict.models.base import OnnxImageModel
from tagpulse.predict.models.image_models import fit_image_model, image_predictor
from tagpulse.predict.models.images import (
    HALF_WIDTH,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    ImageBatch,
    compose,
    dataset_images,
    load_half,
)
from tagpulse.predict.models.nets import ImageNetParams
from tagpulse.predict.scoring import load_model
from tests.predict.image_lakes import ImageLake, build_image_lake

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

QUICK = ImageNetParams(max_epochs=12, patience=4)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> ImageLake:
    return build_image_lake(tmp_path_factory.mktemp("cnn") / "home")


@pytest.fixture(scope="module")
def data(lake: ImageLake) -> Dataset:
    return build_dataset(LakeQuery(lake.home / "lake"))


@pytest.fixture(scope="module")
def images(lake: ImageLake, data: Dataset) -> ImageBatch:
    return dataset_images(lake.home / "media", LakeQuery(lake.home / "lake"), data)


def test_side_by_side_layout_by_hand(tmp_path: Path) -> None:
    # A 200 x 100 (w x h) picture: left half black, right half white; centre-cropped to the
    # half's 64:100 aspect, then resized, it keeps a black left and a white right.
    picture = Image.new("L", (200, 100), 0)
    picture.paste(255, (100, 0, 200, 100))
    picture.save(tmp_path / "p.png")
    half = load_half(tmp_path / "p.png")
    assert half is not None and half.shape == (IMAGE_HEIGHT, HALF_WIDTH)
    assert half[:, :20].max() == 0 and half[:, -20:].min() == 1
    pixels, flags = compose(np.full((IMAGE_HEIGHT, HALF_WIDTH), 0.25, np.float32), None)
    assert pixels.shape == (1, IMAGE_HEIGHT, IMAGE_WIDTH) and flags.tolist() == [1.0, 0.0]
    assert pixels[0, :, :HALF_WIDTH].max() == 0  # no profile picture: zeros on the left
    assert np.all(pixels[0, :, HALF_WIDTH:] == 0.25)  # the post image on the right
    pixels, flags = compose(None, np.ones((IMAGE_HEIGHT, HALF_WIDTH), np.float32))
    assert flags.tolist() == [0.0, 1.0] and pixels[0, :, HALF_WIDTH:].max() == 0
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert load_half(tmp_path / "broken.png") is None  # used as missing, not a crash
    assert len(ImageBatch.empty(3)) == 3 and ImageBatch.empty(3).flags.sum() == 0


def test_pictures_come_from_the_media_store(
    lake: ImageLake, data: Dataset, images: ImageBatch
) -> None:
    assert len(images) == len(data.y)
    planted = [lake.brightness[pid] for pid in data.post_ids]
    present = np.array([b is not None for b in planted])
    assert np.array_equal(images.flags[:, 0] == 1, present)
    assert images.flags[:, 1].all()  # every account's profile picture was stored
    right = images.pixels[:, 0, :, HALF_WIDTH:].mean(axis=(1, 2))
    assert np.all(right[~present] == 0)
    levels = np.array([b for b in planted if b is not None])
    assert np.corrcoef(right[present], levels)[0, 1] > 0.95
    # Without a media store every post is "no picture".
    empty = dataset_images(lake.home / "no-media", LakeQuery(lake.home / "lake"), data)
    assert empty.flags.sum() == 0 and empty.pixels.max() == 0


@pytest.mark.slow
def test_cnn_beats_both_baselines_and_mixed_beats_the_mlp(
    data: Dataset, images: ImageBatch
) -> None:
    params = ImageNetParams(max_epochs=20, patience=5)
    predictors = dict(BASELINES) | {
        "cnn": image_predictor("cnn", images, params),
        "mixed": image_predictor("mixed", images, params),
        "mlp": mlp_predictor(MlpParams(max_epochs=60, patience=10)),
    }
    metrics = cross_validate(data, predictors, grouped_kfold(data.groups, 3, 0))
    cnn, mixed, mlp = metrics["cnn"], metrics["mixed"], metrics["mlp"]
    for name in BASELINES:
        base = metrics[name]
        assert cnn.rmse < 0.8 * base.rmse and cnn.mae < 0.8 * base.mae
        assert cnn.rmse_scaled < base.rmse_scaled and cnn.within_025 > base.within_025
    assert cnn.spearman is not None and cnn.spearman >= 0.5
    # The MLP's features do not carry the brightness: the mixed network's image branch does.
    assert mixed.rmse < 0.9 * mlp.rmse and mixed.mae < mlp.mae


@pytest.mark.slow
def test_onnx_scores_equal_torch_and_need_no_torch(
    data: Dataset, images: ImageBatch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, test = grouped_kfold(data.groups, 4, 1)[0]
    expected = {}
    for kind in ("cnn", "mixed"):
        model = fit_image_model(kind, data, images, train, QUICK)
        assert model.device in ("cpu", "cuda") and 1 <= model.best_epoch <= QUICK.max_epochs
        torch_scores = model.predict(images.take(test), data.X[test])
        assert np.ptp(torch_scores) > 0.1  # not a constant
        onnx_scores = model.to_onnx().predict(data.X[test], images.take(test))
        np.testing.assert_allclose(onnx_scores, torch_scores, rtol=1e-4, atol=1e-4)
        path = model.save(tmp_path / "models" / f"{kind}-grouped.onnx")
        card = {"protocol": "grouped", "features": {n: "" for n in data.feature_names}}
        path.with_suffix(".json").write_bytes(orjson.dumps(card | model.card()))
        expected[kind] = torch_scores
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    for kind, torch_scores in expected.items():
        stored = load_model(tmp_path, "grouped", kind)
        assert stored.needs_images
        scores = stored.predict(data.X[test], images.take(test))
        np.testing.assert_allclose(scores, torch_scores, rtol=1e-4, atol=1e-4)
    with pytest.raises(MissingExtra, match="'ml' extra"):
        fit_image_model("cnn", data, images, train, QUICK)


@pytest.mark.slow
def test_same_seed_same_metrics(data: Dataset, images: ImageBatch) -> None:
    rows = np.flatnonzero(np.isin(data.groups, np.unique(data.groups)[:12]))
    small = Dataset(data.protocol, data.feature_names, data.X[rows], data.y[rows],
                    data.groups[rows], [data.post_ids[i] for i in rows], data.likes[rows],
                    data.account_mean[rows], data.y_range)  # fmt: skip
    pictures = images.take(rows)

    def cv(seed: int) -> dict[str, object]:
        params = ImageNetParams(max_epochs=6, patience=3, seed=seed)
        predictor = image_predictor("cnn", pictures, params)
        return dict(cross_validate(small, {"cnn": predictor}, grouped_kfold(small.groups, 2, 0)))

    assert cv(3) == cv(3)
    assert cv(3) != cv(4)  # the seed reaches the model (weights, batches, early stopping)


def test_misaligned_images_and_broken_models_are_clear(
    data: Dataset, images: ImageBatch, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="must align"):
        fit_image_model("cnn", data, images.take([0, 1]), params=QUICK)
    with pytest.raises(InputError, match="unknown image model"):
        fit_image_model("rnn", data, images, params=QUICK)
    bad = tmp_path / "cnn-grouped.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(InputError, match="predict train --model cnn"):
        OnnxImageModel(bad, "cnn", data.feature_names, None)


@pytest.mark.slow
def test_cli_trains_and_scores_the_cnn(lake: ImageLake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGPULSE_HOME", str(lake.home))
    monkeypatch.setenv("TAGPULSE_SECRET_KEY", "test-secret-key-not-a-default-0123456789")
    runner = CliRunner()
    result = runner.invoke(app, ["predict", "train", "--model", "cnn", "--folds", "2", "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    card = orjson.loads((lake.home / "models" / "cnn-grouped.json").read_bytes())
    assert card["device"] in ("cpu", "cuda") and card["image_coverage"]["profile_picture"] == 1
    assert doc["metrics"]["cnn"]["rmse"] < doc["metrics"]["account mean"]["rmse"]
    # The account's darkest and brightest pictures: the brighter one scores higher.
    lit = sorted((b, p) for p, b in lake.brightness.items() if p.startswith("u0p") and b)
    ratios = []
    for _, post in (lit[0], lit[-1]):
        result = runner.invoke(
            app, ["predict", "score", "--post", f"instagram:{post}", "--model", "cnn", "--json"]
        )
        assert result.exit_code == 0, result.output
        ratios.append(orjson.loads(result.output)["ratio"])
    assert ratios[1] > ratios[0] + 0.2


def test_training_rows_keep_every_pictured_post_and_draw_the_rest() -> None:
    from tagpulse.predict.models.nets import training_rows

    flags = np.zeros((100, 2), dtype=np.float32)
    flags[::10, 0] = 1.0  # 10 posts with a picture
    flags[5, 1] = 1.0  # one with only a profile picture
    rows = training_rows(flags, 30, seed=3)
    assert len(rows) == len(set(rows.tolist())) == 30
    assert set(np.flatnonzero(flags.max(axis=1) > 0)) <= set(rows.tolist())
    assert rows.tolist() == training_rows(flags, 30, seed=3).tolist()
    assert rows.tolist() != training_rows(flags, 30, seed=4).tolist()
    assert training_rows(flags, None, seed=3).tolist() == list(range(100))
    few = training_rows(flags, 5, seed=3)
    assert len(few) == 5 and all(flags[few].max(axis=1) > 0)
