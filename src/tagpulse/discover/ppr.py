"""Personalised PageRank by sparse power iteration, agreeing with ``networkx.pagerank``.

The iteration is networkx's: ``x <- alpha * (x Q + (x · dangling) p) + (1 - alpha) p`` where
``Q`` is the weight matrix with each row divided by its sum, ``p`` the personalisation vector
(normalised to sum 1) and a dangling node (no out-weight) hands all its rank to ``p``. Unlike
networkx, the transposed transition matrix is built once (``Transition``) and reused for every
user, and the iteration stops on an absolute L1 change (networkx stops at ``n * tol``, which on
a large graph is loose), so the result is within about ``tol * alpha / (1 - alpha)`` of the
fixed point. Self-loops are kept, as networkx keeps them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse

from tagpulse.errors import InputError

__all__ = [
    "LocalRank",
    "Transition",
    "forward_push",
    "personalised_pagerank",
    "transition",
]


@dataclass(frozen=True, slots=True)
class Transition:
    """A graph ready for repeated PageRank runs."""

    #: ``Q^T``: column ``i`` holds node ``i``'s out-weights divided by their sum.
    matrix_t: scipy.sparse.csr_array
    dangling: npt.NDArray[np.bool_]

    @property
    def n(self) -> int:
        return int(self.dangling.shape[0])


def transition(weights: scipy.sparse.sparray | scipy.sparse.spmatrix) -> Transition:
    """Prepare an ``n × n`` weight matrix (row = from) for :func:`personalised_pagerank`."""
    a = scipy.sparse.csr_array(weights, dtype=np.float64)
    if a.shape[0] != a.shape[1]:
        raise InputError(f"pagerank: the weight matrix must be square, not {a.shape}")
    if a.nnz and (a.data < 0).any():
        raise InputError("pagerank: edge weights must not be negative")
    out = np.asarray(a.sum(axis=1)).ravel()
    scale = np.zeros_like(out)
    np.divide(1.0, out, out=scale, where=out != 0)
    q = scipy.sparse.diags_array(scale) @ a
    return Transition(matrix_t=scipy.sparse.csr_array(q.T), dangling=out == 0)


def _vector(
    n: int, personalisation: Mapping[int, float] | npt.NDArray[np.float64] | None
) -> npt.NDArray[np.float64]:
    if personalisation is None:
        return np.full(n, 1.0 / n)
    if isinstance(personalisation, np.ndarray):
        p = np.asarray(personalisation, dtype=np.float64).copy()
        if p.shape != (n,):
            raise InputError(f"pagerank: the personalisation has shape {p.shape}, not ({n},)")
    else:
        p = np.zeros(n)
        for node, value in personalisation.items():
            if not 0 <= node < n:
                raise InputError(f"pagerank: personalisation names node {node}, not in 0 … {n - 1}")
            p[node] = value
    if (p < 0).any() or p.sum() <= 0:
        raise InputError("pagerank: the personalisation must be non-negative and not all zero")
    return np.asarray(p / p.sum(), dtype=np.float64)


def personalised_pagerank(
    graph: Transition | scipy.sparse.sparray | scipy.sparse.spmatrix,
    personalisation: Mapping[int, float] | npt.NDArray[np.float64] | None = None,
    *,
    alpha: float = 0.85,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> npt.NDArray[np.float64]:
    """The PageRank of every node with restarts to ``personalisation`` (default: uniform).

    ``personalisation`` maps node → weight (e.g. ``{user: 1.0}``) or is a length-``n`` vector.
    Stops when the L1 change of an iteration falls below ``tol`` (or after ``max_iter``)."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"pagerank: alpha = {alpha}: use a value between 0 and 1 (0.85 is usual)")
    prepared = graph if isinstance(graph, Transition) else transition(graph)
    n = prepared.n
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    p = _vector(n, personalisation)
    dangling = prepared.dangling
    any_dangling = bool(dangling.any())
    restart = (1.0 - alpha) * p
    x = p.copy() if personalisation is not None else np.full(n, 1.0 / n)
    for _ in range(max_iter):
        new = alpha * (prepared.matrix_t @ x)
        if any_dangling:
            new += (alpha * x[dangling].sum()) * p
        new += restart
        err = float(np.abs(new - x).sum())
        x = new
        if err < tol:
            break
    return np.asarray(x, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class LocalRank:
    """A forward-push estimate: ``rank`` is below the exact PageRank by ``residual`` in L1
    (the exact vector is ``rank + residual-weighted PageRanks``, each of which sums to 1)."""

    rank: npt.NDArray[np.float64]
    residual: float
    pushes: int


def forward_push(
    weights: scipy.sparse.sparray | scipy.sparse.spmatrix,
    source: int,
    *,
    alpha: float = 0.85,
    eps: float = 1e-7,
) -> LocalRank:
    """Personalised PageRank from one node, touching only the nodes near it (Andersen, Chung
    and Lang's push): a node holding more than ``eps`` of unspread mass keeps ``1 - alpha`` of it
    and pushes the rest along its out-weights; a dangling node pushes it back to ``source``, as
    networkx does. The L1 error is at most ``residual`` (at most ``eps`` per touched node)."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"pagerank: alpha = {alpha}: use a value between 0 and 1 (0.85 is usual)")
    if eps <= 0:
        raise InputError(f"forward push: eps = {eps}: use a small positive number (1e-7)")
    a = scipy.sparse.csr_array(weights, dtype=np.float64)
    n = a.shape[0]
    if not 0 <= source < n:
        raise InputError(f"forward push: source {source} is not a node in 0 … {n - 1}")
    indptr, indices, data = a.indptr, a.indices, a.data
    rank = np.zeros(n)
    residual = np.zeros(n)
    residual[source] = 1.0
    queue = deque([source])
    queued = np.zeros(n, dtype=bool)
    queued[source] = True
    pushes = 0
    while queue:
        u = queue.popleft()
        queued[u] = False
        mass = residual[u]
        if mass <= eps:
            continue
        residual[u] = 0.0
        rank[u] += (1.0 - alpha) * mass
        pushes += 1
        start, end = indptr[u], indptr[u + 1]
        out = data[start:end].sum() if end > start else 0.0
        if out > 0:
            targets = indices[start:end]
            np.add.at(residual, targets, alpha * mass * data[start:end] / out)
        else:
            targets = np.array([source])
            residual[source] += alpha * mass
        for v in targets.tolist():
            if residual[v] > eps and not queued[v]:
                queued[v] = True
                queue.append(v)
    return LocalRank(np.asarray(rank, dtype=np.float64), float(residual.sum()), pushes)
