"""What every importer shares: items → raw archive → parsed records → lake, idempotently.

An importer only reads its format: it yields :class:`ImportItem` s, each either a raw envelope
with the function that parses it, or the reason a piece of the file could not be read. This
module does the rest, in the collector's order (raw archive, then tables, then the catalog's raw
index), so a killed import re-run later finishes the work and adds nothing twice:

* an item whose raw body is already in the catalog's raw index is skipped (re-importing a file
  adds nothing);
* rows carry ids derived from their raw answer, so the rows of an import killed after writing
  tables but before indexing are de-duplicated by every reader;
* a broken item is quarantined with its file, line and reason (once per file, line and body),
  and the import goes on.

A format with one item a line (:class:`LineImporter`) goes through :mod:`tagpulse.imports.lines`
instead, which reads the file in ranges of lines, across processes when the file is large.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tagpulse.errors import PayloadError
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.raw import RawArchive, content_hash
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import ParsedRecords, RawEnvelope

if TYPE_CHECKING:
    from tagpulse.collect.media import MediaStore

__all__ = [
    "PARALLEL_MIN_LINES",
    "RECORD_KINDS",
    "ImportItem",
    "ImportSummary",
    "Importer",
    "LineImporter",
    "LineParser",
    "Parse",
    "envelope",
    "run_import",
]

#: Parses one archived answer into records; raises PayloadError when it cannot.
Parse = Callable[[RawEnvelope], ParsedRecords]

#: Reads and parses one line (its bytes without the line break, and their content hash) into its
#: envelope and records; raises PayloadError, whose message is the reason, when it cannot.
LineParser = Callable[[bytes, str], tuple[RawEnvelope, ParsedRecords]]

#: A line-based file of more lines than this (told from its start) is imported by workers.
PARALLEL_MIN_LINES = 5_000

#: The record lists of :class:`ParsedRecords` counted in :attr:`ImportSummary.records`.
RECORD_KINDS = ("snapshots", "profiles", "posts", "comments", "edges", "tag_counts")


@dataclass(slots=True)
class ImportItem:
    """One unit read from an import file: a raw answer to parse, or why there is none."""

    location: str
    envelope: RawEnvelope | None = None
    parse: Parse | None = None
    error: str | None = None
    #: The unreadable bytes (kept in the quarantine, so nothing a user gave is lost).
    broken: bytes | None = None
    #: Image files that belong to the item's post (stored in the media store when given one).
    media: list[Path] = field(default_factory=list)


class Importer(Protocol):
    """A format: ``name`` (the CLI's ``tagpulse import <name>``) and a reader of paths."""

    name: str

    def items(self, path: Path) -> Iterator[ImportItem]: ...

    def size(self, path: Path) -> int | None:
        """How many items ``path`` holds, when cheap to tell (for the progress bar)."""
        ...


@runtime_checkable
class LineImporter(Importer, Protocol):
    """A format with one item a line (blank lines skipped): the file can be read in ranges of
    lines, each by its own process. The importer must be picklable (workers receive it)."""

    #: The modules its parsers import (lazily): worker processes import them ahead.
    worker_modules: tuple[str, ...]

    def line_parser(self, path: Path) -> LineParser:
        """The parser of ``path``'s lines (what it needs of the file itself, bound in)."""
        ...


@dataclass(slots=True)
class ImportSummary:
    source: str
    path: Path
    items: int = 0
    imported: int = 0
    already_known: int = 0
    quarantined: int = 0
    warnings: int = 0
    media_stored: int = 0
    media_rejected: int = 0
    records: dict[str, int] = field(default_factory=dict)

    def add(self, parsed: ParsedRecords) -> None:
        for name in RECORD_KINDS:
            n = len(getattr(parsed, name))
            if n:
                self.records[name] = self.records.get(name, 0) + n
        self.warnings += len(parsed.warnings)

    def add_counts(self, counts: tuple[int, ...]) -> None:
        """Add record counts (an item's, or a sum): one per :data:`RECORD_KINDS`, then warnings."""
        for name, n in zip(RECORD_KINDS, counts, strict=False):
            if n:
                self.records[name] = self.records.get(name, 0) + n
        self.warnings += counts[len(RECORD_KINDS)]


def envelope(
    *,
    platform: str,
    endpoint: str,
    body: bytes,
    collected_at: datetime,
    url: str = "",
    params: dict[str, str] | None = None,
    status: int = 200,
    body_is_json: bool = False,
    raw_id: str | None = None,
) -> RawEnvelope:
    """A raw envelope for an imported answer (no account: nobody of ours asked for it).

    ``raw_id`` is the body's :func:`content_hash` when the caller has computed it already.
    """
    return RawEnvelope(
        platform=platform,
        endpoint=endpoint,
        url=url,
        params=params or {},
        status=status,
        account=None,
        collected_at=collected_at,
        body=body,
        content_hash=raw_id if raw_id is not None else content_hash(body),
        body_is_json=body_is_json,
    )


class _Batch:
    def __init__(self) -> None:
        self.raw: dict[str, RawEnvelope] = {}
        self.records = ParsedRecords()

    def __len__(self) -> int:
        return len(self.raw)


def run_import(
    importer: Importer,
    path: Path,
    *,
    lake_dir: Path,
    catalog: Catalog,
    progress: Callable[[int], None] | None = None,
    media: MediaStore | None = None,
    batch_items: int = 2_000,
    now: Callable[[], datetime] | None = None,
    workers: int | None = None,
    parallel_min_lines: int = PARALLEL_MIN_LINES,
) -> ImportSummary:
    """Import ``path`` with ``importer``; returns what was read, kept, skipped, quarantined.

    A :class:`LineImporter`'s file of more than about ``parallel_min_lines`` lines is imported by
    ``workers`` processes (default: the usable CPUs), with the same result as one process (such
    formats carry no image files: ``media`` is for the others).
    """
    clock = now or (lambda: datetime.now(UTC))
    if isinstance(importer, LineImporter):
        from tagpulse.imports.lines import run_line_import

        return run_line_import(
            importer,
            path,
            lake_dir=lake_dir,
            catalog=catalog,
            progress=progress,
            batch_items=batch_items,
            clock=clock,
            workers=workers,
            parallel_min_lines=parallel_min_lines,
        )
    archive = RawArchive(lake_dir)
    writer = LakeWriter(lake_dir)
    quarantine_dir = lake_dir / "quarantine" / f"import-{importer.name}"
    summary = ImportSummary(source=importer.name, path=path)
    batch = _Batch()
    seen: set[str] = set()

    def flush() -> None:
        nonlocal batch
        if not batch.raw:
            return
        written = archive.write(batch.raw.values())
        writer.append_records(batch.records)
        catalog.index_raw(
            [
                (
                    h,
                    str(p),
                    batch.raw[h].platform,
                    batch.raw[h].endpoint,
                    batch.raw[h].collected_at.timestamp(),
                )
                for h, p in written.items()
            ]
        )
        batch = _Batch()

    def quarantine(item: ImportItem, reason: str, body: bytes | None) -> None:
        summary.quarantined += 1
        raw_id = content_hash(body) if body is not None else None
        source = f"import:{importer.name}"
        if catalog.is_quarantined(source, item.location, raw_id):
            return
        if body is not None and raw_id is not None:
            quarantine_dir.mkdir(parents=True, exist_ok=True)
            (quarantine_dir / f"{raw_id.removeprefix('sha256:')}.bin").write_bytes(body)
        catalog.quarantine(source, reason, clock(), raw_id, item.location)

    def store_media(item: ImportItem, parsed: ParsedRecords) -> None:
        from tagpulse.collect.media import MediaRejected

        assert media is not None
        post = parsed.posts[0] if parsed.posts else None
        for file in item.media:
            try:
                media.store_bytes(
                    file.read_bytes(),
                    platform=post.platform if post else "instagram",
                    post_id=post.post_id if post else None,
                    url=None,
                    fetched_at=clock(),
                )
                summary.media_stored += 1
            except (MediaRejected, OSError) as exc:
                summary.media_rejected += 1
                catalog.quarantine(
                    f"import:{importer.name}:media", str(exc), clock(), None, str(file)
                )

    pending: list[ImportItem] = []

    def drain() -> None:
        # One catalog lookup per chunk, not per item.
        hashes = [i.envelope.content_hash for i in pending if i.envelope is not None]
        known = catalog.known_raw(hashes)
        for item in pending:
            env = item.envelope
            assert env is not None and item.parse is not None
            if env.content_hash in known or env.content_hash in seen:
                summary.already_known += 1
                continue
            try:
                parsed = item.parse(env)
            except PayloadError as exc:
                quarantine(item, str(exc), env.body)
                continue
            seen.add(env.content_hash)
            if media is not None and item.media:
                store_media(item, parsed)
            batch.raw[env.content_hash] = env
            batch.records.extend(parsed)
            summary.imported += 1
            summary.add(parsed)
        pending.clear()
        if len(batch) >= batch_items:
            flush()

    for item in importer.items(path):
        summary.items += 1
        if item.envelope is None or item.parse is None:
            quarantine(item, item.error or "unreadable", item.broken)
        else:
            pending.append(item)
            if len(pending) >= 500:
                drain()
        if progress is not None:
            progress(1)
    drain()
    flush()
    return summary
