"""Shared pieces of the image-enrichment tests: the ONNX export (once per test run, shared by
the xdist workers), the loaded models (once per worker), sample photos as stored files."""

from __future__ import annotations

import fcntl
import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from tagpulse.collect.media import MediaStore
from tagpulse.config import Settings
from tagpulse.enrich.faces import FaceCounter
from tagpulse.enrich.images import VisionModels, model_cache_dir
from tagpulse.enrich.vision_model import LABEL_MODEL, ImageLabeler, onnx_model_path

__all__ = ["install_cache", "jpeg", "onnx_cache", "photo", "store_photo", "vision_models"]

#: Classes that are a cat (ImageNet-1k's domestic cats and the lynx-like wild ones are apart).
CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}
#: What the coffee photo may be called.
COFFEE = {"espresso", "cup", "coffee mug", "eggnog", "consomme"}


def photo(name: str) -> np.ndarray:
    """A sample photo that ships in an installed package, as RGB uint8."""
    if name == "grace_hopper":
        from matplotlib import cbook

        with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
            return np.asarray(image.convert("RGB"))
    pixels = np.asarray(getattr(skimage.data, name)())
    return np.stack([pixels] * 3, axis=-1) if pixels.ndim == 2 else pixels


def jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


def store_photo(
    store: MediaStore, name: str, platform: str, post_id: str, at: datetime | None = None
) -> str:
    """Store a sample photo for a post the way the collector does (bytes, URL, time)."""
    media = store.store_bytes(
        jpeg(photo(name)),
        platform=platform,
        post_id=post_id,
        url=f"https://cdn.example/{post_id}/{name}.jpg",
        fetched_at=at or datetime.now(UTC),
    )
    return media.sha256


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding the exported ONNX file: exported once for the whole run (the
    first xdist worker exports, the others wait on the lock and find it)."""
    shared = tmp_path_factory.getbasetemp().parent / "vision-model-cache"
    shared.mkdir(exist_ok=True)
    with (shared / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        onnx_model_path(shared)
    return shared


def install_cache(onnx_cache: Path, settings: Settings) -> Path:
    """Copy the exported model into a home's cache, as an earlier run would have left it."""
    target = model_cache_dir(settings) / LABEL_MODEL
    shutil.copytree(onnx_cache / LABEL_MODEL, target, dirs_exist_ok=True)
    return target


@pytest.fixture(scope="session")
def vision_models(onnx_cache: Path) -> Iterator[VisionModels]:
    path = onnx_model_path(onnx_cache)
    yield VisionModels(ImageLabeler(path, threads=1), FaceCounter(threads=1))
