"""Offline evaluation of the feed: hide each user's most recent likes, rebuild every source from
the rest, and see how many hidden posts each source puts in its top ``k``.

A user takes part when they liked at least ``min_likes`` posts; their likes are ordered by when
each was first seen (then by the post's time) and the last ``holdout`` share (at least one) is
hidden. The hidden posts still in the feed's window are the ones to find; a user with none is
left out. Graph weights, ALS, interests and the user's exclusions are rebuilt without the hidden
likes; post counts (likes, comments) stay as observed, as a live feed would see them.

Metrics, averaged over users: recall@k = hits / relevant; NDCG@k with binary relevance =
``sum over hits of 1 / log2(rank + 1)`` divided by the same sum for a perfect list of
``min(k, relevant)`` hits. ``popular`` (the window's most-liked posts) is the baseline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tagpulse.discover.blend import DEFAULT_WEIGHTS, SOURCES, blend, source_candidates
from tagpulse.discover.feeddata import FeedData, hide_likes, load_feed_data
from tagpulse.discover.sources import Candidate
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = [
    "Evaluation",
    "SourceScore",
    "evaluate_data",
    "evaluate_feed",
    "holdout_likes",
    "ndcg_at_k",
    "recall_at_k",
    "split_users",
    "tune_weights",
]


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """The share of ``relevant`` items in the first ``k`` of ``ranked``."""
    if not relevant:
        raise InputError("recall@k: no relevant items", field="relevant")
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Normalised discounted cumulative gain of the first ``k`` of ``ranked`` (binary gains)."""
    if not relevant:
        raise InputError("NDCG@k: no relevant items", field="relevant")
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


@dataclass(frozen=True, slots=True)
class SourceScore:
    source: str
    recall: float
    ndcg: float

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "recall": self.recall, "ndcg": self.ndcg}


@dataclass(frozen=True, slots=True)
class Evaluation:
    at: datetime
    k: int
    holdout: float
    users: int
    hidden: int
    scores: list[SourceScore] = field(default_factory=list)
    #: The blend's weights.
    weights: dict[str, float] = field(default_factory=dict)
    #: Which users were scored: "all", or "test" (the other half tuned the weights).
    split: str = "all"

    def score(self, source: str) -> SourceScore:
        return next(s for s in self.scores if s.source == source)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "k": self.k,
            "holdout": self.holdout,
            "users": self.users,
            "hidden": self.hidden,
            "scores": [s.to_json() for s in self.scores],
            "weights": self.weights,
            "split": self.split,
        }


def holdout_likes(
    data: FeedData, *, holdout: float = 0.2, min_likes: int = 5
) -> dict[str, set[str]]:
    """Each eligible user's most recent liked posts (``holdout`` of them, at least one)."""
    if not 0 < holdout < 1:
        raise InputError(f"--holdout {holdout}: give a share between 0 and 1", field="holdout")
    taken = {p.post_id: p.taken_at for p in data.posts}
    per_user: dict[str, list[tuple[datetime, float, str]]] = {}
    for like in data.likes:
        when = taken.get(like.post_id)
        per_user.setdefault(like.user, []).append(
            (like.seen, when.timestamp() if when else 0.0, like.post_id)
        )
    hidden: dict[str, set[str]] = {}
    for user, likes in per_user.items():
        if len(likes) < min_likes:
            continue
        likes.sort()
        cut = max(1, round(len(likes) * holdout))
        hidden[user] = {pid for _, _, pid in likes[-cut:]}
    return hidden


def _source_lists(
    data: FeedData, targets: Mapping[str, set[str]], k: int
) -> dict[str, dict[str, list[Candidate]]]:
    """Each target user's ranked list from each source, long enough for any blend of ``k``."""
    return {
        user: {s: source_candidates(data, user, s, k * len(SOURCES)) for s in SOURCES}
        for user in sorted(targets)
    }


def _mean_scores(
    lists: Mapping[str, Mapping[str, list[Candidate]]],
    targets: Mapping[str, set[str]],
    k: int,
    weights: Mapping[str, float],
    seed: int,
) -> list[SourceScore]:
    names = ["blend", *SOURCES]
    totals = {s: [0.0, 0.0] for s in names}
    for user, per_source in lists.items():
        relevant = targets[user]
        for source in names:
            items = blend(per_source, weights, k, seed=seed) if source == "blend" else \
                per_source[source][:k]  # fmt: skip
            ranked = [c.post.post_id for c in items]
            totals[source][0] += recall_at_k(ranked, relevant, k)
            totals[source][1] += ndcg_at_k(ranked, relevant, k)
    count = max(1, len(lists))
    return [SourceScore(s, totals[s][0] / count, totals[s][1] / count) for s in names]


def split_users(users: Sequence[str], *, seed: int = 0) -> tuple[set[str], set[str]]:
    """Users split in two halves, validation and test, by a seeded hash of their id."""

    def key(u: str) -> str:
        return hashlib.sha256(f"{seed}:{u}".encode()).hexdigest()

    ordered = sorted(users, key=key)
    half = len(ordered) // 2
    return set(ordered[:half]), set(ordered[half:])


#: The grid ``tune_weights`` searches: network fixed at 1, each other source at one of these
#: (never 0: a blend that drops its other sources is the network source).
TUNING_GRID = (0.05, 0.1, 0.25, 0.5)


def tune_weights(
    data: FeedData,
    users: set[str],
    *,
    k: int = 10,
    holdout: float = 0.2,
    min_likes: int = 5,
    seed: int = 0,
) -> dict[str, float]:
    """The blend weights (on :data:`TUNING_GRID`, normalised to sum 1) with the best mean
    NDCG@k over ``users`` (the validation users: never the ones the result is reported on)."""
    hidden = {u: h for u, h in holdout_likes(data, holdout=holdout, min_likes=min_likes).items()
              if u in users}  # fmt: skip
    rest, targets = _targets(data, hidden)
    lists = _source_lists(rest, targets, k)
    others = [s for s in SOURCES if s != "network"]
    best: tuple[float, dict[str, float]] = (-1.0, dict(DEFAULT_WEIGHTS))
    for combo in itertools.product(TUNING_GRID, repeat=len(others)):
        raw = {"network": 1.0} | dict(zip(others, combo, strict=True))
        total = sum(raw.values())
        weights = {s: round(w / total, 4) for s, w in raw.items()}
        ndcg = _mean_scores(lists, targets, k, weights, seed)[0].ndcg
        if ndcg > best[0] + 1e-12:
            best = (ndcg, weights)
    return best[1]


def _targets(
    data: FeedData, hidden: Mapping[str, set[str]]
) -> tuple[FeedData, dict[str, set[str]]]:
    window = {p.post_id for p in data.posts}
    targets = {u: h & window for u, h in hidden.items() if h & window}
    return hide_likes(data, hidden), targets


def evaluate_data(
    data: FeedData,
    *,
    k: int = 10,
    holdout: float = 0.2,
    min_likes: int = 5,
    weights: Mapping[str, float] | None = None,
    seed: int = 0,
    users: set[str] | None = None,
) -> Evaluation:
    """Recall@k and NDCG@k of every source and the blend (``users``: only these users)."""
    if k < 1:
        raise InputError(f"--k {k}: give at least 1", field="k")
    hidden = holdout_likes(data, holdout=holdout, min_likes=min_likes)
    if users is not None:
        hidden = {u: h for u, h in hidden.items() if u in users}
    rest, targets = _targets(data, hidden)
    lists = _source_lists(rest, targets, k)
    scores = _mean_scores(lists, targets, k, weights or DEFAULT_WEIGHTS, seed)
    hidden_count = sum(map(len, targets.values()))
    return Evaluation(data.at, k, holdout, len(targets), hidden_count, scores,
                      dict(weights or DEFAULT_WEIGHTS))  # fmt: skip


def evaluate_feed(
    query: LakeQuery,
    *,
    k: int = 10,
    holdout: float = 0.2,
    min_likes: int = 5,
    at: datetime | None = None,
    platform: str | None = None,
    weights: Mapping[str, float] | None = None,
    seed: int = 0,
    tune: bool = False,
) -> Evaluation:
    """:func:`evaluate_data` on the lake's data as of ``at``. With ``tune``, the users are split
    in halves: the blend's weights are tuned on the validation half and scored on the test
    half."""
    data = load_feed_data(query, at=at, platform=platform)
    if data is None:
        raise InputError("the lake has no posts: collect or import some first")
    if not tune:
        return evaluate_data(data, k=k, holdout=holdout, min_likes=min_likes, weights=weights,
                             seed=seed)  # fmt: skip
    users = sorted(holdout_likes(data, holdout=holdout, min_likes=min_likes))
    validation, test = split_users(users, seed=seed)
    tuned = tune_weights(data, validation, k=k, holdout=holdout, min_likes=min_likes, seed=seed)
    result = evaluate_data(data, k=k, holdout=holdout, min_likes=min_likes, weights=tuned,
                           seed=seed, users=test)  # fmt: skip
    return dataclasses.replace(result, split="test")
