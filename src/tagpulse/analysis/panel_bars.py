"""Horizontal bar charts, one panel per measure over the same categories: a self-contained HTML
page (inline SVG, the data embedded as JSON) or a PNG (matplotlib's Agg canvas, no pyplot; the
data in its ``Description`` text chunk), chosen by the output's suffix."""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tagpulse.analysis.charts import _script_json, _write_atomic, series_colors
from tagpulse.errors import InputError

__all__ = ["BARS_DATA_ID", "BarPanel", "bars_json", "panels_svg", "write_bars"]

BARS_DATA_ID = "tagpulse-panel-bars-data"

_PANEL_WIDTH = 320
_LABEL_WIDTH = 170
_ROW = 22
_TOP = 56
_GAP = 24
_CHAR = 6.8


@dataclass(slots=True, frozen=True)
class BarPanel:
    """One measure: a title and a value per category (None: not known, drawn as no bar)."""

    title: str
    values: Sequence[tuple[str, float | None]]


def bars_json(panels: Sequence[BarPanel], *, title: str) -> str:
    """``{"title", "panels": [{"title", "bars": [{"label", "value"}]}]}``."""
    doc = {
        "title": title,
        "panels": [
            {"title": p.title, "bars": [{"label": lab, "value": v} for lab, v in p.values]}
            for p in panels
        ],
    }
    return orjson.dumps(doc).decode()


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.1f}"


def _short(label: str, width: float) -> str:
    most = max(4, int(width / _CHAR))
    return label if len(label) <= most else label[: most - 1] + "…"


def _svg(panels: Sequence[BarPanel], title: str) -> str:
    rows = max((len(p.values) for p in panels), default=0)
    width = _LABEL_WIDTH + len(panels) * (_PANEL_WIDTH + _GAP) + 10
    height = _TOP + max(rows, 1) * _ROW + 20
    colors = series_colors(max(len(panels), 1))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{html.escape(title)}">',
        "<style>text{font-family:system-ui,sans-serif;font-size:12px;fill:#333}"
        ".t{font-size:16px;font-weight:600}.p{font-weight:600}.v{fill:#555}</style>",
        f'<text class="t" x="10" y="22">{html.escape(title)}</text>',
    ]
    labels = [lab for lab, _ in panels[0].values] if panels else []
    for i, label in enumerate(labels):
        y = _TOP + i * _ROW + 15
        out.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{y}" text-anchor="end">'
            f"{html.escape(_short(label, _LABEL_WIDTH - 16))}<title>{html.escape(label)}</title>"
            "</text>"
        )
    for n, (panel, color) in enumerate(zip(panels, colors, strict=False)):
        x0 = _LABEL_WIDTH + n * (_PANEL_WIDTH + _GAP)
        out.append(f'<text class="p" x="{x0}" y="{_TOP - 12}">{html.escape(panel.title)}</text>')
        known = [v for _, v in panel.values if v is not None and v > 0]
        top = max(known, default=0.0)
        for i, (label, value) in enumerate(panel.values):
            y = _TOP + i * _ROW
            if value is None:
                out.append(f'<text class="v" x="{x0}" y="{y + 15}">—</text>')
                continue
            length = (_PANEL_WIDTH - 60) * max(value, 0.0) / top if top else 0.0
            out.append(
                f'<rect x="{x0}" y="{y + 3}" width="{length:.1f}" height="{_ROW - 6}" '
                f'fill="{color}"><title>{html.escape(label)}: {_fmt(value)}</title></rect>'
                f'<text class="v" x="{x0 + length + 4:.1f}" y="{y + 15}">{_fmt(value)}</text>'
            )
    if not labels:
        out.append(f'<text x="{width / 2}" y="{_TOP + 20}" text-anchor="middle">no data</text>')
    out.append("</svg>")
    return "".join(out)


def panels_svg(panels: Sequence[BarPanel], *, title: str) -> str:
    """The panels as one inline SVG (for reports)."""
    return _svg(panels, title)


def write_bars(panels: Sequence[BarPanel], out: Path, *, title: str) -> Path:
    """Write ``out`` (.html or .png): the panels side by side, categories top to bottom."""
    suffix = out.suffix.lower()
    data = bars_json(panels, title=title)
    if suffix in (".html", ".htm"):
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body>{_svg(panels, title)}"
            f'<script type="application/json" id="{BARS_DATA_ID}">'
            + _script_json(data)
            + "</script></body></html>\n"
        )
        return _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if suffix == ".png":
        return _write_atomic(out, lambda tmp: _png(panels, tmp, title, data))
    raise InputError(
        f"cannot tell the chart format from suffix {out.suffix or '(none)'!r}; "
        "name the output .html or .png",
        path=str(out),
    )


def _png(panels: Sequence[BarPanel], tmp: Path, title: str, data: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = max((len(p.values) for p in panels), default=0)
    figure = Figure(
        figsize=(4 + 3.6 * max(len(panels), 1), 1.6 + 0.36 * max(rows, 1)),
        dpi=100,
        layout="constrained",
    )
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=13)
    colors = series_colors(max(len(panels), 1))
    for n, panel in enumerate(panels):
        axes: Any = figure.add_subplot(1, len(panels), n + 1)
        labels = [lab for lab, _ in panel.values]
        values = [v or 0.0 for _, v in panel.values]
        positions = list(range(len(labels)))
        axes.barh(positions, values, color=colors[n])
        axes.set_yticks(positions, labels if n == 0 else [""] * len(labels))
        axes.invert_yaxis()
        axes.set_title(panel.title, fontsize=11)
        axes.grid(True, axis="x", color="#e5e5e5")
        if all(v is None or float(v).is_integer() for _, v in panel.values):
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.25 ticks
        for pos, (_, value) in zip(positions, panel.values, strict=True):
            if value is not None:
                axes.text(value, pos, f" {_fmt(value)}", va="center", fontsize=8)
        if not labels:
            axes.text(0.5, 0.5, "no data", transform=axes.transAxes, ha="center")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing", category=UserWarning)
        figure.savefig(tmp, format="png", metadata={"Title": title, "Description": data})
