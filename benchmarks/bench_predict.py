"""Popularity models: training time per model, and scoring throughput of the exported ONNX
networks (onnxruntime) against the same networks in eager torch.

Data: a synthetic dataset of the prediction's shape (every tabular feature, the side-by-side
100 x 128 grayscale image and its indicators), 40 accounts x 15 posts (quick: 8 x 8), the
ratio planted in the picture's brightness; nothing here reads a lake, so the numbers are about
the models alone.

Training: each model fitted once on every post with its defaults (quick: at most 2 epochs),
timed; the device torch trained on (``cuda`` when a GPU is there, else ``cpu``) is recorded.
The gradient-boosting model is timed too when LightGBM is installed.

Scoring, for ``mlp``, ``cnn`` and ``mixed``: the same inputs in the same batches of 64 posts,
one thread each (onnxruntime's session as ``tagpulse predict score`` opens it; torch with
``set_num_threads(1)`` under ``inference_mode``, on the CPU). One untimed call each, then three
alternating rounds; the best round counts. The two must agree within 1e-4. The headline is the
``mixed`` network (the largest); the others are in the details.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from common import Result, best_of, main, report
from tagpulse.errors import MissingExtra
from tagpulse.predict.features import FEATURES, Dataset
from tagpulse.predict.models.image_models import fit_image_model
from tagpulse.predict.models.images import HALF_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH, ImageBatch
from tagpulse.predict.models.nets import ImageNetParams

NAME = "predict ONNX vs torch"
GOAL = 1.0
RUNS = 3
BATCH = 64


def synthetic(accounts: int, posts: int, seed: int = 0) -> tuple[Dataset, ImageBatch]:
    rng = np.random.default_rng(seed)
    n = accounts * posts
    level = rng.uniform(0.05, 0.95, n).astype(np.float32)
    pixels = np.zeros((n, 1, IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.float32)
    pixels[:, 0, :, :HALF_WIDTH] = rng.uniform(0.2, 0.8, (n, 1, 1)).astype(np.float32)
    pixels[:, 0, :, HALF_WIDTH:] = level[:, None, None]
    pixels += rng.normal(0, 0.05, pixels.shape).astype(np.float32)
    images = ImageBatch(pixels, np.ones((n, 2), dtype=np.float32))
    y = (0.4 + 1.2 * level) * rng.lognormal(0, 0.05, n)
    X = rng.normal(0, 1, (n, len(FEATURES)))
    groups = np.repeat([f"bench:u{a}" for a in range(accounts)], posts).astype(np.str_)
    data = Dataset("grouped", list(FEATURES), X, y, groups, [f"p{i}" for i in range(n)],
                   y * 100, np.full(n, 100.0), (float(y.min()), float(y.max())))  # fmt: skip
    return data, images


def _throughput(model: Any, images: ImageBatch, X: np.ndarray, torch: Any) -> dict[str, Any]:
    onnx = model.to_onnx()
    starts = range(0, len(X), BATCH)

    def ours() -> np.ndarray:
        return np.concatenate(
            [onnx.predict(X[s : s + BATCH], images.take(range(s, min(s + BATCH, len(X)))))
             for s in starts]
        )  # fmt: skip

    def baseline() -> np.ndarray:
        return model.predict(images, X, batch_size=BATCH)

    return _race(ours, baseline, len(X), torch)


def _race(ours: Any, baseline: Any, n: int, torch: Any) -> dict[str, Any]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ours()
        baseline()
        ours_s = base_s = float("inf")
        a = b = np.zeros(0)
        for _ in range(RUNS):
            seconds, a = best_of(1, ours)
            ours_s = min(ours_s, seconds)
            seconds, b = best_of(1, baseline)
            base_s = min(base_s, seconds)
    finally:
        torch.set_num_threads(threads)
    diff = float(np.abs(a - b).max())
    if diff > 1e-4:
        raise AssertionError(f"onnxruntime and torch disagree: max |diff| {diff}")
    return {"onnxruntime": n / ours_s, "torch": n / base_s, "ratio": base_s / ours_s,
            "max_abs_diff": diff}  # fmt: skip


def run(quick: bool = False) -> list[Result]:
    import torch

    from tagpulse.predict.mlp import MlpParams, fit_mlp

    data, images = synthetic(8, 8) if quick else synthetic(40, 15)
    params = ImageNetParams(max_epochs=2) if quick else ImageNetParams()
    training: dict[str, float] = {}
    scoring: dict[str, dict[str, Any]] = {}
    device = "cpu"
    for kind in ("cnn", "mixed"):
        started = time.perf_counter()
        model = fit_image_model(kind, data, images, params=params)
        training[kind] = time.perf_counter() - started
        device = model.device
        scoring[kind] = _throughput(model, images, data.X, torch)
    started = time.perf_counter()
    mlp = fit_mlp(data, params=MlpParams(max_epochs=5) if quick else MlpParams())
    training["mlp"] = time.perf_counter() - started
    onnx_mlp = mlp.to_onnx()
    batches = [data.X[s : s + BATCH] for s in range(0, len(data.y), BATCH)]
    scoring["mlp"] = _race(
        lambda: np.concatenate([onnx_mlp.predict(b) for b in batches]),
        lambda: np.concatenate([mlp.predict(b) for b in batches]),
        len(data.y),
        torch,
    )
    try:
        from tagpulse.predict.gbm import fit_gbm

        started = time.perf_counter()
        fit_gbm(data)
        training["gbm"] = time.perf_counter() - started
    except MissingExtra:
        pass
    head = scoring["mixed"]
    return [
        report(
            Result(
                name=NAME,
                value=head["onnxruntime"],
                baseline=head["torch"],
                ratio=head["ratio"],
                goal=GOAL,
                unit="posts/s",
                higher_is_better=True,
                baseline_name="eager torch",
                details={
                    "posts": len(data.y),
                    "batch": BATCH,
                    "threads": 1,
                    "training_device": device,
                    "cuda_available": bool(torch.cuda.is_available()),
                    "training_s": {k: round(v, 3) for k, v in training.items()},
                    "scoring": scoring,
                    "torch": torch.__version__,
                },
            )
        )
    ]


if __name__ == "__main__":
    main(run)
