"""The derived table ``post_labels``: what each stored image of a post shows.

One row per (platform, post, image sha256, model version): the image's top-5 ImageNet labels
with their probabilities, its face count and its smile count, computed by
:mod:`tagpulse.enrich.images` from the content-addressed media store. The row id is a function
of those four, so labelling an image again with the same model yields the same id and readers
keep one row (the earliest); a new model version is a new row beside the old one.

The table is partitioned like the entity tables (``platform=<p>/date=<enriched_at day>``). It is
derived: ``tagpulse reparse`` keeps its files as they are and ``tagpulse forget`` drops the rows
of the forgotten account's posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

__all__ = [
    "LABEL_TYPE",
    "POST_LABELS",
    "POST_LABELS_SCHEMA",
    "PostLabel",
    "post_label_id",
    "post_labels_table",
]

POST_LABELS = "post_labels"

_TS = pa.timestamp("us", tz="UTC")

#: One of an image's top-5 classes and its softmax probability.
LABEL_TYPE = pa.struct([("label", pa.string()), ("score", pa.float64())])

POST_LABELS_SCHEMA = pa.schema(
    [
        pa.field("row_id", pa.string()),
        pa.field("post_id", pa.string()),
        pa.field("owner_id", pa.string()),
        pa.field("media_sha256", pa.string()),
        #: The image's place among the post's stored files (0: the cover of a carousel).
        pa.field("media_index", pa.int32()),
        pa.field("taken_at", _TS),
        pa.field("model", pa.string()),
        pa.field("labels", pa.list_(LABEL_TYPE)),
        pa.field("top_label", pa.string()),
        pa.field("top_score", pa.float64()),
        #: Faces found by RetinaFace.
        pa.field("faces", pa.int32()),
        #: Faces found by OpenCV's Haar frontal-face cascade, and those of them with a smile
        #: (Haar smile cascade in the face's lower half): the like-predictor seed's features.
        pa.field("haar_faces", pa.int32()),
        pa.field("smiles", pa.int32()),
        #: Why the image could not be labelled (it does not decode); None when it was.
        pa.field("error", pa.string()),
        pa.field("enriched_at", _TS),
    ]  # type: ignore[arg-type]  # pyarrow-stubs mistypes mixed field lists
)


@dataclass(slots=True, frozen=True)
class PostLabel:
    """One row of ``post_labels`` (``platform`` lives in the partition path)."""

    platform: str
    post_id: str
    owner_id: str | None
    media_sha256: str
    media_index: int
    taken_at: datetime | None
    model: str
    labels: Sequence[tuple[str, float]]
    faces: int | None
    haar_faces: int | None
    smiles: int | None
    error: str | None
    enriched_at: datetime


def post_label_id(platform: str, post_id: str, sha256: str, model: str) -> str:
    return f"{platform}:{post_id}:{sha256}:{model}"


def post_labels_table(rows: Sequence[PostLabel]) -> pa.Table:
    """Rows of one platform as an Arrow table in :data:`POST_LABELS_SCHEMA`."""
    columns: dict[str, list[object]] = {name: [] for name in POST_LABELS_SCHEMA.names}
    for r in rows:
        top = r.labels[0] if r.labels else None
        values: dict[str, object] = {
            "row_id": post_label_id(r.platform, r.post_id, r.media_sha256, r.model),
            "post_id": r.post_id,
            "owner_id": r.owner_id,
            "media_sha256": r.media_sha256,
            "media_index": r.media_index,
            "taken_at": r.taken_at,
            "model": r.model,
            "labels": [{"label": label, "score": score} for label, score in r.labels],
            "top_label": top[0] if top else None,
            "top_score": top[1] if top else None,
            "faces": r.faces,
            "haar_faces": r.haar_faces,
            "smiles": r.smiles,
            "error": r.error,
            "enriched_at": r.enriched_at,
        }
        for name, column in columns.items():
            column.append(values[name])
    return pa.table(columns, schema=POST_LABELS_SCHEMA)
