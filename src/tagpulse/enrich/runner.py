"""``tagpulse enrich`` for text: captions and comments into the ``post_text`` table.

**Incremental**: the work is every caption and comment in the lake that has no ``post_text`` row
under the current model version (an anti-join in DuckDB, so the lake itself is the checkpoint:
no cursor can drift from what was written). A post's caption is its latest non-empty one; a
comment's text likewise; empty texts are not work.

**Resumable**: the work is done in batches, oldest first; each batch is written as Parquet files
(temporary name, then rename) before the next starts. A run that is killed keeps every batch it
finished, and the next run starts with what is still missing. A batch that was half written
(one of its date partitions in place) is finished by the next run: rows are keyed by item and
model, and readers keep one row per key.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from tagpulse.config import Settings
from tagpulse.enrich.text import TextFeatures, TextModel, text_model_version
from tagpulse.errors import InputError
from tagpulse.lake.derived import POST_TEXT, POST_TEXT_SCHEMA, post_text_row_id
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter

__all__ = [
    "Progress",
    "TextEnrichSummary",
    "TextItem",
    "enrich_text",
    "pending_texts",
]

#: ``progress(done, total)``: called once with (0, total) and after every batch.
Progress = Callable[[int, int], None]


@dataclass(slots=True, frozen=True)
class TextItem:
    platform: str
    post_id: str
    kind: str  # caption | comment
    item_id: str
    owner_id: str | None
    taken_at: datetime
    text: str


@dataclass(slots=True)
class TextEnrichSummary:
    model: str
    pending: int = 0
    enriched: int = 0
    captions: int = 0
    comments: int = 0
    batches: int = 0
    files: int = 0
    seconds: float = 0.0
    languages: dict[str, int] = field(default_factory=dict)
    methods: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float | None:
        return self.enriched / self.seconds if self.seconds > 0 and self.enriched else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"per_second": self.per_second}


_PENDING_SQL = """
WITH captions AS (
    SELECT platform, post_id, 'caption' AS kind, post_id AS item_id,
           arg_max(owner_id, collected_at) FILTER (WHERE owner_id IS NOT NULL) AS owner_id,
           coalesce(min(taken_at), min(collected_at)) AS taken_at,
           arg_max(caption, collected_at)
               FILTER (WHERE caption IS NOT NULL AND trim(caption) <> '') AS text
    FROM posts GROUP BY platform, post_id
), comment_texts AS (
    SELECT platform, arg_max(post_id, collected_at) AS post_id, 'comment' AS kind,
           comment_id AS item_id,
           arg_max(owner_id, collected_at) FILTER (WHERE owner_id IS NOT NULL) AS owner_id,
           coalesce(min(created_at), min(collected_at)) AS taken_at,
           arg_max(text, collected_at) FILTER (WHERE text IS NOT NULL AND trim(text) <> '')
               AS text
    FROM comments GROUP BY platform, comment_id
), items AS (
    SELECT * FROM captions UNION ALL SELECT * FROM comment_texts
)
SELECT i.* FROM items i
WHERE i.text IS NOT NULL AND i.post_id IS NOT NULL {platform}
  AND NOT EXISTS (
    SELECT 1 FROM post_text_all d
    WHERE d.platform = i.platform AND d.kind = i.kind AND d.item_id = i.item_id
      AND d.model = ?)
ORDER BY i.platform, i.taken_at, i.kind, i.item_id
"""


def pending_texts(
    query: LakeQuery, model: str, *, limit: int | None = None, platform: str | None = None
) -> list[TextItem]:
    """Captions and comments without a ``post_text`` row under ``model``, oldest first."""
    params: list[Any] = []
    where = ""
    if platform:
        where = "AND i.platform = ?"
        params.append(platform)
    params.append(model)
    sql = _PENDING_SQL.format(platform=where)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [TextItem(**row) for row in query.rows(sql, params)]


def _table(items: Sequence[TextItem], features: Sequence[TextFeatures], model: str) -> pa.Table:
    now = datetime.now(UTC)
    rows = [
        {
            "row_id": post_text_row_id(item.platform, item.kind, item.item_id, model),
            "post_id": item.post_id,
            "kind": item.kind,
            "item_id": item.item_id,
            "owner_id": item.owner_id,
            "taken_at": item.taken_at,
            "model": model,
            "language": f.language,
            "language_confidence": f.language_confidence,
            "sentiment": f.sentiment,
            "sentiment_method": f.sentiment_method,
            "hashtags": f.hashtags,
            "mentions": f.mentions,
            "emoji": f.emoji,
            "keywords": f.keywords,
            "enriched_at": now,
        }
        for item, f in zip(items, features, strict=True)
    ]
    return pa.Table.from_pylist(rows, schema=POST_TEXT_SCHEMA)


def enrich_text(
    settings: Settings,
    *,
    limit: int | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    platform: str | None = None,
    model: TextModel | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> TextEnrichSummary:
    """Enrich what is missing (at most ``limit`` texts), ``batch_size`` at a time.

    ``after_batch(n)`` runs after batch ``n`` (from 1) is written (tests inject failures there).
    """
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}", field="--batch-size")
    if limit is not None and limit < 0:
        raise InputError(f"limit must be 0 or more, got {limit}", field="--limit")
    started = time.perf_counter()
    version = model.version if model is not None else text_model_version()
    summary = TextEnrichSummary(model=version)
    query = LakeQuery(settings.lake)
    items = pending_texts(query, version, limit=limit, platform=platform) if limit != 0 else []
    summary.pending = len(items)
    if progress is not None:
        progress(0, len(items))
    if not items:
        summary.seconds = time.perf_counter() - started
        return summary
    model = model or TextModel()
    writer = LakeWriter(settings.lake)
    languages: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        features = model.analyse([item.text for item in batch])
        table = _table(batch, features, version)
        for plat in sorted({item.platform for item in batch}):
            mask = pa.array([item.platform == plat for item in batch])
            summary.files += len(
                writer.write_table(POST_TEXT, plat, table.filter(mask), "taken_at")
            )
        summary.batches += 1
        summary.enriched += len(batch)
        summary.captions += sum(1 for item in batch if item.kind == "caption")
        summary.comments += sum(1 for item in batch if item.kind == "comment")
        languages.update(f.language or "none" for f in features)
        methods.update(f.sentiment_method or "none" for f in features)
        if progress is not None:
            progress(summary.enriched, len(items))
        if after_batch is not None:
            after_batch(summary.batches)
    summary.languages = dict(languages.most_common())
    summary.methods = dict(methods.most_common())
    summary.seconds = time.perf_counter() - started
    return summary
