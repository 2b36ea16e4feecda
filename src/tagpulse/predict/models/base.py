"""The image regressors' common shape: fit with torch, predict with torch, export to ONNX,
score with onnxruntime (:class:`OnnxImageModel`, no torch needed), describe in a card.

A subclass says what its network is (:meth:`ImageRegressor.make_net`) and whether it takes
the tabular features (``uses_features``: the ``mixed`` model). The tabular features are
preprocessed as the MLP's are (:class:`~tagpulse.predict.mlp.Preprocessing`: median
imputation, missing indicators, standardisation, fitted on the training rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from tagpulse.errors import InputError
from tagpulse.predict.mlp import Preprocessing
from tagpulse.predict.models.images import ImageBatch
from tagpulse.predict.models.nets import (
    FEATURES_INPUT,
    FLAGS_INPUT,
    IMAGE_INPUT,
    OUTPUT,
    ImageNetParams,
    export_onnx,
    onnx_session,
    torch_module,
    train_network,
    training_rows,
    validation_rows,
)

__all__ = ["ImageRegressor", "OnnxImageModel"]


def _check_rows(images: ImageBatch, X: npt.NDArray[np.float64]) -> None:
    if len(images) != len(X):
        raise InputError(f"{len(images)} images for {len(X)} rows of features: they must align")


class ImageRegressor:
    """A torch regressor of the ratio from the side-by-side image (and maybe the features)."""

    kind: ClassVar[str] = ""
    uses_features: ClassVar[bool] = False

    def __init__(self, params: ImageNetParams | None = None) -> None:
        self.params = params or ImageNetParams()
        self.feature_names: list[str] = []
        self.preprocessing: Preprocessing | None = None
        self.best_epoch = 0
        self.device = "cpu"
        self.seconds_per_epoch = 0.0
        self._net: Any = None

    def make_net(self, torch: Any, n_features: int, y_mean: float, y_std: float) -> Any:
        raise NotImplementedError

    def _inputs(self, images: ImageBatch, X: npt.NDArray[np.float64]) -> list[Any]:
        _check_rows(images, X)
        inputs: list[Any] = [images.pixels, images.flags]
        if self.uses_features:
            if self.preprocessing is None:
                raise InputError("the model is not trained yet: call fit() first")
            inputs.append(self.preprocessing.transform(X))
        return inputs

    def fit(
        self,
        images: ImageBatch,
        X: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        feature_names: list[str],
        groups: npt.NDArray[np.str_],
    ) -> Self:
        if len(y) < 3:
            raise InputError(f"cannot train the {self.kind} model on {len(y)} posts: need 3")
        torch = torch_module()
        p = self.params
        rows = training_rows(images.flags, p.max_rows, p.seed)
        if len(rows) < len(y):
            images = ImageBatch(images.pixels[rows], images.flags[rows])
            X, y, groups = X[rows], y[rows], groups[rows]
        val = validation_rows(groups, p.validation_share, p.seed)
        self.feature_names = list(feature_names)
        if self.uses_features:
            self.preprocessing = Preprocessing.fit(X[~val], feature_names)
        n_features = len(self.preprocessing.columns) if self.preprocessing else 0
        result = train_network(
            torch,
            lambda y_mean, y_std: self.make_net(torch, n_features, y_mean, y_std),
            self._inputs(images, X),
            y,
            val,
            p,
        )
        self._net, self.best_epoch = result.net, result.best_epoch
        self.device, self.seconds_per_epoch = result.device, result.seconds_per_epoch
        return self

    def _fitted(self) -> Any:
        if self._net is None:
            raise InputError("the model is not trained yet: call fit() first")
        return self._net

    def predict(
        self, images: ImageBatch, X: npt.NDArray[np.float64], batch_size: int = 256
    ) -> npt.NDArray[np.float64]:
        """The torch model's predicted ratios (eager, CPU)."""
        net = self._fitted()
        torch = torch_module()
        inputs = self._inputs(images, X)
        out: list[npt.NDArray[np.float64]] = []
        with torch.inference_mode():
            for start in range(0, len(X), batch_size):
                chunk = [torch.from_numpy(a[start : start + batch_size]) for a in inputs]
                out.append(np.asarray(net(*chunk).numpy(), dtype=np.float64))
        return np.concatenate(out) if out else np.zeros(0)

    @property
    def input_names(self) -> list[str]:
        return [IMAGE_INPUT, FLAGS_INPUT] + ([FEATURES_INPUT] if self.uses_features else [])

    def onnx_bytes(self) -> bytes:
        net = self._fitted()
        torch = torch_module()
        n_columns = len(self.preprocessing.columns) if self.preprocessing else 0
        empty = ImageBatch.empty(1)
        dummies = [torch.from_numpy(empty.pixels), torch.from_numpy(empty.flags)]
        if self.uses_features:
            dummies.append(torch.zeros(1, n_columns, dtype=torch.float32))
        return export_onnx(torch, net, dummies, self.input_names)

    def to_onnx(self) -> OnnxImageModel:
        return OnnxImageModel(self.onnx_bytes(), self.kind, self.feature_names, self.preprocessing)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.onnx_bytes())
        tmp.replace(path)
        return path

    def card(self) -> dict[str, Any]:
        """What the JSON card needs to score with the ONNX file, and how it was trained."""
        self._fitted()
        return {
            "preprocessing": self.preprocessing.as_dict() if self.preprocessing else None,
            "params": self.params.as_dict(),
            "best_epoch": self.best_epoch,
            "device": self.device,
            "seconds_per_epoch": self.seconds_per_epoch,
            "image": {
                "layout": "grayscale 100 x 128: left 100 x 64 the profile picture, right "
                "100 x 64 the post's first image; values / 255; missing: zeros",
                "flags": ["post image present", "profile picture present"],
            },
            "onnx": {"inputs": self.input_names, "output": OUTPUT, "dtype": "float32"},
        }


class OnnxImageModel:
    """An exported image model run by onnxruntime, with its preprocessing: needs no torch."""

    #: Scoring code asks this to know it must pass images.
    needs_images = True

    def __init__(
        self,
        model: bytes | Path,
        kind: str,
        feature_names: list[str],
        preprocessing: Preprocessing | None,
    ) -> None:
        self._session = onnx_session(str(model) if isinstance(model, Path) else model, kind)
        self.kind = kind
        self.feature_names = list(feature_names)
        self.preprocessing = preprocessing
        self._inputs = [i.name for i in self._session.get_inputs()]

    @classmethod
    def load(cls, path: Path, card: dict[str, Any], kind: str) -> OnnxImageModel:
        try:
            doc = card.get("preprocessing")
            prep = Preprocessing.from_dict(doc) if doc else None
            names = [str(n) for n in card["features"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(
                f"the card has no usable preprocessing ({exc}): run `tagpulse predict train "
                f"--model {kind}` again",
                path=str(path.with_suffix(".json")),
            ) from exc
        return cls(path, kind, names, prep)

    def predict(
        self, X: npt.NDArray[np.float64], images: ImageBatch | None = None
    ) -> npt.NDArray[np.float64]:
        """Ratios of the rows ``X`` with their ``images`` (None: no picture for any row)."""
        X = np.asarray(X, dtype=np.float64)
        batch = images if images is not None else ImageBatch.empty(len(X))
        _check_rows(batch, X)
        feeds: dict[str, Any] = {IMAGE_INPUT: batch.pixels, FLAGS_INPUT: batch.flags}
        if FEATURES_INPUT in self._inputs:
            if self.preprocessing is None:
                raise InputError(f"the {self.kind} model's card has no preprocessing: train again")
            feeds[FEATURES_INPUT] = self.preprocessing.transform(X)
        (out,) = self._session.run([OUTPUT], feeds)
        return np.asarray(out, dtype=np.float64).reshape(len(X))
