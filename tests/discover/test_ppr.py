"""Personalised PageRank agrees with networkx (L1 < 1e-6) and the graph is built as the study
weighs ties."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse

from tagpulse.discover.graph import EdgeWeights, build_graph
from tagpulse.discover.ppr import forward_push, personalised_pagerank, transition
from tagpulse.errors import InputError


def _digraph(n: int, edges: list[tuple[int, int, float]]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(edges)
    return g


def _matrix(n: int, edges: list[tuple[int, int, float]]) -> scipy.sparse.csr_array:
    s, d, w = zip(*edges, strict=True) if edges else ((), (), ())
    return scipy.sparse.csr_array((list(w), (list(s), list(d))), shape=(n, n))


def _random_graph(seed: int, n: int, m: int, dangling: int) -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(seed)
    edges: dict[tuple[int, int], float] = {}
    sources = n - dangling  # the last ``dangling`` nodes have no out-edges
    while len(edges) < m:
        s, d = int(rng.integers(sources)), int(rng.integers(n))
        edges[(s, d)] = float(rng.choice([0.5, 1.0, 2.0, 7.0]))
    return [(s, d, w) for (s, d), w in edges.items()]


GRAPHS = {
    "chain with a dangling end": (3, [(0, 1, 1.0), (1, 2, 1.0)]),
    "weighted, self-loop": (4, [(0, 1, 3.0), (0, 2, 1.0), (1, 1, 2.0), (2, 0, 1.0), (3, 0, 0.5)]),
    "random, many dangling": (200, _random_graph(1, 200, 800, 40)),
    "random, dense": (60, _random_graph(2, 60, 1500, 0)),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("alpha", [0.85, 0.5])
def test_agrees_with_networkx(name: str, alpha: float) -> None:
    n, edges = GRAPHS[name]
    g = _digraph(n, edges)
    prepared = transition(_matrix(n, edges))
    rng = np.random.default_rng(3)
    cases: list[dict[int, float]] = [{0: 1.0}, {n - 1: 1.0}]
    cases.append({int(i): float(v) for i, v in enumerate(rng.random(n)) if v > 0.5})
    for personalisation in cases:
        expected = nx.pagerank(g, alpha=alpha, personalization=personalisation, tol=1e-14,
                               max_iter=10_000)  # fmt: skip
        ours = personalised_pagerank(prepared, personalisation, alpha=alpha)
        assert np.abs(ours - np.array([expected[i] for i in range(n)])).sum() < 1e-6
        assert ours.sum() == pytest.approx(1.0)
    uniform = nx.pagerank(g, alpha=alpha, tol=1e-14, max_iter=10_000)
    ours = personalised_pagerank(prepared, alpha=alpha)
    assert np.abs(ours - np.array([uniform[i] for i in range(n)])).sum() < 1e-6


def test_by_hand_and_bad_input() -> None:
    # 0 -> 1, 1 dangling, restarts at 0: x1 = 0.85 x0, x0 = 0.15 + 0.85 x1 (dangling mass to 0).
    x = personalised_pagerank(_matrix(2, [(0, 1, 1.0)]), {0: 1.0})
    assert x == pytest.approx([1 / 1.85, 0.85 / 1.85], abs=1e-10)
    with pytest.raises(InputError):
        personalised_pagerank(_matrix(2, [(0, 1, 1.0)]), {5: 1.0})
    with pytest.raises(InputError):
        personalised_pagerank(_matrix(2, [(0, 1, 1.0)]), {0: 1.0}, alpha=1.0)
    with pytest.raises(InputError):
        personalised_pagerank(_matrix(2, [(0, 1, -1.0)]), {0: 1.0})


def test_graph_weights_follow_the_study() -> None:
    g = build_graph(
        ["u", "u", "u", "u", "v", "v", "w", "u", "u"],
        ["a", "a", "b", "c", "a", "a", "w", "d", "b"],
        ["liked", "follows", "follows", "commented", "mentioned", "liked", "liked", "reposted",
         "liked"],
        [3, 1, 1, 2, 1, 4, 5, 9, 1],
        EdgeWeights(comment=2.0),
    )  # fmt: skip
    assert g.nodes == ("a", "b", "c", "u", "v")  # sorted; d only had a repost, w a self-like
    dense = g.weights.toarray()
    u, v, a, b, c = (g.index[x] for x in "uvabc")
    assert dense[u, a] == 3.0  # three likes; the follow adds nothing
    assert dense[u, b] == 1.0  # one like, and a follow
    assert dense[u, c] == 4.0  # two comments at weight 2
    assert dense[v, a] == 5.0  # a mention and four likes
    assert g.follows.toarray()[u, b] == 1.0 and g.likes.toarray()[u, a] == 3.0
    only_follow = build_graph(["u"], ["b"], ["follows"], [2])
    assert only_follow.weights.toarray()[only_follow.index["u"], only_follow.index["b"]] == 0.5


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_forward_push_is_within_its_residual(name: str) -> None:
    n, edges = GRAPHS[name]
    matrix = _matrix(n, edges)
    exact = personalised_pagerank(matrix, {0: 1.0})
    for eps in (1e-4, 1e-9):
        local = forward_push(matrix, 0, eps=eps)
        error = float(np.abs(local.rank - exact).sum())
        assert error <= local.residual + 1e-12
        assert (local.rank <= exact + 1e-12).all()  # mass not yet pushed is missing, never extra
    assert error < 1e-6 and local.pushes > 0
    with pytest.raises(InputError):
        forward_push(matrix, n)
