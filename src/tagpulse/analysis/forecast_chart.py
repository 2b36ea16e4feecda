"""The forecast chart: per tag, new posts per interval — the recent history, the forecast and its
prediction band — as a self-contained HTML page (inline SVG) or a PNG, one panel per tag.

Like the other charts, both carry the exact numbers they draw: the HTML page in a
``<script type="application/json" id="tagpulse-forecast-data">`` element, the PNG in its
``Description`` text chunk.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tagpulse.analysis.charts import (
    _iso,
    _nice_count_ticks,
    _Scale,
    _script_json,
    _time_ticks,
    _write_atomic,
    series_colors,
)
from tagpulse.analysis.forecast import TagForecast
from tagpulse.analysis.timeline import describe_interval
from tagpulse.errors import InputError

__all__ = ["FORECAST_DATA_ID", "forecast_chart_json", "forecast_svg", "write_forecast_chart"]

FORECAST_DATA_ID = "tagpulse-forecast-data"
_WIDTH = 960
_LEFT = 90
_RIGHT = 24
_PANEL = 260
_GAP = 70
_TOP = 56


def _shown_history(forecast: TagForecast) -> list[tuple[datetime, float | None]]:
    """The last ``max(3 × days, 7)`` days of history: enough to see the rhythm continue."""
    keep = timedelta(days=max(3 * len(forecast.days), 7))
    return [(at, v) for at, v in forecast.history if at >= forecast.start - keep]


def forecast_chart_json(forecasts: Sequence[TagForecast], *, title: str) -> str:
    """``{"title", "interval_s", "level", "tags": {label: {"history": [[iso, posts|null]],
    "forecast": [[iso, posts, low, high]]}}}`` (slot starts, UTC)."""
    data: dict[str, Any] = {
        "title": title,
        "interval_s": forecasts[0].interval_s if forecasts else None,
        "level": forecasts[0].level if forecasts else None,
        "tags": {
            f.label: {
                "history": [[_iso(at), v] for at, v in _shown_history(f)],
                "forecast": [[_iso(s.start), s.posts, s.low, s.high] for s in f.slots],
            }
            for f in forecasts
        },
    }
    return orjson.dumps(data).decode()


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Split a line at missing values, so a gap shows as a gap."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if r]


def _panel(forecast: TagForecast, top: float, color: str) -> list[str]:
    history = _shown_history(forecast)
    half = forecast.interval_s / 2
    hist = [(at.timestamp() + half, v) for at, v in history]
    ahead = [(s.start.timestamp() + half, s) for s in forecast.slots]
    times = [t for t, _ in hist] + [t for t, _ in ahead]
    values = [v for _, v in hist if v is not None] + [s.high for _, s in ahead] + [0.0]
    t0, t1 = min(times), max(times)
    ticks = _nice_count_ticks(0, max(1, round(max(values))))
    right = _WIDTH - _RIGHT
    bottom = top + _PANEL
    x = _Scale(t0, t1 if t1 > t0 else t0 + 1, _LEFT, right)
    y = _Scale(float(ticks[0]), float(ticks[-1]), bottom, top)
    level = round(forecast.level * 100)
    out = [
        f'<g class="panel" data-tag="{html.escape(forecast.label)}">',
        f'<text class="ptitle" x="{_LEFT}" y="{top - 10}">#{html.escape(forecast.label)} · '
        f"history, forecast and {level}% band</text>",
        f'<rect class="frame" x="{_LEFT}" y="{top}" width="{right - _LEFT}" height="{_PANEL}"/>',
    ]
    for value in ticks:
        py = y(value)
        out.append(
            f'<line class="grid" x1="{_LEFT}" x2="{right}" y1="{py:.1f}" y2="{py:.1f}"/>'
            f'<text class="ytick" x="{_LEFT - 8}" y="{py + 4:.1f}">{value:,}</text>'
        )
    for tick, first, second in _time_ticks(t0, t1):
        px = x(tick)
        out.append(
            f'<text class="xtick" x="{px:.1f}" y="{bottom + 17}">{first}'
            + (f'<tspan x="{px:.1f}" dy="14">{second}</tspan>' if second else "")
            + "</text>"
        )
    band = [(x(t), y(s.high)) for t, s in ahead] + [(x(t), y(s.low)) for t, s in reversed(ahead)]
    out.append(
        f'<polygon class="band" fill="{color}" points="'
        + " ".join(f"{px:.1f},{py:.1f}" for px, py in band)
        + f'"><title>{level}% prediction band</title></polygon>'
    )
    for run in _runs(hist):
        out.append(
            f'<polyline class="history" stroke="{color}" points="'
            + " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
            + '"><title>history</title></polyline>'
        )
    out.append(
        f'<polyline class="forecast" stroke="{color}" points="'
        + " ".join(f"{x(t):.1f},{y(s.posts):.1f}" for t, s in ahead)
        + '"><title>forecast</title></polyline>'
    )
    start = x(forecast.start.timestamp())
    out.append(f'<line class="now" x1="{start:.1f}" x2="{start:.1f}" y1="{top}" y2="{bottom}"/>')
    out.append("</g>")
    return out


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 16px;
       color: #222; background: #fff; }
svg { max-width: 100%; height: auto; }
text { font-size: 12px; fill: #333; }
.title { font-size: 17px; font-weight: 600; }
.ptitle { font-size: 14px; font-weight: 600; }
.frame { fill: none; stroke: #999; }
.grid { stroke: #e5e5e5; }
.ytick { text-anchor: end; font-variant-numeric: tabular-nums; }
.xtick { text-anchor: middle; }
.band { opacity: 0.22; stroke: none; }
.history { fill: none; stroke-width: 1.5; }
.forecast { fill: none; stroke-width: 1.8; stroke-dasharray: 6 4; }
.now { stroke: #888; stroke-dasharray: 3 3; }
"""


def _headline(forecasts: Sequence[TagForecast], title: str) -> str:
    if not forecasts:
        return title
    return f"{title} · new posts per {describe_interval(forecasts[0].interval_s)} (UTC)"


def forecast_svg(forecasts: Sequence[TagForecast], *, title: str) -> str:
    """The panels as an inline SVG element (the report embeds it)."""
    return "\n".join(_svg_lines(forecasts, title))


def _svg_lines(forecasts: Sequence[TagForecast], title: str) -> list[str]:
    headline = _headline(forecasts, title)
    height = _TOP + len(forecasts) * (_PANEL + _GAP) + 10
    colors = series_colors(len(forecasts))
    body = [
        f'<svg id="tagpulse-forecast" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" role="img" '
        f'aria-label="{html.escape(headline)}">',
        f'<text class="title" x="{_LEFT}" y="28">{html.escape(headline)}</text>',
    ]
    for i, (forecast, color) in enumerate(zip(forecasts, colors, strict=True)):
        body += _panel(forecast, _TOP + 20 + i * (_PANEL + _GAP), color)
    body.append("</svg>")
    return body


def _page(forecasts: Sequence[TagForecast], title: str) -> str:
    headline = _headline(forecasts, title)
    body = _svg_lines(forecasts, title)
    data = forecast_chart_json(forecasts, title=title)
    safe = _script_json(data)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(headline)}</title><style>{_CSS}</style></head><body>",
            *body,
            f'<script type="application/json" id="{FORECAST_DATA_ID}">{safe}</script>',
            "</body></html>",
            "",
        ]
    )


def _png(forecasts: Sequence[TagForecast], tmp: Path, title: str) -> None:
    # Imported here: matplotlib is slow to import; Figure + Agg needs no pyplot global state.
    import matplotlib.dates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mdates: Any = matplotlib.dates
    rows = max(1, len(forecasts))
    fig = Figure(figsize=(12, 1.0 + 3.2 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(_headline(forecasts, title), x=0.01, ha="left", fontsize=13)
    axes: list[Any] = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    for ax, forecast, color in zip(axes, forecasts, series_colors(len(forecasts)), strict=False):
        history = _shown_history(forecast)
        ax.plot(
            [at for at, _ in history],
            [float("nan") if v is None else v for _, v in history],
            color=color,
            linewidth=1.4,
            label="history",
        )
        starts = [s.start for s in forecast.slots]
        ax.fill_between(
            starts,
            [s.low for s in forecast.slots],
            [s.high for s in forecast.slots],
            color=color,
            alpha=0.22,
            linewidth=0,
            label=f"{round(forecast.level * 100)}% band",
        )
        ax.plot(
            starts,
            [s.posts for s in forecast.slots],
            color=color,
            linestyle="--",
            linewidth=1.6,
            label="forecast",
        )
        ax.axvline(forecast.start, color="#888888", linestyle=":", linewidth=1)
        ax.set_title(f"#{forecast.label}", loc="left", fontsize=11)
        ax.set_ylabel("new posts")
        ax.set_ylim(bottom=0)
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.grid(True, color="#e5e5e5")
        ax.legend(loc="upper left", fontsize=9)
    if not forecasts:
        axes[0].text(0.5, 0.5, "no data", ha="center", va="center", transform=axes[0].transAxes)
    fig.savefig(
        tmp,
        format="png",
        metadata={"Title": title, "Description": forecast_chart_json(forecasts, title=title)},
    )


def write_forecast_chart(forecasts: Sequence[TagForecast], out: Path, *, title: str) -> Path:
    """Write ``out`` (.html or .png, by its suffix) with one panel per forecast; returns it."""
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        page = _page(forecasts, title)
        return _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if suffix == ".png":
        return _write_atomic(out, lambda tmp: _png(forecasts, tmp, title))
    raise InputError(
        f"cannot tell the chart format from suffix {out.suffix or '(none)'!r}; "
        "name the output .html (page) or .png (image)",
        path=str(out),
    )
