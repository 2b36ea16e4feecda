"""DuckDB over the lake's Parquet files: the one place that knows the lake's paths.

Every call opens an in-process DuckDB (never a shared .duckdb file: a DuckDB file is locked to
one process, and the collector writes while readers read). Views de-duplicate by snapshot id,
so a reader never sees a snapshot twice, even during compaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tagpulse.errors import StorageError
from tagpulse.lake.storage import LakeRoot, ObjectLake
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, SCHEMAS, id_column, schema_of, time_column

__all__ = ["LakeQuery", "TimelinePoint"]

_RETRIES = 5

#: Every visible part of a table (dot-names are files being written).
_PARTS = "platform=*/date=*/[!.]*.parquet"


@dataclass(slots=True, frozen=True)
class TimelinePoint:
    tag: str
    platform: str
    bucket: datetime
    post_count: int
    #: The latest snapshot in the bucket (a partly observed last bucket ends early).
    last_at: datetime | None = None


def _vanished(exc: Exception) -> bool:
    """Whether a query failed because a file it listed was gone when read (compaction)."""
    # A local file: an IOException. An object read through fsspec: DuckDB wraps the Python
    # FileNotFoundError in a plain duckdb.Error whose text carries the traceback.
    return isinstance(exc, duckdb.IOException) or "FileNotFoundError" in str(exc)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class LakeQuery:
    """Read-only queries over ``<lake>/tables``, a local folder or an object-storage prefix
    (read through the lake's fsspec filesystem registered on each DuckDB connection)."""

    def __init__(self, lake_dir: LakeRoot) -> None:
        self.store = lake_dir if isinstance(lake_dir, ObjectLake) else None
        self.tables_dir: Path | str = (
            f"{lake_dir.url}/tables" if isinstance(lake_dir, ObjectLake) else lake_dir / "tables"
        )

    def glob(self, table: str) -> str:
        if self.store is not None:
            return self.store.url_of(self.store.key("tables", table, _PARTS))
        return str(Path(self.tables_dir) / table / _PARTS)

    def has_data(self, table: str) -> bool:
        if self.store is not None:
            return bool(self.store.glob(f"tables/{table}/{_PARTS}"))
        return any((Path(self.tables_dir) / table).glob(_PARTS))

    def connect(self, tables: Sequence[str] | None = None) -> duckdb.DuckDBPyConnection:
        """An in-process DuckDB with a view per table (default: every table); ``<table>`` keeps
        one row per id, ``<table>_all`` shows every stored row."""
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        if self.store is not None:
            self.store.register(con)
        for table in SCHEMAS if tables is None else tables:
            self._register(con, table)
        return con

    def _register(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        raw_view = f"{table}_all"
        if self.has_data(table):
            con.execute(
                f"CREATE OR REPLACE VIEW {raw_view} AS SELECT * FROM read_parquet("
                f"{_sql_str(self.glob(table))}, hive_partitioning = true, union_by_name = true, "
                "hive_types = {'platform': VARCHAR, 'date': DATE})"
            )
        else:
            empty = pa.table(
                {f.name: pa.array([], type=f.type) for f in schema_of(table)}
                | {"platform": pa.array([], pa.string()), "date": pa.array([], pa.date32())}
            )
            con.register(f"{raw_view}_empty", empty)
            con.execute(f"CREATE OR REPLACE VIEW {raw_view} AS SELECT * FROM {raw_view}_empty")
        order = time_column(table)
        con.execute(
            f"CREATE OR REPLACE VIEW {table} AS SELECT * EXCLUDE (_rn) FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY {id_column(table)} ORDER BY {order}) "
            "AS _rn "
            f"FROM {raw_view}) WHERE _rn = 1"
        )

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run SQL against the views; retried when compaction removes a file mid-query."""
        last: Exception | None = None
        for attempt in range(_RETRIES):
            con: duckdb.DuckDBPyConnection | None = None
            try:
                # Binding the views opens files too, so it sits inside the retry.
                # Only the tables the query names: each bound view reads its files' footers.
                con = self.connect([t for t in SCHEMAS if t in sql])
                relation = con.sql(sql, params=list(params))
                if relation is None:
                    raise StorageError(f"query returned no result: {sql[:80]}")
                result: pa.Table = relation.to_arrow_table()
                return result
            except duckdb.Error as exc:
                if not _vanished(exc):
                    raise StorageError(f"query over {self.tables_dir} failed: {exc}") from exc
                last = exc
                time.sleep(0.05 * (attempt + 1))
            finally:
                if con is not None:
                    con.close()
        raise StorageError(f"query over {self.tables_dir} failed after retries: {last}")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.arrow(sql, params).to_pylist()
        return result

    def tags(self) -> list[tuple[str, str]]:
        rows = self.rows(
            f"SELECT DISTINCT platform, tag FROM {HASHTAG_SNAPSHOTS}_all ORDER BY platform, tag"
        )
        return [(r["platform"], r["tag"]) for r in rows]

    def timeline(
        self,
        tags: Sequence[str],
        *,
        interval_s: int,
        since: datetime | None = None,
        until: datetime | None = None,
        platform: str | None = None,
    ) -> list[TimelinePoint]:
        """The maximum post count per tag and time bucket (what the Kibana chart showed).

        Max per bucket is unchanged by duplicate rows, so this reads the raw files without the
        de-duplicating window and lets DuckDB prune by partition and column.
        """
        where = ["post_count IS NOT NULL"]
        params: list[Any] = []
        if tags:
            where.append(f"tag IN ({','.join('?' for _ in tags)})")
            params += list(tags)
        if platform:
            where.append("platform = ?")
            params.append(platform)
        if since is not None:
            where.append("collected_at >= ? AND date >= ?")
            params += [since, since.date()]
        if until is not None:
            where.append("collected_at < ? AND date <= ?")
            params += [until, until.date()]
        sql = (
            f"SELECT tag, platform, epoch(time_bucket(to_seconds({int(interval_s)}), "
            "collected_at)) AS bucket, max(post_count) AS post_count, "
            "epoch(max(collected_at)) AS last_at "
            f"FROM {HASHTAG_SNAPSHOTS}_all WHERE {' AND '.join(where)} "
            "GROUP BY ALL ORDER BY tag, platform, bucket"
        )
        table = self.arrow(sql, params)
        return [
            TimelinePoint(
                tag=r["tag"],
                platform=r["platform"],
                bucket=datetime.fromtimestamp(r["bucket"], tz=UTC),
                post_count=int(r["post_count"]),
                last_at=datetime.fromtimestamp(r["last_at"], tz=UTC),
            )
            for r in table.to_pylist()
        ]

    def tag_summary(self) -> list[dict[str, Any]]:
        """Per tag: first/last count and time, snapshots, and growth per day."""
        sql = f"""
            SELECT platform, tag, count(*) AS snapshots,
                   count(post_count) AS counted,
                   arg_min(post_count, collected_at) FILTER (WHERE post_count IS NOT NULL)
                       AS first_count,
                   arg_max(post_count, collected_at) FILTER (WHERE post_count IS NOT NULL)
                       AS last_count,
                   epoch(min(collected_at) FILTER (WHERE post_count IS NOT NULL)) AS first_at,
                   epoch(max(collected_at) FILTER (WHERE post_count IS NOT NULL)) AS last_at,
                   epoch(max(collected_at)) AS latest_at
            FROM {HASHTAG_SNAPSHOTS} GROUP BY platform, tag ORDER BY platform, tag
        """
        out = []
        for r in self.rows(sql):
            days = ((r["last_at"] or 0) - (r["first_at"] or 0)) / 86400
            growth = None
            if r["first_count"] is not None and days > 0:
                growth = (r["last_count"] - r["first_count"]) / days
            r["growth_per_day"] = growth
            out.append(r)
        return out
