"""``tagpulse reparse``: rebuild the normalised tables from the raw archive.

Every archived answer is parsed again with today's parsers, with the hints the original run used
(:mod:`tagpulse.imports.reparse_parsers`), into a fresh ``<lake>/tables.new``, which then takes
the place of ``<lake>/tables``. With unchanged parsers the rebuilt rows equal the old ones, ids
included (row ids derive from the raw answer; a snapshot's from its schedule slot); after a parser
improves they carry what it now reads. It lives beside the importers because it is one: an import
whose source is the lake's own archive.

What is not rebuilt is kept: rows with no archived answer behind them (a deleted account's
``not_found`` profile, rows whose answer ``tagpulse forget`` erased), rows of answers no parser
knows, and rows of answers that no longer parse are copied into the new tables as they were, so
a reparse never loses data. Error answers (status other than 200) are skipped; an answer that
fails to parse is reported and quarantined in the catalog, and the run goes on.

Concurrency: one reparse or forget at a time per lake; compactions wait until the swap is done.
Readers see the old tables, untouched, until the swap; then the new ones (see
:func:`~tagpulse.lake.maintenance.swap_directories`). A query that was reading old files at that
instant fails with a missing file and :class:`~tagpulse.lake.query.LakeQuery` retries it on the
new tables. Rows a running collector or import writes meanwhile are rebuilt from their raw
answers after the swap (the writers archive an answer before they write its rows); the one thing
that can be lost is a deleted account's ``not_found`` marker written in the last seconds before
the swap (it has no raw answer), which the collector's next pass writes again. Best run with the
collector stopped.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tagpulse.imports.reparse_parsers import Rebuilt, parser_for
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.derived import DERIVED_TABLES
from tagpulse.lake.maintenance import compaction_locks, maintenance_lock, swap_directories
from tagpulse.lake.raw import envelope_from_json, raw_files, read_raw_file
from tagpulse.lake.schemas import ENTITY_TABLES, observation_key
from tagpulse.lake.tables import (
    HASHTAG_SNAPSHOTS,
    SCHEMAS,
    LakeWriter,
    id_column,
    snapshot_id,
)

__all__ = ["ReparseSummary", "count_rows", "reparse_lake"]

log = logging.getLogger(__name__)

NEW_DIR = "tables.new"


@dataclass(slots=True)
class ReparseSummary:
    dry_run: bool
    files: int = 0
    envelopes: int = 0
    parsed: int = 0
    #: Why envelopes were not parsed (``status 429``, ``duplicate``, ``no parser for ...``).
    skipped: dict[str, int] = field(default_factory=dict)
    #: Why parses failed (``<platform>:<endpoint>: <error>``).
    failed: dict[str, int] = field(default_factory=dict)
    #: Distinct rows per table, before and after.
    rows_before: dict[str, int] = field(default_factory=dict)
    rows_after: dict[str, int] = field(default_factory=dict)
    #: Rows copied over because nothing could rebuild them.
    carried: dict[str, int] = field(default_factory=dict)
    #: Answers archived while the reparse ran, parsed into the live tables after the swap.
    caught_up: int = 0
    swapped: bool = False


def _bump(counter: dict[str, int], key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


def count_rows(tables_dir: Path) -> dict[str, int]:
    """Distinct rows (by id, as readers see them) per lake table under ``tables_dir``."""
    out: dict[str, int] = {}
    con = duckdb.connect(":memory:")
    try:
        for table in SCHEMAS:
            if not any((tables_dir / table).glob("platform=*/date=*/[!.]*.parquet")):
                out[table] = 0
                continue
            glob = str(tables_dir / table / "platform=*" / "date=*" / "[!.]*.parquet")
            row = con.execute(
                f"SELECT count(DISTINCT {id_column(table)}) FROM read_parquet(?, "
                "union_by_name = true)",
                [glob],
            ).fetchone()
            out[table] = int(row[0]) if row else 0
    finally:
        con.close()
    return out


class _Rebuilder:
    """Parses envelopes into a writer in batches, keeping the tally."""

    def __init__(
        self,
        writer: LakeWriter,
        summary: ReparseSummary,
        catalog: Catalog | None,
        lake_dir: Path,
        batch: int,
    ) -> None:
        self.writer = writer
        self.summary = summary
        self.catalog = catalog
        self.lake_dir = lake_dir
        self.batch = batch
        self.rebuilt: set[str] = set()
        #: Snapshot ids rebuilt (the archive keeps a body once: an answer identical at two
        #: slots rebuilds the first slot's snapshot only; the other is carried over).
        self.snapshot_ids: set[str] = set()
        #: (answer, time received) of every envelope rebuilt: the rows of those observations
        #: are replaced; rows of the same answer received at other times (an unchanged answer
        #: is archived once) are carried over.
        self.observed: set[str] = set()
        self._pending = Rebuilt()
        self._count = 0

    def file(self, path: Path) -> None:
        s = self.summary
        try:
            docs = list(read_raw_file(path))
        except Exception as exc:  # a damaged archive file: report it, go on with the others
            log.warning("reparse: cannot read %s: %s", path, exc)
            _bump(s.failed, f"unreadable archive file: {type(exc).__name__}: {exc}"[:160])
            return
        for doc in docs:
            s.envelopes += 1
            try:
                env = envelope_from_json(doc)
            except (KeyError, TypeError, ValueError) as exc:
                _bump(s.failed, f"malformed envelope: {type(exc).__name__}: {exc}"[:160])
                continue
            if env.status != 200:
                _bump(s.skipped, f"status {env.status} (an error the collector archived)")
                continue
            if env.content_hash in self.rebuilt:
                _bump(s.skipped, "duplicate answer (archived twice)")
                continue
            parse = parser_for(env.platform, env.endpoint)
            if parse is None:
                _bump(s.skipped, f"no parser for {env.platform}:{env.endpoint}")
                continue
            try:
                rebuilt = parse(env)
            except Exception as exc:  # any parser failure is reported, never fatal
                reason = f"{env.platform}:{env.endpoint}: {type(exc).__name__}: {exc}"
                _bump(s.failed, reason.splitlines()[0][:160])
                self._quarantine(env.platform, env.endpoint, str(exc), env.content_hash, path)
                continue
            s.parsed += 1
            self.rebuilt.add(env.content_hash)
            self.observed.add(observation_key(env.content_hash, env.collected_at))
            self._add(rebuilt)

    def _add(self, rebuilt: Rebuilt) -> None:
        p = self._pending
        p.records.extend(rebuilt.records)
        p.snapshots += rebuilt.snapshots
        p.slots += rebuilt.slots
        self.snapshot_ids.update(
            snapshot_id(snap.platform, snap.tag, slot)
            for snap, slot in zip(rebuilt.snapshots, rebuilt.slots, strict=True)
        )
        self._count += 1
        if self._count >= self.batch:
            self.flush()

    def flush(self) -> None:
        p = self._pending
        if p.snapshots:
            self.writer.append_snapshots(p.snapshots, p.slots)
        if p.records.count():
            self.writer.append_records(p.records)
        self._pending = Rebuilt()
        self._count = 0

    def _quarantine(
        self, platform: str, endpoint: str, reason: str, raw_id: str, path: Path
    ) -> None:
        if self.catalog is None or self.summary.dry_run:
            return
        source = f"reparse:{platform}:{endpoint}"
        location = str(path.relative_to(self.lake_dir))
        if not self.catalog.is_quarantined(source, location, raw_id):
            self.catalog.quarantine(source, reason, datetime.now(UTC), raw_id, location)


def _carry_over(old: Path, rebuilder: _Rebuilder, summary: ReparseSummary) -> None:
    """Copy the rows nothing rebuilt into the new tables; other tables' files as they are."""
    if not old.is_dir():
        return
    writer = rebuilder.writer
    done = pa.array(sorted(rebuilder.rebuilt), pa.string())
    snapshots_done = pa.array(sorted(rebuilder.snapshot_ids), pa.string())
    observed = pa.array(sorted(rebuilder.observed), pa.string())
    for table_dir in sorted(p for p in old.iterdir() if p.is_dir()):
        table = table_dir.name
        if table not in SCHEMAS or table in DERIVED_TABLES:
            # A table reparse does not build (a derived one): kept file for file.
            for f in table_dir.rglob("[!.]*.parquet"):
                target = writer.root / f.relative_to(old)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
            continue
        date_column = "slot_at" if table == HASHTAG_SNAPSHOTS else ENTITY_TABLES[table].date_column
        for folder in sorted(table_dir.glob("platform=*/date=*")):
            files = sorted(folder.glob("[!.]*.parquet"))
            if not files:
                continue
            data = pa.concat_tables(pq.read_table(f, schema=SCHEMAS[table]) for f in files)
            # No answer behind the row, or one that was not rebuilt.
            keep: Any = pc.or_kleene(
                pc.is_null(data["raw_id"]), pc.invert(pc.is_in(data["raw_id"], done))
            )
            if table == HASHTAG_SNAPSHOTS:
                missing = pc.invert(pc.is_in(data["snapshot_id"], snapshots_done))
                keep = pc.or_kleene(keep, missing)
            else:
                # An observation of a rebuilt answer at another time than its archived one.
                when = "seen_at" if "seen_at" in data.column_names else "collected_at"
                column: Any = data[when]
                micros: Any = pc.cast(pc.cast(column, pa.int64()), pa.string())
                raw_ids: Any = data["raw_id"]
                raw: Any = pc.fill_null(raw_ids, "")
                keys: Any = pc.binary_join_element_wise(raw, micros, "@")
                keep = pc.or_kleene(keep, pc.invert(pc.is_in(keys, observed)))
            kept = data.filter(pc.fill_null(keep, True))
            if kept.num_rows:
                platform = folder.parent.name.removeprefix("platform=")
                writer.write_table(table, platform, kept, date_column)
                _bump(summary.carried, table, kept.num_rows)


def reparse_lake(
    lake_dir: Path,
    *,
    catalog: Catalog | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    batch_envelopes: int = 5_000,
) -> ReparseSummary:
    """Rebuild ``<lake>/tables`` from ``<lake>/raw``; with ``dry_run`` only count what would be.

    ``on_total`` hears the number of archive files first, ``progress`` one call per file read.
    ``catalog`` receives quarantine entries for answers that fail to parse (not in a dry run).
    """
    summary = ReparseSummary(dry_run=dry_run)
    live = lake_dir / "tables"
    new = lake_dir / NEW_DIR
    with maintenance_lock(lake_dir, "tagpulse reparse"):
        if new.exists():
            shutil.rmtree(new)  # left by a reparse that died: ours to discard
        with compaction_locks(live):
            summary.rows_before = count_rows(live)
            files = raw_files(lake_dir)
            summary.files = len(files)
            if on_total is not None:
                on_total(len(files))
            rebuilder = _Rebuilder(
                LakeWriter(lake_dir, tables_dir=new), summary, catalog, lake_dir, batch_envelopes
            )
            for path in files:
                rebuilder.file(path)
                if progress is not None:
                    progress(1)
            rebuilder.flush()
            _carry_over(live, rebuilder, summary)
            new.mkdir(parents=True, exist_ok=True)
            summary.rows_after = count_rows(new)
            if dry_run:
                shutil.rmtree(new)
                return summary
            old = lake_dir / f"tables.old-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
            had_old = swap_directories(live, new, old)
            summary.swapped = True
        # Answers archived while we worked: their rows may have gone into the old tables.
        seen = set(files)
        late = [f for f in raw_files(lake_dir) if f not in seen]
        if late:
            catch_up = _Rebuilder(LakeWriter(lake_dir), summary, catalog, lake_dir, batch_envelopes)
            catch_up.rebuilt = rebuilder.rebuilt
            parsed_before = summary.parsed
            for path in late:
                catch_up.file(path)
            catch_up.flush()
            summary.caught_up = summary.parsed - parsed_before
        if had_old:
            shutil.rmtree(old, ignore_errors=True)
    return summary
