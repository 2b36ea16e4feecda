"""PageRank on a weighted directed graph, by power iteration over a scipy sparse matrix.

Each node passes ``damping`` of its rank along its out-edges in proportion to their weights and
the rest is spread evenly over all nodes (the random jump); a node without out-edges (dangling)
spreads all its rank evenly. The ranks sum to 1; on a graph of ``n`` nodes the average is
``1 / n``. Self-loops are dropped (liking one's own post says nothing about one's standing).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse

from tagpulse.errors import InputError

__all__ = ["pagerank"]


def pagerank(
    n: int,
    src: Sequence[int] | npt.NDArray[np.int64],
    dst: Sequence[int] | npt.NDArray[np.int64],
    weight: Sequence[float] | npt.NDArray[np.float64] | None = None,
    *,
    damping: float = 0.85,
    tol: float = 1e-12,
    max_iter: int = 500,
) -> npt.NDArray[np.float64]:
    """The PageRank of nodes ``0 … n-1`` given edges ``src[i] -> dst[i]`` (weights default 1)."""
    if not 0.0 < damping < 1.0:
        raise InputError(f"damping = {damping}: use a value between 0 and 1 (0.85 is usual)")
    if n <= 0:
        return np.zeros(0, dtype=np.float64)
    s = np.asarray(src, dtype=np.int64)
    d = np.asarray(dst, dtype=np.int64)
    w = np.ones(len(s)) if weight is None else np.asarray(weight, dtype=np.float64)
    if not (len(s) == len(d) == len(w)):
        raise InputError("pagerank: src, dst and weight must have the same length")
    if len(s) and (min(s.min(), d.min()) < 0 or max(s.max(), d.max()) >= n):
        raise InputError(f"pagerank: an edge names a node outside 0 … {n - 1}")
    if len(w) and (w < 0).any():
        raise InputError("pagerank: edge weights must not be negative")
    keep = s != d
    s, d, w = s[keep], d[keep], w[keep]
    out_weight = np.bincount(s, weights=w, minlength=n)
    # M[j, i] = w(i -> j) / out(i): a column-stochastic matrix over the nodes with out-edges.
    share = w / out_weight[s] if len(s) else w
    matrix = scipy.sparse.csr_array((share, (d, s)), shape=(n, n))
    dangling = out_weight == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        spread = (damping * rank[dangling].sum() + (1.0 - damping)) / n
        new = damping * (matrix @ rank) + spread
        new /= new.sum()  # guards against drift; the sum is 1 in exact arithmetic
        if np.abs(new - rank).sum() < tol:
            return np.asarray(new, dtype=np.float64)
        rank = new
    return np.asarray(rank, dtype=np.float64)
