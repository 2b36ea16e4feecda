"""Everything the feed's sources read from the lake, loaded once: the graph, the recent posts,
who liked which post, and every post's hashtags and caption.

The offline evaluation hides some likes and rebuilds the rest with :func:`hide_likes`, so that
every source (graph weights, ALS, interests, popularity) sees only what is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from tagpulse.discover.feed import WINDOW
from tagpulse.discover.graph import AccountNames, SocialGraph, build_graph, load_names
from tagpulse.discover.ppr import Transition, transition
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.schemas import EDGES

__all__ = ["FeedData", "Like", "RecentPost", "eligible_posts", "hide_likes", "load_feed_data"]


@dataclass(frozen=True, slots=True)
class RecentPost:
    """A post taken in the window, as last observed by ``at``."""

    post_id: str
    platform: str
    owner: str
    owner_handle: str | None
    taken_at: datetime
    likes: int
    comments: int
    url: str | None
    hashtags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Like:
    """``user`` liked ``author``'s post ``post_id``; ``seen`` is when the like was first seen."""

    user: str
    author: str
    post_id: str
    seen: datetime


@dataclass(slots=True)
class FeedData:
    at: datetime
    names: AccountNames
    graph: SocialGraph
    #: Posts of the window, newest first.
    posts: list[RecentPost]
    #: Every known post's hashtags (lower case) and caption, whatever its age.
    hashtags: dict[str, tuple[str, ...]]
    captions: dict[str, str]
    #: Every known post's author.
    owners: dict[str, str]
    likes: list[Like]
    #: Edges other than likes, aggregated: (src, dst, kind, count).
    other_edges: list[tuple[str, str, str, float]]
    #: Post ids each user liked.
    liked: dict[str, set[str]] = field(default_factory=dict)
    _transition: Transition | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.liked:
            for like in self.likes:
                self.liked.setdefault(like.user, set()).add(like.post_id)

    @property
    def transition(self) -> Transition:
        """The graph's transition matrix, built once for every user's PageRank."""
        if self._transition is None:
            self._transition = transition(self.graph.weights)
        return self._transition

    def cached(self, key: str) -> Any:
        """A per-data cache for the sources' models (ALS factors, tag similarity)."""
        return self._cache.get(key)

    def store(self, key: str, value: Any) -> Any:
        self._cache[key] = value
        return value

    def resolve(self, handle: str) -> str | None:
        """The account id of ``@handle``/``handle``/an id known to the graph."""
        user = self.names.resolve(handle)
        if user is None and handle.removeprefix("@") in self.graph.index:
            user = handle.removeprefix("@")
        return user

    def handle(self, account: str) -> str:
        return "@" + self.names.handles.get(account, account)


def eligible_posts(data: FeedData, user: str) -> list[RecentPost]:
    """Window posts ``user`` may be shown: not their own, not liked by them yet."""
    liked = data.liked.get(user, set())
    return [p for p in data.posts if p.owner != user and p.post_id not in liked]


def _graph(likes: Iterable[Like], other: list[tuple[str, str, str, float]]) -> SocialGraph:
    per_pair: dict[tuple[str, str], set[str]] = {}
    for like in likes:
        per_pair.setdefault((like.user, like.author), set()).add(like.post_id)
    src = [s for s, _, _, _ in other] + [u for u, _ in per_pair]
    dst = [d for _, d, _, _ in other] + [a for _, a in per_pair]
    kind = [k for _, _, k, _ in other] + ["liked"] * len(per_pair)
    count = [c for _, _, _, c in other] + [float(len(p)) for p in per_pair.values()]
    return build_graph(src, dst, kind, np.asarray(count, dtype=np.float64))


def hide_likes(data: FeedData, hidden: Mapping[str, set[str]]) -> FeedData:
    """The same data without the ``hidden`` likes (user → post ids): graph, likes and all."""
    likes = [x for x in data.likes if x.post_id not in hidden.get(x.user, ())]
    return FeedData(
        at=data.at,
        names=data.names,
        graph=_graph(likes, data.other_edges),
        posts=data.posts,
        hashtags=data.hashtags,
        captions=data.captions,
        owners=data.owners,
        likes=likes,
        other_edges=data.other_edges,
    )


def load_feed_data(
    query: LakeQuery,
    *,
    at: datetime | None = None,
    platform: str | None = None,
    graph: SocialGraph | None = None,
) -> FeedData | None:
    """The lake's feed data as of ``at`` (default: the latest post observation); None when the
    lake has no posts. Posts are as observed by ``at``; the graph holds every edge (as
    ``discover.feed`` does).

    ``graph``: the lake's graph when the caller keeps one (``GraphStore.load(platform).graph``,
    the same edges counted the same way as ``load_graph``); the sources look nodes up by account
    id, so its node order does not matter. Without it the graph is built from the likes and
    other edges read here."""
    where = "WHERE platform = ?" if platform else ""
    extra = "AND platform = ?" if platform else ""
    pp: list[Any] = [platform] if platform else []
    if at is None:
        rows = query.rows(f"SELECT max(collected_at) AS at FROM posts {where}", pp)
        at = rows[0]["at"] if rows else None
        if not isinstance(at, datetime):
            return None
    names = load_names(query, platform)
    posts: pa.Table = query.arrow(
        "SELECT platform, post_id, arg_max(owner_id, collected_at) AS owner_id, "
        "arg_max(owner_handle, collected_at) AS owner_handle, "
        "arg_max(taken_at, collected_at) AS taken_at, arg_max(likes, collected_at) AS likes, "
        "arg_max(comments, collected_at) AS comments, arg_max(url, collected_at) AS url, "
        "arg_max(hashtags, collected_at) AS hashtags, arg_max(caption, collected_at) AS caption "
        f"FROM posts WHERE collected_at <= ? AND owner_id IS NOT NULL {extra} "
        "GROUP BY platform, post_id ORDER BY taken_at DESC, post_id",
        [at, *pp],
    )
    hashtags: dict[str, tuple[str, ...]] = {}
    captions: dict[str, str] = {}
    owners: dict[str, str] = {}
    recent: list[RecentPost] = []
    since = at - WINDOW
    for row in posts.to_pylist():
        pid = str(row["post_id"])
        tags = tuple(dict.fromkeys(str(t).lower().lstrip("#") for t in row["hashtags"] or ()))
        hashtags[pid] = tags
        owners[pid] = str(row["owner_id"])
        if row["caption"]:
            captions[pid] = str(row["caption"])
        taken = row["taken_at"]
        if taken is None or not (since < taken <= at):
            continue
        recent.append(RecentPost(
            pid, str(row["platform"]), str(row["owner_id"]), row["owner_handle"], taken,
            int(row["likes"] or 0), int(row["comments"] or 0), row["url"], tags,
        ))  # fmt: skip
    ids = names.ids

    def account(x: str) -> str:
        return ids.get(x[1:].lower(), x) if x.startswith("@") else x

    like_rows = query.rows(
        f"SELECT src, dst, post_id, min(seen_at) AS seen FROM {EDGES} WHERE kind = 'liked' "
        f"AND post_id IS NOT NULL {extra} GROUP BY src, dst, post_id",
        pp,
    )
    likes = [
        Like(account(str(r["src"])), account(str(r["dst"])), str(r["post_id"]), r["seen"])
        for r in like_rows
        if str(r["src"]) != str(r["dst"])
    ]
    likes.sort(key=lambda x: (x.user, x.seen, x.post_id))
    other_rows = query.rows(
        f"SELECT src, dst, kind, count(DISTINCT coalesce(post_id, '')) AS n FROM {EDGES} "
        f"WHERE kind <> 'liked' {extra} GROUP BY src, dst, kind",
        pp,
    )
    other = [
        (account(str(r["src"])), account(str(r["dst"])), str(r["kind"]), float(r["n"]))
        for r in other_rows
    ]
    return FeedData(
        at=at,
        names=names,
        graph=graph if graph is not None else _graph(likes, other),
        posts=recent,
        hashtags=hashtags,
        captions=captions,
        owners=owners,
        likes=likes,
        other_edges=other,
    )
