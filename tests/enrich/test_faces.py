"""Faces (RetinaFace) and smiles (Haar cascades) on photos that ship in installed packages."""

from __future__ import annotations

import numpy as np
import pytest

from tagpulse.enrich.faces import FaceCount, fit_within
from tagpulse.enrich.images import VisionModels
from tests.enrich.vision_fixtures import onnx_cache, photo, vision_models

__all__ = ["onnx_cache", "vision_models"]  # fixtures used here


def test_the_astronaut_is_one_smiling_face(vision_models: VisionModels) -> None:
    assert vision_models.faces.count(photo("astronaut")) == FaceCount(1, 1, 1)


def test_no_smile_without_a_mouth(vision_models: VisionModels) -> None:
    """The same face with its mouth painted over in skin colour: still a face, no smile."""
    pixels = photo("astronaut").copy()
    # The Haar face box is (177, 67, 93, 93): the mouth lies in its lower third.
    mouth = pixels[67 + 57 : 67 + 86, 177 + 18 : 177 + 75]
    mouth[:] = mouth.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    count = vision_models.faces.count(pixels)
    assert count.faces == 1 and count.smiles == 0


def test_faces_are_counted(vision_models: VisionModels) -> None:
    two = np.ascontiguousarray(np.hstack([photo("astronaut"), photo("astronaut")[:, ::-1]]))
    assert vision_models.faces.count(two).faces == 2
    assert vision_models.faces.count(photo("grace_hopper")).faces == 1


@pytest.mark.parametrize("name", ["chelsea", "coffee", "rocket"])
def test_no_faces_where_there_are_none(vision_models: VisionModels, name: str) -> None:
    assert vision_models.faces.count(photo(name)) == FaceCount(0, 0, 0)


def test_large_images_are_scaled_down_first() -> None:
    big = np.zeros((2000, 1000, 3), np.uint8)
    assert fit_within(big).shape == (640, 320, 3)
    small = np.zeros((300, 200, 3), np.uint8)
    assert fit_within(small) is small


def test_a_face_in_a_large_photo_is_still_found(vision_models: VisionModels) -> None:
    from PIL import Image

    upscaled = np.asarray(Image.fromarray(photo("astronaut")).resize((1536, 1536)))
    assert vision_models.faces.count(upscaled).faces == 1
