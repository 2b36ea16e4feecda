"""Influencers: the accounts that posted with some tags, ranked by a score whose parts are shown.

For each account with a post carrying one of the tags in the period (see
:mod:`influencer_data` for what is read):

* **reach** — followers at the latest profile observation before ``until`` (else the first
  after it);
* **engagement** — the median over its tagged posts of ``(likes + comments + w * views) /
  followers``, each post at its latest observation; views count only for video and reels, with
  ``w = view_weight`` (0.05: twenty views weigh as much as one like — a view costs a swipe, a
  like a decision; typical like-per-view ratios are a few percent). The median, not the mean, so
  one viral post does not make an account "engaging". Posts with hidden likes are left out;
* **consistency** — regularity of posting over the period: with the period's start, the posts'
  times and the period's end, the ``n + 1`` gaps between them have a coefficient of variation
  ``cv`` (standard deviation / mean); consistency is ``1 / (1 + cv)``: 1 for clockwork posting
  spread over the whole period, about 0.5 for posting at random (Poisson) times, less for posts
  in bursts or bunched at one end. Fewer than ``min_posts`` posts: unknown. The period is
  ``[since, until)``, each end defaulting to the first or last tagged post seen;
* **centrality** — PageRank (damping 0.85) on the interaction graph (likes, comments, mentions,
  tags, reposts, quotes in the period; an edge's weight is its number of distinct
  interactions), shown as ``pagerank * nodes`` (1 = an average node of the graph).

Each part is put on a 0–1 scale among the ranked accounts, and the score is
``100 * sum(weight * scaled)`` with weights reach 0.3, engagement 0.25, consistency 0.15,
centrality 0.3, so each part's points say what it contributed:

* reach and centrality are heavy-tailed and matter in proportion (234k followers is much more
  reach than 35k), so they are scaled on a log axis between the smallest (0) and the largest (1)
  value among the ranked accounts (``log(1 + followers)``, ``log(pagerank)``);
* engagement per follower falls as accounts grow, so a raw rate would punish reach a second
  time: the engagement part is the account's rate relative to the norm of accounts of its size
  (its follower band's median, see :mod:`audience`), on the same log axis — ``x2`` the norm for
  its size scores above ``x0.5``, whatever the size;
* consistency is already 0–1 and is used as it is.

When every ranked account has the same value, the part scales to 0.5; an unknown value scores 0.
Suspicious audiences are flagged beside the score, not folded into it (see :mod:`audience`): a
flag says why, and the analyst decides.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from tagpulse.analysis.audience import (
    AudienceFlag,
    AudienceOptions,
    BandNorm,
    band_norms,
    follower_jumps,
    low_engagement_flag,
)
from tagpulse.analysis.influencer_data import (
    INTERACTION_KINDS,
    AccountActivity,
    InfluencerData,
    PostStats,
    load_influencer_data,
)
from tagpulse.analysis.pagerank import pagerank
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = [
    "DEFAULT_WEIGHTS",
    "PARTS",
    "InfluencerOptions",
    "InfluencerScore",
    "Influencers",
    "Part",
    "consistency",
    "engagement_rate",
    "log_scaled",
    "rank_influencers",
]

PARTS: tuple[str, ...] = ("reach", "engagement", "consistency", "centrality")
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "reach": 0.3,
    "engagement": 0.25,
    "consistency": 0.15,
    "centrality": 0.3,
}


@dataclass(slots=True, frozen=True)
class InfluencerOptions:
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    view_weight: float = 0.05
    damping: float = 0.85
    min_posts: int = 3
    kinds: tuple[str, ...] = INTERACTION_KINDS
    audience: AudienceOptions = field(default_factory=AudienceOptions)


@dataclass(slots=True, frozen=True)
class Part:
    """One part of the score: the measure, where it sits on 0–1, its weight and its points."""

    name: str
    value: float | None
    scaled: float | None
    weight: float
    points: float


@dataclass(slots=True)
class InfluencerScore:
    rank: int
    platform: str
    account: str
    handle: str | None
    posts: int
    followers: int | None
    engagement_rate: float | None
    #: The median engagement rate of accounts of about the same size (see :mod:`audience`).
    engagement_norm: float | None
    #: Robust z-score of the log rate within the follower band (None: band too small).
    engagement_z: float | None
    consistency: float | None
    pagerank: float | None
    centrality: float | None  # pagerank * nodes: 1 = average
    parts: tuple[Part, ...]
    score: float
    flags: list[AudienceFlag] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "@" + self.handle if self.handle else self.account


@dataclass(slots=True)
class Influencers:
    accounts: list[InfluencerScore]
    weights: dict[str, float]
    period: tuple[datetime, datetime] | None
    graph_nodes: int
    graph_edges: int

    @property
    def suspicious(self) -> list[InfluencerScore]:
        return [a for a in self.accounts if a.flags]


def engagement_rate(
    posts: Sequence[PostStats], followers: int | None, view_weight: float = 0.05
) -> float | None:
    """The median per post of ``(likes + comments + view_weight * views) / followers``."""
    if not followers or followers <= 0:
        return None
    rates = [
        (p.likes + (p.comments or 0) + (view_weight * (p.views or 0) if p.is_video else 0.0))
        / followers
        for p in posts
        if p.likes is not None
    ]
    return statistics.median(rates) if rates else None


def consistency(
    times: Sequence[datetime], start: datetime, end: datetime, min_posts: int = 3
) -> float | None:
    """``1 / (1 + cv)`` of the gaps between start, each post and end (see the module doc)."""
    span = (end - start).total_seconds()
    if len(times) < min_posts or span <= 0:
        return None
    offsets = sorted(min(max((t - start).total_seconds(), 0.0), span) for t in times)
    gaps = np.diff(np.array([0.0, *offsets, span]))
    cv = float(gaps.std() / gaps.mean())
    return 1.0 / (1.0 + cv)


def log_scaled(values: Sequence[float | None]) -> list[float | None]:
    """Each known value on a log axis from the smallest (0) to the largest (1) positive value;
    values <= 0 score 0; all equal: 0.5."""
    logs = [math.log(v) for v in values if v is not None and v > 0]
    if not logs:
        return [None if v is None else 0.0 for v in values]
    low, high = min(logs), max(logs)
    return [
        None
        if v is None
        else 0.0
        if v <= 0
        else 0.5
        if high == low
        else (math.log(v) - low) / (high - low)
        for v in values
    ]


def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = set(weights) - set(PARTS)
    if unknown or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise InputError(
            f"weights {dict(weights)}: give non-negative weights for {', '.join(PARTS)} "
            "with a positive sum",
            field="weights",
        )
    total = sum(weights.values())
    return {name: weights.get(name, 0.0) / total for name in PARTS}


def _pagerank_of(data: InfluencerData, damping: float) -> tuple[dict[tuple[str, str], float], int]:
    index: dict[tuple[str, str], int] = {key: i for i, key in enumerate(data.accounts)}
    src, dst, weight = [], [], []
    for (plat, a, b), w in data.edges.items():
        src.append(index.setdefault((plat, a), len(index)))
        dst.append(index.setdefault((plat, b), len(index)))
        weight.append(w)
    ranks = pagerank(len(index), src, dst, weight, damping=damping)
    return {key: float(ranks[i]) for key, i in index.items() if key in data.accounts}, len(index)


def rank_influencers(
    query: LakeQuery,
    tags: Sequence[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    options: InfluencerOptions | None = None,
) -> Influencers:
    """Rank the accounts that posted with ``tags`` (any tag when empty); best first."""
    options = options or InfluencerOptions()
    weights = _check_weights(options.weights)
    data = load_influencer_data(
        query, tags, since=since, until=until, platform=platform, kinds=options.kinds
    )
    accounts: list[AccountActivity] = list(data.accounts.values())
    start = since or data.first_post
    end = until or data.last_post
    period = (start, end) if start is not None and end is not None else None
    ranks, nodes = _pagerank_of(data, options.damping)
    followers = [a.followers_at(until) for a in accounts]
    rates = [
        engagement_rate(a.posts, f, options.view_weight)
        for a, f in zip(accounts, followers, strict=True)
    ]
    regularity = [
        consistency([p.at for p in a.posts], *period, options.min_posts) if period else None
        for a in accounts
    ]
    pr = [ranks.get((a.platform, a.account)) for a in accounts]
    norms: list[BandNorm | None] = [None] * len(accounts)
    for plat in {a.platform for a in accounts}:  # each platform has its own norms
        known = [
            i
            for i, a in enumerate(accounts)
            if a.platform == plat and followers[i] and rates[i] is not None
        ]
        pairs = [(followers[i] or 0, rates[i] or 0.0) for i in known]
        for i, norm in zip(known, band_norms(pairs, options.audience), strict=True):
            norms[i] = norm
    relative = [
        None if r is None or n is None else r / n.norm for r, n in zip(rates, norms, strict=True)
    ]
    values: dict[str, list[float | None]] = {
        "reach": [None if f is None else float(f) for f in followers],
        "engagement": relative,
        "consistency": list(regularity),
        "centrality": list(pr),
    }
    scaled = {
        "reach": log_scaled([None if f is None else 1.0 + f for f in followers]),
        "engagement": log_scaled(relative),
        "consistency": list(regularity),
        "centrality": log_scaled(pr),
    }
    result: list[InfluencerScore] = []
    for i, activity in enumerate(accounts):
        parts = tuple(
            Part(name, values[name][i], scaled[name][i], weights[name],
                 100.0 * weights[name] * (scaled[name][i] or 0.0))
            for name in PARTS
        )  # fmt: skip
        rate, norm, rank = rates[i], norms[i], pr[i]
        flags: list[AudienceFlag] = []
        if rate is not None:
            low = low_engagement_flag(rate, norm, options.audience)
            if low is not None:
                flags.append(low)
        flags += follower_jumps(activity.followers, activity.posts, options.audience)
        result.append(
            InfluencerScore(
                0, activity.platform, activity.account, activity.handle, len(activity.posts),
                followers[i], rate, None if norm is None else norm.norm,
                None if norm is None else norm.z, regularity[i], rank,
                None if rank is None else rank * nodes, parts, sum(p.points for p in parts),
                flags,
            )
        )  # fmt: skip
    result.sort(key=lambda s: (-s.score, -(s.followers or 0), s.platform, s.account))
    for position, score in enumerate(result, start=1):
        score.rank = position
    return Influencers(result, weights, period, nodes, len(data.edges))
