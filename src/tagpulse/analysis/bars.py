"""A stacked horizontal bar chart (a score and what each part contributed): self-contained HTML
(inline SVG, data embedded as JSON) or PNG (matplotlib's Agg canvas, no pyplot)."""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from pathlib import Path

import orjson

from tagpulse.analysis.charts import _write_atomic, series_colors
from tagpulse.errors import InputError

__all__ = ["BARS_DATA_ID", "bars_svg", "write_bars"]

BARS_DATA_ID = "tagpulse-bars-data"
_LABEL_W = 220.0
_BAR_W = 520.0
_ROW_H = 24.0
_TOP = 64.0

Rows = Sequence[tuple[str, Sequence[float]]]


def _check(rows: Rows, segments: Sequence[str]) -> None:
    for label, values in rows:
        if len(values) != len(segments):
            raise InputError(
                f"bar {label!r} has {len(values)} values for {len(segments)} segments",
                field="rows",
            )


def _svg(rows: Rows, segments: Sequence[str], title: str, unit: str) -> str:
    top = max((sum(max(v, 0.0) for v in values) for _, values in rows), default=0.0) or 1.0
    scale = _BAR_W / top
    height = _TOP + _ROW_H * len(rows) + 20
    width = _LABEL_W + _BAR_W + 80
    colors = series_colors(len(segments))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="10" y="20" font-size="15" font-weight="bold">{html.escape(title)}</text>',
    ]
    x = 10.0
    for name, color in zip(segments, colors, strict=True):
        parts.append(f'<rect x="{x:.0f}" y="34" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{x + 16:.0f}" y="45" font-size="12">{html.escape(name)}</text>')
        x += 24 + 7.2 * len(name)
    for i, (label, values) in enumerate(rows):
        y = _TOP + i * _ROW_H
        parts.append(
            f'<text x="{_LABEL_W - 8:.0f}" y="{y + 15:.0f}" font-size="12" '
            f'text-anchor="end">{html.escape(label)}</text>'
        )
        x = _LABEL_W
        for name, value, color in zip(segments, values, colors, strict=True):
            w = max(value, 0.0) * scale
            if w > 0:
                parts.append(
                    f'<rect x="{x:.2f}" y="{y + 3:.0f}" width="{w:.2f}" height="{_ROW_H - 6:.0f}" '
                    f'fill="{color}"><title>{html.escape(label)} · {html.escape(name)}: '
                    f"{value:.1f} {html.escape(unit)}</title></rect>"
                )
            x += w
        total = sum(values)
        parts.append(f'<text x="{x + 6:.2f}" y="{y + 15:.0f}" font-size="12">{total:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(rows: Rows, segments: Sequence[str], *, title: str, unit: str = "points") -> str:
    """The stacked bars as an inline SVG element."""
    _check(rows, segments)
    return _svg(rows, segments, title, unit)


def write_bars(
    rows: Rows, segments: Sequence[str], out: Path, *, title: str, unit: str = "points"
) -> Path:
    """Write ``out`` (.html or .png): one bar per ``(label, values)`` (top to bottom), each made
    of one segment per name in ``segments``; returns ``out``."""
    _check(rows, segments)
    suffix = out.suffix.lower()
    data = {
        "title": title,
        "unit": unit,
        "segments": list(segments),
        "bars": [{"label": label, "values": list(values)} for label, values in rows],
    }
    if suffix in (".html", ".htm"):
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body>"
            f"{_svg(rows, segments, title, unit)}"
            f'<script type="application/json" id="{BARS_DATA_ID}">'
            + orjson.dumps(data).decode().replace("</", "<\\/")
            + "</script></body></html>\n"
        )
        return _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if suffix == ".png":
        return _write_atomic(out, lambda tmp: _png(rows, segments, tmp, title, unit, data))
    raise InputError(
        f"cannot tell the chart format from suffix {out.suffix or '(none)'!r}; "
        "name the output .html or .png",
        path=str(out),
    )


def _png(
    rows: Rows, segments: Sequence[str], tmp: Path, title: str, unit: str, data: object
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 1.5 + 0.32 * max(len(rows), 1)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    positions = list(range(len(rows)))
    left = [0.0] * len(rows)
    for k, (name, color) in enumerate(zip(segments, series_colors(len(segments)), strict=True)):
        widths = [max(values[k], 0.0) for _, values in rows]
        axes.barh(positions, widths, left=left, color=color, label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for pos, total in zip(positions, left, strict=True):
        axes.text(total, pos, f" {total:.1f}", va="center", fontsize=8)
    axes.set_yticks(positions, [label for label, _ in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, max(left, default=0.0) * 1.1 or 1.0)  # room for the totals
    axes.set_xlabel(unit)
    axes.set_title(title, loc="left")
    if rows:
        figure.legend(loc="outside lower center", ncol=len(segments), fontsize=8, frameon=False)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Glyph .* missing from font", category=UserWarning
        )
        figure.savefig(
            tmp,
            format="png",
            metadata={"Title": title, "Description": orjson.dumps(data).decode()},
        )
