"""Derived tables: what enrichment computes from the entity tables, stored beside them.

A derived row is keyed by what it was computed from and by the model version that computed it
(``row_id``), so a new model version adds rows instead of overwriting old ones, and readers keep
one row per key. They are partitioned like the entity tables (``platform=/date=``), by the time
of the thing they describe, so ``tagpulse forget``, ``compact``, ``export`` and ``LakeQuery``
treat them like any table; ``tagpulse reparse`` copies them as they are (nothing in the raw
archive rebuilds them).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from tagpulse.lake.post_labels import POST_LABELS, POST_LABELS_SCHEMA

__all__ = [
    "DERIVED_TABLES",
    "POST_TEXT",
    "POST_TEXT_SCHEMA",
    "DerivedTable",
    "post_text_row_id",
]

POST_TEXT = "post_text"

_TS = pa.timestamp("us", tz="UTC")
_STR_LIST = pa.list_(pa.string())


@dataclass(frozen=True, slots=True)
class DerivedTable:
    """How one derived table is stored and read."""

    name: str
    schema: pa.Schema
    #: The column that decides the date partition (and bounds ``export --since/--until``).
    date_column: str
    #: Among rows with one ``row_id``, readers keep the first by this column.
    order_column: str


POST_TEXT_SCHEMA = pa.schema(
    [
        pa.field("row_id", pa.string()),
        pa.field("post_id", pa.string()),
        pa.field("kind", pa.string()),  # caption | comment
        pa.field("item_id", pa.string()),  # the post id for a caption, the comment id for one
        pa.field("owner_id", pa.string()),
        pa.field("taken_at", _TS),
        pa.field("model", pa.string()),
        pa.field("language", pa.string()),
        pa.field("language_confidence", pa.float64()),
        pa.field("sentiment", pa.float64()),
        pa.field("sentiment_method", pa.string()),
        pa.field("hashtags", _STR_LIST),
        pa.field("mentions", _STR_LIST),
        pa.field("emoji", _STR_LIST),
        pa.field("keywords", _STR_LIST),
        pa.field("enriched_at", _TS),
    ]  # type: ignore[arg-type]  # pyarrow-stubs mistypes mixed field lists
)


def post_text_row_id(platform: str, kind: str, item_id: str, model: str) -> str:
    """One row per (platform, kind, item, model version)."""
    return f"{platform}:{kind}:{item_id}:{model}"


DERIVED_TABLES: dict[str, DerivedTable] = {
    POST_TEXT: DerivedTable(POST_TEXT, POST_TEXT_SCHEMA, "taken_at", "enriched_at"),
    # Image labels are partitioned by the day they were computed (lake/post_labels.py).
    POST_LABELS: DerivedTable(POST_LABELS, POST_LABELS_SCHEMA, "enriched_at", "enriched_at"),
}
