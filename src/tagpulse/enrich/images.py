"""Image enrichment: ImageNet labels, faces and smiles for every stored post image.

Reads the media store's index (which post links to which file, in carousel order) and writes
the derived table ``post_labels`` (see :mod:`tagpulse.lake.post_labels`):

* **incremental**: an image already labelled by the current model version (a row for its
  platform, post, sha256 and model) is not looked at again; a file shared by several posts is
  run through the models once and its result copied to the other posts;
* **resumable**: rows are written per batch (an atomic Parquet file each), so a run that is
  stopped keeps every finished batch and the next run starts where it stopped;
* **batched**: the label model sees ``batch_size`` images at a time (onnxruntime, CPU); faces
  are found one image at a time (their sizes differ).

An image that does not decode gets a row with its ``error`` (so it is not retried forever);
a file missing from disk gets none (it may come back). Videos and types Pillow cannot read are
not labelled.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tagpulse.enrich.faces import FACE_MODEL, FaceCount, FaceCounter
from tagpulse.enrich.vision_model import LABEL_MODEL, ImageLabeler, preprocess, require
from tagpulse.lake.post_labels import POST_LABELS, PostLabel, post_labels_table
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter

if TYPE_CHECKING:
    from PIL import Image

    from tagpulse.collect.media import MediaStore
    from tagpulse.config import Settings
    from tagpulse.records import MediaFile

__all__ = [
    "LABELLED_TYPES",
    "MODEL_VERSION",
    "ImageEnrichSummary",
    "VisionModels",
    "enrich_images",
    "load_rgb",
    "model_cache_dir",
]

log = logging.getLogger(__name__)

#: What a ``post_labels`` row's ``model`` says: the label model and the face pipeline.
MODEL_VERSION = f"{LABEL_MODEL}+{FACE_MODEL}"
#: Stored types that are labelled (Pillow decodes them); videos and HEIC/HEIF are not.
LABELLED_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"})
#: JPEGs are decoded at a reduced scale when that still leaves this many pixels a side.
_DECODE_SIDE = 640

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ImageEnrichSummary:
    """What a run did, in images (post, file) unless said otherwise.

    ``labelled``: files run through the models; ``failed``: files that did not decode (their
    rows carry the error); ``reused``: rows that copied the result for the same file from
    another post; ``missing``: files indexed but gone from disk (no row, retried next run);
    ``remaining``: left for a later run by ``limit``. ``model_seconds`` is the time spent
    decoding and in the models, ``seconds`` the whole run.
    """

    model: str
    stored: int = 0
    already: int = 0
    labelled: int = 0
    reused: int = 0
    failed: int = 0
    missing: int = 0
    not_images: int = 0
    remaining: int = 0
    batches: int = 0
    files_written: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def images_per_s(self) -> float | None:
        """Files through decoding and the models per second of that work."""
        done = self.labelled + self.failed
        return done / self.model_seconds if done and self.model_seconds > 0 else None


def model_cache_dir(settings: Settings) -> Path:
    """Where exported models are cached: ``<home>/cache/models``."""
    return settings.home / "cache" / "models"


@dataclass(slots=True)
class VisionModels:
    """The label model and the face counter, loaded once per run (or once per test session)."""

    labeler: ImageLabeler
    faces: FaceCounter

    @classmethod
    def load(cls, cache_dir: Path, *, threads: int | None = None) -> VisionModels:
        return cls(
            ImageLabeler.from_cache(cache_dir, threads=threads), FaceCounter(threads=threads)
        )


@dataclass(slots=True, frozen=True)
class _Candidate:
    platform: str
    post_id: str
    sha256: str
    index: int


@dataclass(slots=True, frozen=True)
class _Result:
    labels: tuple[tuple[str, float], ...]
    faces: FaceCount | None
    error: str | None


def load_rgb(path: Path) -> Image.Image:
    """A stored image as RGB, upright (EXIF orientation), transparency flattened onto white."""
    pil_image = require("PIL.Image")
    ops = require("PIL.ImageOps")
    with pil_image.open(path) as opened:
        opened.draft("RGB", (_DECODE_SIDE, _DECODE_SIDE))
        image = ops.exif_transpose(opened) or opened
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            canvas = pil_image.new("RGBA", rgba.size, (255, 255, 255, 255))
            canvas.alpha_composite(rgba)
            image = canvas
        rgb: Image.Image = image.convert("RGB")
        rgb.load()
    return rgb


def _bomb_error() -> type[Exception]:
    error: type[Exception] = require("PIL.Image").DecompressionBombError
    return error


def _candidates(store: MediaStore, summary: ImageEnrichSummary) -> list[_Candidate]:
    out: list[_Candidate] = []
    positions: dict[tuple[str, str], int] = {}
    files: list[MediaFile] = store.linked_files("")
    for media in files:
        post = (media.platform, media.post_id or "")
        index = positions.get(post, 0)
        positions[post] = index + 1
        if media.mime not in LABELLED_TYPES:
            summary.not_images += 1
            continue
        out.append(_Candidate(media.platform, post[1], media.sha256, index))
    summary.stored = len(out)
    return out


def _done(query: LakeQuery) -> set[tuple[str, str, str]]:
    """(platform, post, sha256) of the images the current model already labelled."""
    if not query.has_data(POST_LABELS):
        return set()
    rows = query.rows(
        f"SELECT DISTINCT platform, post_id, media_sha256 FROM {POST_LABELS}_all WHERE model = ?",
        [MODEL_VERSION],
    )
    return {(r["platform"], r["post_id"], r["media_sha256"]) for r in rows}


def _known(query: LakeQuery, shas: set[str]) -> dict[str, _Result]:
    """The current model's result for each of ``shas`` that it labelled for some post."""
    if not shas or not query.has_data(POST_LABELS):
        return {}
    rows = query.rows(
        "SELECT media_sha256, labels, faces, haar_faces, smiles, error "
        f"FROM {POST_LABELS}_all WHERE model = ? "
        "AND media_sha256 IN (SELECT unnest(?::VARCHAR[]))",
        [MODEL_VERSION, sorted(shas)],
    )
    known: dict[str, _Result] = {}
    for r in rows:
        faces = None
        if r["faces"] is not None:
            faces = FaceCount(r["faces"], r["haar_faces"] or 0, r["smiles"] or 0)
        labels = tuple((x["label"], float(x["score"])) for x in r["labels"] or ())
        known.setdefault(r["media_sha256"], _Result(labels, faces, r["error"]))
    return known


def _post_facts(
    query: LakeQuery, todo: Sequence[_Candidate]
) -> dict[tuple[str, str], tuple[str | None, datetime | None]]:
    """(owner id, taken at) of each post, from its latest observation that says."""
    keys = sorted({f"{c.platform}:{c.post_id}" for c in todo})
    if not keys or not query.has_data("posts"):
        return {}
    rows = query.rows(
        "SELECT platform, post_id, "
        "arg_max(owner_id, collected_at) FILTER (WHERE owner_id IS NOT NULL) AS owner_id, "
        "arg_max(taken_at, collected_at) FILTER (WHERE taken_at IS NOT NULL) AS taken_at "
        "FROM posts_all WHERE platform || ':' || post_id IN (SELECT unnest(?::VARCHAR[])) "
        "GROUP BY platform, post_id",
        [keys],
    )
    return {(r["platform"], r["post_id"]): (r["owner_id"], r["taken_at"]) for r in rows}


def _run_models(
    models: VisionModels, store: MediaStore, shas: Sequence[str], summary: ImageEnrichSummary
) -> dict[str, _Result]:
    """Label and count faces in the files ``shas`` (distinct); missing files are left out."""
    from tagpulse.collect.media import MediaNotFound

    results: dict[str, _Result] = {}
    pixels: list[np.ndarray] = []
    decoded: list[tuple[str, FaceCount]] = []
    for sha in shas:
        try:
            path = store.lookup(sha)
        except MediaNotFound:
            summary.missing += 1
            continue
        try:
            rgb = load_rgb(path)
        except (OSError, ValueError, SyntaxError, EOFError, _bomb_error()) as exc:
            # Unknown formats and truncated files are OSErrors; Pillow's plugins also raise
            # ValueError/SyntaxError on broken headers.
            error = f"{type(exc).__name__}: {exc}"
            log.warning("image %s does not decode: %s", path, error)
            summary.errors.append(f"{sha}: {error}")
            results[sha] = _Result((), None, error)
            continue
        pixels.append(preprocess(rgb))
        decoded.append((sha, models.faces.count(np.asarray(rgb))))
    if pixels:
        labels = models.labeler.top_k(np.stack(pixels), 5)
        for (sha, faces), top in zip(decoded, labels, strict=True):
            results[sha] = _Result(tuple(top), faces, None)
    return results


def enrich_images(
    settings: Settings,
    *,
    limit: int | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
    models: VisionModels | None = None,
    threads: int | None = None,
) -> ImageEnrichSummary:
    """Label the stored images of posts not yet labelled by :data:`MODEL_VERSION`.

    ``limit`` caps the images looked at in this run (the rest is ``remaining``); ``progress``
    is called after each batch with (images done, images to do). ``models`` may be passed in
    (loaded once for many runs); otherwise they are loaded, the ONNX export cached under
    ``<home>/cache/models``. Nothing is loaded when there is nothing to do.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    summary = ImageEnrichSummary(MODEL_VERSION)
    if not (settings.media_dir / "index.sqlite").is_file():
        return summary
    from tagpulse.collect.media import MediaStore

    query = LakeQuery(settings.lake)
    with MediaStore(settings.media_dir) as store:
        candidates = _candidates(store, summary)
        done = _done(query)
        todo = [c for c in candidates if (c.platform, c.post_id, c.sha256) not in done]
        del done
        summary.already = len(candidates) - len(todo)
        if limit is not None and len(todo) > limit:
            summary.remaining = len(todo) - max(limit, 0)
            todo = todo[: max(limit, 0)]
        if not todo:
            summary.seconds = time.perf_counter() - started
            return summary
        known = _known(query, {c.sha256 for c in todo})
        facts = _post_facts(query, todo)
        vision = models or VisionModels.load(model_cache_dir(settings), threads=threads)
        writer = LakeWriter(settings.lake)
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            fresh = sorted({c.sha256 for c in batch} - known.keys())
            t0 = time.perf_counter()
            computed = _run_models(vision, store, fresh, summary)
            summary.model_seconds += time.perf_counter() - t0
            rows = _rows(batch, known, computed, facts, summary)
            known.update(computed)
            summary.files_written += _write(writer, rows)
            summary.batches += 1
            if progress is not None:
                progress(min(start + batch_size, len(todo)), len(todo))
        if summary.batches > 1:
            writer.compact(POST_LABELS)
    summary.seconds = time.perf_counter() - started
    return summary


def _write(writer: LakeWriter, rows: Sequence[PostLabel]) -> int:
    """Write one batch's rows; returns the files written.

    Under the table's compaction lock, which ``reparse`` and ``forget`` hold while they
    rewrite the tables: a batch waits for them instead of landing in a tree being replaced.
    """
    by_platform: dict[str, list[PostLabel]] = {}
    for row in rows:
        by_platform.setdefault(row.platform, []).append(row)
    folder = writer.table_dir(POST_LABELS)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with (folder / ".compact.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for platform, platform_rows in by_platform.items():
            table = post_labels_table(platform_rows)
            written += len(writer.write_table(POST_LABELS, platform, table, "enriched_at"))
    return written


def _rows(
    batch: Sequence[_Candidate],
    known: dict[str, _Result],
    computed: dict[str, _Result],
    facts: dict[tuple[str, str], tuple[str | None, datetime | None]],
    summary: ImageEnrichSummary,
) -> list[PostLabel]:
    at = datetime.now(UTC)
    rows: list[PostLabel] = []
    counted: set[str] = set()
    for c in batch:
        result = computed.get(c.sha256)
        if result is not None and c.sha256 not in counted:
            counted.add(c.sha256)
            if result.error is not None:
                summary.failed += 1
            else:
                summary.labelled += 1
        else:
            result = result or known.get(c.sha256)
            if result is None:
                continue  # file missing from disk: nothing to say yet
            summary.reused += 1
        owner, taken = facts.get((c.platform, c.post_id), (None, None))
        faces: Any = result.faces
        rows.append(
            PostLabel(
                platform=c.platform,
                post_id=c.post_id,
                owner_id=owner,
                media_sha256=c.sha256,
                media_index=c.index,
                taken_at=taken,
                model=MODEL_VERSION,
                labels=result.labels,
                faces=faces.faces if faces else None,
                haar_faces=faces.haar_faces if faces else None,
                smiles=faces.smiles if faces else None,
                error=result.error,
                enriched_at=at,
            )
        )
    return rows
