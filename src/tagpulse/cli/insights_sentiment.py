"""`tagpulse insights sentiment`: sentiment around a brand's tags over time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.charts import write_chart
from tagpulse.analysis.sentiment import ItemSentiment, SentimentReport, TextKind, tag_sentiment
from tagpulse.analysis.timeline import describe_interval, parse_duration, parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = ["register", "sentiment", "sentiment_doc"]

_EXCERPT = 70
_KINDS: tuple[TextKind, ...] = ("all", "caption", "comment")


def _item_doc(item: ItemSentiment) -> dict[str, object]:
    return {
        "platform": item.platform, "post_id": item.post_id, "kind": item.kind,
        "item_id": item.item_id, "owner_id": item.owner_id,
        "taken_at": item.taken_at.isoformat(), "sentiment": item.sentiment,
        "language": item.language, "text": item.text, "url": item.url,
    }  # fmt: skip


def _doc(report: SentimentReport) -> dict[str, object]:
    return {
        "tags": report.tags,
        "n": report.n,
        "mean": report.mean,
        "positive_share": report.positive_share,
        "negative_share": report.negative_share,
        "points": [
            {"at": p.at.isoformat(), "n": p.n, "mean": p.mean,
             "positive_share": p.positive_share, "negative_share": p.negative_share}
            for p in report.points
        ],
        "shifts": [
            {"at": s.at.isoformat(), "mean_before": s.mean_before, "mean_after": s.mean_after,
             "n_before": s.n_before, "n_after": s.n_after, "p_value": s.p_value}
            for s in report.shifts
        ],
        "most_positive": [_item_doc(i) for i in report.most_positive],
        "most_negative": [_item_doc(i) for i in report.most_negative],
    }  # fmt: skip


def _excerpt(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"


def _items_table(title: str, items: list[ItemSentiment]) -> Table:
    table = Table(title=title)
    for col in ("score", "when", "lang", "text", "post"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for i in items:
        table.add_row(
            f"{i.sentiment:+.2f}", f"{i.taken_at:%Y-%m-%d %H:%M}", i.language or "—",
            _excerpt(i.text), i.url or i.post_id,
        )  # fmt: skip
    return table


@friendly_errors
def sentiment(
    tags: Annotated[
        list[str] | None, typer.Argument(help="The brand's tags (default: every post)")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 14d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bucket size")] = "1d",
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="all, caption or comment: which texts count")
    ] = "all",
    top: Annotated[int, typer.Option("--top", help="Most positive/negative posts to list")] = 5,
    out: Annotated[
        Path | None, typer.Option("--out", help="Chart of the mean sentiment: .html or .png")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    home: HomeOption = None,
) -> None:
    """Sentiment around a brand's tags over time, its shifts, the most positive/negative posts."""
    settings = settings_for(home)
    now = datetime.now(UTC)
    interval_s = parse_duration(interval, field="--interval")
    if kind not in _KINDS:
        raise InputError(f"choose all, caption or comment; got {kind!r}", field="--kind")
    report = tag_sentiment(
        LakeQuery(settings.lake),
        tags or [],
        interval_s=interval_s,
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        platform=platform,
        kind=_KINDS[_KINDS.index(kind)],
        top=top,
    )
    if not report.enriched:
        raise InputError(
            f"the post_text table in {settings.lake} is empty: run `tagpulse enrich` first"
        )
    label = " ".join("#" + t for t in report.tags) or "all posts"
    if out is not None:
        # The chart draws integers: the mean score in hundredths (-100 … 100).
        series = {label: [(p.at, round(100 * p.mean)) for p in report.points]}
        write_chart(
            series, out, title=f"Sentiment around {label}", interval_s=interval_s,
            measure="mean sentiment (x100, -100 … 100)",
        )  # fmt: skip
    if as_json:
        console.print_json(orjson.dumps(_doc(report)).decode())
        return
    if report.n == 0:
        console.print(f"[yellow]no enriched captions or comments around {label}[/]")
        return
    table = Table(title=f"Sentiment around {label}, per {describe_interval(interval_s)}")
    for col in ("from", "n", "mean", "positive", "negative"):
        table.add_column(col, justify="left" if col == "from" else "right")
    for p in report.points:
        table.add_row(
            f"{p.at:%Y-%m-%d %H:%M}", str(p.n), f"{p.mean:+.2f}", f"{p.positive_share:.0%}",
            f"{p.negative_share:.0%}",
        )  # fmt: skip
    table.add_row(
        "all", str(report.n), f"{report.mean or 0:+.2f}", f"{report.positive_share or 0:.0%}",
        f"{report.negative_share or 0:.0%}", style="bold",
    )  # fmt: skip
    console.print(table)
    for s in report.shifts:
        console.print(
            f"shift at {s.at:%Y-%m-%d %H:%M}: mean {s.mean_before:+.2f} → {s.mean_after:+.2f} "
            f"(n {s.n_before} → {s.n_after}, Welch p = {s.p_value:.2g})"
        )
    console.print(_items_table("Most positive", report.most_positive))
    console.print(_items_table("Most negative", report.most_negative))
    if out is not None:
        console.print(f"chart: {out}")


#: The JSON document (shared with the API).
sentiment_doc = _doc


def register(app: typer.Typer) -> None:
    app.command(name="sentiment")(sentiment)
