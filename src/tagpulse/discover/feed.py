"""A personalised feed: recent posts of the accounts a user is tied to, ranked by the study's
score.

Candidates are the posts of the last 7 days (before ``at``, by default the latest post
observation in the lake) by accounts the user is tied to directly (follows, likes, comments,
mentions) or through one of those (2 hops), less the user's own posts and posts the user has
already liked. Each post's counts are its latest observation. The score is the study's::

    log10(comments + 2) * log10(likes + 1) * ppr(author) * exp(-age_seconds / 1e5)
        * log(weight + 1)

``ppr`` is the author's personalised PageRank from the user; ``weight`` is the user's tie to
the author (``discover.graph``) or, 2 hops away, the strongest path's weakest tie
(``max over v of min(w(user, v), w(v, author))``). Posts scoring 0 (no likes seen, hidden
likes) are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.discover.graph import AccountNames, SocialGraph, load_graph, load_names
from tagpulse.discover.ppr import personalised_pagerank
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = ["WINDOW", "Feed", "FeedItem", "author_weights", "build_feed", "post_score"]

#: How far back a post may be to enter the feed.
WINDOW = timedelta(days=7)
#: The age scale of the study's decay, in seconds (a post loses 1/e of its score per ~28 h).
AGE_SCALE = 1e5


def post_score(likes: int, comments: int, ppr: float, age_seconds: float, weight: float) -> float:
    """The study's post score."""
    return (
        math.log10(comments + 2)
        * math.log10(likes + 1)
        * ppr
        * math.exp(-age_seconds / AGE_SCALE)
        * math.log(weight + 1)
    )


@dataclass(frozen=True, slots=True)
class FeedItem:
    post_id: str
    platform: str
    author: str
    author_handle: str | None
    taken_at: datetime
    likes: int
    comments: int
    age_seconds: float
    ppr: float
    weight: float
    score: float
    #: Why the post is there: "followed by you", "liked by you (3 posts)", "2 hops via @x".
    why: tuple[str, ...]
    url: str | None = None
    #: Which of the feed's sources proposed it (``discover.blend``).
    source: str = "network"

    def to_json(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "platform": self.platform,
            "author": self.author,
            "author_handle": self.author_handle,
            "taken_at": self.taken_at.isoformat(),
            "likes": self.likes,
            "comments": self.comments,
            "age_seconds": self.age_seconds,
            "ppr": self.ppr,
            "weight": self.weight,
            "score": self.score,
            "why": list(self.why),
            "url": self.url,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Feed:
    user: str
    handle: str | None
    at: datetime
    #: Posts in the window by accounts tied to the user (before ranking and cutting to ``n``).
    candidates: int
    items: list[FeedItem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "handle": self.handle,
            "at": self.at.isoformat(),
            "window_days": WINDOW.days,
            "candidates": self.candidates,
            "items": [item.to_json() for item in self.items],
        }


@dataclass(frozen=True, slots=True)
class AuthorWeights:
    """For each node: the user's tie weight to it (0: none) and, 2 hops away, through whom."""

    weight: npt.NDArray[np.float64]
    direct: npt.NDArray[np.bool_]
    via: npt.NDArray[np.int64]


def author_weights(graph: SocialGraph, user: int) -> AuthorWeights:
    """Direct ties' weights, and for accounts 2 hops away the strongest path's weakest tie."""
    n = graph.n
    weight = np.zeros(n)
    via = np.full(n, -1, dtype=np.int64)
    first, first_w = graph.out_neighbours(user)
    if len(first):
        sub = graph.weights[first].tocoo()
        through = np.minimum(sub.data, first_w[sub.row])
        # Equal paths: through the neighbour whose id sorts first, so that a graph whose nodes
        # are in another order (``GraphStore`` appends new accounts) names the same one.
        by_name = np.argsort(np.argsort(np.asarray([graph.nodes[i] for i in first.tolist()])))
        # per column, the strongest path first
        order = np.lexsort((by_name[sub.row], -through, sub.col))
        cols, rows, vals = sub.col[order], sub.row[order], through[order]
        best = np.diff(cols, prepend=-1) != 0  # also right when no neighbour has ties
        weight[cols[best]] = vals[best]
        via[cols[best]] = first[rows[best]]
    direct = np.zeros(n, dtype=bool)
    direct[first] = True
    weight[first] = first_w
    via[first] = -1
    weight[user] = 0.0
    direct[user] = False
    return AuthorWeights(weight, direct, via)


def _reasons(
    graph: SocialGraph, names: AccountNames, user: int, author: int, via: int
) -> tuple[str, ...]:
    if via >= 0:
        through = graph.nodes[via]
        return (f"2 hops via @{names.handles.get(through, through)}",)
    reasons: list[str] = []
    if graph.follows[user, author]:
        reasons.append("followed by you")
    liked = int(graph.likes[user, author])
    if liked:
        reasons.append(f"liked by you ({liked} post{'s' if liked != 1 else ''})")
    if not reasons:
        reasons.append("you commented on or mentioned them")
    return tuple(reasons)


def build_feed(
    query: LakeQuery,
    handle: str,
    *,
    n: int = 10,
    at: datetime | None = None,
    platform: str | None = None,
    alpha: float = 0.85,
    graph: SocialGraph | None = None,
) -> Feed:
    """The ``n`` best posts for ``handle`` (an ``@handle`` or an account id); ``graph``: the
    lake's graph when the caller keeps one (``discover.graph_store``), else it is loaded."""
    if n < 1:
        raise InputError(f"--n {n}: ask for at least one post", field="n")
    names = load_names(query, platform)
    user_id = names.resolve(handle)
    if graph is None:
        graph = load_graph(query, platform=platform)
    if user_id is None and handle.removeprefix("@") in graph.index:
        user_id = handle.removeprefix("@")
    if user_id is None:
        raise InputError(
            f"no account {handle!r} in the lake: collect its profile, posts or followings first, "
            "or give its id",
            field="handle",
        )
    user = graph.node(user_id)
    if user is None:
        raise InputError(
            f"@{handle.removeprefix('@')} has no follows or likes in the lake's edges: collect "
            "whom it follows (or what it likes) first",
            field="handle",
        )
    if at is None:
        at = _latest_observation(query, platform)
    if at is None:
        return Feed(user_id, names.handles.get(user_id), datetime.now().astimezone(), 0)
    ranks = personalised_pagerank(graph.weights, {user: 1.0}, alpha=alpha)
    ties = author_weights(graph, user)
    posts = _recent_posts(query, at, platform)
    liked = _liked_posts(query, user_id, platform)
    items: list[FeedItem] = []
    candidates = 0
    for row in posts:
        author = graph.node(str(row["owner_id"]))
        if author is None or ties.weight[author] <= 0 or row["post_id"] in liked:
            continue
        candidates += 1
        likes, comments = int(row["likes"] or 0), int(row["comments"] or 0)
        age = max(0.0, (at - row["taken_at"]).total_seconds())
        score = post_score(likes, comments, float(ranks[author]), age, float(ties.weight[author]))
        if score <= 0:
            continue
        items.append(
            FeedItem(
                post_id=str(row["post_id"]),
                platform=str(row["platform"]),
                author=graph.nodes[author],
                author_handle=row["owner_handle"] or names.handles.get(graph.nodes[author]),
                taken_at=row["taken_at"],
                likes=likes,
                comments=comments,
                age_seconds=age,
                ppr=float(ranks[author]),
                weight=float(ties.weight[author]),
                score=score,
                why=_reasons(graph, names, user, author, int(ties.via[author])),
                url=row["url"],
            )
        )
    items.sort(key=lambda item: (-item.score, item.post_id))
    return Feed(user_id, names.handles.get(user_id), at, candidates, items[:n])


def _latest_observation(query: LakeQuery, platform: str | None) -> datetime | None:
    where = "WHERE platform = ?" if platform else ""
    rows = query.rows(
        f"SELECT max(collected_at) AS at FROM posts {where}", [platform] if platform else []
    )
    at = rows[0]["at"] if rows else None
    return at if isinstance(at, datetime) else None


def _recent_posts(query: LakeQuery, at: datetime, platform: str | None) -> list[dict[str, Any]]:
    """Each post taken in the window, as last observed by ``at``."""
    extra = "AND platform = ?" if platform else ""
    params: list[Any] = [at, at - WINDOW, at]
    if platform:
        params.append(platform)
    return query.rows(
        "SELECT platform, post_id, arg_max(owner_id, collected_at) AS owner_id, "
        "arg_max(owner_handle, collected_at) AS owner_handle, "
        "arg_max(taken_at, collected_at) AS taken_at, arg_max(likes, collected_at) AS likes, "
        "arg_max(comments, collected_at) AS comments, arg_max(url, collected_at) AS url "
        "FROM posts WHERE collected_at <= ? AND taken_at > ? AND taken_at <= ? "
        f"AND owner_id IS NOT NULL {extra} GROUP BY platform, post_id",
        params,
    )


def _liked_posts(query: LakeQuery, user_id: str, platform: str | None) -> set[str]:
    extra = "AND platform = ?" if platform else ""
    params: list[Any] = [user_id] + ([platform] if platform else [])
    rows = query.rows(
        "SELECT DISTINCT post_id FROM edges WHERE kind = 'liked' AND src = ? "
        f"AND post_id IS NOT NULL {extra}",
        params,
    )
    return {str(r["post_id"]) for r in rows}
