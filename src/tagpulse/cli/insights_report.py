"""`tagpulse insights report`: one self-contained HTML report for a tag set."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from tagpulse.analysis.report import ReportScope, Section, SectionBuilder, write_report
from tagpulse.analysis.report_campaign import (
    campaign_section,
    classes_section,
    sentiment_section,
)
from tagpulse.analysis.report_sections import BASE_SECTIONS
from tagpulse.analysis.timeline import normalise_tag, parse_duration, parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.campaigns import Campaign, CampaignStore
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery

__all__ = ["register"]


@friendly_errors
def report(
    tags: Annotated[
        list[str] | None, typer.Argument(help="Tags the report is about (or --campaign)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="The report: an .html file")] = Path(
        "report.html"
    ),
    since: Annotated[str | None, typer.Option("--since", help="e.g. 14d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bucket size over time")] = "6h",
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The report's heading")] = None,
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", help="A stored campaign: its section, tags and periods"),
    ] = None,
    home: HomeOption = None,
) -> None:
    """One self-contained HTML report (every insight, inline charts) for a set of tags."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError("the report is an HTML page: name it .html", field="--out")
    settings = settings_for(home)
    now = datetime.now(UTC)
    start = parse_since(since, now, field="--since") if since else None
    end = parse_since(until, now, field="--until") if until else None
    builders: list[SectionBuilder] = [*BASE_SECTIONS, sentiment_section, classes_section]
    stored: Campaign | None = None
    if campaign is not None:
        catalog = Catalog(settings.catalog_path)
        try:
            stored = CampaignStore(catalog).get(campaign)
        finally:
            catalog.close()
        # Before, during and after: three times the campaign's length around it.
        length = stored.end - stored.start
        start, end = start or stored.start - length, end or stored.end + length
        platform = platform or stored.platform
        builders.insert(0, functools.partial(_campaign_builder, campaign=stored))
    wanted = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags or []) if t))
    if stored is not None:
        wanted = list(dict.fromkeys([*wanted, *stored.tags]))
    if not wanted:
        raise InputError("name the tags, or a stored campaign with --campaign", field="TAGS")
    scope = ReportScope(
        tags=wanted,
        since=start,
        until=end,
        platform=platform,
        interval_s=parse_duration(interval, field="--interval"),
        title=title
        or (f"Campaign {stored.name}" if stored else "tagpulse report")
        + ": " + ", ".join("#" + t for t in wanted),
        campaign=stored.name if stored else None,
        handles=list(stored.handles) if stored else [],
    )  # fmt: skip
    sections = write_report(LakeQuery(settings.lake), scope, out, builders, now=now)
    console.print(f"report: {out} ({len(sections)} sections: {', '.join(s.key for s in sections)})")


def _campaign_builder(query: LakeQuery, scope: ReportScope, *, campaign: Campaign) -> Section:
    return campaign_section(query, scope, campaign)


def register(app: typer.Typer) -> None:
    app.command(name="report")(report)
