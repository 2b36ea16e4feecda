"""Vertical marks on a line chart: a labelled dashed line at a moment (a campaign's start, end).

Shared by the HTML/SVG and PNG renderings of :mod:`~tagpulse.analysis.charts`; the marks also
travel in the chart's embedded JSON (``"marks": [[iso8601, label], ...]``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["Mark", "marks_json", "png_marks", "svg_marks"]

#: A moment and its label.
Mark = tuple[datetime, str]

_COLOR = "#555555"


def _iso(moment: datetime) -> str:
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def marks_json(marks: Sequence[Mark]) -> list[list[str]]:
    return [[_iso(at), label] for at, label in marks]


def svg_marks(
    marks: Sequence[Mark],
    x: Callable[[float], float],
    span: tuple[float, float],
    top: float,
    bottom: float,
) -> list[str]:
    """SVG for the marks inside the time ``span`` (epoch seconds), label at the line's top."""
    out: list[str] = []
    for at, label in marks:
        t = at.timestamp()
        if not span[0] <= t <= span[1]:
            continue
        px = x(t)
        out.append(
            f'<line class="mark" x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{bottom}" '
            f'stroke="{_COLOR}" stroke-dasharray="6 4"/><text class="mark-label" '
            f'x="{px + 4:.1f}" y="{top + 14}" fill="{_COLOR}">{html.escape(label)}</text>'
        )
    return out


def png_marks(ax: Any, marks: Sequence[Mark]) -> None:
    """Dashed vertical lines with their labels on a matplotlib Axes."""
    for at, label in marks:
        moment = at.astimezone(UTC)
        ax.axvline(moment, color=_COLOR, linestyle="--", linewidth=1.0)
        ax.annotate(
            label, xy=(moment, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -14),
            textcoords="offset points", color=_COLOR, fontsize=9,
        )  # fmt: skip
