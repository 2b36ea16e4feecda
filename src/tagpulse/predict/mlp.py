"""A small MLP on the tabular features: trained with torch, scored with onnxruntime.

Preprocessing (:class:`Preprocessing`, fitted on the training rows only and stored in the model
card): unknown values (NaN) are imputed with the training median of their feature, and every
feature with an unknown value in training gets a missing indicator (1 where it was unknown);
then every column is standardised with the training mean and standard deviation.

Training (torch, CPU, one thread): seeded (``torch.manual_seed``, a seeded batch order) and
deterministic (``torch.use_deterministic_algorithms``), so the same data and seed give the same
model and metrics. Adam on the mean squared error of the standardised ratio, in mini-batches,
with early stopping on a validation split *grouped by account* (a share of the training
accounts, drawn with the seed): the weights of the epoch with the lowest validation loss are
kept. The ratio's training mean and standard deviation are folded into the network's output, so
it predicts the ratio itself.

Scoring: the trained network is exported to ONNX (``torch.onnx.export(..., dynamo=False)``)
and run with onnxruntime (:class:`OnnxMlp`), so scoring needs no torch. torch and onnxruntime
are imported when needed, never at import time; without them a
:class:`~tagpulse.errors.MissingExtra` names the ``ml`` extra.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.errors import InputError
from tagpulse.extras import require
from tagpulse.predict.evaluate import Index, Predictor
from tagpulse.predict.features import Dataset

__all__ = [
    "MlpModel",
    "MlpParams",
    "OnnxMlp",
    "Preprocessing",
    "fit_mlp",
    "mlp_predictor",
]

_INPUT, _OUTPUT = "features", "ratio"


@dataclass(frozen=True, slots=True)
class MlpParams:
    hidden: tuple[int, ...] = (64, 32)
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 64
    max_epochs: int = 200
    #: Stop after this many epochs without a better validation loss.
    patience: int = 20
    #: Share of the training accounts held out for early stopping.
    validation_share: float = 0.2
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _torch() -> Any:
    return require("torch", "ml")


def _onnxruntime() -> Any:
    return require("onnxruntime", "ml")


@dataclass(slots=True)
class Preprocessing:
    """Median imputation, missing indicators and standardisation, fitted on training rows."""

    feature_names: list[str]
    medians: list[float]
    #: Indices of the features that get a missing indicator (unknown somewhere in training).
    indicators: list[int]
    means: list[float] = field(default_factory=list)
    stds: list[float] = field(default_factory=list)

    @classmethod
    def fit(cls, X: npt.NDArray[np.float64], feature_names: list[str]) -> Preprocessing:
        if X.shape[1] != len(feature_names):
            raise InputError(f"{X.shape[1]} feature columns but {len(feature_names)} names")
        missing = np.isnan(X)
        medians = [
            0.0 if missing[:, j].all() else float(np.nanmedian(X[:, j])) for j in range(X.shape[1])
        ]
        indicators = [j for j in range(X.shape[1]) if missing[:, j].any()]
        prep = cls(list(feature_names), medians, indicators)
        Z = prep._impute(X)
        std = Z.std(axis=0)
        prep.means = [float(v) for v in Z.mean(axis=0)]
        prep.stds = [float(s) if s > 1e-12 else 1.0 for s in std]
        return prep

    @property
    def columns(self) -> list[str]:
        return self.feature_names + [f"{self.feature_names[j]}_missing" for j in self.indicators]

    def _impute(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise InputError(
                f"expected {len(self.feature_names)} feature columns, got {X.shape[-1]}: the "
                "model was trained on other features; run `tagpulse predict train` again"
            )
        missing = np.isnan(X)
        filled = np.where(missing, np.asarray(self.medians, dtype=np.float64), X)
        flags = missing[:, self.indicators].astype(np.float64)
        return np.hstack([filled, flags])

    def transform(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
        Z = (self._impute(X) - np.asarray(self.means)) / np.asarray(self.stds)
        return np.ascontiguousarray(Z, dtype=np.float32)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "NaN -> training median, plus a missing indicator per feature unknown in "
            "training; then (value - mean) / std over the training rows",
            "features": self.feature_names,
            "medians": self.medians,
            "indicators": [self.feature_names[j] for j in self.indicators],
            "means": self.means,
            "stds": self.stds,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Preprocessing:
        names = [str(n) for n in doc["features"]]
        return cls(
            names,
            [float(v) for v in doc["medians"]],
            [names.index(str(n)) for n in doc["indicators"]],
            [float(v) for v in doc["means"]],
            [float(v) for v in doc["stds"]],
        )


def _network(torch: Any, inputs: int, params: MlpParams, y_mean: float, y_std: float) -> Any:
    nn = torch.nn
    module: Any = nn.Module

    class Net(module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            width = inputs
            for h in params.hidden:
                layers += [nn.Linear(width, h), nn.ReLU()]
                width = h
            layers.append(nn.Linear(width, 1))
            self.body = nn.Sequential(*layers)
            self.register_buffer("y_mean", torch.tensor(y_mean, dtype=torch.float32))
            self.register_buffer("y_std", torch.tensor(y_std, dtype=torch.float32))

        def standardised(self, x: Any) -> Any:
            return self.body(x).squeeze(-1)

        def forward(self, x: Any) -> Any:
            return self.standardised(x) * self.y_std + self.y_mean

    return Net()


def validation_rows(groups: npt.NDArray[np.str_], share: float, seed: int) -> npt.NDArray[np.bool_]:
    """A mask of the rows held out for early stopping: whole accounts, drawn with the seed."""
    names = np.unique(groups)
    if len(names) >= 2:
        order = np.random.default_rng(seed).permutation(len(names))
        held = names[order[: max(1, round(share * len(names)))]]
        return np.isin(groups, held)
    mask = np.zeros(len(groups), dtype=bool)  # one account: hold out a share of its posts
    n_val = max(1, round(share * len(groups)))
    mask[np.random.default_rng(seed).permutation(len(groups))[:n_val]] = True
    return mask


class MlpModel:
    """An MLP regressor of the ratio (torch), exportable to ONNX."""

    def __init__(self, params: MlpParams | None = None) -> None:
        self.params = params or MlpParams()
        self.preprocessing: Preprocessing | None = None
        self.best_epoch = 0
        self._net: Any = None

    def fit(
        self,
        X: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        feature_names: list[str],
        groups: npt.NDArray[np.str_],
    ) -> MlpModel:
        if len(y) < 3:
            raise InputError(f"cannot train the MLP on {len(y)} posts: need at least 3")
        torch = _torch()
        p = self.params
        val = validation_rows(groups, p.validation_share, p.seed)
        fit_rows = ~val
        prep = Preprocessing.fit(X[fit_rows], feature_names)
        y_mean = float(y[fit_rows].mean())
        y_std = float(y[fit_rows].std()) or 1.0
        threads = torch.get_num_threads()
        deterministic = torch.are_deterministic_algorithms_enabled()
        try:
            torch.set_num_threads(1)
            torch.use_deterministic_algorithms(True)
            torch.manual_seed(p.seed)
            net = _network(torch, len(prep.columns), p, y_mean, y_std)
            self.best_epoch = self._train(torch, net, prep, X, y, fit_rows, val, y_mean, y_std)
        finally:
            torch.use_deterministic_algorithms(deterministic)
            torch.set_num_threads(threads)
        net.eval()
        self.preprocessing, self._net = prep, net
        return self

    def _train(
        self,
        torch: Any,
        net: Any,
        prep: Preprocessing,
        X: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        fit_rows: npt.NDArray[np.bool_],
        val: npt.NDArray[np.bool_],
        y_mean: float,
        y_std: float,
    ) -> int:
        p = self.params
        xt = torch.from_numpy(prep.transform(X[fit_rows]))
        yt = torch.from_numpy(((y[fit_rows] - y_mean) / y_std).astype(np.float32))
        xv = torch.from_numpy(prep.transform(X[val]))
        yv = torch.from_numpy(((y[val] - y_mean) / y_std).astype(np.float32))
        opt = torch.optim.Adam(net.parameters(), lr=p.learning_rate, weight_decay=p.weight_decay)
        order = torch.Generator().manual_seed(p.seed)
        best, best_epoch, best_state = math.inf, 0, None
        for epoch in range(1, p.max_epochs + 1):
            net.train()
            for batch in torch.randperm(len(yt), generator=order).split(p.batch_size):
                opt.zero_grad()
                loss = torch.mean((net.standardised(xt[batch]) - yt[batch]) ** 2)
                loss.backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                val_loss = float(torch.mean((net.standardised(xv) - yv) ** 2))
            if val_loss < best:
                best, best_epoch = val_loss, epoch
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            elif epoch - best_epoch >= p.patience:
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        return best_epoch

    def _fitted(self) -> tuple[Preprocessing, Any]:
        if self._net is None or self.preprocessing is None:
            raise InputError("the model is not trained yet: call fit() first")
        return self.preprocessing, self._net

    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The torch model's predicted ratios."""
        prep, net = self._fitted()
        torch = _torch()
        with torch.no_grad():
            out = net(torch.from_numpy(prep.transform(X)))
        return np.asarray(out.numpy(), dtype=np.float64)

    def onnx_bytes(self) -> bytes:
        """The network as an ONNX model (input: the preprocessed features, float32)."""
        prep, net = self._fitted()
        torch = _torch()
        buf = io.BytesIO()
        dummy = torch.zeros(1, len(prep.columns), dtype=torch.float32)
        with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
            net, (dummy,), buf, dynamo=False, input_names=[_INPUT], output_names=[_OUTPUT],
            dynamic_axes={_INPUT: {0: "posts"}, _OUTPUT: {0: "posts"}}, opset_version=17,
        )  # fmt: skip
        return buf.getvalue()

    def to_onnx(self) -> OnnxMlp:
        prep, _ = self._fitted()
        return OnnxMlp(self.onnx_bytes(), prep)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.onnx_bytes())
        tmp.replace(path)
        return path

    def card(self) -> dict[str, Any]:
        """What the JSON card needs to score with the ONNX file."""
        prep, _ = self._fitted()
        return {
            "preprocessing": prep.as_dict(),
            "params": self.params.as_dict(),
            "best_epoch": self.best_epoch,
            "onnx": {"input": _INPUT, "output": _OUTPUT, "dtype": "float32"},
        }


class OnnxMlp:
    """The exported MLP run by onnxruntime, with its preprocessing: needs no torch."""

    def __init__(self, model: bytes | Path, preprocessing: Preprocessing) -> None:
        ort = _onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        source = str(model) if isinstance(model, Path) else model
        try:
            self._session = ort.InferenceSession(
                source, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own unexported error types
            raise InputError(
                f"unreadable ONNX model ({exc}): run `tagpulse predict train --model mlp` again",
                path=str(model) if isinstance(model, Path) else None,
            ) from exc
        self.preprocessing = preprocessing
        self.feature_names = preprocessing.feature_names

    @classmethod
    def load(cls, path: Path, card: dict[str, Any]) -> OnnxMlp:
        try:
            prep = Preprocessing.from_dict(card["preprocessing"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"the card has no usable preprocessing ({exc}): run `tagpulse predict train "
                "--model mlp` again",
                path=str(path.with_suffix(".json")),
            ) from exc
        return cls(path, prep)

    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        Z = self.preprocessing.transform(np.asarray(X, dtype=np.float64))
        (out,) = self._session.run([_OUTPUT], {_INPUT: Z})
        return np.asarray(out, dtype=np.float64).reshape(len(Z))


def fit_mlp(data: Dataset, rows: Index | None = None, params: MlpParams | None = None) -> MlpModel:
    """A model fitted on ``rows`` of ``data`` (default: all)."""
    if rows is None:
        return MlpModel(params).fit(data.X, data.y, data.feature_names, data.groups)
    return MlpModel(params).fit(data.X[rows], data.y[rows], data.feature_names, data.groups[rows])


def mlp_predictor(params: MlpParams | None = None) -> Predictor:
    """A :data:`~tagpulse.predict.evaluate.Predictor` that fits a fresh MLP per fold."""

    def predict(data: Dataset, train: Index, test: Index) -> npt.NDArray[np.float64]:
        return fit_mlp(data, train, params).predict(data.X[test])

    return predict
