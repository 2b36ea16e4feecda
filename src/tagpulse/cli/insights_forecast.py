"""``tagpulse insights forecast``: new posts and counts for the next days, with intervals and a
backtest against naive baselines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.forecast import TagForecast, forecast_tags
from tagpulse.analysis.forecast_backtest import MODEL, NAIVE, SEASONAL_NAIVE
from tagpulse.analysis.forecast_chart import write_forecast_chart
from tagpulse.analysis.timeline import describe_interval, parse_duration, parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.lake.query import LakeQuery

__all__ = ["forecast", "forecast_doc", "register"]


_CLOSE = 0.95


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _score(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _doc(f: TagForecast) -> dict[str, Any]:
    bt = f.backtest
    return {
        "tag": f.label,
        "interval_s": f.interval_s,
        "level": f.level,
        "model": f.model,
        "start": f.start.isoformat(),
        "start_count": f.start_count,
        "last_count": f.last_count,
        "last_at": f.last_at.isoformat(),
        "days": [
            {"day": d.day, "end": d.end.isoformat(), "posts": d.posts, "posts_low": d.posts_low,
             "posts_high": d.posts_high, "count": d.count, "count_low": d.count_low,
             "count_high": d.count_high}
            for d in f.days
        ],
        "slots": [
            {"start": s.start.isoformat(), "posts": s.posts, "low": s.low, "high": s.high}
            for s in f.slots
        ],
        "backtest": {
            "folds": bt.folds, "horizon_s": bt.horizon_slots * bt.interval_s,
            "points": bt.points, "coverage": bt.coverage, "widen": bt.widen,
            "scores": [{"method": s.method, "mape": s.mape, "mase": s.mase} for s in bt.scores],
            "beats_baselines": f.beats_baselines, "beaten_by": bt.beaten_by,
        },
        "missing_slots": f.missing_slots,
        "resets": f.resets,
        "outliers": f.outliers,
        "notes": f.notes,
    }  # fmt: skip


def _verdict(f: TagForecast) -> str:
    bt = f.backtest
    model = bt.score(MODEL).mase if bt.folds else None
    if model is None:
        return (
            f"#{f.label}: [yellow]the backtest could not rank the methods[/] (the count did not "
            "move, so MASE has nothing to scale by)"
        )
    if f.beats_baselines:
        others = [s for s in bt.scores if s.method != MODEL and s.mase is not None]
        best = min((s.mase for s in others if s.mase is not None), default=None)
        # Within 5 % of a baseline is a draw in all but name: say so.
        close = model is not None and best is not None and model > _CLOSE * best
        listed = ", ".join(f"{_score(s.mase)} {s.method}" for s in others)
        return (
            f"#{f.label}: the seasonal model {'only just ' if close else ''}beats both baselines "
            f"(MASE {_score(model)} vs {listed})"
        )
    beaten = " and the ".join(bt.beaten_by)
    return (
        f"#{f.label}: [bold yellow]the seasonal model does not beat the {beaten} baseline[/] in "
        f"the backtest (MASE {_score(model)} vs "
        + ", ".join(_score(bt.score(m).mase) for m in bt.beaten_by)
        + "): read its forecast with care"
    )


def _offsets(value: float, low: float, high: float) -> str:
    return f"−{value - low:,.0f} / +{high - value:,.0f}"


def _print(result: list[TagForecast], days: int) -> None:
    for f in result:
        level = f"{f.level:.0%}"
        table = Table(
            title=f"#{f.label}: the next {days} days from {f.start:%Y-%m-%d %H:%M} UTC "
            f"(count then {_n(f.start_count)})",
            caption=f"model: {f.model}, per {describe_interval(f.interval_s)}",
        )
        for col in ("day", "until (UTC)", "new posts", level, "count at end", level):
            table.add_column(col, justify="left" if col.startswith("until") else "right")
        for d in f.days:
            table.add_row(
                str(d.day), f"{d.end:%m-%d %H:%M}", _n(d.posts),
                f"{_n(d.posts_low)}–{_n(d.posts_high)}", _n(d.count),
                _offsets(d.count, d.count_low, d.count_high),
            )  # fmt: skip
        console.print(table)
    scores = Table(
        title="Backtest (rolling origin): MASE ranks, lower wins; MAPE over slots with posts"
    )
    for col in ("tag", "method", "MAPE %", "MASE", "band covered"):
        scores.add_column(col, justify="left" if col in ("tag", "method") else "right")
    for f in result:
        bt = f.backtest
        ahead = bt.horizon_slots * bt.interval_s / 86_400
        covered = "—" if bt.coverage is None else f"{bt.coverage:.0%}"
        if bt.widen > 1.0:
            covered += f", band ×{bt.widen:.2f}"
        labels = ["#" + f.label, f"{bt.folds} × {ahead:g} d ahead", ""]
        for i, method in enumerate((MODEL, NAIVE, SEASONAL_NAIVE)):
            s = bt.score(method) if bt.scores else None
            scores.add_row(
                labels[i], method, _score(s.mape if s else None, 1),
                _score(s.mase if s else None), covered if method == MODEL else "",
                end_section=i == 2,
            )  # fmt: skip
    console.print(scores)
    for f in result:
        console.print(_verdict(f))
        for note in f.notes:
            console.print(f"#{f.label}: {note}", style="dim")


@friendly_errors
def forecast(
    tags: Annotated[list[str], typer.Argument(help="Tags to forecast")],
    days: Annotated[int, typer.Option("--days", help="Days to forecast")] = 7,
    interval: Annotated[
        str, typer.Option("--interval", help="Slot the model works in (divides a day)")
    ] = "1h",
    since: Annotated[
        str | None, typer.Option("--since", help="History from (e.g. 60d, or a date)")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="History up to (forecast from there)")
    ] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    level: Annotated[
        float, typer.Option("--level", help="Coverage of the prediction intervals")
    ] = 0.9,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Chart of history, forecast and band: .html or .png"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    home: HomeOption = None,
) -> None:
    """Forecast new posts and the count for the next --days, with prediction intervals and a
    backtest against naive baselines."""
    settings = settings_for(home)
    now = datetime.now(UTC)
    interval_s = parse_duration(interval, field="--interval")
    result = forecast_tags(
        LakeQuery(settings.lake),
        tags,
        days=days,
        interval_s=interval_s,
        level=level,
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        platform=platform,
    )
    if out is not None:
        write_forecast_chart(result, out, title=f"Forecast of the next {days} days")
    if as_json:
        console.print_json(orjson.dumps([_doc(f) for f in result]).decode())
        return
    _print(result, days)
    if out is not None:
        console.print(f"chart: {out}")


#: The JSON document (shared with the API).
forecast_doc = _doc


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to the ``insights`` sub-app."""
    app.command(name="forecast")(forecast)
