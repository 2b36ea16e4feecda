"""What the ``cnn`` and ``mixed`` networks share: the image branch, seeded deterministic
training with early stopping, the device, and the ONNX export and session.

Training: ``torch.manual_seed``, a seeded batch order, ``torch.use_deterministic_algorithms``
and one CPU thread, so the same data and seed give the same model (on CUDA,
``CUBLAS_WORKSPACE_CONFIG`` is set when unset and cuDNN runs deterministic kernels). Adam on the
mean squared error of the standardised ratio; early stopping on a validation split of whole
accounts (a share of the training accounts, drawn with the seed), keeping the weights of the
best epoch. The ratio's training mean and standard deviation are folded into the output, so
the network predicts the ratio itself. The device is CUDA when ``device="auto"`` and a GPU is
there, else the CPU; it is recorded in the model card. The trained network goes back to the
CPU for torch scoring and the ONNX export.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.errors import InputError
from tagpulse.extras import require
from tagpulse.predict.mlp import validation_rows

__all__ = [
    "FEATURES_INPUT",
    "FLAGS_INPUT",
    "IMAGE_INPUT",
    "OUTPUT",
    "ImageNetParams",
    "TrainResult",
    "export_onnx",
    "image_branch",
    "onnx_session",
    "resolve_device",
    "torch_module",
    "train_network",
    "training_rows",
    "validation_rows",
]

IMAGE_INPUT, FLAGS_INPUT, FEATURES_INPUT, OUTPUT = "image", "image_flags", "features", "ratio"


@dataclass(frozen=True, slots=True)
class ImageNetParams:
    #: Output channels of the three stride-2 convolutions of the image branch.
    channels: tuple[int, int, int] = (8, 16, 32)
    #: Width of the dense head (and of the mixed model's tabular branch).
    hidden: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 64
    max_epochs: int = 30
    #: Stop after this many epochs without a better validation loss.
    patience: int = 6
    #: Share of the training accounts held out for early stopping.
    validation_share: float = 0.2
    seed: int = 0
    #: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    device: str = "auto"
    #: At most this many training posts (None: all): every post with a picture is kept, the
    #: rest drawn with the seed, so a lake of tag posts without pictures trains in minutes.
    max_rows: int | None = 6000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def torch_module() -> Any:
    return require("torch", "ml")


def resolve_device(torch: Any, device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise InputError(f"unknown device {device!r}; use auto, cpu or cuda", field="device")
    cuda = bool(torch.cuda.is_available())
    if device == "cuda" and not cuda:
        raise InputError("device cuda asked for but torch sees no GPU; use cpu", field="device")
    return "cuda" if device == "cuda" or (device == "auto" and cuda) else "cpu"


def image_branch(torch: Any, channels: Sequence[int]) -> Any:
    """A 4x4 stride-4 convolution then two 3x3 stride-2 ones, with ReLU (100 x 128 -> 25 x 32
    -> 13 x 16 -> 7 x 8), then the mean over the positions: ``channels[-1]`` values per image
    (cheap enough to train on one CPU thread in a minute). Strided convolutions and a plain
    mean instead of pooling layers: their backward passes are deterministic on CUDA too."""
    nn = torch.nn
    c1, c2, c3 = channels
    module: Any = nn.Module

    class ImageBranch(module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.convs = nn.Sequential(
                nn.Conv2d(1, c1, 4, stride=4), nn.ReLU(),
                nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.ReLU(),
            )  # fmt: skip

        def forward(self, image: Any) -> Any:
            return self.convs(image - 0.5).mean(dim=(2, 3))

    return ImageBranch()


@dataclass(slots=True)
class TrainResult:
    net: Any
    best_epoch: int
    device: str
    seconds_per_epoch: float


def _deterministic_cuda(torch: Any) -> None:
    # cuBLAS needs a fixed workspace to be deterministic; it must be set before its first use.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def training_rows(
    flags: npt.NDArray[np.float32], max_rows: int | None, seed: int
) -> npt.NDArray[np.intp]:
    """Indices of the posts an image model trains on: all of them up to ``max_rows``; beyond,
    every post with a picture (post image or profile picture) and a seeded draw of the rest."""
    n = len(flags)
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    pictured = np.flatnonzero(flags.max(axis=1) > 0)
    if len(pictured) >= max_rows:
        keep = np.random.default_rng(seed).choice(pictured, max_rows, replace=False)
    else:
        rest = np.setdiff1d(np.arange(n), pictured)
        drawn = np.random.default_rng(seed).choice(rest, max_rows - len(pictured), replace=False)
        keep = np.concatenate([pictured, drawn])
    return np.sort(keep)


def train_network(
    torch: Any,
    make_net: Any,
    inputs: Sequence[npt.NDArray[np.float32]],
    y: npt.NDArray[np.float64],
    val: npt.NDArray[np.bool_],
    params: ImageNetParams,
) -> TrainResult:
    """Train ``make_net(y_mean, y_std)`` (built after seeding; ``net.standardised(*inputs)``
    gives the standardised ratio) on row-aligned ``inputs`` and ratios ``y``; the rows of
    ``val`` (see :func:`validation_rows`) only decide when to stop."""
    import time

    fit = ~val
    y_mean = float(y[fit].mean())
    y_std = float(y[fit].std()) or 1.0
    device = resolve_device(torch, params.device)
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    started = time.perf_counter()
    try:
        torch.set_num_threads(1)
        if device == "cuda":
            _deterministic_cuda(torch)
        torch.use_deterministic_algorithms(True)
        torch.manual_seed(params.seed)
        net = make_net(y_mean, y_std).to(device)
        best_epoch, epochs = _epochs(torch, net, inputs, y, fit, val, y_mean, y_std, params, device)
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - started
    net = net.to("cpu").eval()
    return TrainResult(net, best_epoch, device, seconds / max(epochs, 1))


def _epochs(
    torch: Any,
    net: Any,
    inputs: Sequence[npt.NDArray[np.float32]],
    y: npt.NDArray[np.float64],
    fit: npt.NDArray[np.bool_],
    val: npt.NDArray[np.bool_],
    y_mean: float,
    y_std: float,
    p: ImageNetParams,
    device: str,
) -> tuple[int, int]:
    """(best epoch, epochs run); the best epoch's weights are loaded into ``net``."""
    xt = [torch.from_numpy(np.ascontiguousarray(a[fit])).to(device) for a in inputs]
    xv = [torch.from_numpy(np.ascontiguousarray(a[val])).to(device) for a in inputs]
    z = ((y - y_mean) / y_std).astype(np.float32)
    yt = torch.from_numpy(z[fit]).to(device)
    yv = torch.from_numpy(z[val]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=p.learning_rate, weight_decay=p.weight_decay)
    order = torch.Generator().manual_seed(p.seed)
    best, best_epoch, best_state, epoch = math.inf, 0, None, 0
    for epoch in range(1, p.max_epochs + 1):
        net.train()
        for batch in torch.randperm(len(yt), generator=order).split(p.batch_size):
            index = batch.to(device)
            opt.zero_grad()
            pred = net.standardised(*(x[index] for x in xt))
            loss = torch.mean((pred - yt[index]) ** 2)
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val_loss = float(torch.mean((net.standardised(*xv) - yv) ** 2))
        if val_loss < best:
            best, best_epoch = val_loss, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elif epoch - best_epoch >= p.patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    return best_epoch, epoch


def export_onnx(torch: Any, net: Any, dummies: Sequence[Any], names: Sequence[str]) -> bytes:
    """``net`` as ONNX bytes, every input and the output with a dynamic batch axis."""
    buf = io.BytesIO()
    axes = {name: {0: "posts"} for name in (*names, OUTPUT)}
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net, tuple(dummies), buf, dynamo=False, input_names=list(names),
            output_names=[OUTPUT], dynamic_axes=axes, opset_version=17,
        )  # fmt: skip
    return buf.getvalue()


def onnx_session(model: bytes | str, what: str) -> Any:
    """An onnxruntime CPU session (one thread: scores reproducible and comparable)."""
    ort = require("onnxruntime", "ml")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unexported error types
        raise InputError(
            f"unreadable ONNX model ({exc}): run `tagpulse predict train --model {what}` again",
            path=model if isinstance(model, str) else None,
        ) from exc
