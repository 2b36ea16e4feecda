"""The one entry point to the image models for the CLI, scoring and benchmarks: by name
(``cnn`` or ``mixed``), fit on a dataset's rows, a cross-validation predictor, and loading a
saved model for scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.errors import InputError
from tagpulse.predict.evaluate import Index, Predictor
from tagpulse.predict.features import Dataset
from tagpulse.predict.models.base import ImageRegressor, OnnxImageModel
from tagpulse.predict.models.cnn import CnnModel
from tagpulse.predict.models.images import ImageBatch
from tagpulse.predict.models.mixed import MixedModel
from tagpulse.predict.models.nets import ImageNetParams

__all__ = [
    "IMAGE_MODELS",
    "fit_image_model",
    "image_model",
    "image_predictor",
    "load_image_model",
]

IMAGE_MODELS: dict[str, type[ImageRegressor]] = {"cnn": CnnModel, "mixed": MixedModel}


def image_model(kind: str, params: ImageNetParams | None = None) -> ImageRegressor:
    if kind not in IMAGE_MODELS:
        raise InputError(f"unknown image model {kind!r}; use one of {', '.join(IMAGE_MODELS)}",
                         field="--model")  # fmt: skip
    return IMAGE_MODELS[kind](params)


def fit_image_model(
    kind: str,
    data: Dataset,
    images: ImageBatch,
    rows: Index | None = None,
    params: ImageNetParams | None = None,
) -> ImageRegressor:
    """The ``kind`` model fitted on ``rows`` of ``data`` (default: all) with their images."""
    if len(images) != len(data.y):
        raise InputError(f"{len(images)} images for {len(data.y)} posts: they must align")
    index = np.arange(len(data.y)) if rows is None else rows
    return image_model(kind, params).fit(
        images.take(index), data.X[index], data.y[index], data.feature_names, data.groups[index]
    )


def image_predictor(
    kind: str, images: ImageBatch, params: ImageNetParams | None = None
) -> Predictor:
    """A :data:`~tagpulse.predict.evaluate.Predictor` fitting a fresh ``kind`` model per fold;
    ``images`` align with the rows of the dataset it is given."""

    def predict(data: Dataset, train: Index, test: Index) -> npt.NDArray[np.float64]:
        model = fit_image_model(kind, data, images, train, params)
        return model.predict(images.take(test), data.X[test])

    return predict


def load_image_model(path: Path, card: dict[str, Any], kind: str) -> OnnxImageModel:
    """A saved ``kind`` model (its ONNX file and card) for scoring, without torch."""
    image_model(kind)  # the name check
    return OnnxImageModel.load(path, card, kind)
