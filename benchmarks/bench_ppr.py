"""Personalised PageRank: ``discover.ppr`` against ``networkx.pagerank`` on the same graph.

Data: a synthetic directed graph of 1M edges (quick: 50k) over ``edges / 10`` accounts, with
heavy-tailed out-degrees and popularity (a few accounts are followed by many), weights as the
study's ties (0.5 for a follow, 1-5 for likes) and a tenth of the accounts dangling (no
out-edges). The restart vector is one user.

Baseline: what a capable analyst does: ``networkx.pagerank(G, personalization={user: 1})`` on
the graph already built as a ``networkx.DiGraph`` (its build time is reported apart, as is
ours: the CSR matrix from the edge arrays). Both stop at the same L1 change per iteration
(1e-10; networkx's ``tol`` is scaled by the node count, so it gets ``1e-10 / n``). Ours is
timed from the weight matrix (transition matrix included), and also per query with the
transition matrix prepared once. The results must agree within 1e-6 in L1, else it raises.
Ratio = networkx seconds / ours.
"""

from __future__ import annotations

import time
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse

from common import Result, best_of, main, report
from tagpulse.discover.ppr import personalised_pagerank, transition

NAME = "PPR vs networkx"
GOAL = 25.0
ALPHA = 0.85
TOL = 1e-10


def synthetic_edges(
    m: int, seed: int = 8
) -> tuple[int, np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``m`` distinct weighted edges over ``m // 10`` nodes; the last tenth of nodes dangle."""
    rng = np.random.default_rng(seed)
    n = max(10, m // 10)
    sources = int(n * 0.9)
    # Heavy tails: Zipf-like choice of who posts ties and who receives them.
    out_p = 1.0 / np.arange(1, sources + 1) ** 0.6
    in_p = 1.0 / np.arange(1, n + 1) ** 0.8
    out_p /= out_p.sum()
    in_p /= in_p.sum()
    src = np.empty(0, dtype=np.int64)
    dst = np.empty(0, dtype=np.int64)
    while len(src) < m:
        k = int((m - len(src)) * 1.3) + 100
        s = rng.permutation(sources)[rng.choice(sources, k, p=out_p)]
        d = rng.permutation(n)[rng.choice(n, k, p=in_p)]
        keep = s != d
        pairs = np.unique(np.concatenate([src * n + dst, s[keep] * n + d[keep]]))
        src, dst = pairs // n, pairs % n
    pick = rng.choice(len(src), m, replace=False)
    src, dst = src[pick], dst[pick]
    weight = rng.choice([0.5, 0.5, 0.5, 1.0, 2.0, 3.0, 5.0], m)
    return n, src, dst, weight


def run(quick: bool = False) -> list[Result]:
    m = 50_000 if quick else 1_000_000
    n, src, dst, weight = synthetic_edges(m)
    user = int(src[0])

    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True))
    nx_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    matrix = scipy.sparse.csr_array((weight, (src, dst)), shape=(n, n))
    ours_build = time.perf_counter() - t0

    runs = 3 if quick else 2
    nx_s, nx_ranks = best_of(
        runs,
        lambda: nx.pagerank(
            g, alpha=ALPHA, personalization={user: 1.0}, tol=TOL / n, max_iter=10_000
        ),
    )
    ours_s, ours = best_of(
        runs, lambda: personalised_pagerank(matrix, {user: 1.0}, alpha=ALPHA, tol=TOL)
    )
    prepared = transition(matrix)
    query_s, _ = best_of(
        runs, lambda: personalised_pagerank(prepared, {user: 1.0}, alpha=ALPHA, tol=TOL)
    )
    expected = np.array([nx_ranks[i] for i in range(n)])
    l1 = float(np.abs(ours - expected).sum())
    if l1 >= 1e-6:
        raise AssertionError(f"PPR and networkx disagree: L1 distance {l1:.3g} >= 1e-6")
    details: dict[str, Any] = {
        "edges": m,
        "nodes": n,
        "dangling": int(n - len(np.unique(src))),
        "alpha": ALPHA,
        "tol_l1": TOL,
        "l1_distance": l1,
        "build_s": {"networkx_digraph": nx_build, "ours_csr": ours_build},
        "ours_prepared_query_s": query_s,
        "ratio_prepared_query": nx_s / query_s,
        "networkx": nx.__version__,
    }
    return [
        report(
            Result(
                name=NAME,
                value=ours_s,
                baseline=nx_s,
                ratio=nx_s / ours_s,
                goal=GOAL,
                unit="s",
                higher_is_better=False,
                baseline_name="networkx.pagerank",
                details=details,
            )
        )
    ]


if __name__ == "__main__":
    main(run)
