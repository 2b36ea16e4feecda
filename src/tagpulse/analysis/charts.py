"""Charts of post counts over time: a self-contained HTML page (inline SVG) or a PNG.

Both carry the exact points they draw: the HTML page in a ``<script type="application/json"
id="tagpulse-chart-data">`` element, the PNG in its ``Description`` text chunk. Programs (and
tests) read the numbers back instead of trusting pixels. Nothing is fetched at view time: the
page works offline, with no CDN.
"""

from __future__ import annotations

import colorsys
import html
import math
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from tagpulse.analysis.chart_marks import Mark, marks_json, svg_marks
from tagpulse.analysis.timeline import Series, describe_interval
from tagpulse.errors import InputError, StorageError

__all__ = [
    "CHART_DATA_ID",
    "GROWTH",
    "MAX_COUNT",
    "chart_json",
    "chart_svg",
    "series_colors",
    "write_chart",
    "write_chart_html",
    "write_chart_png",
]

#: The id of the ``<script type="application/json">`` element holding the chart's data.
CHART_DATA_ID = "tagpulse-chart-data"

# Matplotlib's "tab10": distinct, colour-blind tolerable, familiar from notebooks.
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)

# SVG geometry (viewBox units).
_WIDTH = 960
_LEFT = 100
_RIGHT = 28
_TOP = 64
_PLOT_HEIGHT = 360
_X_LABELS = 46
_LEGEND_ROW = 22
_CHAR_WIDTH = 7.2
_MARKERS_UP_TO = 60
_LEGEND_LABEL_MAX = 60

# Candidate spacings of date ticks: minutes, hours, days.
_TIME_STEPS = (
    *(m * 60 for m in (1, 5, 15, 30)),
    *(h * 3_600 for h in (1, 3, 6, 12)),
    *(d * 86_400 for d in (1, 2, 7, 14, 28, 91, 182, 364)),
)
_MAX_X_TICKS = 8


def series_colors(count: int) -> list[str]:
    """``count`` distinct colours: the tab10 palette, then golden-angle hues."""
    colors = list(_PALETTE[:count])
    for i in range(len(colors), count):
        hue = (i * 0.618033988749895) % 1.0
        r, g, b = colorsys.hls_to_rgb(hue, 0.42, 0.65)
        colors.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return colors


def _iso(moment: datetime) -> str:
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def chart_json(series: Series, *, title: str, interval_s: int, marks: Sequence[Mark] = ()) -> str:
    """The chart's data: ``{"title", "interval_s", "series": {label: [[iso8601, count]]}}``
    (and ``"marks": [[iso8601, label]]`` when there are vertical marks)."""
    data: dict[str, object] = {
        "title": title,
        "interval_s": interval_s,
        "series": {
            label: [[_iso(bucket), int(count)] for bucket, count in points]
            for label, points in series.items()
        },
    }
    if marks:
        data["marks"] = marks_json(marks)
    return orjson.dumps(data).decode()


#: What a point is, by default: the largest count seen in its bucket (the Kibana chart's metric).
MAX_COUNT = "max post count"
#: What a point is in a growth chart: posts added since the series' first point.
GROWTH = "posts added since the first point"


def _headline(title: str, interval_s: int, log_scale: bool, measure: str = MAX_COUNT) -> str:
    what = f"{measure} per {describe_interval(interval_s)} (UTC)"
    if log_scale:
        what += ", log scale"
    return f"{title} · {what}" if title else what[0].upper() + what[1:]


def _write_atomic(out: Path, write: Callable[[Path], object]) -> Path:
    """Write through a temporary sibling and rename: a reader never sees half a chart."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {out.parent}: {exc}") from exc
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise StorageError(f"could not write {out}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return out


def write_chart(
    series: Series,
    out: Path,
    *,
    title: str,
    interval_s: int,
    log_scale: bool = False,
    measure: str = MAX_COUNT,
    marks: Sequence[Mark] = (),
) -> Path:
    """Write ``out`` as an HTML page or a PNG, chosen by its suffix; returns ``out``."""
    suffix = out.suffix.lower()
    kwargs = {"title": title, "interval_s": interval_s, "log_scale": log_scale, "measure": measure,
              "marks": marks}  # fmt: skip
    if suffix in (".html", ".htm"):
        return write_chart_html(series, out, **kwargs)  # type: ignore[arg-type]
    if suffix == ".png":
        return write_chart_png(series, out, **kwargs)  # type: ignore[arg-type]
    raise InputError(
        f"cannot tell the chart format from suffix {out.suffix or '(none)'!r}; "
        "name the output .html (interactive page) or .png (image)",
        path=str(out),
    )


# --- HTML / SVG ----------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Scale:
    """A linear map from data space (already log10'd on a log axis) to viewBox units."""

    lo: float
    hi: float
    px_lo: float
    px_hi: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        return self.px_lo + (value - self.lo) / span * (self.px_hi - self.px_lo)


def _nice_count_ticks(lo: int, hi: int) -> list[int]:
    if hi <= lo:
        pad = max(1, abs(hi) // 20)
        lo, hi = max(0, lo - pad) if lo >= 0 else lo - pad, hi + pad
    raw = (hi - lo) / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = 1
    for multiple in (1, 2, 5, 10):
        step = max(1, round(multiple * magnitude))
        if step >= raw:
            break
    start = math.floor(lo / step) * step
    end = math.ceil(hi / step) * step
    return list(range(start, end + step, step))


def _log_ticks(lo: int, hi: int) -> list[int]:
    first = math.floor(math.log10(max(lo, 1)))
    last = math.ceil(math.log10(max(hi, 1)))
    if last <= first:
        last = first + 1
    return [10**k for k in range(first, last + 1)]


def _time_ticks(t0: float, t1: float) -> list[tuple[float, str, str]]:
    """Ticks as ``(epoch seconds, first line, second line)``; the date shows when it changes."""
    span = t1 - t0
    step = next((s for s in _TIME_STEPS if span / s <= _MAX_X_TICKS), _TIME_STEPS[-1])
    while span / step > _MAX_X_TICKS:
        step *= 2
    ticks: list[tuple[float, str, str]] = []
    tick = math.ceil(t0 / step) * step
    previous_date = ""
    while tick <= t1:
        moment = datetime.fromtimestamp(tick, tz=UTC)
        date = moment.strftime("%Y-%m-%d")
        if step >= 86_400:
            ticks.append((tick, date, ""))
        else:
            ticks.append((tick, moment.strftime("%H:%M"), date if date != previous_date else ""))
        previous_date = date
        tick += step
    return ticks


def _fmt_count(value: float) -> str:
    return f"{value:,.0f}"


def _legend_rows(labels: list[str], width: float) -> list[list[int]]:
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, label in enumerate(labels):
        need = 30 + len(label) * _CHAR_WIDTH + 18
        if rows[-1] and used + need > width:
            rows.append([])
            used = 0.0
        rows[-1].append(i)
        used += need
    return rows


def _svg(
    series: Series, *, headline: str, interval_s: int, log_scale: bool, marks: Sequence[Mark] = ()
) -> str:
    labels = list(series)
    colors = series_colors(len(labels))
    shown = [
        (label if len(label) <= _LEGEND_LABEL_MAX else label[: _LEGEND_LABEL_MAX - 1] + "…")
        + ("" if series[label] else " (no data)")
        for label in labels
    ]
    plot_right = _WIDTH - _RIGHT
    plot_bottom = _TOP + _PLOT_HEIGHT
    legend_top = plot_bottom + _X_LABELS
    rows = _legend_rows(shown, plot_right - _LEFT) if labels else []
    height = legend_top + len(rows) * _LEGEND_ROW + 12

    times = [bucket.timestamp() for points in series.values() for bucket, _ in points]
    counts = [count for points in series.values() for _, count in points]
    has_data = bool(times)
    t0 = min(times) if has_data else 0.0
    t1 = max(times) if has_data else 1.0
    if t1 <= t0:
        # One bucket only: give it room either side so it lands mid-plot.
        t0, t1 = t0 - interval_s / 2, t1 + interval_s / 2
    elif has_data:
        # A little air either side, so the first and last points are not on the frame.
        pad = (t1 - t0) * 0.02
        t0, t1 = t0 - pad, t1 + pad

    out: list[str] = [
        f'<svg id="tagpulse-chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" role="img" '
        f'aria-label="{html.escape(headline)}" data-width="{_WIDTH}" '
        f'data-x0="{_LEFT}" data-x1="{plot_right}" data-t0="{t0}" data-t1="{t1}" '
        f'data-colors="{" ".join(colors)}">',
        f"<style>{_SVG_CSS}</style>",
        f'<text class="title" x="{_LEFT}" y="30">{html.escape(headline)}</text>',
        f'<rect class="frame" x="{_LEFT}" y="{_TOP}" width="{plot_right - _LEFT}" '
        f'height="{_PLOT_HEIGHT}"/>',
    ]

    if has_data:
        x = _Scale(t0, t1, _LEFT, plot_right)
        if log_scale:
            value_ticks = _log_ticks(min(counts), max(counts))
            y_lo, y_hi = math.log10(value_ticks[0]), math.log10(value_ticks[-1])
        else:
            value_ticks = _nice_count_ticks(min(counts), max(counts))
            y_lo, y_hi = float(value_ticks[0]), float(value_ticks[-1])
        y = _Scale(y_lo, y_hi, plot_bottom, _TOP)

        def y_of(count: int) -> float:
            return y(math.log10(max(count, 1))) if log_scale else y(count)

        for value in value_ticks:
            py = y_of(value)
            out.append(
                f'<line class="grid" x1="{_LEFT}" x2="{plot_right}" y1="{py:.1f}" y2="{py:.1f}"/>'
                f'<text class="ytick" x="{_LEFT - 8}" y="{py + 4:.1f}">{_fmt_count(value)}</text>'
            )
        for tick, first, second in _time_ticks(t0, t1):
            px = x(tick)
            out.append(
                f'<line class="tick" x1="{px:.1f}" x2="{px:.1f}" y1="{plot_bottom}" '
                f'y2="{plot_bottom + 5}"/><text class="xtick" x="{px:.1f}" '
                f'y="{plot_bottom + 19}">{first}'
                + (f'<tspan x="{px:.1f}" dy="15">{second}</tspan>' if second else "")
                + "</text>"
            )
        for index, (label, color) in enumerate(zip(labels, colors, strict=True)):
            points = series[label]
            if not points:
                continue
            coords = [(x(bucket.timestamp()), y_of(count)) for bucket, count in points]
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            out.append(
                f'<polyline class="series" data-series-index="{index}" stroke="{color}" '
                f'points="{path}"><title>{html.escape(label)}</title></polyline>'
            )
            if len(points) <= _MARKERS_UP_TO:
                out.extend(
                    f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{color}"/>'
                    for px, py in coords
                )
        out.extend(svg_marks(marks, x, (t0, t1), _TOP, plot_bottom))
        out.append(
            f'<line id="tagpulse-guide" x1="0" x2="0" y1="{_TOP}" y2="{plot_bottom}" '
            'style="display:none"/>'
        )
    else:
        out.append(
            f'<text class="nodata" x="{(_LEFT + plot_right) / 2}" '
            f'y="{_TOP + _PLOT_HEIGHT / 2}">no data</text>'
        )

    for row_index, row in enumerate(rows):
        lx = float(_LEFT)
        ly = legend_top + row_index * _LEGEND_ROW + 12
        for i in row:
            empty = not series[labels[i]]
            out.append(
                f'<g class="legend{" empty" if empty else ""}"><line x1="{lx:.1f}" '
                f'x2="{lx + 22:.1f}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colors[i]}"/>'
                f'<text x="{lx + 28:.1f}" y="{ly}">{html.escape(shown[i])}</text></g>'
            )
            lx += 30 + len(shown[i]) * _CHAR_WIDTH + 18
    out.append("</svg>")
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 16px;
       color: #222; background: #fff; }
main { max-width: 980px; }
#tagpulse-chart { max-width: 100%; height: auto; }
#tagpulse-tooltip { position: absolute; display: none; pointer-events: none; background: #fff;
  border: 1px solid #bbb; border-radius: 4px; padding: 6px 8px; font-size: 12px;
  box-shadow: 0 2px 6px rgba(0,0,0,.15); font-variant-numeric: tabular-nums; }
#tagpulse-tooltip .when { font-weight: 600; margin-bottom: 2px; }
#tagpulse-tooltip .swatch { display: inline-block; width: 10px; height: 10px;
  margin-right: 6px; border-radius: 2px; }
"""

# Inside the <svg>, so the chart keeps its look when saved or copied out of the page.
_SVG_CSS = """
text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 12px;
       fill: #333; }
.title { font-size: 17px; font-weight: 600; }
.frame { fill: none; stroke: #999; }
.grid { stroke: #e5e5e5; }
.tick { stroke: #999; }
.ytick { text-anchor: end; font-variant-numeric: tabular-nums; }
.xtick { text-anchor: middle; }
.series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
.legend line { stroke-width: 3; }
.legend.empty text { fill: #999; }
.nodata { font-size: 22px; fill: #888; text-anchor: middle; }
#tagpulse-guide { stroke: #888; stroke-dasharray: 3 3; }
"""

# Reads the embedded data, never the DOM text, and writes with textContent only, so a hostile
# tag name cannot become markup.
_JS = """
(function () {
  var svg = document.getElementById("tagpulse-chart");
  var tip = document.getElementById("tagpulse-tooltip");
  var guide = document.getElementById("tagpulse-guide");
  if (!svg || !tip || !guide) { return; }
  var data = JSON.parse(document.getElementById("tagpulse-chart-data").textContent);
  var d = svg.dataset, t0 = +d.t0, t1 = +d.t1, x0 = +d.x0, x1 = +d.x1, vw = +d.width;
  var colors = d.colors.split(" ");
  var names = Object.keys(data.series);
  var series = names.map(function (n) {
    return data.series[n].map(function (p) { return [Date.parse(p[0]) / 1000, p[1]]; });
  });
  function nearest(pts, t) {
    var lo = 0, hi = pts.length - 1;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (pts[mid][0] < t) { lo = mid + 1; } else { hi = mid; }
    }
    if (lo > 0 && Math.abs(pts[lo - 1][0] - t) <= Math.abs(pts[lo][0] - t)) { lo -= 1; }
    return pts[lo];
  }
  function hide() { tip.style.display = "none"; guide.style.display = "none"; }
  svg.addEventListener("mouseleave", hide);
  svg.addEventListener("mousemove", function (ev) {
    var r = svg.getBoundingClientRect();
    var x = (ev.clientX - r.left) * vw / r.width;
    if (x < x0 || x > x1) { hide(); return; }
    var t = t0 + (x - x0) / (x1 - x0) * (t1 - t0), best = null;
    series.forEach(function (pts) {
      if (!pts.length) { return; }
      var p = nearest(pts, t);
      if (best === null || Math.abs(p[0] - t) < Math.abs(best - t)) { best = p[0]; }
    });
    if (best === null) { hide(); return; }
    tip.textContent = "";
    var head = document.createElement("div");
    head.className = "when";
    head.textContent = new Date(best * 1000).toISOString().replace(".000Z", "Z");
    tip.appendChild(head);
    series.forEach(function (pts, i) {
      if (!pts.length) { return; }
      var p = nearest(pts, best);
      if (p[0] !== best) { return; }
      var row = document.createElement("div"), sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colors[i];
      row.appendChild(sw);
      row.appendChild(document.createTextNode(names[i] + ": " + p[1].toLocaleString("en-US")));
      tip.appendChild(row);
    });
    var gx = x0 + (best - t0) / (t1 - t0) * (x1 - x0);
    guide.setAttribute("x1", gx);
    guide.setAttribute("x2", gx);
    guide.style.display = "";
    tip.style.left = (ev.pageX + 14) + "px";
    tip.style.top = (ev.pageY + 14) + "px";
    tip.style.display = "block";
  });
})();
"""


def _script_json(text: str) -> str:
    # '<', '>' and '&' only occur inside JSON strings, where \\uXXXX means the same character;
    # escaping them means no '</script>' or '<!--' can end or confuse the script element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart_svg(
    series: Series,
    *,
    title: str,
    interval_s: int,
    log_scale: bool = False,
    measure: str = MAX_COUNT,
    svg_id: str = "tagpulse-chart",
    marks: Sequence[Mark] = (),
) -> str:
    """The chart as an inline SVG element (for pages that hold several charts: give each its
    own ``svg_id``)."""
    headline = _headline(title, interval_s, log_scale, measure)
    svg = _svg(series, headline=headline, interval_s=interval_s, log_scale=log_scale, marks=marks)
    return svg.replace('id="tagpulse-chart"', f'id="{html.escape(svg_id)}"', 1)


def write_chart_html(
    series: Series,
    out: Path,
    *,
    title: str,
    interval_s: int,
    log_scale: bool = False,
    measure: str = MAX_COUNT,
    marks: Sequence[Mark] = (),
) -> Path:
    """A self-contained HTML page: inline SVG chart, embedded data, a small hover tooltip."""
    headline = _headline(title, interval_s, log_scale, measure)
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="tagpulse">',
            f"<title>{html.escape(headline)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<main>",
            _svg(
                series, headline=headline, interval_s=interval_s, log_scale=log_scale, marks=marks
            ),
            "</main>",
            '<div id="tagpulse-tooltip" role="tooltip"></div>',
            f'<script type="application/json" id="{CHART_DATA_ID}">'
            + _script_json(chart_json(series, title=title, interval_s=interval_s, marks=marks))
            + "</script>",
            f"<script>{_JS}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )
    return _write_atomic(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))


def write_chart_png(
    series: Series,
    out: Path,
    *,
    title: str,
    interval_s: int,
    log_scale: bool = False,
    measure: str = MAX_COUNT,
    marks: Sequence[Mark] = (),
) -> Path:
    """Write the chart as a PNG (matplotlib, imported only when a PNG is asked for)."""
    from tagpulse.analysis.charts_png import write_png

    return write_png(
        series, out, title=title, interval_s=interval_s, log_scale=log_scale, measure=measure,
        marks=marks,
    )  # fmt: skip
