"""The feed's graph and popularity sources, each a ranked list of candidate posts with a reason.

* ``network``: the study's score (``discover.feed.post_score``) over posts of accounts the user
  is tied to directly or in 2 hops, ranked by personalised PageRank and tie weight.
* ``fof`` (extended network): posts of friends of friends, that is accounts followed by someone
  the user follows but not by the user. An account whose posts the user has already liked comes
  first (its affinity is multiplied by ``1 + 2 × likes``); the others rank by how many of the
  user's friends follow them. A post scores ``affinity × log10(likes + 1) × exp(-age / 1e5)``.
* ``popular``: the most-liked posts of the window (the evaluation's baseline).

Every source leaves out the user's own posts and those the user already liked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tagpulse.discover.feed import AGE_SCALE, author_weights, post_score
from tagpulse.discover.feeddata import FeedData, RecentPost, eligible_posts
from tagpulse.discover.ppr import personalised_pagerank

__all__ = ["Candidate", "fof_source", "network_source", "popular_source"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A post one source proposes: its score within that source and why."""

    post: RecentPost
    source: str
    score: float
    reason: str
    #: The network source's factors (0 elsewhere).
    ppr: float = 0.0
    weight: float = 0.0


def _age(data: FeedData, post: RecentPost) -> float:
    return max(0.0, (data.at - post.taken_at).total_seconds())


def _ranked(items: list[Candidate], n: int) -> list[Candidate]:
    items = [c for c in items if c.score > 0 and math.isfinite(c.score)]
    items.sort(key=lambda c: (-c.score, c.post.post_id))
    return items[:n]


def network_source(data: FeedData, user: str, n: int, *, alpha: float = 0.85) -> list[Candidate]:
    """The study's ranking of the user's direct and 2-hop network's recent posts."""
    graph = data.graph
    node = graph.node(user)
    if node is None:
        return []
    ranks = personalised_pagerank(data.transition, {node: 1.0}, alpha=alpha)
    ties = author_weights(graph, node)
    items = []
    for post in eligible_posts(data, user):
        author = graph.node(post.owner)
        if author is None or ties.weight[author] <= 0:
            continue
        ppr, weight = float(ranks[author]), float(ties.weight[author])
        score = post_score(post.likes, post.comments, ppr, _age(data, post), weight)
        via = int(ties.via[author])
        if via >= 0:
            reason = f"2 hops via {data.handle(graph.nodes[via])}"
        elif graph.likes[node, author]:
            reason = f"because you liked {data.handle(post.owner)}"
        elif graph.follows[node, author]:
            reason = f"because you follow {data.handle(post.owner)}"
        else:
            reason = f"you interacted with {data.handle(post.owner)}"
        items.append(Candidate(post, "network", score, reason, ppr, weight))
    return _ranked(items, n)


def fof_source(data: FeedData, user: str, n: int) -> list[Candidate]:
    """Posts of accounts the user's followings follow (and the user does not)."""
    graph = data.graph
    node = graph.node(user)
    if node is None:
        return []
    follows = graph.follows
    friends = np.asarray(follows.indices[follows.indptr[node] : follows.indptr[node + 1]])
    if not len(friends):
        return []
    sub = follows[friends].tocoo()
    linked = np.bincount(sub.col, minlength=graph.n).astype(np.float64)
    # a friend who follows each of them (the first by account id, so that a graph grown by
    # ``GraphStore`` with its nodes in another order names the same friend), for the reason
    first_friend: dict[int, int] = {}
    for r, c in zip(sub.row.tolist(), sub.col.tolist(), strict=True):
        follower = int(friends[r])
        known = first_friend.get(c)
        if known is None or graph.nodes[follower] < graph.nodes[known]:
            first_friend[c] = follower
    linked[friends] = 0.0
    linked[node] = 0.0
    items = []
    for post in eligible_posts(data, user):
        author = graph.node(post.owner)
        if author is None or linked[author] <= 0:
            continue
        liked = float(graph.likes[node, author])
        affinity = float(linked[author]) * (1.0 + 2.0 * liked)
        score = affinity * math.log10(post.likes + 1) * math.exp(-_age(data, post) / AGE_SCALE)
        if liked:
            reason = f"because you liked {data.handle(post.owner)}"
        else:
            friend = data.handle(graph.nodes[first_friend[author]])
            others = int(linked[author]) - 1
            reason = f"followed by {friend}" + (
                f" and {others} other{'s' if others > 1 else ''} you follow" if others else ""
            )
        items.append(Candidate(post, "fof", score, reason))
    return _ranked(items, n)


def popular_source(data: FeedData, user: str, n: int) -> list[Candidate]:
    """The window's most-liked posts (ties: more comments, then newer)."""
    posts = sorted(
        eligible_posts(data, user),
        key=lambda p: (-p.likes, -p.comments, -p.taken_at.timestamp(), p.post_id),
    )
    return [
        Candidate(p, "popular", float(p.likes), f"popular this week ({p.likes:,} likes)")
        for p in posts[:n]
        if p.likes > 0
    ]
