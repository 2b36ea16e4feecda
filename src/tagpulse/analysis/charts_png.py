"""The PNG rendering of a chart (matplotlib's Agg canvas, no pyplot, no global state)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from tagpulse.analysis.chart_marks import Mark, png_marks
from tagpulse.analysis.charts import (
    _MARKERS_UP_TO,
    MAX_COUNT,
    _fmt_count,
    _headline,
    _write_atomic,
    chart_json,
    series_colors,
)
from tagpulse.analysis.timeline import Series

__all__ = ["write_png"]


# --- PNG -----------------------------------------------------------------------------------------


def _draw_png(
    series: Series,
    tmp: Path,
    *,
    title: str,
    interval_s: int,
    log_scale: bool,
    measure: str = MAX_COUNT,
    marks: Sequence[Mark] = (),
) -> None:
    # Imported here: matplotlib is slow to import, and the Figure + Agg canvas pair renders
    # without pyplot, so no global backend or state is touched.
    import matplotlib.dates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    # matplotlib.dates is only partly typed; treat it as dynamic rather than sprinkle ignores.
    mdates: Any = matplotlib.dates
    fig = Figure(figsize=(12, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax: Any = fig.add_subplot()
    ax.set_title(_headline(title, interval_s, log_scale, measure), loc="left", fontsize=13)
    colors = series_colors(len(series))
    has_data = any(series.values())
    for (label, points), color in zip(series.items(), colors, strict=True):
        if not points:
            ax.plot([], [], color=color, label=f"{label} (no data)")
            continue
        ax.plot(
            [bucket.astimezone(UTC) for bucket, _ in points],
            [count for _, count in points],
            color=color,
            label=label,
            linewidth=1.6,
            marker="o" if len(points) <= _MARKERS_UP_TO else None,
            markersize=3,
        )
    counts_formatter = FuncFormatter(lambda value, _pos: _fmt_count(value))
    if has_data:
        locator = mdates.AutoDateLocator(tz=UTC)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
        if log_scale:
            ax.set_yscale("log", nonpositive="clip")
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(counts_formatter)
        ax.set_ylabel("posts")
        ax.set_xlabel("UTC")
        ax.grid(True, color="#e5e5e5")
        png_marks(ax, marks)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            "no data",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=20,
            color="#888888",
        )
    if series:
        ax.legend(loc="best", fontsize=9, frameon=True)
    with warnings.catch_warnings():
        # Emoji in tag names have no glyph in the bundled font; a box is drawn, which is fine.
        warnings.filterwarnings(
            "ignore", message=r"Glyph .* missing from font", category=UserWarning
        )
        fig.savefig(
            tmp,
            format="png",
            metadata={
                "Title": title,
                "Description": chart_json(series, title=title, interval_s=interval_s, marks=marks),
            },
        )


def write_png(
    series: Series,
    out: Path,
    *,
    title: str,
    interval_s: int,
    log_scale: bool = False,
    measure: str = MAX_COUNT,
    marks: Sequence[Mark] = (),
) -> Path:
    """A PNG chart (matplotlib, Agg); the series JSON is in the PNG's ``Description`` chunk."""
    return _write_atomic(
        out,
        lambda tmp: _draw_png(
            series,
            tmp,
            title=title,
            interval_s=interval_s,
            log_scale=log_scale,
            measure=measure,
            marks=marks,
        ),
    )
