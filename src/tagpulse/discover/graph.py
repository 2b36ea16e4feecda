"""The social graph from the lake's ``edges``: who is tied to whom, and how strongly.

One weighted directed graph over accounts, as a scipy CSR matrix (row = from, column = to)
with a stable node index (node ids sorted, so the same edges give the same index on any run).
The weight of ``u -> v`` follows the discovery-engine study: the number of ``u``'s likes of
``v``'s posts (each liked post once, however often the like was seen), plus comments and
mentions/tags counted the same way; a follow with no such interaction weighs 0.5. Self-loops
are dropped (liking one's own post says nothing about a tie).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse

from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.schemas import EDGES

__all__ = [
    "AccountNames",
    "EdgeWeights",
    "SocialGraph",
    "build_graph",
    "load_graph",
    "load_names",
]


@dataclass(frozen=True, slots=True)
class EdgeWeights:
    """What one interaction weighs; ``follow`` counts only where there is no interaction."""

    like: float = 1.0
    comment: float = 1.0
    mention: float = 1.0
    follow: float = 0.5


@dataclass(frozen=True, slots=True)
class SocialGraph:
    """Accounts ``nodes[i]`` and their ties; every matrix is ``n × n``, row = from."""

    nodes: tuple[str, ...]
    index: dict[str, int]
    #: The combined weight of each tie (the study's weights).
    weights: scipy.sparse.csr_array
    #: 1 where the row account follows the column account.
    follows: scipy.sparse.csr_array
    #: How many of the column account's posts the row account liked.
    likes: scipy.sparse.csr_array

    @property
    def n(self) -> int:
        return len(self.nodes)

    def node(self, account: str) -> int | None:
        return self.index.get(account)

    def out_neighbours(self, i: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The accounts ``i`` is tied to and the ties' weights."""
        start, end = self.weights.indptr[i], self.weights.indptr[i + 1]
        cols = np.asarray(self.weights.indices[start:end], dtype=np.int64)
        return cols, np.asarray(self.weights.data[start:end], dtype=np.float64)


_KIND_GROUP = {"liked": "like", "commented": "comment", "mentioned": "mention", "tagged": "mention"}


def build_graph(
    src: Sequence[str],
    dst: Sequence[str],
    kind: Sequence[str],
    count: Sequence[float] | npt.NDArray[np.float64],
    weights: EdgeWeights | None = None,
) -> SocialGraph:
    """The graph from aggregated edges: ``count[i]`` interactions of ``kind[i]`` from ``src[i]``
    to ``dst[i]`` (follows: any count means "follows"). Other kinds (reposts, quotes) are
    ignored; repeated (src, dst, kind) rows add up."""
    w = weights or EdgeWeights()
    if not (len(src) == len(dst) == len(kind) == len(count)):
        raise InputError("build_graph: src, dst, kind and count must have the same length")
    s_arr = np.asarray(src, dtype=object)
    d_arr = np.asarray(dst, dtype=object)
    k_arr = np.asarray(kind, dtype=object)
    c_arr = np.asarray(count, dtype=np.float64)
    keep = (s_arr != d_arr) & np.isin(k_arr, ["follows", *_KIND_GROUP])
    s_arr, d_arr, k_arr, c_arr = s_arr[keep], d_arr[keep], k_arr[keep], c_arr[keep]
    nodes, inverse = np.unique(np.concatenate([s_arr, d_arr]), return_inverse=True)
    n = len(nodes)
    rows, cols = inverse[: len(s_arr)], inverse[len(s_arr) :]

    def matrix(
        mask: npt.NDArray[np.bool_], values: npt.NDArray[np.float64]
    ) -> scipy.sparse.csr_array:
        out = scipy.sparse.csr_array((values[mask], (rows[mask], cols[mask])), shape=(n, n))
        out.sum_duplicates()
        return out

    per_kind = {"like": w.like, "comment": w.comment, "mention": w.mention}
    interaction_weight = np.array(
        [per_kind[_KIND_GROUP[k]] if k in _KIND_GROUP else 0.0 for k in k_arr], dtype=np.float64
    )
    is_follow = k_arr == "follows"
    follows = matrix(is_follow, np.ones(len(k_arr)))
    follows.data[:] = 1.0
    likes = matrix(k_arr == "liked", c_arr)
    interactions = matrix(~is_follow, c_arr * interaction_weight)
    interactions.eliminate_zeros()
    # A follow weighs ``w.follow`` only where the pair has no interaction.
    follow_only = follows - follows.multiply(interactions > 0)
    follow_only.eliminate_zeros()
    combined = scipy.sparse.csr_array(interactions + w.follow * follow_only)
    combined.sort_indices()
    names = tuple(str(x) for x in nodes)
    return SocialGraph(
        nodes=names,
        index={name: i for i, name in enumerate(names)},
        weights=combined,
        follows=scipy.sparse.csr_array(follows),
        likes=scipy.sparse.csr_array(likes),
    )


def load_graph(
    query: LakeQuery, *, platform: str | None = None, weights: EdgeWeights | None = None
) -> SocialGraph:
    """The graph of every edge in the lake (one platform's, when given).

    Each interaction counts once per post (a like seen in two collections is one like);
    ``@handle`` ends of edges (mentions of accounts whose id was not known) are mapped to the
    account's id where the lake knows the handle."""
    where = "WHERE platform = ?" if platform else ""
    params = [platform] if platform else []
    table: pa.Table = query.arrow(
        f"SELECT src, dst, kind, count(DISTINCT coalesce(post_id, '')) AS n FROM {EDGES} "
        f"{where} GROUP BY src, dst, kind",
        params,
    )
    src = [str(x) for x in table.column("src").to_pylist()]
    dst = [str(x) for x in table.column("dst").to_pylist()]
    if any(x.startswith("@") for x in src + dst):
        ids = load_names(query, platform).ids
        src = [ids.get(x[1:].lower(), x) if x.startswith("@") else x for x in src]
        dst = [ids.get(x[1:].lower(), x) if x.startswith("@") else x for x in dst]
    return build_graph(
        src,
        dst,
        [str(x) for x in table.column("kind").to_pylist()],
        table.column("n").to_numpy(zero_copy_only=False).astype(np.float64),
        weights,
    )


@dataclass(frozen=True, slots=True)
class AccountNames:
    """Every (handle, id) pair the lake has seen: ``ids`` by lower-case handle and the latest
    ``handles`` by id."""

    ids: dict[str, str]
    handles: dict[str, str]

    def resolve(self, handle_or_id: str) -> str | None:
        """The id of ``@handle``/``handle`` (or ``handle_or_id`` itself when it is a known id)."""
        bare = handle_or_id.removeprefix("@")
        if bare.lower() in self.ids:
            return self.ids[bare.lower()]
        return bare if bare in self.handles else None


def load_names(query: LakeQuery, platform: str | None = None) -> AccountNames:
    """Handles and ids from profiles, posts and edges (a later pair overrides an earlier one)."""
    where = "AND platform = ?" if platform else ""
    params = [platform] if platform else []
    rows = query.rows(
        "SELECT lower(handle) AS handle, arg_max(id, seen) AS id, max(seen) AS seen "
        "FROM (SELECT platform, handle, user_id AS id, collected_at AS seen FROM profiles_all "
        "      UNION ALL SELECT platform, owner_handle, owner_id, collected_at FROM posts_all "
        "      UNION ALL SELECT platform, src_handle, src, seen_at FROM edges_all "
        "      UNION ALL SELECT platform, dst_handle, dst, seen_at FROM edges_all) "
        f"WHERE handle IS NOT NULL AND id IS NOT NULL AND NOT starts_with(id, '@') {where} "
        "GROUP BY ALL ORDER BY seen",
        params,
    )
    ids: dict[str, str] = {}
    handles: dict[str, str] = {}
    for row in rows:  # oldest first
        ids[str(row["handle"])] = str(row["id"])
        handles[str(row["id"])] = str(row["handle"])
    return AccountNames(ids, handles)
