"""Normalised tables in Parquet, hive-partitioned by platform and date.

``<lake>/tables/<table>/platform=<p>/date=<YYYY-MM-DD>/<part>.parquet``. Files are immutable:
written under a temporary name (dot-prefixed, which every reader's glob skips) and renamed.
Compaction merges a partition's small files into one, dropping duplicate snapshot ids.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tagpulse.errors import StorageError
from tagpulse.lake.derived import DERIVED_TABLES
from tagpulse.lake.privacy import WriteSession, load_policy
from tagpulse.lake.pseudonymise import PseudonymMemory
from tagpulse.lake.schemas import ENTITY_TABLES, records_to_table
from tagpulse.lake.storage import LakeFile, LakeRoot, ObjectLake
from tagpulse.records import HashtagSnapshot, ParsedRecords, PostRef

__all__ = [
    "DERIVED_SCHEMAS",
    "HASHTAG_SNAPSHOTS",
    "POST_REF_TYPE",
    "CompactionResult",
    "LakeWriter",
    "id_column",
    "schema_of",
    "snapshot_id",
    "snapshots_to_table",
    "time_column",
    "write_part",
]

HASHTAG_SNAPSHOTS = "hashtag_snapshots"

POST_REF_TYPE = pa.struct(
    [
        ("post_id", pa.string()),
        ("shortcode", pa.string()),
        ("owner_id", pa.string()),
        ("owner_handle", pa.string()),
        ("taken_at", pa.timestamp("us", tz="UTC")),
        ("likes", pa.int64()),
        ("comments", pa.int64()),
        ("media_type", pa.string()),
        ("caption", pa.string()),
        ("display_url", pa.string()),
    ]
)

#: Columns stored in each file; ``platform`` and ``date`` live in the partition path.
HASHTAG_SNAPSHOT_SCHEMA = pa.schema(
    [
        pa.field("snapshot_id", pa.string()),
        pa.field("tag", pa.string()),
        pa.field("post_count", pa.int64()),
        pa.field("collected_at", pa.timestamp("us", tz="UTC")),
        pa.field("slot_at", pa.timestamp("us", tz="UTC")),
        pa.field("account", pa.string()),
        pa.field("raw_id", pa.string()),
        pa.field("top_posts", pa.list_(POST_REF_TYPE)),
        pa.field("related_tags", pa.list_(pa.string())),
        pa.field("extra", pa.string()),
    ]  # type: ignore[arg-type]  # pyarrow-stubs mistypes mixed field lists
)

#: Tables computed from the others (enrichment): reparse keeps their files as they are.
DERIVED_SCHEMAS: dict[str, pa.Schema] = {n: d.schema for n, d in DERIVED_TABLES.items()}

SCHEMAS: dict[str, pa.Schema] = (
    {HASHTAG_SNAPSHOTS: HASHTAG_SNAPSHOT_SCHEMA}
    | {name: spec.schema for name, spec in ENTITY_TABLES.items()}
    | {name: derived.schema for name, derived in DERIVED_TABLES.items()}
)


def schema_of(table: str) -> pa.Schema:
    """The stored columns of a lake table (without the ``platform``/``date`` partition columns)."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise StorageError(
            f"no lake table {table!r}; tables: {', '.join(sorted(SCHEMAS))}"
        ) from None


def id_column(table: str) -> str:
    """The column that identifies a row; readers keep one row per value."""
    return "snapshot_id" if table == HASHTAG_SNAPSHOTS else "row_id"


#: When a row was observed, by table shape: an edge is seen, a derived row enriched.
_TIME_COLUMNS = ("seen_at", "collected_at", "enriched_at")


def time_column(table: str) -> str:
    """The column that says when a row was observed (readers keep the earliest row per id)."""
    if table in DERIVED_TABLES:
        return DERIVED_TABLES[table].order_column
    names = schema_of(table).names
    return next((c for c in _TIME_COLUMNS if c in names), "collected_at")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Row groups this large make files smaller and scans faster than pyarrow's default.
_ROW_GROUP = 65_536


def snapshot_id(platform: str, tag: str, slot_at: datetime) -> str:
    """The identity of a scheduled observation: one per tag and schedule slot.

    A collector that dies after writing but before acknowledging re-collects the same slot; the
    equal id lets readers and compaction keep exactly one.
    """
    return f"{platform}:{tag}:{int(slot_at.timestamp())}"


def _post_ref(ref: PostRef) -> dict[str, Any]:
    return {
        "post_id": ref.post_id,
        "shortcode": ref.shortcode,
        "owner_id": ref.owner_id,
        "owner_handle": ref.owner_handle,
        "taken_at": ref.taken_at,
        "likes": ref.likes,
        "comments": ref.comments,
        "media_type": ref.media_type,
        "caption": ref.caption,
        "display_url": ref.display_url,
    }


def snapshots_to_table(
    snapshots: Sequence[HashtagSnapshot], slots: Sequence[datetime] | None = None
) -> pa.Table:
    """Snapshots as an Arrow table in :data:`HASHTAG_SNAPSHOT_SCHEMA` (no partition columns)."""
    slot_list = list(slots) if slots is not None else [s.collected_at for s in snapshots]
    if len(slot_list) != len(snapshots):
        raise ValueError("one slot per snapshot")
    columns: dict[str, list[Any]] = {name: [] for name in HASHTAG_SNAPSHOT_SCHEMA.names}
    for snap, slot in zip(snapshots, slot_list, strict=True):
        columns["snapshot_id"].append(snapshot_id(snap.platform, snap.tag, slot))
        columns["tag"].append(snap.tag)
        columns["post_count"].append(snap.post_count)
        columns["collected_at"].append(snap.collected_at)
        columns["slot_at"].append(slot)
        columns["account"].append(snap.account)
        columns["raw_id"].append(snap.raw_id)
        columns["top_posts"].append([_post_ref(p) for p in snap.top_posts])
        columns["related_tags"].append(list(snap.related_tags))
        columns["extra"].append(orjson.dumps(snap.extra).decode() if snap.extra else None)
    return pa.table(columns, schema=HASHTAG_SNAPSHOT_SCHEMA)


@dataclass(slots=True, frozen=True)
class CompactionResult:
    partitions: int
    files_before: int
    files_after: int
    rows_before: int
    rows_after: int


def _write_atomic(table: pa.Table, folder: Path, prefix: str, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # A fixed ``name`` makes a re-write replace the file instead of adding a second one.
    final = folder / (f"{name}.parquet" if name else f"{prefix}-{uuid.uuid4().hex[:16]}.parquet")
    tmp = folder / f".{final.name}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=_ROW_GROUP)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"could not write {final}: {exc}") from exc
    return final


def write_part(table: pa.Table, folder: Path, prefix: str = "part") -> Path:
    """Write one Parquet file into a partition folder, atomically (temp name, then rename)."""
    return _write_atomic(table, folder, prefix)


class LakeWriter:
    """Appends rows to the lake's tables and compacts them.

    Every write goes through the lake's privacy policy (:mod:`tagpulse.lake.privacy`): rows of
    forgotten accounts are dropped and, in a pseudonymised lake, handles replaced. The policy is
    read from the catalog beside the lake at each write. ``tables_dir`` writes elsewhere than
    ``<lake>/tables`` (``tagpulse reparse`` builds ``tables.new``).

    On an :class:`~tagpulse.lake.storage.ObjectLake` each part is one PUT under its final key
    (atomic on S3); ``lake_dir``/``root`` are then the local folder that holds the lock files,
    with the catalog (and its privacy policy) beside it as for a local lake.
    """

    def __init__(self, lake_dir: LakeRoot, *, tables_dir: Path | None = None) -> None:
        self.store = lake_dir if isinstance(lake_dir, ObjectLake) else None
        local = lake_dir.local_dir if isinstance(lake_dir, ObjectLake) else lake_dir
        if self.store is not None and tables_dir is not None:
            raise StorageError(f"{lake_dir}: an object-storage lake takes no tables_dir")
        self.lake_dir = local
        self.root = tables_dir if tables_dir is not None else local / "tables"
        self._memory = PseudonymMemory()

    def _session(self) -> WriteSession | None:
        policy = load_policy(self.lake_dir)
        return policy.session(self._memory) if policy is not None else None

    @staticmethod
    def warm_up() -> None:
        """Build (not write) a one-row table: pyarrow's first conversion imports its pandas
        shim, a one-off second that an accelerated-clock run should not spend mid-loop."""
        snapshots_to_table([HashtagSnapshot("warm", "up", 0, [], [], _EPOCH, None, None)], [_EPOCH])

    def table_dir(self, table: str) -> Path:
        return self.root / table

    def write_table(
        self, table: str, platform: str, data: pa.Table, date_column: str
    ) -> list[LakeFile]:
        """Write an Arrow table, split into platform/date partitions by ``date_column``."""
        return self._write(table, platform, data, date_column, self._session())

    def _write(
        self,
        table: str,
        platform: str,
        data: pa.Table,
        date_column: str,
        session: WriteSession | None,
        part_name: str | None = None,
    ) -> list[LakeFile]:
        if session is not None:
            data = session.apply(table, platform, data)
        if data.num_rows == 0:
            return []
        # Day numbers by integer arithmetic on the UTC epoch: no time-zone database involved.
        micros = pc.cast(data[date_column], pa.int64())
        day_array = np.floor_divide(
            np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.int64), 86_400_000_000
        )
        if np.any(day_array[1:] < day_array[:-1]):
            order = np.argsort(day_array, kind="stable")
            data = data.take(order)
            day_array = day_array[order]
        # Rows are now grouped by day: each day is a zero-copy slice.
        bounds = [0, *(np.flatnonzero(np.diff(day_array)) + 1).tolist(), data.num_rows]
        paths: list[LakeFile] = []
        for start, end in itertools.pairwise(bounds):
            date = (_EPOCH + timedelta(days=int(day_array[start]))).strftime("%Y-%m-%d")
            part = data.slice(start, end - start)
            partition = (table, f"platform={platform}", f"date={date}")
            if self.store is not None:
                paths.append(_put_part(self.store, part, partition, "part", part_name))
            else:
                paths.append(_write_atomic(part, self.root.joinpath(*partition), "part", part_name))
        return paths

    def append_snapshots(
        self,
        snapshots: Sequence[HashtagSnapshot],
        slots: Sequence[datetime] | None = None,
        *,
        part_name: str | None = None,
    ) -> list[LakeFile]:
        """Append hashtag snapshots (any mix of platforms); returns the files written.

        ``part_name`` names the file(s) instead of a random name, so writing the same batch
        again replaces it (idempotent writes: the distributed collector names a snapshot's file
        after its snapshot id)."""
        batches = self._snapshot_batches(snapshots, slots)
        return self._write_batches(batches, self._session(), part_name)

    def append_records(self, parsed: ParsedRecords) -> list[LakeFile]:
        """Append everything a parse produced, each record type to its table."""
        batches = self._snapshot_batches(parsed.snapshots, None) if parsed.snapshots else []
        for name, spec in ENTITY_TABLES.items():
            records: list[Any] = getattr(parsed, name)
            by_platform: dict[str, list[Any]] = {}
            for rec in records:
                by_platform.setdefault(rec.platform, []).append(rec)
            for platform, batch in by_platform.items():
                batches.append((name, platform, records_to_table(spec, batch), spec.date_column))
        return self._write_batches(batches, self._session())

    @staticmethod
    def _snapshot_batches(
        snapshots: Sequence[HashtagSnapshot], slots: Sequence[datetime] | None
    ) -> list[tuple[str, str, pa.Table, str]]:
        by_platform: dict[str, list[int]] = {}
        for i, snap in enumerate(snapshots):
            by_platform.setdefault(snap.platform, []).append(i)
        slot_list = list(slots) if slots is not None else [s.collected_at for s in snapshots]
        return [
            (
                HASHTAG_SNAPSHOTS,
                platform,
                snapshots_to_table([snapshots[i] for i in idx], [slot_list[i] for i in idx]),
                "slot_at",
            )
            for platform, idx in by_platform.items()
        ]

    def _write_batches(
        self,
        batches: list[tuple[str, str, pa.Table, str]],
        session: WriteSession | None,
        part_name: str | None = None,
    ) -> list[LakeFile]:
        if session is not None:
            # Learn who is public from every table first: a verified profile exempts its posts.
            for name, platform, table, _ in batches:
                session.learn(name, platform, table)
        paths: list[LakeFile] = []
        for name, platform, table, date_column in batches:
            paths += self._write(name, platform, table, date_column, session, part_name)
        return paths

    def partitions(self, table: str) -> Iterable[Path]:
        base = self.table_dir(table)
        if not base.exists():
            return []
        return sorted(p for p in base.glob("platform=*/date=*") if p.is_dir())

    def _partition_files(self, table: str) -> list[tuple[str, list[LakeFile]]]:
        """Each partition's date and its visible files, oldest partition first."""
        if self.store is None:
            return [
                (folder.name.removeprefix("date="), sorted(folder.glob("[!.]*.parquet")))
                for folder in self.partitions(table)
            ]
        groups: dict[str, list[LakeFile]] = {}
        for key in self.store.glob(f"tables/{table}/platform=*/date=*/*.parquet"):
            groups.setdefault(key.rsplit("/", 1)[0], []).append(self.store.url_of(key))
        return [(folder.rsplit("date=", 1)[-1], groups[folder]) for folder in sorted(groups)]

    def _read_part(self, name: LakeFile, schema: pa.Schema | None) -> pa.Table:
        if self.store is not None:
            return self.store.read_parquet(self.store.key_of(name), schema)
        return pq.read_table(name, schema=schema)

    def _replace_parts(self, merged: pa.Table, files: list[LakeFile]) -> None:
        """Write the merged file, then remove the ones it replaces (readers de-duplicate)."""
        first = files[0]
        if self.store is not None:
            key = self.store.key_of(first)
            folder = key.rsplit("/", 1)[0].removeprefix(self.store.key("tables") + "/")
            _put_part(self.store, merged, tuple(folder.split("/")), "compact")
            self.store.remove(self.store.key_of(f) for f in files)
            return
        _write_atomic(merged, Path(first).parent, "compact")
        for f in files:
            Path(f).unlink(missing_ok=True)

    def compact(
        self,
        table: str = HASHTAG_SNAPSHOTS,
        min_files: int = 2,
        *,
        before_date: str | None = None,
    ) -> CompactionResult:
        """Merge each partition's files into one, keeping the first row of each snapshot id.

        ``before_date`` (YYYY-MM-DD) limits it to older partitions, which no longer grow. The
        merged file is renamed into place before the old files are removed; readers in that
        instant may see both, which is harmless because every reader de-duplicates by id.
        """
        base = self.table_dir(table)
        if self.store is not None:
            base.mkdir(parents=True, exist_ok=True)  # the local lock beside an object lake
        elif not base.exists():
            return CompactionResult(0, 0, 0, 0, 0)
        # One compactor at a time per table, across processes (the collector compacts each
        # finished day; a user may run `tagpulse compact` meanwhile).
        with (base / ".compact.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._compact_locked(table, min_files, before_date)

    def _compact_locked(
        self, table: str, min_files: int, before_date: str | None
    ) -> CompactionResult:
        parts = files_before = files_after = rows_before = rows_after = 0
        for date, files in self._partition_files(table):
            if before_date is not None and date >= before_date:
                continue
            if len(files) < min_files:
                files_before += len(files)
                files_after += len(files)
                continue
            merged = pa.concat_tables([self._read_part(f, SCHEMAS.get(table)) for f in files])
            rows_before += merged.num_rows
            merged = _first_per_id(merged, id_column(table))
            order = next((c for c in ("collected_at", "seen_at") if c in merged.column_names), None)
            if order is not None:
                merged = merged.sort_by([(order, "ascending")])
            rows_after += merged.num_rows
            self._replace_parts(merged, files)
            parts += 1
            files_before += len(files)
            files_after += 1
        return CompactionResult(parts, files_before, files_after, rows_before, rows_after)


def _put_part(
    store: ObjectLake,
    table: pa.Table,
    partition: tuple[str, ...],
    prefix: str,
    name: str | None = None,
) -> str:
    # A fixed ``name`` makes a re-write replace the object (a PUT overwrites) instead of adding.
    key = store.key(
        "tables",
        *partition,
        f"{name}.parquet" if name else f"{prefix}-{uuid.uuid4().hex[:16]}.parquet",
    )
    store.write_parquet(table, key, _ROW_GROUP)
    return store.url_of(key)


def _first_per_id(table: pa.Table, column: str) -> pa.Table:
    ids: list[str | None] = table[column].to_pylist()
    seen: set[str | None] = set()
    keep: list[bool] = []
    for i in ids:
        keep.append(i not in seen)
        seen.add(i)
    return table.filter(pa.array(keep))


def utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
