"""Export lake tables as Parquet, CSV, JSON Lines or an Elasticsearch ``_bulk`` file.

Exports read the de-duplicated views (a snapshot appears once, however often it was written),
stream Arrow record batches out of DuckDB (at most one batch of rows is ever Python objects),
and write to a temporary sibling that is renamed into place: a half-written export never
carries the final name.

The ``es-bulk`` documents have the fields of the original tracker's Elasticsearch index
(``tag_name``, ``tag_posts``, ``timestamp``, ``tag_popular_posts``) plus ``platform``, so
dashboards built on that index keep working; an index template with the matching mapping is
written beside the bulk file.
"""

from __future__ import annotations

import io
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tagpulse.errors import InputError, StorageError
from tagpulse.lake.derived import DERIVED_TABLES
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.schemas import POSTS, TAG_COUNTS
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, SCHEMAS, id_column
from tagpulse.lake.tables import time_column as observed_column

__all__ = [
    "BATCH_ROWS",
    "DEFAULT_INDEX",
    "EXPORT_FORMATS",
    "EXPORT_TABLES",
    "ExportFormat",
    "ExportResult",
    "csv_batch",
    "es_index_template",
    "export_table",
    "template_path",
]

ExportFormat = Literal["parquet", "csv", "jsonl", "es-bulk"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
#: Tables that can be exported, with the columns written (partition columns last).
EXPORT_TABLES: dict[str, tuple[str, ...]] = {
    name: (*schema.names, "platform", "date") for name, schema in SCHEMAS.items()
}
DEFAULT_INDEX = "tagpulse-hashtags"
#: Rows per Arrow batch: the most rows held as Python objects at once.
BATCH_ROWS = 50_000

_JSON_OPTS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
_RETRIES = 3
# Elasticsearch index names: lower case, none of \ / * ? " < > | space , # :, not starting
# with - _ +, at most 255 bytes.
_INDEX_NAME = re.compile(r"[a-z0-9][^A-Z\\/*?\"<>| ,#:]{0,254}")
_POST_URL: dict[str, str] = {"instagram": "https://www.instagram.com/p/{shortcode}/"}


@dataclass(slots=True, frozen=True)
class ExportResult:
    """What an export wrote: the row count, the file, and files written beside it."""

    rows: int
    path: Path
    extra_files: list[Path] = field(default_factory=list)


def template_path(out: Path) -> Path:
    """Where the es-bulk index template goes: ``<out stem>.template.json`` beside ``out``."""
    return out.with_name(f"{out.stem}.template.json")


def es_index_template(index: str = DEFAULT_INDEX) -> dict[str, Any]:
    """The composable index template (``PUT _index_template/<name>``) for ``index*``."""
    text = resources.files("tagpulse.lake").joinpath("es_template.json").read_text("utf-8")
    template: dict[str, Any] = orjson.loads(text)
    template["index_patterns"] = [f"{index}*"]
    return template


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _select(
    table: str,
    columns: Sequence[str],
    *,
    since: datetime | None,
    until: datetime | None,
    tags: Sequence[str] | None,
    platform: str | None,
) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    when = time_column(table)
    if since is not None:
        where.append(f"{when} >= ?")
        params.append(_utc(since))
    if until is not None:
        where.append(f"{when} < ?")
        params.append(_utc(until))
    wanted = list(dict.fromkeys(t.strip().lstrip("#").lower() for t in tags or () if t.strip()))
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        if table in (HASHTAG_SNAPSHOTS, TAG_COUNTS):
            where.append(f"tag IN ({marks})")
        elif table == POSTS:
            where.append(f"list_has_any(hashtags, [{marks}])")
        else:
            raise InputError(
                f"table {table} has no tags to filter by; --tag works on "
                f"{HASHTAG_SNAPSHOTS}, {TAG_COUNTS} and {POSTS}",
                field="tag",
            )
        params += wanted
    if platform:
        where.append("platform = ?")
        params.append(platform)
    sql = f"SELECT {', '.join(columns)} FROM {table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + f" ORDER BY {when}, {id_column(table)}", params


def time_column(table: str) -> str:
    """The time a row's ``--since``/``--until`` bound: when it was seen, or a count's bucket."""
    if table == TAG_COUNTS:
        return "bucket_start"
    if table in DERIVED_TABLES:
        return DERIVED_TABLES[table].date_column
    return observed_column(table)


# --- writers: each streams record batches into a (temporary) path, returns the rows written ---


def _write_parquet(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], tmp: Path, _index: str
) -> int:
    rows = 0
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


# Arrays are typed ``Any`` here: pyarrow-stubs do not narrow by ``pa.types.is_*`` checks.
def _iso_strings(arr: Any) -> Any:
    """Timestamps, at any depth, as ISO 8601 UTC strings (``...T00:30:00Z``); dates as text.

    Done in Arrow because building a timezone-aware ``datetime`` per value is what makes a
    Python export slow. The text matches ``datetime.isoformat`` with ``Z``: a fraction only when
    it is not zero.
    """
    kind = arr.type
    if pa.types.is_timestamp(kind):
        # The stored integers are UTC; read as a naive timestamp they format as UTC.
        naive = arr.cast(pa.int64()).cast(pa.timestamp(kind.unit))
        text = pc.replace_substring(naive.cast(pa.string()), " ", "T", max_replacements=1)
        return pc.replace_substring_regex(text, r"(?:\.0+)?$", "Z")
    if pa.types.is_date(kind):
        return arr.cast(pa.string())
    if pa.types.is_struct(kind):
        names = [kind.field(i).name for i in range(kind.num_fields)]
        children = [_iso_strings(child) for child in arr.flatten()]
        return pa.StructArray.from_arrays(children, names=names, mask=arr.is_null())
    if pa.types.is_list(kind):
        return pa.ListArray.from_arrays(arr.offsets, _iso_strings(arr.values), mask=arr.is_null())
    if pa.types.is_large_list(kind):
        return pa.LargeListArray.from_arrays(
            arr.offsets, _iso_strings(arr.values), mask=arr.is_null()
        )
    return arr


def _stringify_times(batch: pa.RecordBatch) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [_iso_strings(column) for column in batch.columns], names=batch.schema.names
    )


def _is_nested(kind: pa.DataType) -> bool:
    return pa.types.is_struct(kind) or pa.types.is_list(kind) or pa.types.is_large_list(kind)


def _csv_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Flat columns as they are (timestamps as ISO text), nested ones as JSON text."""
    columns: list[Any] = []
    for column in _stringify_times(batch).columns:
        if _is_nested(column.type):
            column = pa.array(
                [None if v is None else orjson.dumps(v).decode() for v in column.to_pylist()],
                type=pa.string(),
            )
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


#: Public name for other writers of CSV (the API's streamed exports).
csv_batch = _csv_batch


def _write_csv(schema: pa.Schema, batches: Iterable[pa.RecordBatch], tmp: Path, _index: str) -> int:
    rows = 0
    # pyarrow-stubs predate ``quoting_header``; pyarrow has had it since 15.
    options = pa_csv.WriteOptions(quoting_style="needed", quoting_header="none")  # type: ignore[call-arg]
    writer: pa_csv.CSVWriter | None = None
    try:
        for batch in batches:
            flat = _csv_batch(batch)
            if writer is None:
                writer = pa_csv.CSVWriter(tmp, flat.schema, write_options=options)
            writer.write_batch(flat)
            rows += batch.num_rows
        if writer is None:  # no rows: a header alone
            tmp.write_text(",".join(schema.names) + "\n", encoding="utf-8")
    finally:
        if writer is not None:
            writer.close()
    return rows


def _json_extra(text: str | None) -> Any:
    # ``extra`` is JSON kept as text only because Parquet has no JSON type; JSON Lines can
    # carry it as the object it is.
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _write_jsonl(
    _schema: pa.Schema, batches: Iterable[pa.RecordBatch], tmp: Path, _index: str
) -> int:
    rows = 0
    with tmp.open("wb") as fh:
        for batch in batches:
            buf = io.BytesIO()
            for record in _stringify_times(batch).to_pylist():
                if "extra" in record:
                    record["extra"] = _json_extra(record["extra"])
                buf.write(orjson.dumps(record, option=_JSON_OPTS | orjson.OPT_APPEND_NEWLINE))
            fh.write(buf.getbuffer())
            rows += batch.num_rows
    return rows


def _popular_post(post: dict[str, Any], platform: str) -> dict[str, Any]:
    shortcode = post.get("shortcode")
    url_format = _POST_URL.get(platform)
    return {
        "post_id": post.get("post_id"),
        "shortcode": shortcode,
        "url": url_format.format(shortcode=shortcode) if url_format and shortcode else None,
        "owner": post.get("owner_handle") or post.get("owner_id"),
        "likes": post.get("likes"),
        "comments": post.get("comments"),
        "taken_at": post.get("taken_at"),
        "media_type": post.get("media_type"),
        "caption": post.get("caption"),
    }


def _write_es_rows(
    _schema: pa.Schema, batches: Iterable[pa.RecordBatch], tmp: Path, index: str
) -> int:
    """Any table as ``_bulk`` lines: every column a field, the row id as ``_id``."""
    rows = 0
    with tmp.open("wb") as fh:
        for batch in batches:
            buf = io.BytesIO()
            for record in _stringify_times(batch).to_pylist():
                row_id = record.pop("row_id")
                action = {"index": {"_index": index, "_id": row_id}}
                buf.write(orjson.dumps(action, option=orjson.OPT_APPEND_NEWLINE))
                buf.write(orjson.dumps(record, option=_JSON_OPTS | orjson.OPT_APPEND_NEWLINE))
            fh.write(buf.getbuffer())
            rows += batch.num_rows
    return rows


def _write_es_bulk(
    _schema: pa.Schema, batches: Iterable[pa.RecordBatch], tmp: Path, index: str
) -> int:
    rows = 0
    with tmp.open("wb") as fh:
        for batch in batches:
            buf = io.BytesIO()
            for record in _stringify_times(batch).to_pylist():
                action = {"index": {"_index": index, "_id": record["snapshot_id"]}}
                platform = record["platform"]
                doc = {
                    "tag_name": record["tag"],
                    "tag_posts": record["post_count"],
                    "timestamp": record["collected_at"],
                    "tag_popular_posts": [
                        _popular_post(post, platform) for post in record["top_posts"] or ()
                    ],
                    "platform": platform,
                }
                buf.write(orjson.dumps(action, option=orjson.OPT_APPEND_NEWLINE))
                buf.write(orjson.dumps(doc, option=_JSON_OPTS | orjson.OPT_APPEND_NEWLINE))
            fh.write(buf.getbuffer())
            rows += batch.num_rows
    return rows


_Writer = Callable[[pa.Schema, Iterable[pa.RecordBatch], Path, str], int]
_WRITERS: dict[str, tuple[_Writer, tuple[str, ...] | None]] = {
    "parquet": (_write_parquet, None),
    "csv": (_write_csv, None),
    "jsonl": (_write_jsonl, None),
    "es-bulk": (
        _write_es_bulk,
        ("snapshot_id", "tag", "post_count", "collected_at", "top_posts", "platform"),
    ),
}


class _ScanFailed(Exception):
    """Reading the lake failed mid-export (not writing the output)."""


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches; a read error becomes :class:`_ScanFailed`, so it is not mistaken
    for a failure to write (both can surface as ``OSError``)."""
    batches = iter(reader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            raise _ScanFailed(str(exc)) from exc
        yield batch


def _tmp_for(out: Path) -> Path:
    return out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")


def _publish(tmp: Path, out: Path) -> None:
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, out)


def _stream_to(
    query: LakeQuery,
    sql: str,
    params: list[Any],
    out: Path,
    write: _Writer,
    index: str,
    batch_rows: int,
) -> int:
    """Run ``sql`` and stream it through ``write`` into ``out`` (temp file, then rename)."""
    last: Exception | None = None
    for attempt in range(_RETRIES):
        tmp = _tmp_for(out)
        con = query.connect([t for t in SCHEMAS if t in sql])
        try:
            # DuckDB draws its own progress bar on long queries; callers show theirs.
            con.execute("SET enable_progress_bar = false")
            reader = con.sql(sql, params=params).to_arrow_reader(batch_rows)
            rows = write(reader.schema, _batches(reader), tmp, index)
            _publish(tmp, out)
            return rows
        except (duckdb.IOException, _ScanFailed) as exc:
            # Most likely compaction removed a file mid-scan: drop the temp file, scan again.
            last = exc
            time.sleep(0.05 * (attempt + 1))
        except duckdb.Error as exc:
            if "FileNotFoundError" not in str(exc):
                raise StorageError(f"export query over {query.tables_dir} failed: {exc}") from exc
            # An object read through fsspec that compaction removed: scan again, as above.
            last = exc
            time.sleep(0.05 * (attempt + 1))
        except OSError as exc:
            raise StorageError(f"could not write {out}: {exc}") from exc
        finally:
            con.close()
            tmp.unlink(missing_ok=True)
    raise StorageError(f"export query over {query.tables_dir} failed after retries: {last}")


def _write_template(out: Path, index: str) -> Path:
    path = template_path(out)
    tmp = _tmp_for(path)
    try:
        tmp.write_bytes(orjson.dumps(es_index_template(index), option=orjson.OPT_INDENT_2) + b"\n")
        _publish(tmp, path)
    except OSError as exc:
        raise StorageError(f"could not write {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def export_table(
    query: LakeQuery,
    table: str,
    fmt: ExportFormat,
    out: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tags: Sequence[str] | None = None,
    platform: str | None = None,
    index: str = DEFAULT_INDEX,
    batch_rows: int = BATCH_ROWS,
) -> ExportResult:
    """Export ``table`` (de-duplicated, oldest first) as ``fmt`` into ``out``.

    ``since``/``until`` bound ``collected_at`` (``since <= t < until``; naive means UTC),
    ``tags`` and ``platform`` filter rows. For ``es-bulk``, ``index`` names the target index
    and ``<out stem>.template.json`` (its index template) is written too, in ``extra_files``.
    """
    if table not in EXPORT_TABLES:
        raise InputError(
            f"unknown table {table!r}; known: {', '.join(sorted(EXPORT_TABLES))}", field="table"
        )
    if fmt not in _WRITERS:
        raise InputError(
            f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}", field="format"
        )
    if fmt == "es-bulk" and not _INDEX_NAME.fullmatch(index):
        raise InputError(
            f"{index!r} is not a valid Elasticsearch index name: use lower case letters, "
            "digits, '-', '_' or '.', starting with a letter or digit",
            field="index",
        )
    if batch_rows <= 0:
        raise InputError(f"batch size must be positive, got {batch_rows}", field="batch_rows")
    if out.is_dir():
        raise InputError("is a directory; give a file name to export to", path=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {out.parent}: {exc}") from exc

    write, columns = _WRITERS[fmt]
    is_hashtags = table == HASHTAG_SNAPSHOTS
    if fmt == "es-bulk" and not is_hashtags:
        # The Kibana-compatible document and its template are the hashtag series'; any other
        # table goes as its columns, into its own index unless one is named.
        write, columns = _write_es_rows, None
        if index == DEFAULT_INDEX:
            index = f"tagpulse-{table.replace('_', '-')}"
    sql, params = _select(
        table,
        columns or EXPORT_TABLES[table],
        since=since,
        until=until,
        tags=tags,
        platform=platform,
    )
    rows = _stream_to(query, sql, params, out, write, index, batch_rows)
    extra = [_write_template(out, index)] if fmt == "es-bulk" and is_hashtags else []
    return ExportResult(rows=rows, path=out, extra_files=extra)
