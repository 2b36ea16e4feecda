"""The vectorised local push: converges to the power iteration (and so to networkx), its error
stays within its residual, and the 2-hop tie weights match the feed's."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse

from tagpulse.discover.feed import author_weights
from tagpulse.discover.graph import build_graph
from tagpulse.discover.ppr import personalised_pagerank
from tagpulse.discover.push import hop_weights, push_graph, push_rank, top_k
from tagpulse.errors import InputError


def random_graph(n: int, m: int, seed: int) -> scipy.sparse.csr_array:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, int(n * 0.9), m)  # the last tenth dangle
    dst = (rng.pareto(1.0, m) * 5).astype(np.int64) % n  # popular accounts
    keep = src != dst
    a = scipy.sparse.csr_array(
        (rng.choice([0.5, 1.0, 3.0], keep.sum()), (src[keep], dst[keep])), shape=(n, n)
    )
    a.sum_duplicates()
    return a


def dense(n: int, nodes: np.ndarray, rank: np.ndarray) -> np.ndarray:
    out = np.zeros(n)
    out[nodes] = rank
    return out


def test_push_matches_networkx_on_a_small_graph() -> None:
    # 0 -> 1 (2), 0 -> 2 (1), 1 -> 2, 2 -> 0, 3 -> 2; 4 dangles and is reached from 1.
    edges = [(0, 1, 2.0), (0, 2, 1.0), (1, 2, 1.0), (2, 0, 1.0), (3, 2, 1.0), (1, 4, 1.0)]
    a = scipy.sparse.csr_array(
        ([w for *_, w in edges], ([s for s, *_ in edges], [d for _, d, _ in edges])), shape=(5, 5)
    )
    g = nx.DiGraph()
    g.add_nodes_from(range(5))
    g.add_weighted_edges_from(edges)
    expected = nx.pagerank(g, personalization={0: 1.0}, tol=1e-15, max_iter=10_000)
    result = push_rank(push_graph(a), 0, eps=1e-13)
    got = dense(5, result.nodes, result.rank)
    assert np.abs(got - np.array([expected[i] for i in range(5)])).sum() < 1e-9
    assert 3 not in result.nodes.tolist()  # unreachable from 0: never touched
    assert result.residual < 1e-9


@pytest.mark.parametrize("eps", [1e-4, 1e-6])
def test_error_is_bounded_by_the_residual(eps: float) -> None:
    a = random_graph(3_000, 30_000, seed=3)
    prepared = push_graph(a)
    for user in (0, 17, 1234):
        exact = personalised_pagerank(a, {user: 1.0}, tol=1e-13)
        result = push_rank(prepared, user, eps=eps)
        got = dense(3_000, result.nodes, result.rank)
        assert (got <= exact + 1e-12).all()  # the push only ever under-estimates
        assert np.abs(got - exact).sum() <= result.residual + 1e-9
    assert push_rank(prepared, 0, eps=1e-8).residual < push_rank(prepared, 0, eps=1e-4).residual


def test_top10_agrees_with_the_power_iteration_at_the_benchmark_eps() -> None:
    a = random_graph(20_000, 200_000, seed=5)
    prepared = push_graph(a)
    agree = []
    for user in np.random.default_rng(1).choice(18_000, 10, replace=False).tolist():
        exact = personalised_pagerank(a, {user: 1.0}, tol=1e-12)
        exact[user] = -1.0
        result = push_rank(prepared, user, eps=1e-5)
        others = result.nodes != user
        mine = top_k(result.nodes[others], result.rank[others], 10)
        truth = top_k(np.arange(20_000), exact, 10)
        agree.append(len(set(mine.tolist()) & set(truth.tolist())) / 10)
    assert np.mean(agree) >= 0.9


def test_hop_weights_equal_the_feeds_author_weights() -> None:
    rng = np.random.default_rng(9)
    names = [f"a{i:03d}" for i in range(300)]
    src = rng.integers(0, 300, 3_000)
    dst = rng.integers(0, 300, 3_000)
    kinds = rng.choice(["follows", "liked"], 3_000)
    graph = build_graph([names[i] for i in src], [names[i] for i in dst], kinds.tolist(),
                        rng.integers(1, 4, 3_000).astype(float))  # fmt: skip
    for user in (0, 5, 150):
        expected = author_weights(graph, user)
        nodes, weights = hop_weights(graph.weights, user)
        got = np.zeros(graph.n)
        got[nodes] = weights
        assert np.array_equal(got, expected.weight)


def test_bad_arguments() -> None:
    prepared = push_graph(random_graph(10, 30, seed=1))
    with pytest.raises(InputError, match="source"):
        push_rank(prepared, 10)
    with pytest.raises(InputError, match="eps"):
        push_rank(prepared, 0, eps=0)
    with pytest.raises(InputError, match="alpha"):
        push_rank(prepared, 0, alpha=1.0)
    with pytest.raises(InputError, match="square"):
        push_graph(scipy.sparse.csr_array((2, 3)))
    assert top_k(np.array([4, 2, 9]), np.array([1.0, 3.0, 3.0]), 2).tolist() == [2, 9]
