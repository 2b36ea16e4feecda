"""`tagpulse spark JOB`: the embedded engine's derived tables computed by Spark over the lake.

Needs the ``spark`` extra (pyspark and a Java 17 runtime). ``--master local[2]`` by default;
any master URL (``spark://host:7077``, ``yarn``, ``k8s://…``) whose executors can read the lake.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import pyarrow as pa
import typer
from rich.table import Table

from tagpulse.analysis.timeline import parse_duration, parse_since
from tagpulse.cli.campaign import open_store
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.campaigns import split_list

__all__ = ["SparkJob", "register", "spark"]


class SparkJob(enum.StrEnum):
    timeline = "timeline"
    campaign = "campaign"
    influencers = "influencers"
    graph = "graph"


def register(app: typer.Typer) -> None:
    """Add ``spark`` to the top-level app."""
    app.command(name="spark")(spark)


def _moment(text: str | None, field: str) -> datetime | None:
    return parse_since(text, datetime.now(UTC), field=field) if text else None


def _run(job: SparkJob, session: Any, lake: Path, out: Path, opts: dict[str, Any]) -> pa.Table:
    from tagpulse.scale.spark import campaign, graph, influencers, timeline

    tags, since, until, platform = opts["tags"], opts["since"], opts["until"], opts["platform"]
    if job is SparkJob.timeline:
        return timeline.timeline_job(
            session,
            lake,
            interval_s=opts["interval_s"],
            out=out,
            tags=tags,
            since=since,
            until=until,
            platform=platform,
        )
    if job is SparkJob.influencers:
        return influencers.influencer_job(
            session, lake, tags=tags, since=since, until=until, platform=platform, out=out
        )
    if job is SparkJob.graph:
        return graph.graph_job(session, lake, platform=platform, out=out)
    stored = opts["campaign"]
    periods = campaign.campaign_periods(stored, opts["baseline_s"])
    return campaign.campaign_job(
        session,
        lake,
        tags=stored.tags,
        handles=stored.handles,
        periods=periods,
        platform=platform or stored.platform,
        out=out,
    )


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@friendly_errors
def spark(
    job: Annotated[SparkJob, typer.Argument(help="timeline, campaign, influencers or graph")],
    master: Annotated[
        str, typer.Option("--master", help="Spark master URL (local[2], spark://host:7077, …)")
    ] = "local[2]",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="output folder for the Parquet result (replaced)"),
    ] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", help="comma-separated tags (default: all)")
    ] = None,
    interval: Annotated[str, typer.Option("--interval", help="timeline bucket, e.g. 1h")] = "1h",
    since: Annotated[str | None, typer.Option("--since", help="7d or an ISO date")] = None,
    until: Annotated[str | None, typer.Option("--until", help="1d or an ISO date")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="one platform only")] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="stored campaign NAME (campaign job)")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="campaign: before period, default its length")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="rows shown in the table")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print every row as JSON")] = False,
    home: HomeOption = None,
) -> None:
    """Run one lake job on Spark: the same results as the embedded engine (DuckDB)."""
    from tagpulse.scale.spark.session import pyspark_modules, spark_session

    settings = settings_for(home)
    opts: dict[str, Any] = {
        "tags": [t.lstrip("#").lower() for t in split_list(tags)],
        "since": _moment(since, "--since"),
        "until": _moment(until, "--until"),
        "platform": platform,
        "interval_s": parse_duration(interval, field="--interval"),
        "baseline_s": parse_duration(baseline, field="--baseline") if baseline else None,
        "campaign": None,
    }
    if job is SparkJob.campaign:
        if not campaign:
            raise InputError(
                "the campaign job needs --campaign NAME (see tagpulse campaign list)",
                field="--campaign",
            )
        with open_store(home) as store:
            opts["campaign"] = store.get(campaign)
    target = out or settings.home / "spark" / job.value
    spark_cls, _, _ = pyspark_modules()
    running = spark_cls.getActiveSession()  # a caller's session (tests, a notebook) stays up
    session = spark_session(master, app_name=f"tagpulse-{job.value}")
    try:
        result = _run(job, session, settings.lake_dir, target, opts)
    finally:
        if running is None:
            session.stop()
    rows = result.to_pylist()
    if as_json:
        console.print_json(orjson.dumps(rows, default=str).decode())
        return
    table = Table(title=f"spark {job.value}: {len(rows)} rows -> {target}")
    for name in result.column_names:
        table.add_column(name)
    for row in rows[:limit]:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)
