"""One self-contained HTML report for a tag set (or a campaign): every insight's section, inline
SVG charts, no scripts or files beside it — a page an analyst can mail or archive.

A section is built by a function of the lake and the report's scope
(:mod:`tagpulse.analysis.report_sections`); a section that has nothing to say (one tag only for
share of voice, no enrichment yet for sentiment) says why instead of vanishing, so a reader knows
what was looked at.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tagpulse.analysis.charts import _script_json, _write_atomic
from tagpulse.lake.query import LakeQuery

__all__ = [
    "REPORT_DATA_ID",
    "ReportScope",
    "Section",
    "SectionBuilder",
    "build_report",
    "html_table",
    "render_report",
    "write_report",
]

REPORT_DATA_ID = "tagpulse-report-data"


@dataclass(slots=True, frozen=True)
class ReportScope:
    """What a report covers."""

    tags: list[str]
    since: datetime | None
    until: datetime | None
    platform: str | None
    interval_s: int
    title: str
    #: A stored campaign's name when the report is for one.
    campaign: str | None = None
    handles: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Section:
    key: str
    title: str
    #: An HTML fragment (already escaped where it holds data).
    body: str
    #: The section's numbers, for the report's embedded JSON and for tests.
    data: dict[str, Any] = field(default_factory=dict)


SectionBuilder = Callable[[LakeQuery, ReportScope], Section]


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain table; every cell is escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def build_report(
    query: LakeQuery, scope: ReportScope, builders: Sequence[SectionBuilder]
) -> list[Section]:
    return [build(query, scope) for build in builders]


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px;
       color: #222; background: #fff; max-width: 1000px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 19px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #666; font-size: 13px; }
table { border-collapse: collapse; margin: 10px 0; font-size: 13px;
        font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #eee; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
svg { max-width: 100%; height: auto; }
.note { color: #666; font-style: italic; }
nav a { margin-right: 12px; font-size: 13px; }
"""


def _scope_line(scope: ReportScope) -> str:
    parts = []
    if scope.tags:
        parts.append("tags " + ", ".join("#" + t for t in scope.tags))
    if scope.handles:
        parts.append("accounts " + ", ".join("@" + h for h in scope.handles))
    since = f"{scope.since:%Y-%m-%d %H:%M}" if scope.since else "the first data"
    until = f"{scope.until:%Y-%m-%d %H:%M}" if scope.until else "the last data"
    parts.append(f"from {since} to {until} UTC")
    parts.append(f"platform {scope.platform}" if scope.platform else "every platform")
    return "; ".join(parts)


def render_report(scope: ReportScope, sections: Sequence[Section], generated_at: datetime) -> str:
    data = {
        "title": scope.title,
        "tags": scope.tags,
        "campaign": scope.campaign,
        "generated_at": generated_at.astimezone(UTC).isoformat(),
        "sections": {s.key: s.data for s in sections},
    }
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.key}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for s in sections
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="tagpulse">'
        f"<title>{html.escape(scope.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(scope.title)}</h1>"
        f'<p class="meta">{html.escape(_scope_line(scope))} · generated '
        f"{generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by tagpulse</p>"
        f"<nav>{nav}</nav>{body}"
        f'<script type="application/json" id="{REPORT_DATA_ID}">'
        + _script_json(orjson.dumps(data, default=str).decode())
        + "</script></body></html>\n"
    )


def write_report(
    query: LakeQuery,
    scope: ReportScope,
    out: Path,
    builders: Sequence[SectionBuilder],
    *,
    now: datetime | None = None,
) -> list[Section]:
    """Build every section and write the page to ``out`` atomically; returns the sections."""
    sections = build_report(query, scope, builders)
    page = render_report(scope, sections, now or datetime.now(UTC))
    _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return sections
