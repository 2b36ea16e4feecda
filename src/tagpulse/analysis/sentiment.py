"""Sentiment around a brand's tags over time, from the ``post_text`` table (``tagpulse enrich``).

What counts: the captions of the posts carrying any of the tags (in the post's own hashtags or
in the caption's, as enrichment found them) and the comments on those posts (``kind``: both,
or one of them), dated by when they were written, with a sentiment score. Each item counts once,
with its latest enrichment (whatever the model version).

Per interval: the number of items, the mean compound score, and the shares of positive
(score >= 0.05) and negative (<= -0.05) ones, VADER's convention. Over the whole period: the
same, and the most positive and most negative posts. **Shifts**: change points of the mean per
interval (binary segmentation, as for timelines), each kept when the items of the segments on
either side differ by at least 0.1 in mean with a Welch t-test p below 0.01.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from scipy import stats

from tagpulse.analysis.changepoints import change_points
from tagpulse.analysis.timeline import normalise_tag, utc_or_none
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = [
    "ItemSentiment",
    "SentimentPoint",
    "SentimentReport",
    "SentimentShift",
    "TextKind",
    "tag_sentiment",
]

TextKind = Literal["all", "caption", "comment"]
_POSITIVE_AT = 0.05
_MIN_SHIFT = 0.1
_MAX_P = 0.01


@dataclass(slots=True, frozen=True)
class SentimentPoint:
    at: datetime
    n: int
    mean: float
    positive_share: float
    negative_share: float


@dataclass(slots=True, frozen=True)
class ItemSentiment:
    platform: str
    post_id: str
    kind: str
    item_id: str
    owner_id: str | None
    taken_at: datetime
    sentiment: float
    language: str | None
    text: str | None = None
    url: str | None = None


@dataclass(slots=True, frozen=True)
class SentimentShift:
    at: datetime
    mean_before: float
    mean_after: float
    n_before: int
    n_after: int
    p_value: float


@dataclass(slots=True)
class SentimentReport:
    tags: list[str]
    n: int = 0
    mean: float | None = None
    positive_share: float | None = None
    negative_share: float | None = None
    points: list[SentimentPoint] = field(default_factory=list)
    shifts: list[SentimentShift] = field(default_factory=list)
    most_positive: list[ItemSentiment] = field(default_factory=list)
    most_negative: list[ItemSentiment] = field(default_factory=list)
    #: Whether ``post_text`` holds anything at all (else: run ``tagpulse enrich`` first).
    enriched: bool = True


def _items(
    query: LakeQuery,
    tags: Sequence[str],
    kind: TextKind,
    since: datetime | None,
    until: datetime | None,
    platform: str | None,
) -> list[dict[str, Any]]:
    where = ["t.sentiment IS NOT NULL"]
    params: list[Any] = []
    brand = ""
    if tags:
        brand = (
            "JOIN (SELECT platform, post_id FROM latest WHERE kind = 'caption' "
            "AND list_has_any(hashtags, ?) UNION SELECT platform, post_id FROM posts "
            "WHERE list_has_any(hashtags, ?)) b ON b.platform = t.platform "
            "AND b.post_id = t.post_id"
        )
        params += [list(tags), list(tags)]
    if kind != "all":
        where.append("t.kind = ?")
        params.append(kind)
    if since is not None:
        where.append("t.taken_at >= ?")
        params.append(since)
    if until is not None:
        where.append("t.taken_at < ?")
        params.append(until)
    if platform:
        where.append("t.platform = ?")
        params.append(platform)
    sql = f"""
        WITH latest AS (
            SELECT platform, kind, item_id,
                   arg_max(post_id, enriched_at) AS post_id,
                   arg_max(owner_id, enriched_at) AS owner_id,
                   arg_max(taken_at, enriched_at) AS taken_at,
                   arg_max(sentiment, enriched_at) AS sentiment,
                   arg_max(language, enriched_at) AS language,
                   arg_max(hashtags, enriched_at) AS hashtags
            FROM post_text GROUP BY platform, kind, item_id
        )
        SELECT DISTINCT t.platform, t.post_id, t.kind, t.item_id, t.owner_id, t.taken_at,
               t.sentiment, t.language
        FROM latest t {brand}
        WHERE {" AND ".join(where)}
        ORDER BY t.taken_at, t.platform, t.kind, t.item_id
    """
    return query.rows(sql, params)


def _texts(query: LakeQuery, items: Sequence[ItemSentiment]) -> list[ItemSentiment]:
    """The items with their text and link, for display."""
    if not items:
        return []
    posts = sorted({(i.platform, i.post_id) for i in items})
    comments = sorted({(i.platform, i.item_id) for i in items if i.kind == "comment"})
    marks = ", ".join("(?, ?)" for _ in posts)
    captions = {
        (r["platform"], r["post_id"]): r
        for r in query.rows(
            "SELECT platform, post_id, arg_max(caption, collected_at) AS text, "
            "arg_max(url, collected_at) AS url FROM posts "
            f"WHERE (platform, post_id) IN ({marks}) GROUP BY platform, post_id",
            [x for pair in posts for x in pair],
        )
    }
    said: dict[tuple[str, str], str] = {}
    if comments:
        marks = ", ".join("(?, ?)" for _ in comments)
        said = {
            (r["platform"], r["comment_id"]): r["text"]
            for r in query.rows(
                "SELECT platform, comment_id, arg_max(text, collected_at) AS text FROM comments "
                f"WHERE (platform, comment_id) IN ({marks}) GROUP BY platform, comment_id",
                [x for pair in comments for x in pair],
            )
        }
    out = []
    for item in items:
        post = captions.get((item.platform, item.post_id), {})
        text = (
            post.get("text") if item.kind == "caption" else said.get((item.platform, item.item_id))
        )
        out.append(
            ItemSentiment(
                item.platform, item.post_id, item.kind, item.item_id, item.owner_id,
                item.taken_at, item.sentiment, item.language, text, post.get("url"),
            )
        )  # fmt: skip
    return out


def _point(at: datetime, scores: np.ndarray[Any, np.dtype[np.float64]]) -> SentimentPoint:
    return SentimentPoint(
        at,
        int(scores.size),
        float(scores.mean()),
        float(np.mean(scores >= _POSITIVE_AT)),
        float(np.mean(scores <= -_POSITIVE_AT)),
    )


def _shifts(
    points: Sequence[SentimentPoint], buckets: Sequence[np.ndarray[Any, np.dtype[np.float64]]]
) -> list[SentimentShift]:
    cuts = change_points([p.mean for p in points], min_size=2)
    bounds = [0, *cuts, len(points)]
    found: list[SentimentShift] = []
    for k, cut in enumerate(cuts, start=1):
        before = np.concatenate(buckets[bounds[k - 1] : cut])
        after = np.concatenate(buckets[cut : bounds[k + 1]])
        if before.size < 2 or after.size < 2:
            continue
        diff = float(after.mean() - before.mean())
        p_value = float(stats.ttest_ind(before, after, equal_var=False).pvalue)
        if abs(diff) >= _MIN_SHIFT and (p_value < _MAX_P or (math.isnan(p_value) and diff)):
            found.append(
                SentimentShift(
                    points[cut].at, float(before.mean()), float(after.mean()),
                    int(before.size), int(after.size), 0.0 if math.isnan(p_value) else p_value,
                )
            )  # fmt: skip
    return found


def tag_sentiment(
    query: LakeQuery,
    tags: Sequence[str],
    *,
    interval_s: int = 86_400,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    kind: TextKind = "all",
    top: int = 5,
) -> SentimentReport:
    """Sentiment of the captions and comments around ``tags`` (all posts when empty)."""
    if interval_s <= 0:
        raise InputError(f"interval must be positive, got {interval_s}s", field="--interval")
    if kind not in ("all", "caption", "comment"):
        raise InputError(f"kind must be all, caption or comment; got {kind!r}", field="--kind")
    wanted = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags) if t))
    report = SentimentReport(wanted)
    if not query.has_data("post_text"):
        report.enriched = False
        return report
    rows = _items(query, wanted, kind, utc_or_none(since), utc_or_none(until), platform)
    items = [ItemSentiment(**r) for r in rows]
    if not items:
        return report
    scores = np.array([i.sentiment for i in items], dtype=np.float64)
    overall = _point(items[0].taken_at, scores)
    report.n, report.mean = overall.n, overall.mean
    report.positive_share, report.negative_share = overall.positive_share, overall.negative_share
    by_bucket: dict[int, list[float]] = {}
    for item in items:
        bucket = math.floor(item.taken_at.timestamp() / interval_s) * interval_s
        by_bucket.setdefault(bucket, []).append(item.sentiment)
    arrays = [np.array(by_bucket[b], dtype=np.float64) for b in sorted(by_bucket)]
    report.points = [
        _point(datetime.fromtimestamp(b, tz=UTC), a)
        for b, a in zip(sorted(by_bucket), arrays, strict=True)
    ]
    report.shifts = _shifts(report.points, arrays)
    captions = [i for i in items if i.kind == "caption"] or items
    ranked = sorted(captions, key=lambda i: (i.sentiment, i.taken_at))
    report.most_negative = _texts(query, [i for i in ranked[:top] if i.sentiment < 0])
    report.most_positive = _texts(query, [i for i in ranked[::-1][:top] if i.sentiment > 0])
    return report
