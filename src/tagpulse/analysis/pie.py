"""A pie chart (share of voice for a period): self-contained HTML (inline SVG, data embedded as
JSON) or PNG (matplotlib's Agg canvas, no pyplot)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import orjson

from tagpulse.analysis.charts import _write_atomic, series_colors
from tagpulse.errors import InputError

__all__ = ["PIE_DATA_ID", "pie_svg", "write_pie"]

PIE_DATA_ID = "tagpulse-pie-data"
_R = 150.0
_CX = _CY = 180.0


def _slices(values: Sequence[tuple[str, float]]) -> list[tuple[str, float, float]]:
    total = sum(max(v, 0.0) for _, v in values)
    return [(label, max(v, 0.0), max(v, 0.0) / total if total else 0.0) for label, v in values]


def _svg(values: Sequence[tuple[str, float]], title: str) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="380" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="10" y="20" font-size="15" font-weight="bold">{html.escape(title)}</text>',
    ]
    colors = series_colors(len(values))
    angle = -math.pi / 2
    for (label, _value, share), color in zip(_slices(values), colors, strict=True):
        if share <= 0:
            continue
        if share >= 0.9999:
            parts.append(f'<circle cx="{_CX}" cy="{_CY + 10}" r="{_R}" fill="{color}"/>')
        else:
            end = angle + 2 * math.pi * share
            x0, y0 = _CX + _R * math.cos(angle), _CY + 10 + _R * math.sin(angle)
            x1, y1 = _CX + _R * math.cos(end), _CY + 10 + _R * math.sin(end)
            large = 1 if share > 0.5 else 0
            parts.append(
                f'<path d="M{_CX},{_CY + 10} L{x0:.2f},{y0:.2f} A{_R},{_R} 0 {large} 1 '
                f'{x1:.2f},{y1:.2f} Z" fill="{color}"><title>{html.escape(label)}: '
                f"{share:.1%}</title></path>"
            )
            angle = end
    for i, ((label, value, share), color) in enumerate(zip(_slices(values), colors, strict=True)):
        y = 60 + 22 * i
        parts.append(f'<rect x="360" y="{y - 11}" width="12" height="12" fill="{color}"/>')
        parts.append(
            f'<text x="380" y="{y}" font-size="13">{html.escape(label)} — {share:.1%} '
            f"({value:,.0f})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def pie_svg(values: Sequence[tuple[str, float]], *, title: str) -> str:
    """The pie as an inline SVG element."""
    return _svg(values, title)


def write_pie(values: Sequence[tuple[str, float]], out: Path, *, title: str) -> Path:
    """Write ``out`` (.html or .png) with one slice per (label, value); returns ``out``."""
    suffix = out.suffix.lower()
    data = {
        "title": title,
        "slices": [{"label": lab, "value": v, "share": s} for lab, v, s in _slices(values)],
    }
    if suffix in (".html", ".htm"):
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body>{_svg(values, title)}"
            f'<script type="application/json" id="{PIE_DATA_ID}">'
            + orjson.dumps(data).decode().replace("</", "<\\/")
            + "</script></body></html>\n"
        )
        return _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if suffix == ".png":
        return _write_atomic(out, lambda tmp: _png(values, tmp, title))
    raise InputError(
        f"cannot tell the chart format from suffix {out.suffix or '(none)'!r}; "
        "name the output .html or .png",
        path=str(out),
    )


def _png(values: Sequence[tuple[str, float]], tmp: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    slices = [(lab, v) for lab, v, s in _slices(values) if s > 0]
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    if slices:
        axes.pie(
            [v for _, v in slices],
            labels=[lab for lab, _ in slices],
            colors=series_colors(len(values))[: len(slices)],
            autopct="%1.1f%%",
            startangle=90,
            counterclock=False,
        )
    axes.set_title(title)
    axes.axis("equal")
    figure.savefig(tmp, format="png")
