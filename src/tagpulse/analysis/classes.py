"""Engagement by image class: which kinds of pictures get the likes and comments.

Each post counts once, in the class of its cover image: the top-1 ImageNet label of its first
stored image that was labelled (``post_labels``; per image its latest labelling, so a newer
model's labels replace an older one's), with the
post's likes and comments at its latest observation (``posts``). Per class: posts, total and
mean likes, total and mean comments (means over the posts whose count is known: hidden likes
are not zeros). The ``top`` classes by posts are listed; the rest is summed as ``other``.

Filters: ``tags`` (posts carrying any of them), ``since``/``until`` on when the post was
published (``taken_at``; when unknown, when it was first seen) and ``platform``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tagpulse.analysis.timeline import normalise_tag, utc_or_none
from tagpulse.errors import InputError
from tagpulse.lake.post_labels import POST_LABELS
from tagpulse.lake.query import LakeQuery

__all__ = ["ClassStat", "ImageClasses", "image_classes"]


@dataclass(slots=True, frozen=True)
class ClassStat:
    label: str
    posts: int
    likes: int
    comments: int
    mean_likes: float | None
    mean_comments: float | None
    posts_share: float


@dataclass(slots=True)
class ImageClasses:
    #: The top classes by posts, most posts first.
    classes: list[ClassStat] = field(default_factory=list)
    #: Posts with a labelled image (after the filters), and those outside the top classes.
    posts_labelled: int = 0
    other_posts: int = 0


def image_classes(
    query: LakeQuery,
    tags: Sequence[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    top: int = 10,
) -> ImageClasses:
    if top < 1:
        raise InputError("--top must be at least 1", field="--top")
    wanted = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags) if t))
    where: list[str] = []
    params: list[Any] = []
    if wanted:
        where.append("list_has_any(p.hashtags, ?)")
        params.append(wanted)
    if since is not None:
        where.append("p.at >= ?")
        params.append(utc_or_none(since))
    if until is not None:
        where.append("p.at < ?")
        params.append(utc_or_none(until))
    scope = ""
    if platform:
        scope = "WHERE platform = ?"
        params = [platform, platform, *params]
    sql = f"""
        WITH image AS (
            SELECT platform, post_id, media_index,
                   arg_max(top_label, enriched_at) AS label
            FROM {POST_LABELS}_all
            WHERE error IS NULL AND top_label IS NOT NULL {"AND platform = ?" if platform else ""}
            GROUP BY platform, post_id, media_sha256, media_index
        ), cover AS (
            SELECT platform, post_id, arg_min(label, media_index) AS label
            FROM image GROUP BY platform, post_id
        ), p AS (
            SELECT platform, post_id,
                   arg_max(likes, collected_at) AS likes,
                   arg_max(comments, collected_at) AS comments,
                   arg_max(hashtags, collected_at) AS hashtags,
                   coalesce(max(taken_at), min(collected_at)) AS at
            FROM posts_all {scope}
            GROUP BY platform, post_id
        )
        SELECT c.label, count(*) AS posts,
               coalesce(sum(p.likes), 0) AS likes, avg(p.likes) AS mean_likes,
               coalesce(sum(p.comments), 0) AS comments, avg(p.comments) AS mean_comments
        FROM cover c JOIN p USING (platform, post_id)
        {"WHERE " + " AND ".join(where) if where else ""}
        GROUP BY c.label ORDER BY posts DESC, c.label
    """
    rows = query.rows(sql, params)
    total = sum(int(r["posts"]) for r in rows)
    result = ImageClasses(posts_labelled=total)
    for r in rows[:top]:
        result.classes.append(
            ClassStat(
                label=r["label"],
                posts=int(r["posts"]),
                likes=int(r["likes"]),
                comments=int(r["comments"]),
                mean_likes=None if r["mean_likes"] is None else float(r["mean_likes"]),
                mean_comments=None if r["mean_comments"] is None else float(r["mean_comments"]),
                posts_share=int(r["posts"]) / total,
            )
        )
    result.other_posts = total - sum(c.posts for c in result.classes)
    return result
