"""What a post not yet made would show: its caption's and its image's enrichment features.

``predict score --account ... --caption ... --image ...`` fills the fields of a
:func:`tagpulse.predict.scoring.hypothetical_row` that otherwise exist only once a post is
published and enriched, with the same functions ``tagpulse enrich`` uses:

- the caption: language and sentiment by :class:`tagpulse.enrich.text.TextModel` (the ``text``
  extra; without it both stay unknown and the caller says so);
- the image: faces (RetinaFace) and smiles (Haar cascades) by
  :class:`tagpulse.enrich.faces.FaceCounter`, its top-5 ImageNet labels by
  :class:`tagpulse.enrich.vision_model.ImageLabeler` (the ``vision`` extra, required).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tagpulse.config import Settings
from tagpulse.errors import InputError, MissingExtra

__all__ = ["CaptionFacts", "ImageFacts", "caption_facts", "image_facts"]


@dataclass(slots=True, frozen=True)
class CaptionFacts:
    language: str | None
    sentiment: float | None
    #: Why language and sentiment are unknown (the text extra is missing); None when known.
    missing: str | None = None

    def row(self) -> dict[str, Any]:
        return {"language": self.language, "sentiment": self.sentiment}


@dataclass(slots=True, frozen=True)
class ImageFacts:
    faces: int
    smiles: int
    labels: list[tuple[str, float]]

    def row(self) -> dict[str, Any]:
        return {
            "faces": self.faces,
            "smiles": self.smiles,
            "top_label": self.labels[0][0] if self.labels else None,
            "labels": [name for name, _ in self.labels],
        }


def caption_facts(caption: str) -> CaptionFacts:
    """The caption's language and sentiment as ``tagpulse enrich`` would store them."""
    try:
        from tagpulse.enrich.text import TextModel

        features = TextModel().analyse([caption])[0]
    except MissingExtra as exc:
        return CaptionFacts(None, None, str(exc))
    return CaptionFacts(features.language, features.sentiment)


def image_facts(path: Path, settings: Settings) -> ImageFacts:
    """Faces, smiles and top-5 labels of the image at ``path`` (the ``vision`` extra)."""
    try:
        from tagpulse.enrich.images import VisionModels, load_rgb, model_cache_dir
        from tagpulse.enrich.vision_model import preprocess
    except ImportError as exc:
        raise MissingExtra("vision", exc.name or "pillow") from exc
    if not path.is_file():
        raise InputError("no such image file", path=str(path), field="--image")
    try:
        rgb = load_rgb(path)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"the image does not decode: {exc}", path=str(path),
                         field="--image") from exc  # fmt: skip
    models = VisionModels.load(model_cache_dir(settings))
    counted = models.faces.count(np.asarray(rgb))
    labels = models.labeler.top_k(preprocess(rgb)[None], 5)[0]
    return ImageFacts(counted.faces, counted.smiles, labels)
