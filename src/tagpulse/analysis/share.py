"""Share of voice among competing tags: who gets the new posts, and who gets the engagement.

For a period and a set of tags (one platform or all):

* **posts**: the posts each tag gained in the period, from its counts (the last count in the
  period minus the first); its share is of the tags' total;
* **engagement**: likes + comments of the distinct posts carrying the tag that the lake saw in
  the period (each post counted once, at its latest observation in the period);
* **over time**: the posts share per interval bucket (posts gained in each bucket), and the
  engagement share per bucket of the posts' own time (``taken_at``, else when the post was
  seen; each post at its latest observation).

Counts of different platforms are not added together: :func:`share_by_platform` answers one
share of voice per platform that has counts for the tags.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tagpulse.analysis.timeline import normalise_tag, timeline_series, utc_or_none
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = ["ShareOfVoice", "TagShare", "share_by_platform", "share_of_voice"]


@dataclass(slots=True)
class TagShare:
    tag: str
    posts: int | None
    posts_share: float | None
    engagement: int
    engagement_share: float | None
    posts_seen: int


@dataclass(slots=True)
class ShareOfVoice:
    tags: list[TagShare]
    #: Bucket start → tag → share of the posts gained in that bucket.
    over_time: list[tuple[datetime, dict[str, float]]] = field(default_factory=list)
    #: Bucket start (of the posts' ``taken_at``) → tag → share of those posts' engagement.
    engagement_over_time: list[tuple[datetime, dict[str, float]]] = field(default_factory=list)


def share_of_voice(
    query: LakeQuery,
    tags: Sequence[str],
    *,
    interval_s: int,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
) -> ShareOfVoice:
    wanted = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags) if t))
    if len(wanted) < 2:
        raise InputError("share of voice needs two tags or more", field="TAGS")
    since, until = utc_or_none(since), utc_or_none(until)
    series = timeline_series(
        query, wanted, interval_s=interval_s, since=since, until=until, platform=platform
    )
    gained: dict[str, int | None] = {}
    per_bucket: dict[datetime, dict[str, int]] = {}
    for tag in wanted:
        points = series.get(tag, [])
        gained[tag] = points[-1][1] - points[0][1] if len(points) >= 2 else None
        for (_, c0), (t1, c1) in itertools.pairwise(points):
            per_bucket.setdefault(t1, {})[tag] = max(c1 - c0, 0)
    where = ["list_has_any(hashtags, ?)"]
    params: list[object] = [wanted]
    if since is not None:
        where.append("collected_at >= ?")
        params.append(since)
    if until is not None:
        where.append("collected_at < ?")
        params.append(until)
    if platform:
        where.append("platform = ?")
        params.append(platform)
    rows = query.rows(
        "SELECT hashtags, coalesce(taken_at, collected_at) AS taken_at, "
        "coalesce(likes, 0) + coalesce(comments, 0) AS engagement FROM ("
        "SELECT *, row_number() OVER (PARTITION BY platform, post_id ORDER BY collected_at DESC)"
        f" AS rn FROM posts WHERE {' AND '.join(where)}) WHERE rn = 1",
        params,
    )
    engagement = dict.fromkeys(wanted, 0)
    seen = dict.fromkeys(wanted, 0)
    eng_per_bucket: dict[datetime, dict[str, int]] = {}
    for row in rows:
        bucket = _bucket(row["taken_at"], interval_s)
        for tag in set(row["hashtags"]) & set(wanted):
            engagement[tag] += int(row["engagement"])
            seen[tag] += 1
            if bucket is not None:
                by_tag = eng_per_bucket.setdefault(bucket, {})
                by_tag[tag] = by_tag.get(tag, 0) + int(row["engagement"])
    total_posts = sum(v for v in gained.values() if v is not None)
    total_eng = sum(engagement.values())
    result = ShareOfVoice(
        [
            TagShare(
                tag,
                gained[tag],
                (gained[tag] or 0) / total_posts if total_posts and gained[tag] is not None
                else None,
                engagement[tag],
                engagement[tag] / total_eng if total_eng else None,
                seen[tag],
            )
            for tag in wanted
        ]
    )  # fmt: skip
    result.over_time = _shares(per_bucket)
    result.engagement_over_time = _shares(eng_per_bucket)
    return result


def _bucket(moment: datetime | None, interval_s: int) -> datetime | None:
    if moment is None:
        return None
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % interval_s, UTC)


def _shares(per_bucket: dict[datetime, dict[str, int]]) -> list[tuple[datetime, dict[str, float]]]:
    out = []
    for bucket in sorted(per_bucket):
        counts = per_bucket[bucket]
        total = sum(counts.values())
        if total:
            out.append((bucket, {t: c / total for t, c in counts.items()}))
    return out


def share_by_platform(
    query: LakeQuery,
    tags: Sequence[str],
    *,
    interval_s: int,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
) -> list[tuple[str | None, ShareOfVoice]]:
    """One share of voice per platform with counts for any of ``tags`` (only ``platform`` if
    given); ``[(None, …)]`` when the lake has no counts for them at all."""
    wanted = {normalise_tag(t) for t in tags}
    platforms: list[str | None] = [platform] if platform is not None else []
    if platform is None:
        platforms += sorted({p for p, t in query.tags() if t in wanted})
    return [
        (
            p,
            share_of_voice(
                query, tags, interval_s=interval_s, since=since, until=until, platform=p
            ),
        )
        for p in platforms or [None]
    ]
