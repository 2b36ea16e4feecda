"""`tagpulse insights campaign`: a campaign before, during and after, with its uplift."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.campaign import CampaignReport, campaign_report, chart_series, report_dict
from tagpulse.analysis.campaign_rates import HOUR_S
from tagpulse.analysis.charts import write_chart
from tagpulse.analysis.timeline import parse_duration
from tagpulse.cli.campaign import open_store
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.campaigns import Campaign, make_campaign, parse_moment, split_list
from tagpulse.lake.query import LakeQuery

__all__ = ["campaign", "register"]


def register(app: typer.Typer) -> None:
    """Add ``campaign`` to the ``insights`` sub-app."""
    app.command(name="campaign")(campaign)


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _resolve(
    name: str | None,
    tags: str | None,
    handles: str | None,
    start: str | None,
    end: str | None,
    home: Path | None,
) -> Campaign:
    if name is not None:
        if tags or handles or start or end:
            raise InputError(
                "give a stored campaign's NAME or an ad-hoc --tags/--handles/--start/--end, "
                "not both",
                field="NAME",
            )
        with open_store(home) as store:
            return store.get(name)
    if not start or not end:
        raise InputError(
            "name a stored campaign (see tagpulse campaign list), or give --tags (or "
            "--handles), --start and --end",
            field="--start" if not start else "--end",
        )
    return make_campaign(
        "ad-hoc", tags=split_list(tags), handles=split_list(handles),
        start=parse_moment(start, field="--start"), end=parse_moment(end, field="--end"),
    )  # fmt: skip


def _chart(report: CampaignReport, out: Path) -> None:
    series, marks = chart_series(report)
    level = f"{report.uplift.level:.0%}" if report.uplift else "95%"
    write_chart(
        series, out, interval_s=report.block_hours * HOUR_S, marks=marks,
        title=f"Campaign {report.campaign.name} (counterfactual band: {level})",
        measure="new posts per day",
    )  # fmt: skip


def _print(report: CampaignReport, top: int) -> None:
    c = report.campaign
    what = ", ".join(["#" + t for t in c.tags] + ["@" + h for h in c.handles])
    console.print(
        f"[bold]{c.name}[/]: {what}, {c.start:%Y-%m-%d %H:%M} → {c.end:%Y-%m-%d %H:%M} UTC"
        f"{f' on {c.platform}' if c.platform else ''}"
    )
    periods = Table(title="Before, during, after")
    periods.add_column("")
    for p in report.periods:
        clipped = " (clipped)" if p.period.clipped else ""
        periods.add_column(
            f"{p.period.name}{clipped}\n{p.period.start:%m-%d %H:%M} → {p.period.end:%m-%d %H:%M}",
            justify="right",
        )
    rows: list[tuple[str, list[str]]] = [
        ("new posts (counts)", [_n(p.new_posts) for p in report.periods]),
        ("new posts / day", [_n(p.new_posts_per_day) for p in report.periods]),
        *(
            (f"  #{tag}", [_n(p.new_posts_by_tag.get(tag)) for p in report.periods])
            for tag in c.tags
        ),
        ("posts seen", [_n(p.posts.posts_seen) for p in report.periods]),
        ("unique authors", [_n(p.posts.unique_authors) for p in report.periods]),
        ("likes", [_n(p.posts.likes) for p in report.periods]),
        ("comments", [_n(p.posts.comments) for p in report.periods]),
        ("engagement / post", [_n(p.posts.engagement_per_post) for p in report.periods]),
        ("engagement rate", [_rate(p.posts.engagement_rate) for p in report.periods]),
        ("sentiment", ["—" if p.sentiment is None else f"{p.sentiment:+.2f}"
                       for p in report.periods]),
    ]  # fmt: skip
    for label, values in rows:
        periods.add_row(label, *values)
    console.print(periods)
    u = report.uplift
    if u is not None:
        console.print(
            f"Uplift during vs before: [bold]{_pct(u.estimate)}[/] ({u.level:.0%} CI "
            f"{_pct(u.low)} … {_pct(u.high)}), p = {u.p_value:.2g} — Welch t-test on log "
            f"posts/hour of {u.before_blocks} + {u.during_blocks} blocks of "
            f"{report.block_hours} h, seasonality: {report.seasonality}",
            highlight=False,
        )
    if report.counterfactuals:
        cf = Table(title="Actual vs counterfactual (the before period's trend, projected)")
        for col in ("period", "actual", "counterfactual", "interval", "effect", "interval", "p"):
            cf.add_column(col, justify="left" if col == "period" else "right")
        for x in report.counterfactuals:
            cf.add_row(
                x.period, _n(x.actual), _n(x.expected), f"{_n(x.low)} … {_n(x.high)}",
                _pct(x.effect), f"{_pct(x.effect_low)} … {_pct(x.effect_high)}",
                "—" if x.p_value is None else f"{x.p_value:.2g}",
            )  # fmt: skip
        console.print(cf)
    posts = Table(title=f"Top posts (by likes + comments, {top} a period)")
    for col in ("period", "post", "owner", "likes", "comments"):
        posts.add_column(col, justify="right" if col in ("likes", "comments") else "left")
    authors = Table(title=f"Top authors (by likes + comments, {top} a period)")
    for col in ("period", "author", "posts", "likes", "comments", "followers"):
        authors.add_column(col, justify="left" if col in ("period", "author") else "right")
    for p in report.periods:
        for t in p.posts.top_posts:
            posts.add_row(p.period.name, t.url or t.post_id, t.owner, _n(t.likes), _n(t.comments))
        for a in p.posts.top_authors:
            authors.add_row(p.period.name, a.owner, _n(a.posts), _n(a.likes), _n(a.comments),
                            _n(a.followers))  # fmt: skip
    if posts.row_count:
        console.print(posts)
        console.print(authors)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


@friendly_errors
def campaign(
    name: Annotated[
        str | None, typer.Argument(help="A stored campaign (tagpulse campaign list)")
    ] = None,
    tags: Annotated[str | None, typer.Option("--tags", help="Ad hoc: comma-separated tags")] = None,
    handles: Annotated[
        str | None, typer.Option("--handles", help="Ad hoc: comma-separated handles")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Ad hoc: start (UTC)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Ad hoc: end (exclusive)")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="Only this platform")] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Length of the before period (default: the campaign's)"),
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option("--bucket", help="Block size of the test and chart (default: automatic)"),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Top posts and authors per period")] = 5,
    out: Annotated[
        Path | None, typer.Option("--out", help="Chart of the rate with periods: .html/.png")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    home: HomeOption = None,
) -> None:
    """A campaign before vs during vs after: posts, authors, engagement, uplift, counterfactual."""
    definition = _resolve(name, tags, handles, start, end, home)
    block_s = parse_duration(bucket, field="--bucket") if bucket else None
    if block_s is not None and block_s % HOUR_S:
        raise InputError(f"{bucket!r}: use whole hours (e.g. 6h, 1d)", field="--bucket")
    report = campaign_report(
        LakeQuery(settings_for(home).lake),
        definition,
        baseline_s=parse_duration(baseline, field="--baseline") if baseline else None,
        block_hours=block_s // HOUR_S if block_s else None,
        top=top,
        platform=platform,
    )
    if out is not None:
        _chart(report, out)
    if as_json:
        console.print_json(orjson.dumps(report_dict(report)).decode())
        return
    _print(report, top)
    if out is not None:
        console.print(f"chart: {out}", highlight=False)
