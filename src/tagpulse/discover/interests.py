"""Interests: the hashtags a user cares about, their neighbours, and the top recent posts under
them.

A user's interest in a tag is how many of the posts they liked or wrote carry it. The profile is
widened with each tag's nearest co-occurring tags (weight × similarity / 2, at most 3 per tag).
A recent post scores ``sum of its tags' interest × log10(likes + 2) × exp(-age / 1e5)``, and is
explained by its strongest tag ("popular in #tag").

Tag similarity from co-occurrence is the cosine between tags' columns of the binary post × tag
matrix: ``co(a, b) / sqrt(n(a) × n(b))``, so a tag always used with another has that one as its
top neighbour (unless an even tighter companion exists).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from tagpulse.discover.feed import AGE_SCALE
from tagpulse.discover.feeddata import FeedData, eligible_posts
from tagpulse.discover.sources import Candidate

__all__ = [
    "TagSimilarity",
    "cooccurrence_similarity",
    "interest_profile",
    "interests_source",
]


@dataclass(frozen=True, slots=True)
class TagSimilarity:
    """Tags ``tags[i]`` and a dense ``similarity`` matrix (diagonal 0); ``counts`` = posts per
    tag."""

    tags: tuple[str, ...]
    similarity: np.ndarray
    counts: np.ndarray

    def neighbours(self, tag: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` most similar tags to ``tag`` (most similar first, ties by name)."""
        index = {t: i for i, t in enumerate(self.tags)}
        i = index.get(tag.lower().lstrip("#"))
        if i is None:
            return []
        row = self.similarity[i]
        order = sorted((j for j in range(len(self.tags)) if j != i and row[j] > 0),
                       key=lambda j: (-row[j], self.tags[j]))  # fmt: skip
        return [(self.tags[j], float(row[j])) for j in order[:n]]


def cooccurrence_similarity(post_tags: Mapping[str, Sequence[str]]) -> TagSimilarity:
    """Cosine similarity of tags over the binary post × tag matrix."""
    tags = tuple(sorted({t for ts in post_tags.values() for t in ts}))
    index = {t: i for i, t in enumerate(tags)}
    rows, cols = [], []
    for r, ts in enumerate(post_tags.values()):
        for t in set(ts):
            rows.append(r)
            cols.append(index[t])
    x = scipy.sparse.csr_array(
        (np.ones(len(rows)), (rows, cols)), shape=(len(post_tags), len(tags))
    )
    co = (x.T @ x).toarray()
    counts = np.diag(co).copy()
    norm = np.sqrt(np.outer(counts, counts))
    sim = np.divide(co, norm, out=np.zeros_like(co), where=norm > 0)
    np.fill_diagonal(sim, 0.0)
    return TagSimilarity(tags, sim, counts)


def _similarity(data: FeedData) -> TagSimilarity:
    cached = data.cached("tag-cooccurrence")
    if isinstance(cached, TagSimilarity):
        return cached
    sim = cooccurrence_similarity({p: t for p, t in data.hashtags.items() if t})
    data.store("tag-cooccurrence", sim)
    return sim


def interest_profile(data: FeedData, user: str, *, expand: int = 3) -> dict[str, float]:
    """Tag → interest: tags of the user's liked and own posts, widened with similar tags."""
    own = [p for p, owner in data.owners.items() if owner == user]
    direct = Counter(t for p in [*data.liked.get(user, ()), *own] for t in data.hashtags.get(p, ()))
    profile = {t: float(c) for t, c in direct.items()}
    if expand:
        sim = _similarity(data)
        for tag, count in direct.items():
            for other, s in sim.neighbours(tag, expand):
                if other not in direct:
                    profile[other] = profile.get(other, 0.0) + count * s / 2
    return profile


def interests_source(data: FeedData, user: str, n: int) -> list[Candidate]:
    """Top recent posts under the user's interests."""
    profile = interest_profile(data, user)
    if not profile:
        return []
    items = []
    for post in eligible_posts(data, user):
        weights = [(profile[t], t) for t in post.hashtags if t in profile]
        if not weights:
            continue
        age = max(0.0, (data.at - post.taken_at).total_seconds())
        score = sum(w for w, _ in weights) * math.log10(post.likes + 2) * math.exp(-age / AGE_SCALE)
        best = max(weights)[1]
        items.append(Candidate(post, "interests", score, f"popular in #{best}"))
    items.sort(key=lambda c: (-c.score, c.post.post_id))
    return items[:n]
