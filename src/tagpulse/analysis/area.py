"""A stacked area chart of shares over time (share of voice): self-contained HTML (inline SVG,
data embedded as JSON) or PNG (matplotlib's Agg canvas, no pyplot).

Each bucket's shares are stacked in the series' order, so the top edge is 100 % wherever the
bucket had any posts; a bucket with no posts at all is a gap, not a zero band.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson

from tagpulse.analysis.charts import _iso, _write_atomic, series_colors
from tagpulse.errors import InputError

__all__ = ["AREA_DATA_ID", "area_svg", "write_stacked_area"]

AREA_DATA_ID = "tagpulse-area-data"
_W, _H = 900.0, 420.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 56.0, 150.0, 40.0, 48.0

Shares = Sequence[tuple[datetime, Mapping[str, float]]]


def _stack(labels: Sequence[str], shares: Shares) -> list[list[float]]:
    """Per bucket, the cumulative share below each band's top edge (0 … 1)."""
    stacked = []
    for _, by_label in shares:
        running, row = 0.0, []
        for label in labels:
            running += max(float(by_label.get(label, 0.0)), 0.0)
            row.append(running)
        stacked.append(row)
    return stacked


def _svg(labels: Sequence[str], shares: Shares, title: str) -> str:
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    times = [at.timestamp() for at, _ in shares]
    t0, t1 = (times[0], times[-1]) if times else (0.0, 1.0)
    span = (t1 - t0) or 1.0

    def x(t: float) -> float:
        return _LEFT + (t - t0) / span * plot_w

    def y(share: float) -> float:
        return _TOP + (1.0 - share) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W:.0f}" height="{_H:.0f}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{html.escape(title)}</text>',
    ]
    for pct in (0, 25, 50, 75, 100):
        yy = y(pct / 100)
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{_LEFT - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end">'
            f"{pct}%</text>"
        )
    stacked = _stack(labels, shares)
    colors = series_colors(len(labels))
    for i, (label, color) in enumerate(zip(labels, colors, strict=True)):
        top = [(x(t), y(row[i])) for t, row in zip(times, stacked, strict=True)]
        bottom = [
            (x(t), y(row[i - 1] if i else 0.0)) for t, row in zip(times, stacked, strict=True)
        ]
        if not top:
            continue
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in top + bottom[::-1])
        parts.append(
            f'<polygon points="{points}" fill="{color}" fill-opacity="0.85" stroke="{color}">'
            f"<title>{html.escape(label)}</title></polygon>"
        )
        ly = _TOP + 18 * i + 8
        parts.append(
            f'<rect x="{_W - _RIGHT + 14}" y="{ly - 9}" width="12" height="12" fill="{color}"/>'
            f'<text x="{_W - _RIGHT + 32}" y="{ly + 1}" font-size="12">{html.escape(label)}</text>'
        )
    if shares:
        for at, anchor in ((shares[0][0], "start"), (shares[-1][0], "end")):
            parts.append(
                f'<text x="{x(at.timestamp()):.1f}" y="{_H - _BOTTOM + 18}" font-size="11" '
                f'text-anchor="{anchor}">{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def area_svg(labels: Sequence[str], shares: Shares, *, title: str) -> str:
    """The stacked area chart as an inline SVG element."""
    return _svg(labels, shares, title)


def write_stacked_area(
    labels: Sequence[str], shares: Shares, out: Path, *, title: str, measure: str
) -> Path:
    """Write ``out`` (.html or .png): one band per label, stacked, per bucket of ``shares``."""
    suffix = out.suffix.lower()
    data = {
        "title": title,
        "measure": measure,
        "labels": list(labels),
        "buckets": [
            {"at": _iso(at), "shares": {lab: float(s.get(lab, 0.0)) for lab in labels}}
            for at, s in shares
        ],
    }
    if suffix in (".html", ".htm"):
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body>"
            f"<p>{html.escape(measure)}</p>{_svg(labels, shares, title)}"
            f'<script type="application/json" id="{AREA_DATA_ID}">'
            + orjson.dumps(data).decode().replace("</", "<\\/")
            + "</script></body></html>\n"
        )
        return _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if suffix == ".png":
        return _write_atomic(out, lambda tmp: _png(labels, shares, tmp, title, measure))
    raise InputError(
        f"cannot tell the chart format from suffix {out.suffix or '(none)'!r}; "
        "name the output .html or .png",
        path=str(out),
    )


def _png(labels: Sequence[str], shares: Shares, tmp: Path, title: str, measure: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    if shares:
        times = np.array(
            [at.astimezone(UTC).replace(tzinfo=None) for at, _ in shares], dtype="datetime64[s]"
        )
        bands = [[100.0 * max(float(s.get(lab, 0.0)), 0.0) for _, s in shares] for lab in labels]
        axes.stackplot(times, bands, labels=list(labels), colors=series_colors(len(labels)))
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_ylim(0, 100)
    axes.set_ylabel(measure)
    axes.set_title(title)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(tmp, format="png")
