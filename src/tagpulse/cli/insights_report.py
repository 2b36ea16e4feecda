"""`tagpulse insights report`: one self-contained HTML report for a tag set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from tagpulse.analysis.report import ReportScope, write_report
from tagpulse.analysis.report_sections import BASE_SECTIONS
from tagpulse.analysis.timeline import normalise_tag, parse_duration, parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = ["register"]


@friendly_errors
def report(
    tags: Annotated[list[str], typer.Argument(help="Tags the report is about")],
    out: Annotated[Path, typer.Option("--out", help="The report: an .html file")] = Path(
        "report.html"
    ),
    since: Annotated[str | None, typer.Option("--since", help="e.g. 14d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bucket size over time")] = "6h",
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The report's heading")] = None,
    home: HomeOption = None,
) -> None:
    """One self-contained HTML report (every insight, inline charts) for a set of tags."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError("the report is an HTML page: name it .html", field="--out")
    settings = settings_for(home)
    now = datetime.now(UTC)
    wanted = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags) if t))
    scope = ReportScope(
        tags=wanted,
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        platform=platform,
        interval_s=parse_duration(interval, field="--interval"),
        title=title or "tagpulse report: " + ", ".join("#" + t for t in wanted),
    )
    sections = write_report(LakeQuery(settings.lake_dir), scope, out, BASE_SECTIONS, now=now)
    console.print(f"report: {out} ({len(sections)} sections: {', '.join(s.key for s in sections)})")


def register(app: typer.Typer) -> None:
    app.command(name="report")(report)
