"""The report's campaign, sentiment and image-class sections."""

from __future__ import annotations

from tagpulse.analysis.campaign import campaign_report, chart_series
from tagpulse.analysis.charts import chart_svg
from tagpulse.analysis.classes import image_classes
from tagpulse.analysis.panel_bars import BarPanel, panels_svg
from tagpulse.analysis.report import ReportScope, Section, html_table
from tagpulse.analysis.report_sections import note
from tagpulse.analysis.sentiment import tag_sentiment
from tagpulse.errors import InputError
from tagpulse.lake.campaigns import Campaign
from tagpulse.lake.query import LakeQuery

__all__ = ["campaign_section", "classes_section", "sentiment_section"]

_HOUR_S = 3600


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value:+.1%}"


def campaign_section(query: LakeQuery, scope: ReportScope, campaign: Campaign) -> Section:
    """Before vs during vs after, the uplift test and the counterfactual."""
    try:
        report = campaign_report(query, campaign)
    except InputError as exc:
        return Section("campaign", f"Campaign {campaign.name}", note(str(exc)))
    series, marks = chart_series(report)
    chart = chart_svg(
        series, title=f"Campaign {campaign.name}", interval_s=report.block_hours * _HOUR_S,
        measure="new posts per day", svg_id="report-campaign", marks=marks,
    )  # fmt: skip
    periods = html_table(
        ["period", "from", "to", "new posts", "posts/day", "posts seen", "authors", "likes",
         "comments", "engagement rate", "sentiment"],
        [
            [p.period.name, f"{p.period.start:%Y-%m-%d %H:%M}", f"{p.period.end:%Y-%m-%d %H:%M}",
             p.new_posts, p.new_posts_per_day, p.posts.posts_seen, p.posts.unique_authors,
             p.posts.likes, p.posts.comments,
             None if p.posts.engagement_rate is None else f"{p.posts.engagement_rate:.2%}",
             None if p.sentiment is None else f"{p.sentiment:+.2f}"]
            for p in report.periods
        ],
    )  # fmt: skip
    u = report.uplift
    uplift = (
        f"<p>Uplift during vs before: <strong>{_pct(u.estimate)}</strong> "
        f"({u.level:.0%} interval {_pct(u.low)} to {_pct(u.high)}), p = {u.p_value:.2g} "
        f"(Welch t-test on seasonally adjusted {report.block_hours} h blocks).</p>"
        if u is not None
        else note("Not enough data before and during the campaign for an uplift test.")
    )
    counterfactual = html_table(
        ["period", "actual", "counterfactual", "interval", "effect", "p"],
        [[c.period, c.actual, c.expected, f"{c.low:,.0f}–{c.high:,.0f}", _pct(c.effect),
          c.p_value] for c in report.counterfactuals],
    )  # fmt: skip
    during = report.period("during")
    tops = html_table(
        ["top post (during)", "author", "likes", "comments"],
        [[t.url or t.post_id, t.owner, t.likes, t.comments] for t in during.posts.top_posts],
    )  # fmt: skip
    data = {
        "uplift": None if u is None else {"estimate": u.estimate, "p_value": u.p_value},
        "periods": {p.period.name: {"new_posts": p.new_posts, "sentiment": p.sentiment}
                    for p in report.periods},
    }  # fmt: skip
    body = chart + uplift + periods + counterfactual + tops
    return Section("campaign", f"Campaign {campaign.name}", body, data)


def sentiment_section(query: LakeQuery, scope: ReportScope) -> Section:
    result = tag_sentiment(
        query, scope.tags, interval_s=86_400, since=scope.since, until=scope.until,
        platform=scope.platform,
    )  # fmt: skip
    if not result.enriched:
        return Section(
            "sentiment", "Sentiment", note("No text enrichment yet: run tagpulse enrich.")
        )
    if not result.points:
        return Section("sentiment", "Sentiment", note("No enriched captions or comments."))
    chart = chart_svg(
        {"mean sentiment ×100": [(p.at, round(100 * p.mean)) for p in result.points]},
        title="Sentiment", interval_s=86_400, measure="mean compound ×100",
        svg_id="report-sentiment", marks=[(s.at, "shift") for s in result.shifts],
    )  # fmt: skip
    shifts = html_table(
        ["shift at", "mean before", "mean after", "p"],
        [[f"{s.at:%Y-%m-%d %H:%M}", s.mean_before, s.mean_after, s.p_value]
         for s in result.shifts],
    ) if result.shifts else note("No shift in sentiment.")  # fmt: skip
    extremes = html_table(
        ["", "sentiment", "text"],
        [["most positive", i.sentiment, (i.text or "")[:140]] for i in result.most_positive]
        + [["most negative", i.sentiment, (i.text or "")[:140]] for i in result.most_negative],
    )  # fmt: skip
    data = {
        "n": result.n, "mean": result.mean,
        "shifts": [{"at": s.at.isoformat(), "before": s.mean_before, "after": s.mean_after}
                   for s in result.shifts],
    }  # fmt: skip
    return Section("sentiment", "Sentiment", chart + shifts + extremes, data)


def classes_section(query: LakeQuery, scope: ReportScope) -> Section:
    """Posts, likes and comments per post by the cover image's top label (``enrich --images``)."""
    title = "Image classes"
    result = image_classes(
        query, scope.tags, since=scope.since, until=scope.until, platform=scope.platform
    )
    if not result.classes:
        return Section("classes", title, note("No labelled images: run tagpulse enrich --images."))
    chart = panels_svg(
        [
            BarPanel("posts", [(c.label, float(c.posts)) for c in result.classes]),
            BarPanel("likes per post", [(c.label, c.mean_likes) for c in result.classes]),
            BarPanel("comments per post", [(c.label, c.mean_comments) for c in result.classes]),
        ],
        title=f"Top image classes ({result.posts_labelled} labelled posts)",
    )
    table = html_table(
        ["class", "posts", "share", "likes per post", "comments per post"],
        [[c.label, c.posts, round(c.posts_share, 3), c.mean_likes, c.mean_comments]
         for c in result.classes],
    )  # fmt: skip
    data = {
        "posts_labelled": result.posts_labelled, "other_posts": result.other_posts,
        "classes": [{"label": c.label, "posts": c.posts, "mean_likes": c.mean_likes,
                     "mean_comments": c.mean_comments} for c in result.classes],
    }  # fmt: skip
    return Section("classes", title, chart + table, data)
