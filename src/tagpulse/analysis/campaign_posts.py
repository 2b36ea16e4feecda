"""What the lake saw of a campaign's posts, per period: authors, likes, comments, the top ones.

A post belongs to a campaign when it carries one of its tags or was posted by one of its
handles, and to the period its ``taken_at`` falls in. Each post counts once, at its latest
observation (its likes and comments then). The engagement rate is likes + comments per follower
per post: the posts' engagement divided by their authors' followers (latest profile observed),
over the posts whose author's follower count is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tagpulse.lake.query import LakeQuery

__all__ = ["PostStats", "TopAuthor", "TopPost", "campaign_posts", "post_stats"]


@dataclass(slots=True, frozen=True)
class TopPost:
    platform: str
    post_id: str
    url: str | None
    owner: str
    taken_at: datetime
    likes: int
    comments: int

    @property
    def engagement(self) -> int:
        return self.likes + self.comments


@dataclass(slots=True, frozen=True)
class TopAuthor:
    platform: str
    owner: str
    posts: int
    likes: int
    comments: int
    followers: int | None

    @property
    def engagement(self) -> int:
        return self.likes + self.comments


@dataclass(slots=True)
class PostStats:
    posts_seen: int = 0
    unique_authors: int = 0
    likes: int = 0
    comments: int = 0
    #: Likes + comments per post.
    engagement_per_post: float | None = None
    #: Likes + comments per follower per post (posts whose author's followers are known).
    engagement_rate: float | None = None
    top_posts: list[TopPost] = field(default_factory=list)
    top_authors: list[TopAuthor] = field(default_factory=list)


_SQL = """
WITH latest AS (
    SELECT platform, post_id, url, shortcode, owner_id, owner_handle, taken_at, collected_at,
           coalesce(likes, 0) AS likes, coalesce(comments, 0) AS comments
    FROM (SELECT *, row_number() OVER (PARTITION BY platform, post_id ORDER BY collected_at DESC)
          AS rn FROM posts WHERE {where}) WHERE rn = 1
),
by_id AS (
    SELECT platform, user_id, followers FROM (
        SELECT platform, user_id, followers, row_number() OVER (
            PARTITION BY platform, user_id ORDER BY collected_at DESC) AS rn
        FROM profiles WHERE followers IS NOT NULL AND user_id IS NOT NULL) WHERE rn = 1
),
by_handle AS (
    SELECT platform, handle, followers FROM (
        SELECT platform, lower(handle) AS handle, followers, row_number() OVER (
            PARTITION BY platform, lower(handle) ORDER BY collected_at DESC) AS rn
        FROM profiles WHERE followers IS NOT NULL AND handle IS NOT NULL) WHERE rn = 1
)
SELECT l.*, coalesce(i.followers, h.followers) AS followers
FROM latest l
LEFT JOIN by_id i ON i.platform = l.platform AND i.user_id = l.owner_id
LEFT JOIN by_handle h ON h.platform = l.platform AND h.handle = lower(l.owner_handle)
ORDER BY l.taken_at, l.platform, l.post_id
"""


def campaign_posts(
    query: LakeQuery,
    *,
    tags: Sequence[str],
    handles: Sequence[str],
    since: datetime,
    until: datetime,
    platform: str | None,
) -> list[dict[str, Any]]:
    """The campaign's posts taken in ``[since, until)``, latest observation, with followers."""
    if not tags and not handles:
        return []
    match: list[str] = []
    params: list[Any] = []
    if tags:
        match.append("list_has_any(hashtags, ?::VARCHAR[])")
        params.append(list(tags))
    if handles:
        match.append("list_contains(?::VARCHAR[], lower(owner_handle))")
        params.append(list(handles))
    where = ["taken_at >= ?", "taken_at < ?", f"({' OR '.join(match)})"]
    params = [since, until, *params]  # in the order of the placeholders
    if platform:
        where.append("platform = ?")
        params.append(platform)
    return query.rows(_SQL.format(where=" AND ".join(where)), params)


def post_stats(rows: Sequence[dict[str, Any]], *, top: int) -> PostStats:
    """Sums, distinct authors, engagement and the ``top`` posts and authors of some posts."""
    result = PostStats()
    if not rows:
        return result
    authors: dict[tuple[str, str], dict[str, Any]] = {}
    posts: list[TopPost] = []
    engaged_known = followers_known = 0
    for row in rows:
        owner = row["owner_handle"] or row["owner_id"] or "?"
        likes, comments = int(row["likes"]), int(row["comments"])
        key = (row["platform"], row["owner_id"] or owner)
        entry = authors.setdefault(
            key, {"owner": owner, "posts": 0, "likes": 0, "comments": 0, "followers": None}
        )
        entry["posts"] += 1
        entry["likes"] += likes
        entry["comments"] += comments
        if row["followers"] is not None:
            entry["followers"] = int(row["followers"])
            if row["followers"] > 0:
                engaged_known += likes + comments
                followers_known += int(row["followers"])
        posts.append(
            TopPost(row["platform"], row["post_id"], row["url"], owner, row["taken_at"],
                    likes, comments)
        )  # fmt: skip
    result.posts_seen = len(posts)
    result.unique_authors = len(authors)
    result.likes = sum(p.likes for p in posts)
    result.comments = sum(p.comments for p in posts)
    result.engagement_per_post = (result.likes + result.comments) / len(posts)
    result.engagement_rate = engaged_known / followers_known if followers_known else None
    result.top_posts = sorted(posts, key=lambda p: (-p.engagement, p.post_id))[:top]
    ranked = sorted(authors.items(), key=lambda kv: (-(kv[1]["likes"] + kv[1]["comments"]),
                                                     kv[1]["owner"]))  # fmt: skip
    result.top_authors = [
        TopAuthor(platform, e["owner"], e["posts"], e["likes"], e["comments"], e["followers"])
        for (platform, _), e in ranked[:top]
    ]
    return result


def caption_sentiment(query: LakeQuery, rows: Sequence[dict[str, Any]]) -> float | None:
    """Mean caption sentiment of ``rows``' posts in ``post_text`` (their latest model's row);
    None when none of them is enriched."""
    keys = sorted({f"{r['platform']}:{r['post_id']}" for r in rows})
    if not keys or not query.has_data("post_text"):
        return None
    found = query.rows(
        "SELECT avg(sentiment) AS mean, count(sentiment) AS n FROM ("
        "SELECT arg_max(sentiment, enriched_at) AS sentiment FROM post_text "
        "WHERE kind = 'caption' AND list_contains(?::VARCHAR[], platform || ':' || post_id) "
        "GROUP BY platform, post_id)",
        [keys],
    )
    return float(found[0]["mean"]) if found and found[0]["n"] else None
