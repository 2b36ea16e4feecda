"""`tagpulse chart`, `tagpulse export` and `tagpulse compact`: reading and tending the lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from tagpulse.analysis.charts import GROWTH, MAX_COUNT, write_chart
from tagpulse.analysis.timeline import (
    growth_series,
    parse_duration,
    parse_since,
    timeline_series,
)
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.collect.watchlist import normalise_tag
from tagpulse.errors import InputError
from tagpulse.lake.export import export_table
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import SCHEMAS, LakeWriter

__all__ = ["chart", "compact", "export"]

_FORMATS = ("parquet", "csv", "jsonl", "es-bulk")
_SUFFIX = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl", "es-bulk": ".ndjson"}


@friendly_errors
def chart(
    tags: Annotated[list[str] | None, typer.Argument(help="Tags to chart (default: all)")] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 7d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until", help="e.g. 1d, or a date")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bucket size, e.g. 1h")] = "1h",
    out: Annotated[Path, typer.Option("--out", help="chart.html or chart.png")] = Path(
        "chart.html"
    ),
    log_scale: Annotated[bool, typer.Option("--log", help="Logarithmic count axis")] = False,
    growth: Annotated[
        bool, typer.Option("--growth", help="Plot posts added since the first point of each tag")
    ] = False,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    home: HomeOption = None,
) -> None:
    """Chart post count over time: one line per tag, the maximum count per interval."""
    settings = settings_for(home)
    query = LakeQuery(settings.lake)
    now = datetime.now(UTC)
    chosen = [normalise_tag(t) for t in tags] if tags else sorted({t for _, t in query.tags()})
    interval_s = parse_duration(interval, field="--interval")
    series = timeline_series(
        query,
        chosen,
        interval_s=interval_s,
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        platform=platform,
    )
    if growth:
        series = growth_series(series)
    path = write_chart(
        series,
        out,
        title="Post count: " + ", ".join("#" + t for t in chosen),
        interval_s=interval_s,
        log_scale=log_scale,
        measure=GROWTH if growth else MAX_COUNT,
    )
    points = sum(len(v) for v in series.values())
    console.print(f"{path}: {len(series)} series, {points} points")
    if points == 0:
        console.print("[yellow]no data in that range[/] (is the collector running? see status)")


@friendly_errors
def export(
    table: Annotated[str, typer.Argument(help="Table to export, e.g. hashtag_snapshots")],
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv, jsonl or es-bulk")] = (
        "parquet"
    ),
    out: Annotated[Path | None, typer.Option("--out", help="Output file")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Only these tags")] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Only this platform, e.g. instagram")
    ] = None,
    index: Annotated[
        str,
        typer.Option(
            "--index", help="Elasticsearch index (es-bulk; other tables: tagpulse-<table>)"
        ),
    ] = "tagpulse-hashtags",
    home: HomeOption = None,
) -> None:
    """Export a table (de-duplicated) as Parquet, CSV, JSON lines or Elasticsearch _bulk."""
    if fmt not in _FORMATS:
        raise InputError(
            f"unknown format {fmt!r}; choose one of {', '.join(_FORMATS)}", field="--format"
        )
    settings = settings_for(home)
    now = datetime.now(UTC)
    target = out or Path(f"{table}{_SUFFIX[fmt]}")
    result = export_table(
        LakeQuery(settings.lake),
        table,
        fmt,  # type: ignore[arg-type]
        target,
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        tags=[normalise_tag(t) for t in tag] if tag else None,
        platform=platform.strip().lower() if platform else None,
        index=index,
    )
    console.print(f"{result.rows} rows → {result.path}")
    for extra in result.extra_files:
        console.print(f"  also wrote {extra}")


@friendly_errors
def compact(home: HomeOption = None) -> None:
    """Merge small Parquet files per partition (safe while the collector and readers run)."""
    settings = settings_for(home)
    writer = LakeWriter(settings.lake)
    for table in SCHEMAS:
        result = writer.compact(table)
        if result.files_before == 0:
            continue
        console.print(
            f"{table}: {result.partitions} partitions compacted: {result.files_before} → "
            f"{result.files_after} files, {result.rows_before} → {result.rows_after} rows"
        )
