"""The report's sections: each a function of the lake and the scope (see :mod:`report`)."""

from __future__ import annotations

import html

from tagpulse.analysis.area import area_svg
from tagpulse.analysis.bars import bars_svg
from tagpulse.analysis.charts import chart_svg
from tagpulse.analysis.forecast import forecast_tags
from tagpulse.analysis.forecast_backtest import MODEL, SEASONAL_NAIVE
from tagpulse.analysis.forecast_chart import forecast_svg
from tagpulse.analysis.influencers import PARTS, rank_influencers
from tagpulse.analysis.insights_timeline import tag_timelines
from tagpulse.analysis.pie import pie_svg
from tagpulse.analysis.report import ReportScope, Section, SectionBuilder, html_table
from tagpulse.analysis.share import share_by_platform
from tagpulse.analysis.spikes import find_spikes
from tagpulse.analysis.timeline import describe_interval
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = [
    "BASE_SECTIONS",
    "forecast_section",
    "influencers_section",
    "note",
    "share_section",
    "spikes_section",
    "timeline_section",
]


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def timeline_section(query: LakeQuery, scope: ReportScope) -> Section:
    timelines = tag_timelines(
        query, scope.tags, interval_s=scope.interval_s, since=scope.since, until=scope.until,
        platform=scope.platform,
    )  # fmt: skip
    rows, data = [], {}
    for t in timelines:
        first = t.points[0][1] if t.points else None
        last = t.points[-1][1] if t.points else None
        mean_rate = (
            sum(r for _, r in t.rates) / len(t.rates) if t.rates else None
        )  # posts/day over the period's intervals
        marks = "; ".join(
            f"{c.at:%m-%d %H:%M} {c.rate_before:,.0f} → {c.rate_after:,.0f}"
            for c in t.change_points
        )
        rows.append(["#" + t.label, first, last, mean_rate, marks or "none"])
        data[t.label] = {
            "first_count": first,
            "last_count": last,
            "mean_rate_per_day": mean_rate,
            "change_points": [
                {"at": c.at.isoformat(), "rate_before": c.rate_before, "rate_after": c.rate_after}
                for c in t.change_points
            ],
        }
    if not any(t.points for t in timelines):
        return Section("timeline", "Timeline", note("No counts for these tags in the period."))
    chart = chart_svg(
        {t.label: [(at, round(r)) for at, r in t.rates] for t in timelines},
        title="Growth rate",
        interval_s=scope.interval_s,
        measure="growth rate (posts/day)",
        svg_id="report-timeline",
    )
    table = html_table(
        ["tag", "first count", "last count", "posts/day", "change points (rate before → after)"],
        rows,
    )
    return Section("timeline", "Timeline and change points", chart + table, data)


def share_section(query: LakeQuery, scope: ReportScope) -> Section:
    if len(scope.tags) < 2:
        return Section("share", "Share of voice", note("Share of voice needs two tags or more."))
    parts, data = [], {}
    for plat, result in share_by_platform(
        query, scope.tags, interval_s=scope.interval_s, since=scope.since, until=scope.until,
        platform=scope.platform,
    ):  # fmt: skip
        where = f" on {plat}" if plat else ""
        labels = ["#" + t.tag for t in result.tags]
        parts.append(f"<h3>{html.escape('Share of voice' + where)}</h3>")
        parts.append(
            pie_svg([("#" + t.tag, float(t.posts or 0)) for t in result.tags],
                    title=f"New posts{where}")
        )  # fmt: skip
        if result.over_time:
            parts.append(
                area_svg(
                    labels,
                    [(at, {"#" + k: v for k, v in s.items()}) for at, s in result.over_time],
                    title=f"Share of new posts per {describe_interval(scope.interval_s)}{where}",
                )
            )
        parts.append(
            html_table(
                ["tag", "new posts", "share", "engagement", "share", "posts seen"],
                [
                    ["#" + t.tag, t.posts,
                     None if t.posts_share is None else f"{t.posts_share:.1%}", t.engagement,
                     None if t.engagement_share is None else f"{t.engagement_share:.1%}",
                     t.posts_seen]
                    for t in result.tags
                ],
            )
        )  # fmt: skip
        data[plat or "all"] = {
            t.tag: {"posts_share": t.posts_share, "engagement_share": t.engagement_share}
            for t in result.tags
        }
    return Section("share", "Share of voice", "".join(parts), data)


def spikes_section(query: LakeQuery, scope: ReportScope, top: int = 10) -> Section:
    spikes = find_spikes(
        query, scope.tags, interval_s=scope.interval_s, since=scope.since, until=scope.until,
        platform=scope.platform,
    )  # fmt: skip
    posts = spikes.posts[:top]
    post_rows = [
        [p.post_id, p.owner, p.likes, p.author_median_likes, p.likes_z, p.comments_z, p.url]
        for p in posts
    ]
    tag_rows = [
        ["#" + a.tag, f"{a.at:%Y-%m-%d %H:%M}", a.rate_per_day, a.median_rate, a.z]
        for a in spikes.tags[:top]
    ]
    body = "<h3>Posts far above their author's usual</h3>"
    if post_rows:
        headers = ["post", "author", "likes", "author's median", "likes z", "comments z", "url"]
        body += html_table(headers, post_rows)
    else:
        body += note("No post spikes (or too few posts per author to judge).")
    body += "<h3>Hashtag count anomalies</h3>"
    if tag_rows:
        body += html_table(["tag", "at (UTC)", "posts/day", "usual", "z"], tag_rows)
    else:
        body += note("No interval's growth stood out.")
    data = {
        "posts": [p.post_id for p in posts],
        "tag_anomalies": [{"tag": a.tag, "at": a.at.isoformat(), "z": a.z} for a in spikes.tags],
    }
    return Section("spikes", "Spikes", body, data)


def influencers_section(query: LakeQuery, scope: ReportScope, top: int = 15) -> Section:
    result = rank_influencers(
        query, scope.tags, since=scope.since, until=scope.until, platform=scope.platform
    )
    shown = result.accounts[:top]
    if not shown:
        return Section("influencers", "Influencers", note("No accounts posted with these tags."))
    chart = bars_svg(
        [(f"{a.rank}. {a.label}" + (" ⚠" if a.flags else ""), [p.points for p in a.parts])
         for a in shown],
        list(PARTS), title="Score by part",
    )  # fmt: skip
    rows = [
        [a.rank, a.label, a.followers, a.engagement_rate, a.consistency, a.centrality, a.score,
         "; ".join(f.reason for f in a.flags) or ""]
        for a in shown
    ]  # fmt: skip
    table = html_table(
        ["rank", "account", "followers", "engagement/follower", "consistency", "centrality",
         "score", "suspicious audience"],
        rows,
    )  # fmt: skip
    flagged = [a for a in result.accounts if a.flags]
    data = {
        "top": [{"account": a.label, "score": a.score} for a in shown],
        "flagged": [a.label for a in flagged],
    }
    return Section("influencers", "Influencers", chart + table, data)


def forecast_section(query: LakeQuery, scope: ReportScope, days: int = 7) -> Section:
    try:
        forecasts = forecast_tags(
            query, scope.tags, days=days, until=scope.until, platform=scope.platform
        )
    except InputError as exc:
        return Section("forecast", "Forecast", note(f"No forecast: {exc}"))
    if not forecasts:
        return Section("forecast", "Forecast", note("No counts to forecast from."))
    rows, data = [], {}
    for f in forecasts:
        last = f.days[-1]
        model = f.backtest.score(MODEL)
        naive = f.backtest.score(SEASONAL_NAIVE)
        band = f"{last.count_low:,.0f}–{last.count_high:,.0f}"
        rows.append([
            "#" + f.label, f.last_count, last.count, band, model.mase, naive.mase,
            "yes" if f.beats_baselines else "no",
        ])  # fmt: skip
        data[f.label] = {
            "count": last.count, "low": last.count_low, "high": last.count_high,
            "beats_baselines": f.beats_baselines,
        }  # fmt: skip
    body = forecast_svg(forecasts, title=f"Forecast, next {days} days") + html_table(
        ["tag", "count now", f"in {days} days", f"{forecasts[0].level:.0%} interval",
         "MASE model", "MASE seasonal naive", "beats baselines"],
        rows,
    )  # fmt: skip
    return Section("forecast", f"Forecast (next {days} days)", body, data)


#: The sections every report has, in order; others are appended as insights are added.
BASE_SECTIONS: list[SectionBuilder] = [
    timeline_section,
    share_section,
    spikes_section,
    influencers_section,
    forecast_section,
]
