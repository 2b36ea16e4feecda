"""Imports with one item a line (Zeeschuimer, twarc2): in ranges of lines, across processes.

A file is cut into byte ranges that start and end on line boundaries (no line is read twice).
Each range is imported by :func:`import_range`, in this process for a small file, or by a worker
process each for a large one (workers read their range from the file themselves, so no line is
shipped between processes). Per block of lines it hashes each line, skips those whose raw answer
the catalog's raw index already holds (a read-only query), parses the others and writes their raw
archive file and Parquet parts, in the collector's order (raw archive, then tables); the broken
lines' bytes go to the quarantine folder. It hands back small results: the raw-index rows, each
imported item's content hash and record counts, the quarantined lines. This process alone writes
the catalog (raw index after the tables, quarantine rows), so a killed import re-run adds nothing.

The same line twice in a file may land in two ranges imported at once, and be imported by both:
the summary still counts it once as imported and once as already known (the hashes are
reconciled here), and its rows, written twice with the same row ids, are kept once by every
reader and by compaction.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from tagpulse.errors import PayloadError, TagpulseError
from tagpulse.imports.base import RECORD_KINDS, ImportSummary, LineImporter, LineParser
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.raw import RawArchive, content_hash
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import ParsedRecords, RawEnvelope

__all__ = [
    "RangeOutcome",
    "count_lines",
    "import_range",
    "plan_ranges",
    "run_line_import",
    "usable_cpus",
]

#: Lines hashed and looked up in the raw index at once.
BLOCK_LINES = 500
#: The read buffer of a range.
_READ_BUFFER = 1 << 20
#: How much of the file's start is read to tell its average line length.
_SAMPLE_BYTES = 1 << 20
#: Ranges per worker at least, so that one slow range does not leave the other workers idle.
_RANGES_PER_WORKER = 4
#: Raw-index rows written to the catalog at once: a SQLite transaction per few thousand rows
#: costs twice the time of one per ten thousand (random keys dirty most of the index's pages).
_INDEX_ROWS = 10_000

#: A raw-index row: content hash, archive file, platform, endpoint, collected_at (epoch seconds).
IndexRow = tuple[str, str, str, str, float]
#: Whether each of these content hashes is in the raw index (returns those that are).
KnownRaw = Callable[[Sequence[str]], set[str]]


@dataclass(slots=True)
class RangeOutcome:
    """What importing (part of) a range did; the importing process applies it to the catalog."""

    #: Lines with content (the summary's ``items``).
    lines: int = 0
    #: Lines read, blank ones included (numbers the next range's lines).
    numbered: int = 0
    already_known: int = 0
    #: The content hashes of the items imported, and each one's counts (one per RECORD_KINDS,
    #: then warnings), needed only for an item another range imported too.
    imported: list[str] = field(default_factory=list)
    counts: list[tuple[int, ...]] = field(default_factory=list)
    #: The sums of ``counts``.
    totals: list[int] = field(default_factory=lambda: [0] * (len(RECORD_KINDS) + 1))
    #: Per quarantined line: its number in the range (from 1), the reason, the bytes' hash.
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)
    #: Raw-index rows of the items whose raw archive and table rows are written.
    index: list[IndexRow] = field(default_factory=list)

    def merge(self, other: RangeOutcome) -> None:
        self.lines += other.lines
        self.numbered += other.numbered
        self.already_known += other.already_known
        self.imported += other.imported
        self.counts += other.counts
        self.totals = [a + b for a, b in zip(self.totals, other.totals, strict=True)]
        self.quarantined += other.quarantined
        self.index += other.index


def _counts(parsed: ParsedRecords) -> tuple[int, ...]:
    return (
        len(parsed.snapshots),
        len(parsed.profiles),
        len(parsed.posts),
        len(parsed.comments),
        len(parsed.edges),
        len(parsed.tag_counts),
        len(parsed.warnings),
    )


assert len(_counts(ParsedRecords())) == len(RECORD_KINDS) + 1


class _RangeImport:
    """The state of one range's import: the batch not yet written, the hashes imported."""

    def __init__(
        self,
        parse_line: LineParser,
        lake_dir: Path,
        known_raw: KnownRaw,
        quarantine_dir: Path,
        batch_items: int,
    ) -> None:
        self.parse_line = parse_line
        self.archive = RawArchive(lake_dir)
        self.writer = LakeWriter(lake_dir)
        self.known_raw = known_raw
        self.quarantine_dir = quarantine_dir
        self.batch_items = batch_items
        self.seen: set[str] = set()
        # Equal counts share one tuple (most items have the same ones): smaller results.
        self.interned: dict[tuple[int, ...], tuple[int, ...]] = {}
        self.envelopes: list[RawEnvelope] = []
        self.records = ParsedRecords()

    def block(self, numbers: list[int], bodies: list[bytes], out: RangeOutcome) -> None:
        hashes = [content_hash(body) for body in bodies]
        # One raw-index lookup per block, not per line.
        known = self.known_raw(hashes)
        seen, parse_line, interned = self.seen, self.parse_line, self.interned
        envelopes, records = self.envelopes, self.records
        imported, counts, totals = out.imported, out.counts, out.totals
        for number, body, raw_id in zip(numbers, bodies, hashes, strict=True):
            if raw_id in known or raw_id in seen:
                out.already_known += 1
                continue
            try:
                env, parsed = parse_line(body, raw_id)
            except PayloadError as exc:
                self.quarantine(number, str(exc), body, raw_id, out)
                continue
            seen.add(raw_id)
            envelopes.append(env)
            records.extend(parsed)
            imported.append(raw_id)
            these = _counts(parsed)
            counts.append(interned.setdefault(these, these))
            for i, n in enumerate(these):
                totals[i] += n
        if len(envelopes) >= self.batch_items:
            self.flush(out)

    def quarantine(
        self, number: int, reason: str, body: bytes, raw_id: str, out: RangeOutcome
    ) -> None:
        # Nothing the user gave is lost: the bytes are kept, named by their hash (so once; two
        # workers may meet the same bytes, hence the rename into place).
        file = self.quarantine_dir / f"{raw_id.removeprefix('sha256:')}.bin"
        if not file.exists():
            self.quarantine_dir.mkdir(parents=True, exist_ok=True)
            tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
            tmp.write_bytes(body)
            os.replace(tmp, file)
        out.quarantined.append((number, reason, raw_id))

    def flush(self, out: RangeOutcome) -> None:
        if not self.envelopes:
            return
        written = self.archive.write(self.envelopes)
        self.writer.append_records(self.records)
        # One string per archive file, shared by its rows (a worker's results pickle smaller).
        files = {file: str(file) for file in set(written.values())}
        out.index += [
            (
                e.content_hash,
                files[written[e.content_hash]],
                e.platform,
                e.endpoint,
                e.collected_at.timestamp(),
            )
            for e in self.envelopes
        ]
        self.envelopes = []
        self.records = ParsedRecords()


def import_range(
    parse_line: LineParser,
    path: Path,
    start: int,
    end: int,
    *,
    lake_dir: Path,
    known_raw: KnownRaw,
    quarantine_dir: Path,
    batch_items: int,
) -> Iterator[RangeOutcome]:
    """Import the lines of bytes ``start`` to ``end`` of ``path`` (whole lines), yielding what
    each block of lines did. Rows are written every ``batch_items`` items and at the end; an
    outcome's ``index`` rows are those written by then, to be indexed after them."""
    run = _RangeImport(parse_line, lake_dir, known_raw, quarantine_dir, batch_items)
    out = RangeOutcome()
    numbers: list[int] = []
    bodies: list[bytes] = []
    number = 0
    consumed, size = 0, end - start
    # A large buffer: with the default 8 KiB, lines of a few dozen KiB are read in pieces and
    # joined, which costs more than the hashing.
    with path.open("rb", buffering=_READ_BUFFER) as fh:
        fh.seek(start)
        for line in fh:
            if consumed >= size:
                break
            consumed += len(line)
            number += 1
            out.numbered += 1
            body = line.rstrip(b"\r\n")
            if not body or body.isspace():  # blank (as `not body.strip()`, without a copy)
                continue
            numbers.append(number)
            bodies.append(body)
            if len(bodies) >= BLOCK_LINES:
                out.lines += len(bodies)
                run.block(numbers, bodies, out)
                numbers, bodies = [], []
                yield out
                out = RangeOutcome()
    out.lines += len(bodies)
    if bodies:
        run.block(numbers, bodies, out)
    run.flush(out)
    yield out


def count_lines(path: Path) -> int:
    """The lines of ``path`` that are not blank (what an import of it reads as items)."""
    with path.open("rb", buffering=_READ_BUFFER) as fh:
        return sum(1 for line in fh if not line.isspace())


# --- planning and running ranges ---------------------------------------------------------------


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _next_line_start(fh: BinaryIO, pos: int, size: int) -> int:
    """The first line start at or after ``pos`` (``size`` when none)."""
    if pos <= 0:
        return 0
    fh.seek(pos - 1)
    offset = pos - 1
    while offset < size:
        piece = fh.read(1 << 16)
        if not piece:
            break
        at = piece.find(b"\n")
        if at >= 0:
            return offset + at + 1
        offset += len(piece)
    return size


def plan_ranges(
    path: Path, *, workers: int, min_lines: int, batch_items: int
) -> list[tuple[int, int]] | None:
    """Byte ranges of whole lines for ``workers`` processes, or ``None`` when the file is too
    small (about ``min_lines`` lines or fewer, told from its start) to be worth them.

    A range holds about ``batch_items`` lines (as many items as one process writes at once),
    fewer when that would give each worker less than a few ranges."""
    size = path.stat().st_size
    if workers < 2 or size == 0:
        return None
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        average = len(sample) / max(1, sample.count(b"\n"))
        estimate = size / average
        if estimate <= min_lines:
            return None
        per_range = max(1, min(batch_items, math.ceil(estimate / (workers * _RANGES_PER_WORKER))))
        step = max(1, int(average * per_range))
        bounds = [0]
        while bounds[-1] < size:
            bounds.append(_next_line_start(fh, bounds[-1] + step, size))
    return list(itertools.pairwise(bounds))


class _RawIndexReader:
    """Raw-index lookups for a worker: a read-only connection (the parent writes the catalog;
    SQLite's WAL lets readers run beside it). Same query as :meth:`Catalog.known_raw`."""

    def __init__(self, catalog_path: Path) -> None:
        self.conn = sqlite3.connect(catalog_path, timeout=30, isolation_level=None)
        self.conn.execute("PRAGMA query_only = ON")
        self.conn.execute("PRAGMA busy_timeout = 30000")

    def __call__(self, hashes: Sequence[str]) -> set[str]:
        if not hashes:
            return set()
        marks = ",".join("?" for _ in hashes)
        rows = self.conn.execute(
            f"SELECT content_hash FROM raw_index WHERE content_hash IN ({marks})", list(hashes)
        ).fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        self.conn.close()


@dataclass(slots=True, frozen=True)
class _RangeTask:
    importer: LineImporter
    path: Path
    start: int
    end: int
    lake_dir: Path
    catalog_path: Path
    quarantine_dir: Path
    batch_items: int


def _import_range_task(task: _RangeTask) -> RangeOutcome:
    """In a worker: import one range, return what it did (small: no records, no bodies)."""
    merged = RangeOutcome()
    with closing(_RawIndexReader(task.catalog_path)) as reader:
        blocks = import_range(
            task.importer.line_parser(task.path),
            task.path,
            task.start,
            task.end,
            lake_dir=task.lake_dir,
            known_raw=reader,
            quarantine_dir=task.quarantine_dir,
            batch_items=task.batch_items,
        )
        for out in blocks:
            merged.merge(out)
    return merged


class _Applier:
    """Applies range outcomes, in file order, to the summary and the catalog."""

    def __init__(
        self,
        importer: LineImporter,
        path: Path,
        catalog: Catalog,
        summary: ImportSummary,
        progress: Callable[[int], None] | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.source = f"import:{importer.name}"
        self.name = path.name
        self.catalog = catalog
        self.summary = summary
        self.progress = progress
        self.clock = clock
        self.imported: set[str] = set()
        self.index: list[IndexRow] = []

    def apply(self, out: RangeOutcome, first_line: int) -> None:
        summary = self.summary
        summary.items += out.lines
        summary.already_known += out.already_known
        # The same line twice in the file, imported by two ranges at once (see the module's
        # docstring): counted once, as the one process would; its rows have the same ids.
        twice = self.imported.intersection(out.imported)
        self.imported.update(out.imported)
        totals = out.totals
        if twice:
            for raw_id, counts in zip(out.imported, out.counts, strict=True):
                if raw_id in twice:
                    totals = [t - n for t, n in zip(totals, counts, strict=True)]
        summary.imported += len(out.imported) - len(twice)
        summary.already_known += len(twice)
        summary.add_counts(tuple(totals))
        self.index += out.index
        if len(self.index) >= _INDEX_ROWS:
            self.write_index()
        for number, reason, raw_id in out.quarantined:
            summary.quarantined += 1
            location = f"{self.name}:{first_line + number}"
            if not self.catalog.is_quarantined(self.source, location, raw_id):
                self.catalog.quarantine(self.source, reason, self.clock(), raw_id, location)
        if self.progress is not None and out.lines:
            self.progress(out.lines)

    def write_index(self) -> None:
        """Index the raw answers applied so far (their archive and table rows are written)."""
        if self.index:
            self.catalog.index_raw(self.index)
            self.index = []


def _pool_context(importer: LineImporter) -> multiprocessing.context.BaseContext:
    # Not "fork": this process may hold threads (SQLite, Arrow) that a fork would copy mid-step.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that imported these once, when it started (for the process's
    # life), instead of each importing them anew: the main module (multiprocessing's default),
    # the import code and the format's parsers, and pandas with pyarrow's bridge to it, which
    # pyarrow imports (when pandas is installed) on its first conversion of Python lists.
    # Modules that are missing are skipped.
    context.set_forkserver_preload(
        [
            "__main__",
            __name__,
            type(importer).__module__,
            *importer.worker_modules,
            "pandas",
            "pyarrow.pandas_compat",
        ]
    )
    return context


def run_line_import(
    importer: LineImporter,
    path: Path,
    *,
    lake_dir: Path,
    catalog: Catalog,
    progress: Callable[[int], None] | None,
    batch_items: int,
    clock: Callable[[], datetime],
    workers: int | None,
    parallel_min_lines: int,
) -> ImportSummary:
    """Import a line-based file (see the module's docstring); called by ``run_import``."""
    summary = ImportSummary(source=importer.name, path=path)
    applier = _Applier(importer, path, catalog, summary, progress, clock)
    quarantine_dir = lake_dir / "quarantine" / f"import-{importer.name}"
    count = usable_cpus() if workers is None else workers
    ranges = plan_ranges(path, workers=count, min_lines=parallel_min_lines, batch_items=batch_items)
    try:
        if ranges is None:
            blocks = import_range(
                importer.line_parser(path),
                path,
                0,
                path.stat().st_size,
                lake_dir=lake_dir,
                known_raw=catalog.known_raw,
                quarantine_dir=quarantine_dir,
                batch_items=batch_items,
            )
            for out in blocks:
                applier.apply(out, 0)
        else:
            tasks = [
                _RangeTask(
                    importer, path, start, end, lake_dir, catalog.path, quarantine_dir, batch_items
                )
                for start, end in ranges
            ]
            _run_tasks(tasks, importer, min(count, len(tasks)), applier)
    finally:
        # Also when stopped: what is written is indexed, a re-run skips it.
        applier.write_index()
    return summary


def _run_tasks(
    tasks: list[_RangeTask], importer: LineImporter, workers: int, applier: _Applier
) -> None:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(importer))
    try:
        futures: list[Future[RangeOutcome]] = [pool.submit(_import_range_task, t) for t in tasks]
        first_line = 0
        for future in futures:
            out = future.result()
            applier.apply(out, first_line)
            first_line += out.numbered
    except BrokenProcessPool as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        raise TagpulseError(
            f"{tasks[0].path}: a worker process of the import died ({exc}); run the import "
            "again (what was written is kept and skipped), or with fewer workers if memory is short"
        ) from exc
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
