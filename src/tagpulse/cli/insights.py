"""`tagpulse insights ...`: what the lake says, as a table, JSON and a chart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.area import write_stacked_area
from tagpulse.analysis.charts import write_chart
from tagpulse.analysis.insights_timeline import tag_timelines
from tagpulse.analysis.pie import write_pie
from tagpulse.analysis.share import share_by_platform
from tagpulse.analysis.spikes import find_spikes
from tagpulse.analysis.timeline import describe_interval, parse_duration, parse_since
from tagpulse.cli import (
    insights_campaign,
    insights_classes,
    insights_forecast,
    insights_influencers,
    insights_report,
    insights_sentiment,
)
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.lake.query import LakeQuery

__all__ = ["app"]

app = typer.Typer(
    help="Insights over the lake: timelines with change points, share of voice, spikes.",
    no_args_is_help=True,
)

RATE = "growth rate (posts/day)"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


@app.command()
@friendly_errors
def timeline(
    tags: Annotated[list[str] | None, typer.Argument(help="Tags (default: all)")] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 14d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bucket size")] = "6h",
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    min_size: Annotated[
        int, typer.Option("--min-size", help="Fewest buckets between two change points")
    ] = 3,
    out: Annotated[
        Path | None, typer.Option("--out", help="Chart of the growth rate: .html or .png")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    home: HomeOption = None,
) -> None:
    """Per tag: counts, growth rate (posts/day) per interval, and where the rate changed."""
    settings = settings_for(home)
    now = datetime.now(UTC)
    interval_s = parse_duration(interval, field="--interval")
    result = tag_timelines(
        LakeQuery(settings.lake),
        tags or [],
        interval_s=interval_s,
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        platform=platform,
        min_size=min_size,
    )
    if out is not None:
        rates = {t.label: [(at, round(r)) for at, r in t.rates] for t in result}
        write_chart(
            rates,
            out,
            title=f"Growth rate per {describe_interval(interval_s)}",
            interval_s=interval_s,
            measure=RATE,
        )
    if as_json:
        doc = [
            {
                "tag": t.label,
                "first_count": t.first_count,
                "last_count": t.last_count,
                "mean_rate_per_day": t.mean_rate,
                "rates": [{"at": at.isoformat(), "per_day": r} for at, r in t.rates],
                "change_points": [
                    {"at": c.at.isoformat(), "rate_before": c.rate_before,
                     "rate_after": c.rate_after}
                    for c in t.change_points
                ],
            }
            for t in result
        ]  # fmt: skip
        console.print_json(orjson.dumps(doc).decode())
        return
    table = Table(title=f"Timelines, growth per {describe_interval(interval_s)}")
    for col in ("tag", "first", "last", "posts/day", "change points (rate before → after)"):
        table.add_column(col, justify="left" if col.startswith(("tag", "change")) else "right")
    for t in result:
        marks = "; ".join(
            f"{c.at:%Y-%m-%d %H:%M} {_fmt(c.rate_before)} → {_fmt(c.rate_after)}"
            for c in t.change_points
        )
        table.add_row(
            "#" + t.label, _fmt(t.first_count), _fmt(t.last_count), _fmt(t.mean_rate),
            marks or "none",
        )  # fmt: skip
    console.print(table)
    if out is not None:
        console.print(f"chart: {out}")


@app.command()
@friendly_errors
def share(
    tags: Annotated[list[str], typer.Argument(help="Competing tags (two or more)")],
    since: Annotated[str | None, typer.Option("--since", help="e.g. 14d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bucket size over time")] = "1d",
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Pie of the posts share: .html or .png")
    ] = None,
    over_time: Annotated[
        Path | None,
        typer.Option("--over-time", help="Stacked area of the posts share (%) per interval"),
    ] = None,
    engagement_over_time: Annotated[
        Path | None,
        typer.Option(
            "--engagement-over-time", help="Stacked area of the engagement share (%) per interval"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    home: HomeOption = None,
) -> None:
    """Share of voice among competing tags: new posts and engagement, and over time, per
    platform."""
    settings = settings_for(home)
    now = datetime.now(UTC)
    interval_s = parse_duration(interval, field="--interval")
    results = share_by_platform(
        LakeQuery(settings.lake),
        tags,
        interval_s=interval_s,
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        platform=platform,
    )
    several = len(results) > 1
    written: list[Path] = []
    for plat, result in results:
        suffix = f" ({plat})" if plat else ""
        labels = ["#" + t.tag for t in result.tags]
        if out is not None:
            written.append(write_pie(
                [("#" + t.tag, float(t.posts or 0)) for t in result.tags],
                _per_platform(out, plat, several),
                title=f"Share of voice: new posts{suffix}",
            ))  # fmt: skip
        for path, series, what in (
            (over_time, result.over_time, "new posts"),
            (engagement_over_time, result.engagement_over_time, "engagement"),
        ):
            if path is not None:
                written.append(write_stacked_area(
                    labels,
                    [(at, {"#" + t: v for t, v in shares.items()}) for at, shares in series],
                    _per_platform(path, plat, several),
                    title=f"Share of voice over time: {what}{suffix}",
                    measure=f"share of {what} (%) per {describe_interval(interval_s)}",
                ))  # fmt: skip
    if as_json:
        doc = {"platforms": [
            {
                "platform": plat,
                "tags": [
                    {"tag": t.tag, "posts": t.posts, "posts_share": t.posts_share,
                     "engagement": t.engagement, "engagement_share": t.engagement_share,
                     "posts_seen": t.posts_seen}
                    for t in result.tags
                ],
                "over_time": [{"at": at.isoformat(), "shares": s} for at, s in result.over_time],
                "engagement_over_time": [
                    {"at": at.isoformat(), "shares": s} for at, s in result.engagement_over_time
                ],
            }
            for plat, result in results
        ]}  # fmt: skip
        console.print_json(orjson.dumps(doc).decode())
        return
    for plat, result in results:
        table = Table(title="Share of voice" + (f" on {plat}" if plat else ""))
        for col in ("tag", "new posts", "share", "engagement", "share", "posts seen"):
            table.add_column(col, justify="left" if col == "tag" else "right")
        for t in result.tags:
            table.add_row(
                "#" + t.tag, _fmt(t.posts), _pct(t.posts_share), _fmt(t.engagement),
                _pct(t.engagement_share), _fmt(t.posts_seen),
            )  # fmt: skip
        console.print(table)
    for path in written:
        console.print(f"chart: {path}")


def _per_platform(path: Path, platform: str | None, several: bool) -> Path:
    """``share.html`` → ``share-tiktok.html`` when the answer spans several platforms."""
    return path.with_name(f"{path.stem}-{platform}{path.suffix}") if several and platform else path


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


@app.command()
@friendly_errors
def spikes(
    tags: Annotated[list[str] | None, typer.Argument(help="Tags for count anomalies")] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 14d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bucket size for tags")] = "6h",
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Robust z-score that counts as a spike")
    ] = 3.5,
    min_posts: Annotated[
        int, typer.Option("--min-posts", help="Fewest posts of an author to score them")
    ] = 5,
    top: Annotated[int, typer.Option("--top", help="Post spikes to list")] = 20,
    out: Annotated[
        Path | None, typer.Option("--out", help="Chart of the tags' growth rate: .html/.png")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    home: HomeOption = None,
) -> None:
    """Posts far above their author's usual engagement, and hashtag counts that jump."""
    settings = settings_for(home)
    now = datetime.now(UTC)
    interval_s = parse_duration(interval, field="--interval")
    query = LakeQuery(settings.lake)
    window = {
        "since": parse_since(since, now, field="--since") if since else None,
        "until": parse_since(until, now, field="--until") if until else None,
        "platform": platform,
    }
    result = find_spikes(
        query, tags or [], interval_s=interval_s, threshold=threshold, min_posts=min_posts,
        **window,  # type: ignore[arg-type]
    )  # fmt: skip
    if out is not None:
        timelines = tag_timelines(query, tags or [], interval_s=interval_s, **window)  # type: ignore[arg-type]
        write_chart(
            {t.label: [(at, round(r)) for at, r in t.rates] for t in timelines},
            out, title="Growth rate (spikes stand out)", interval_s=interval_s, measure=RATE,
        )  # fmt: skip
    if as_json:
        doc = {
            "posts": [
                {"platform": p.platform, "post_id": p.post_id, "owner": p.owner,
                 "likes": p.likes, "comments": p.comments,
                 "author_median_likes": p.author_median_likes, "likes_z": p.likes_z,
                 "comments_z": p.comments_z, "comments_per_hour": p.comments_per_hour,
                 "url": p.url}
                for p in result.posts[:top]
            ],
            "tags": [
                {"tag": a.tag, "at": a.at.isoformat(), "rate_per_day": a.rate_per_day,
                 "median_rate": a.median_rate, "z": a.z}
                for a in result.tags
            ],
        }  # fmt: skip
        console.print_json(orjson.dumps(doc).decode())
        return
    posts = Table(title=f"Post spikes ({len(result.posts)} in all, top {top})")
    for col in ("post", "owner", "likes", "author median", "z likes", "z comments"):
        posts.add_column(col, justify="left" if col in ("post", "owner") else "right")
    for p in result.posts[:top]:
        posts.add_row(
            p.url or p.post_id, p.owner, _fmt(p.likes), _fmt(p.author_median_likes),
            _z(p.likes_z), _z(p.comments_z),
        )  # fmt: skip
    console.print(posts)
    anomalies = Table(title="Hashtag count anomalies")
    for col in ("tag", "at", "posts/day", "usual", "z"):
        anomalies.add_column(col, justify="left" if col in ("tag", "at") else "right")
    for a in result.tags:
        anomalies.add_row(
            "#" + a.tag, f"{a.at:%Y-%m-%d %H:%M}", _fmt(a.rate_per_day), _fmt(a.median_rate),
            _z(a.z),
        )  # fmt: skip
    console.print(anomalies)


def _z(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


insights_campaign.register(app)
insights_influencers.register(app)
insights_forecast.register(app)
insights_sentiment.register(app)
insights_classes.register(app)
insights_report.register(app)
