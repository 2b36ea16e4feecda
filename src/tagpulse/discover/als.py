"""Collaborative filtering: implicit-feedback ALS over the lake's user × post likes.

The model (``implicit``'s CPU ``AlternatingLeastSquares``, from the ``discover`` extra) is fitted
once per :class:`FeedData` on every like it holds, with a fixed ``random_state`` and one thread
so the same likes give the same factors. A user's candidates are the window's posts they may be
shown, ranked by the dot product of their factors ("liked by people like you"); a user with no
likes gets nothing from this source.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

from tagpulse.discover.feeddata import FeedData, eligible_posts
from tagpulse.discover.sources import Candidate
from tagpulse.errors import MissingExtra

__all__ = ["AlsParams", "LikeModel", "als_source", "fit_likes"]


@dataclass(frozen=True, slots=True)
class AlsParams:
    factors: int = 32
    regularization: float = 0.05
    alpha: float = 10.0
    iterations: int = 15
    random_state: int = 0


@dataclass(frozen=True, slots=True)
class LikeModel:
    users: dict[str, int]
    posts: dict[str, int]
    user_factors: np.ndarray
    item_factors: np.ndarray

    def scores(self, user: str, post_ids: list[str]) -> np.ndarray:
        """The model's score of each post for ``user`` (0 for posts it never saw)."""
        u = self.users.get(user)
        out = np.zeros(len(post_ids))
        if u is None:
            return out
        known = [(i, self.posts[p]) for i, p in enumerate(post_ids) if p in self.posts]
        if known:
            rows, items = zip(*known, strict=True)
            out[list(rows)] = self.item_factors[list(items)] @ self.user_factors[u]
        return out


def _implicit() -> tuple[Any, Any]:
    """implicit's ALS class and threadpoolctl's ``threadpool_limits`` (one of its dependencies)."""
    try:
        from implicit.cpu.als import AlternatingLeastSquares  # type: ignore[import-untyped]
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MissingExtra("discover", "implicit") from exc
    return AlternatingLeastSquares, threadpool_limits


def fit_likes(data: FeedData, params: AlsParams | None = None) -> LikeModel:
    """Fit ALS on every like in ``data`` (cached on ``data``)."""
    cached = data.cached("als")
    if isinstance(cached, LikeModel):
        return cached
    p = params or AlsParams()
    users = {u: i for i, u in enumerate(sorted({x.user for x in data.likes}))}
    posts = {q: i for i, q in enumerate(sorted({x.post_id for x in data.likes}))}
    if not users:
        empty = LikeModel(users, posts, np.zeros((0, 1)), np.zeros((0, 1)))
        data.store("als", empty)
        return empty
    rows = [users[x.user] for x in data.likes]
    cols = [posts[x.post_id] for x in data.likes]
    matrix = scipy.sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(posts))
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    als, threadpool_limits = _implicit()
    # one BLAS thread: reproducible, and implicit is slow (and warns) with more
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = als(
            factors=p.factors,
            regularization=p.regularization,
            alpha=p.alpha,
            iterations=p.iterations,
            random_state=p.random_state,
            num_threads=1,
            calculate_training_loss=False,
        )
        model.fit(matrix, show_progress=False)
    fitted = LikeModel(users, posts, np.asarray(model.user_factors),
                       np.asarray(model.item_factors))  # fmt: skip
    data.store("als", fitted)
    return fitted


def als_source(data: FeedData, user: str, n: int) -> list[Candidate]:
    """The window's posts ALS ranks highest for ``user`` (positive scores only)."""
    model = fit_likes(data)
    if user not in model.users:
        return []
    posts = eligible_posts(data, user)
    scores = model.scores(user, [p.post_id for p in posts])
    items = [
        Candidate(post, "als", float(s), "liked by people like you")
        for post, s in zip(posts, scores, strict=True)
        if s > 0
    ]
    items.sort(key=lambda c: (-c.score, c.post.post_id))
    return items[:n]
