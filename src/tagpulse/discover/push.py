"""Personalised PageRank from one user on a big graph, fast: a vectorised local push.

:func:`~tagpulse.discover.ppr.forward_push` pushes one node at a time in Python and copies the
matrix on every call; this module prepares the graph once (:class:`PushGraph`: CSR with
``int32`` targets and each node's out-weights already divided by their sum) and pushes every
node over the threshold at once, round by round, touching only the arrays' entries near the
user. A node is pushed while its unspread mass exceeds ``eps`` times its out-degree (Andersen,
Chung and Lang), so the work is bounded by ``1 / ((1 - alpha) * eps)`` edge visits whatever the
graph's size. Dangling nodes hand their mass back to the user, as ``networkx.pagerank`` does, so
the estimate converges to :func:`~tagpulse.discover.ppr.personalised_pagerank`'s vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse

from tagpulse.errors import InputError

__all__ = ["PushGraph", "PushRank", "hop_weights", "push_graph", "push_rank", "top_k"]


@dataclass(frozen=True, slots=True)
class PushGraph:
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    #: Each edge's share of its source's out-weight.
    share: npt.NDArray[np.float64]
    #: Out-degree, at least 1 (the push threshold's scale).
    degree: npt.NDArray[np.float64]

    @property
    def n(self) -> int:
        return int(self.degree.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of its arrays (``indices`` is the weight matrix's own when that is int32)."""
        return int(sum(a.nbytes for a in (self.indptr, self.indices, self.share, self.degree)))


@dataclass(frozen=True, slots=True)
class PushRank:
    """The estimate on the ``nodes`` it reached (every other node's estimate is 0); the exact
    vector is larger by at most ``residual`` in L1."""

    nodes: npt.NDArray[np.int64]
    rank: npt.NDArray[np.float64]
    residual: float
    rounds: int
    edges_visited: int


def push_graph(weights: scipy.sparse.sparray | scipy.sparse.spmatrix) -> PushGraph:
    """Prepare an ``n × n`` non-negative weight matrix (row = from) for :func:`push_rank`;
    the matrix is not changed, and its int32 column indices are shared, not copied."""
    a = scipy.sparse.csr_array(weights, dtype=np.float64)
    if a.shape[0] != a.shape[1]:
        raise InputError(f"push: the weight matrix must be square, not {a.shape}")
    if a.nnz and (a.data < 0).any():
        raise InputError("push: edge weights must not be negative")
    out = np.asarray(a.sum(axis=1)).ravel()
    lengths = np.diff(a.indptr)
    share = a.data / np.repeat(np.where(out > 0, out, 1.0), lengths)
    return PushGraph(
        indptr=a.indptr.astype(np.int64),
        indices=a.indices.astype(np.int32, copy=False),  # shared with the matrix: no copy
        share=share.astype(np.float64),
        degree=np.maximum(lengths, 1).astype(np.float64),
    )


def push_rank(graph: PushGraph, source: int, *, alpha: float = 0.85, eps: float = 1e-6) -> PushRank:
    """Personalised PageRank from ``source`` by synchronous local pushes (see the module)."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"push: alpha = {alpha}: use a value between 0 and 1 (0.85 is usual)")
    if eps <= 0:
        raise InputError(f"push: eps = {eps}: use a small positive number (1e-6)")
    n = graph.n
    if not 0 <= source < n:
        raise InputError(f"push: source {source} is not a node in 0 … {n - 1}")
    indptr, indices, share = graph.indptr, graph.indices, graph.share
    residual = np.zeros(n)  # calloc: pages the push never touches cost nothing
    rank = np.zeros(n)
    slot = np.empty(n, dtype=np.int64)  # only entries written this round are read
    seen = np.zeros(n, dtype=bool)
    seen[source] = True
    residual[source] = 1.0
    active = np.array([source], dtype=np.int64)
    reached = [active]
    rounds = visited = 0
    while active.size:
        rounds += 1
        mass = residual[active]
        residual[active] = 0.0
        rank[active] += (1.0 - alpha) * mass
        starts = indptr[active]
        lengths = indptr[active + 1] - starts
        back = float(mass[lengths == 0].sum())
        total = int(lengths.sum())
        targets: npt.NDArray[np.int64]
        if total:
            visited += total
            first = np.cumsum(lengths) - lengths
            edge = np.arange(total) + np.repeat(starts - first, lengths)
            hit = indices[edge]
            np.add.at(residual, hit, np.repeat(alpha * mass, lengths) * share[edge])
            # Each target once, without sorting: the last edge to write a node's slot keeps it.
            slot[hit] = np.arange(total, dtype=np.int64)
            targets = hit[slot[hit] == np.arange(total)].astype(np.int64)
        else:
            targets = np.zeros(0, dtype=np.int64)
        if back > 0:
            residual[source] += alpha * back
            if not (targets == source).any():
                targets = np.append(targets, source)
        targets = targets.astype(np.int64, copy=False)
        fresh = targets[~seen[targets]]
        seen[fresh] = True
        reached.append(fresh)
        active = targets[residual[targets] > eps * graph.degree[targets]]
    nodes = np.sort(np.concatenate(reached))
    return PushRank(
        nodes=nodes,
        rank=rank[nodes],
        residual=float(residual[nodes].sum()),
        rounds=rounds,
        edges_visited=visited,
    )


def top_k(
    nodes: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], k: int
) -> npt.NDArray[np.int64]:
    """The ``k`` nodes with the highest scores, best first (ties: lower node first)."""
    pick = np.arange(nodes.size) if nodes.size <= k else np.argpartition(-scores, k - 1)[:k]
    order = np.lexsort((nodes[pick], -scores[pick]))
    return np.asarray(nodes[pick][order], dtype=np.int64)


def hop_weights(
    weights: scipy.sparse.csr_array, user: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The accounts tied to ``user`` directly or in 2 hops, and the tie weight the feed uses:
    the direct tie's, else the strongest path's weakest tie (as ``feed.author_weights``, on a
    bare weight matrix). ``user`` itself is left out."""
    indptr, indices, data = weights.indptr, weights.indices, weights.data
    first = np.asarray(indices[indptr[user] : indptr[user + 1]], dtype=np.int64)
    first_w = np.asarray(data[indptr[user] : indptr[user + 1]], dtype=np.float64)
    starts, lengths = indptr[first], indptr[first + 1] - indptr[first]
    total = int(lengths.sum())
    via_first = np.repeat(np.arange(first.size), lengths)
    edge = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    second = np.asarray(indices[edge], dtype=np.int64)
    through = np.minimum(np.asarray(data[edge], dtype=np.float64), first_w[via_first])
    # Strongest path per 2-hop account: sort by weight, the last write per account wins.
    order = np.argsort(through, kind="stable")
    nodes = np.concatenate([second[order], first])  # direct ties last: they override
    values = np.concatenate([through[order], first_w])
    if nodes.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    uniq, last = np.unique(nodes[::-1], return_index=True)
    keep = nodes.size - 1 - last
    mask = uniq != user
    return uniq[mask].astype(np.int64), values[keep][mask].astype(np.float64)
