"""``tagpulse insights campaign``: a campaign before, during and after, its uplift and its
counterfactual.

Periods: **during** is the campaign's ``[start, end)``; **before** the same length right before
it (or ``baseline_s``); **after** the same length right after it. Each is clipped to the data
the lake holds (a campaign still running has a short or no after period).

Per period:

* **new posts**, per tag and in total, from the tags' counts (``hashtag_snapshots``): the
  count at the period's end minus the count at its start, each interpolated linearly between
  the snapshots around it. The total is the sum over tags: a post carrying two campaign tags
  is counted under each (the platforms do not say how tags overlap);
* from the posts the lake saw (``posts``) carrying a campaign tag or by a campaign handle:
  posts, unique authors, likes, comments, engagement rate, top posts and top authors (see
  :mod:`~tagpulse.analysis.campaign_posts`); sentiment is the mean caption sentiment of the
  period's posts from ``post_text`` (None until ``tagpulse enrich`` has run).

The **uplift** (during vs before, Welch's t-test on seasonally adjusted block rates) and the
**counterfactual** (the pre-period's trend projected over the campaign) are described in
:mod:`~tagpulse.analysis.campaign_stats`; the hourly series they use in
:mod:`~tagpulse.analysis.campaign_rates`. They come from the tags' counts, or, for a campaign
of handles only (no counts), from the posts seen per hour of posting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from tagpulse.analysis.campaign_posts import (
    PostStats,
    campaign_posts,
    caption_sentiment,
    post_stats,
)
from tagpulse.analysis.campaign_rates import (
    HOUR_S,
    FloatArray,
    arrays,
    block_ranges,
    choose_block_hours,
    hour_of_week,
    hourly_posts,
    make_blocks,
    seasonal_factors,
)
from tagpulse.analysis.campaign_stats import (
    Counterfactual,
    Uplift,
    block_band,
    fit_trend,
    project,
    uplift_test,
)
from tagpulse.analysis.timeline import Series
from tagpulse.errors import InputError
from tagpulse.lake.campaigns import Campaign, campaign_dict, iso
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS

__all__ = [
    "CampaignReport",
    "Period",
    "PeriodReport",
    "RatePoint",
    "campaign_report",
    "chart_series",
    "report_dict",
]

#: How far back before the campaign the seasonal shape is learnt from (up to 8 weekly cycles).
HISTORY_S = 56 * 86_400
_DAY_S = 86_400.0


@dataclass(slots=True, frozen=True)
class Period:
    name: str
    start: datetime
    end: datetime
    #: Shortened (or emptied) because the lake's data starts later or ends earlier.
    clipped: bool

    @property
    def days(self) -> float:
        return max((self.end - self.start).total_seconds(), 0.0) / _DAY_S


@dataclass(slots=True)
class PeriodReport:
    period: Period
    new_posts: int | None
    new_posts_by_tag: dict[str, int | None]
    posts: PostStats
    #: Mean caption sentiment (VADER compound, -1..1) of the period's enriched posts.
    sentiment: float | None = None

    @property
    def new_posts_per_day(self) -> float | None:
        days = self.period.days
        return self.new_posts / days if self.new_posts is not None and days > 0 else None


@dataclass(slots=True, frozen=True)
class RatePoint:
    """One block of the rate chart: posts per day, seasonally adjusted too, and the
    counterfactual with its interval (None before the campaign)."""

    at: datetime
    period: str
    posts_per_day: float
    adjusted_per_day: float
    counterfactual: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(slots=True)
class CampaignReport:
    campaign: Campaign
    periods: list[PeriodReport]
    uplift: Uplift | None
    counterfactuals: list[Counterfactual]
    block_hours: int
    seasonality: str
    #: ``"hashtag counts"``, ``"posts seen"`` or ``"none"``.
    rate_source: str
    rates: list[RatePoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def period(self, name: str) -> PeriodReport:
        return next(p for p in self.periods if p.period.name == name)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _load_counts(
    query: LakeQuery, campaign: Campaign, lo: datetime, hi: datetime, platform: str | None
) -> dict[tuple[str, str], tuple[FloatArray, FloatArray]]:
    if not campaign.tags:
        return {}
    marks = ",".join("?" for _ in campaign.tags)
    where = ["post_count IS NOT NULL", "collected_at >= ?", "collected_at <= ?",
             "date >= ?", "date <= ?", f"tag IN ({marks})"]  # fmt: skip
    params: list[Any] = [lo, hi, lo.date(), hi.date(), *campaign.tags]
    if platform:
        where.append("platform = ?")
        params.append(platform)
    rows = query.rows(
        f"SELECT platform, tag, epoch(collected_at) AS t, max(post_count) AS n "
        f"FROM {HASHTAG_SNAPSHOTS}_all WHERE {' AND '.join(where)} GROUP BY ALL",
        params,
    )
    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in rows:
        points.setdefault((r["platform"], r["tag"]), []).append((float(r["t"]), float(r["n"])))
    return {key: arrays(p) for key, p in sorted(points.items())}


def _gained(
    series: dict[tuple[str, str], tuple[FloatArray, FloatArray]], tags: tuple[str, ...],
    a: float, b: float,
) -> dict[str, int | None]:  # fmt: skip
    out: dict[str, int | None] = dict.fromkeys(tags)
    if b <= a:
        return out
    for (_, tag), (times, counts) in series.items():
        if times[0] <= a and b <= times[-1]:
            n = round(float(np.interp(b, times, counts) - np.interp(a, times, counts)))
            out[tag] = (out[tag] or 0) + n
    return out


def _periods(
    start: float, before_h: int, during_h: int, data: tuple[float, float]
) -> dict[str, Period]:
    end = start + during_h * HOUR_S
    bounds = {
        "before": (start - before_h * HOUR_S, start),
        "during": (start, end),
        "after": (end, end + during_h * HOUR_S),
    }
    periods: dict[str, Period] = {}
    for name, (a, b) in bounds.items():
        ca = max(a, data[0])
        cb = max(min(b, data[1]), ca)
        periods[name] = Period(name, _utc(ca), _utc(cb), (ca, cb) != (a, b))
    return periods


def campaign_report(
    query: LakeQuery,
    campaign: Campaign,
    *,
    baseline_s: int | None = None,
    block_hours: int | None = None,
    top: int = 5,
    platform: str | None = None,
    level: float = 0.95,
) -> CampaignReport:
    """Before/during/after figures, uplift and counterfactual for ``campaign``.

    ``platform`` overrides the campaign's own; ``block_hours`` the automatic block size (the
    largest of 24, 12, 6, 3, 1 hours leaving six blocks in the before and during periods).
    Periods are whole hours from the campaign's start.
    """
    if baseline_s is not None and baseline_s < HOUR_S:
        raise InputError("the baseline must be at least one hour", field="--baseline")
    if block_hours is not None and block_hours < 1:
        raise InputError("the block size must be at least one hour", field="--bucket")
    platform = platform or campaign.platform
    during_h = max(1, math.floor(campaign.duration_s / HOUR_S))
    before_h = max(1, (baseline_s or during_h * HOUR_S) // HOUR_S)
    origin = max(before_h, HISTORY_S // HOUR_S)  # grid index of the campaign's start
    start = _epoch(campaign.start)
    grid_start = start - origin * HOUR_S
    edges = grid_start + HOUR_S * np.arange(origin + 2 * during_h + 1, dtype=np.float64)
    window = (_utc(grid_start), _utc(float(edges[-1])))
    margin = timedelta(days=1)
    series = _load_counts(query, campaign, window[0] - margin, window[1] + margin, platform)
    rows = campaign_posts(
        query, tags=campaign.tags, handles=campaign.handles, since=window[0], until=window[1],
        platform=platform,
    )  # fmt: skip
    counted = {tag for _, tag in series}
    notes = [
        f"#{tag}: no counts around these dates (not tracked, or hidden by the platform)"
        for tag in campaign.tags
        if tag not in counted
    ]
    posts = hourly_posts(series, edges)
    source = "hashtag counts"
    times = [t for ts, _ in series.values() for t in (float(ts[0]), float(ts[-1]))]
    if not np.isfinite(posts).any():
        posts, source = _posts_seen_per_hour(rows, edges)
        if source != "none":
            times = [_epoch(r[k]) for r in rows for k in ("taken_at", "collected_at")]
            if campaign.tags:
                notes.append("no hashtag counts in the window: rates are posts seen per hour")
    if not times:
        notes.append("the lake holds no counts or posts for this campaign around its dates")
    periods = _periods(start, before_h, during_h,
                       (min(times), max(times)) if times else (-math.inf, math.inf))  # fmt: skip

    factors, seasonality = seasonal_factors(
        posts, hour_of_week(edges), np.arange(posts.size) < origin
    )
    hours_of = {
        name: (round((_epoch(p.start) - grid_start) / HOUR_S), round(p.days * 24))
        for name, p in periods.items()
    }
    size = block_hours or choose_block_hours(
        *(n for name, (_, n) in hours_of.items() if name != "after" and n > 0)
    )
    blocks = {
        name: make_blocks(
            name, block_ranges(first, count, size, from_end=name == "before"), size, origin,
            posts, factors,
        )
        for name, (first, count) in hours_of.items()
    }  # fmt: skip
    uplift = uplift_test(
        [b.adjusted_per_hour for b in blocks["before"]],
        [b.adjusted_per_hour for b in blocks["during"]],
        offset=0.5 / size,
        level=level,
    )
    if uplift is None:
        notes.append(f"uplift: needs 2 blocks of {size} h with data before and during")
    fit = fit_trend(blocks["before"])
    counterfactuals: list[Counterfactual] = []
    if fit is None:
        notes.append(f"counterfactual: needs 3 blocks of {size} h with data before")
    else:
        mids = np.arange(posts.size, dtype=np.float64) + 0.5 - origin
        for name in ("during", "after"):
            first, count = hours_of[name]
            part = slice(first, first + count)
            cf = project(fit, name, mids[part], factors[part], posts[part], level=level)
            if cf is not None:
                counterfactuals.append(cf)

    rates: list[RatePoint] = []
    for name, period_blocks in blocks.items():
        for blk in period_blocks:
            band = block_band(fit, blk, level=level) if fit and name != "before" else None
            rates.append(
                RatePoint(
                    _utc(float(edges[blk.first])), name, blk.posts_per_hour * 24,
                    blk.adjusted_per_hour * 24, *((v * 24 for v in band) if band else ()),
                )
            )  # fmt: skip
    reports = []
    for p in periods.values():
        a, b = _epoch(p.start), _epoch(p.end)
        by_tag = _gained(series, campaign.tags, a, b)
        known = [v for v in by_tag.values() if v is not None]
        in_period = [r for r in rows if a <= _epoch(r["taken_at"]) < b]
        reports.append(
            PeriodReport(
                p,
                sum(known) if known else None,
                by_tag,
                post_stats(in_period, top=top),
                caption_sentiment(query, in_period),
            )
        )
    return CampaignReport(
        campaign, reports, uplift, counterfactuals, size, seasonality, source, rates, notes
    )


def _posts_seen_per_hour(rows: list[dict[str, Any]], edges: FloatArray) -> tuple[FloatArray, str]:
    """Posts seen per hour of posting; hours from the first post to the last observation."""
    hours = np.full(edges.size - 1, np.nan)
    if not rows:
        return hours, "none"
    taken = np.array([_epoch(r["taken_at"]) for r in rows])
    seen_until = max(_epoch(r["collected_at"]) for r in rows)
    counts, _ = np.histogram(taken, bins=edges)
    covered = (edges[:-1] >= np.floor(taken.min() / HOUR_S) * HOUR_S) & (edges[1:] <= seen_until)
    hours[covered] = counts[covered]
    return hours, "posts seen"


def _period_dict(p: PeriodReport) -> dict[str, Any]:
    s = p.posts
    return {
        "name": p.period.name, "start": iso(p.period.start), "end": iso(p.period.end),
        "clipped": p.period.clipped, "days": p.period.days,
        "new_posts": p.new_posts, "new_posts_per_day": p.new_posts_per_day,
        "new_posts_by_tag": p.new_posts_by_tag,
        "posts_seen": s.posts_seen, "unique_authors": s.unique_authors, "likes": s.likes,
        "comments": s.comments, "engagement_per_post": s.engagement_per_post,
        "engagement_rate": s.engagement_rate, "sentiment": p.sentiment,
        "top_posts": [
            {"platform": t.platform, "post_id": t.post_id, "url": t.url, "owner": t.owner,
             "taken_at": iso(t.taken_at), "likes": t.likes, "comments": t.comments}
            for t in s.top_posts
        ],
        "top_authors": [
            {"platform": a.platform, "owner": a.owner, "posts": a.posts, "likes": a.likes,
             "comments": a.comments, "followers": a.followers}
            for a in s.top_authors
        ],
    }  # fmt: skip


def report_dict(report: CampaignReport) -> dict[str, Any]:
    """The whole report as JSON-ready data (what ``--json`` prints)."""
    u = report.uplift
    return {
        "campaign": campaign_dict(report.campaign),
        "method": {
            "block_hours": report.block_hours, "seasonality": report.seasonality,
            "rate_source": report.rate_source,
            "uplift_test": "Welch t-test on log seasonally adjusted posts/hour per block",
            "counterfactual": "OLS line through the before blocks, projected with seasonality",
        },
        "periods": [_period_dict(p) for p in report.periods],
        "uplift": None if u is None else {
            "estimate": u.estimate, "low": u.low, "high": u.high, "level": u.level,
            "p_value": u.p_value, "t": u.t, "df": u.df,
            "before_blocks": u.before_blocks, "during_blocks": u.during_blocks,
        },
        "counterfactual": [
            {"period": c.period, "hours": c.hours, "actual": c.actual, "expected": c.expected,
             "low": c.low, "high": c.high, "level": c.level, "effect": c.effect,
             "effect_low": c.effect_low, "effect_high": c.effect_high, "p_value": c.p_value}
            for c in report.counterfactuals
        ],
        "rates_per_day": [
            {"at": iso(r.at), "period": r.period, "posts": r.posts_per_day,
             "adjusted": r.adjusted_per_day, "counterfactual": r.counterfactual,
             "low": r.low, "high": r.high}
            for r in report.rates
        ],
        "notes": report.notes,
    }  # fmt: skip


def chart_series(report: CampaignReport) -> tuple[Series, list[tuple[datetime, str]]]:
    """The rate chart's lines (posts per day, the counterfactual and its band) and the
    periods' starts as vertical marks."""
    series: Series = {"new posts per day": [], "counterfactual": [], "counterfactual low": [],
                      "counterfactual high": []}  # fmt: skip
    for r in report.rates:
        series["new posts per day"].append((r.at, round(r.posts_per_day)))
        if r.counterfactual is not None and r.low is not None and r.high is not None:
            series["counterfactual"].append((r.at, round(r.counterfactual)))
            series["counterfactual low"].append((r.at, round(r.low)))
            series["counterfactual high"].append((r.at, round(r.high)))
    marks = [(p.period.start, p.period.name) for p in report.periods if p.period.days > 0]
    return series, marks
