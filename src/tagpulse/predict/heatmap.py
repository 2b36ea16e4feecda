"""A weekday × hour heatmap of predicted ratios: self-contained HTML (inline SVG, data embedded
as JSON) or PNG (matplotlib's Agg canvas, no pyplot), like :mod:`tagpulse.analysis.pie`."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from tagpulse.analysis.charts import _write_atomic
from tagpulse.errors import InputError

__all__ = ["HEATMAP_DATA_ID", "heatmap_svg", "write_heatmap"]

HEATMAP_DATA_ID = "tagpulse-heatmap-data"
_CELL_W, _CELL_H = 26, 26
_LEFT, _TOP = 46, 44


def _color(share: float) -> str:
    """White (lowest) to deep blue (highest)."""
    lo, hi = np.array([247, 251, 255]), np.array([8, 48, 107])
    r, g, b = (lo + (hi - lo) * min(max(share, 0.0), 1.0)).round().astype(int)
    return f"#{r:02x}{g:02x}{b:02x}"


def _shares(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    lo, hi = float(values.min()), float(values.max())
    return np.zeros_like(values) if hi <= lo else (values - lo) / (hi - lo)


def heatmap_svg(values: npt.NDArray[np.float64], rows: list[str], *, title: str) -> str:
    """``values[row][hour]`` as an inline SVG element (hover a cell for its value)."""
    shares = _shares(values)
    width = _LEFT + 24 * _CELL_W + 20
    height = _TOP + len(rows) * _CELL_H + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="10" y="20" font-size="15" font-weight="bold">{html.escape(title)}</text>',
    ]
    for h in range(24):
        x = _LEFT + h * _CELL_W + _CELL_W / 2
        parts.append(f'<text x="{x}" y="{_TOP - 6}" font-size="11" text-anchor="middle">{h}</text>')
    for d, label in enumerate(rows):
        y = _TOP + d * _CELL_H
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + _CELL_H / 2 + 4}" font-size="12" text-anchor="end">'
            f"{html.escape(label)}</text>"
        )
        for h in range(24):
            x = _LEFT + h * _CELL_W
            parts.append(
                f'<rect x="{x}" y="{y}" width="{_CELL_W - 1}" height="{_CELL_H - 1}" '
                f'fill="{_color(float(shares[d, h]))}"><title>{html.escape(label)} {h:02d}:00 UTC: '
                f"{values[d, h]:.3f}</title></rect>"
            )
    lo, hi = float(values.min()), float(values.max())
    y = _TOP + len(rows) * _CELL_H + 24
    parts.append(
        f'<text x="{_LEFT}" y="{y}" font-size="12">hour of day (UTC) · light {lo:.3f} → dark '
        f"{hi:.3f}</text></svg>"
    )
    return "".join(parts)


def write_heatmap(
    values: npt.NDArray[np.float64],
    rows: list[str],
    out: Path,
    *,
    title: str,
    data: dict[str, Any] | None = None,
) -> Path:
    """Write ``out`` (.html or .png); ``data`` is embedded in the HTML as JSON."""
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        doc = data if data is not None else {"title": title, "rows": rows,
                                              "values": values.tolist()}  # fmt: skip
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body>"
            f"{heatmap_svg(values, rows, title=title)}"
            f'<script type="application/json" id="{HEATMAP_DATA_ID}">'
            + orjson.dumps(doc).decode().replace("</", "<\\/")
            + "</script></body></html>\n"
        )
        return _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if suffix == ".png":
        return _write_atomic(out, lambda tmp: _png(values, rows, tmp, title))
    raise InputError(
        f"cannot tell the chart format from suffix {out.suffix or '(none)'!r}; "
        "name the output .html or .png",
        path=str(out),
    )


def _png(values: npt.NDArray[np.float64], rows: list[str], tmp: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(values, cmap="Blues", aspect="auto")
    axes.set_xticks(range(24))
    axes.set_yticks(range(len(rows)), labels=rows)
    axes.set_xlabel("hour of day (UTC)")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="predicted likes ratio")
    figure.tight_layout()
    figure.savefig(tmp, format="png")
