"""``GET /workspaces/{ws}/feed/{handle}`` over real HTTP: ``source=network`` gives the same items
as ``build_feed``, the default blend and every other source the same as ``build_source_feed``,
only for watched accounts; the graph is built once and then grown from new edge files, the feed
data read once per lake state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tagpulse.discover.blend import build_source_feed, parse_weights
from tagpulse.discover.feed import build_feed
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import Edge, ParsedRecords, Post, Profile
from tagpulse.service.app import ServiceOptions
from tagpulse.service.watchlists import WatchlistStore
from tests.service.conftest import start_api

T0 = datetime(2026, 11, 1, tzinfo=UTC)
IG = "instagram"


def day(d: float) -> datetime:
    return T0 + timedelta(days=d)


def _post(pid: str, owner: str, at: float, likes: int, comments: int = 0) -> Post:
    return Post(IG, pid, day(10), "r", owner_id=owner, owner_handle=owner.lower(),
                taken_at=day(at), likes=likes, comments=comments)  # fmt: skip


@dataclass
class Served:
    base: str
    home: Path
    key: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """U follows A and B, liked two of B's posts; A follows C. Workspace "brand" watches @u
    (and @c, who follows nobody); "rival" watches @a only."""
    home = tmp_path_factory.mktemp("feed-api")
    posts = [
        _post("a1", "A", 9.5, 100, 10), _post("b1", "B", 9.0, 50), _post("b2", "B", 9.9, 5, 3),
        _post("c1", "C", 9.8, 1000, 100), _post("u1", "U", 9.9, 10**6),
    ]  # fmt: skip
    edges = [Edge(IG, "U", "B", "liked", day(10), "l", post_id=p) for p in ("bx", "by")]
    edges += [
        Edge(IG, a, b, "follows", day(10), "f") for a, b in (("U", "A"), ("U", "B"), ("A", "C"))
    ]
    profiles = [Profile(IG, x, x.lower(), day(10), "p") for x in "UABC"]
    LakeWriter(home / "lake").append_records(
        ParsedRecords(posts=posts, profiles=profiles, edges=edges)
    )
    store = WatchlistStore(home / "catalog.sqlite")
    store.create_user("ana", "correct horse battery", workspace="brand", role="viewer")
    store.create_user("rex", "correct horse battery", workspace="rival", role="admin")
    for workspace, entries in {"brand": ["@u", "@c"], "rival": ["@a"]}.items():
        for entry in entries:
            store.add(workspace, entry, interval_s=900, user="setup")
    key = store.create_key("ana", workspace="brand", scope="read")
    options = ServiceOptions(rate_per_minute=100_000, burst=10_000, secure_cookies=False)
    for base in start_api(home, options):
        yield Served(base + "/api/v1", home, key)


def _client(served: Served) -> httpx.Client:
    return httpx.Client(base_url=served.base, headers={"X-API-Key": served.key}, timeout=60)


def test_feed_items_equal_build_feed(served: Served) -> None:
    with _client(served) as client:
        answer = client.get(
            "/workspaces/brand/feed/@u", params={"n": 3, "explain": "true", "source": "network"}
        )
        assert answer.status_code == 200, answer.text
        doc = answer.json()
    expected = build_feed(LakeQuery(served.home / "lake"), "@u", n=3, platform=IG).to_json()
    assert [{k: v for k, v in i.items() if k != "reason"} for i in doc["items"]] == expected[
        "items"
    ]
    assert [i["reason"] for i in doc["items"]] == ["; ".join(i["why"]) for i in doc["items"]]
    assert {i["source"] for i in doc["items"]} == {"network"} and doc["source"] == "network"
    # U's ties: B weighs 2 (two liked posts), A 0.5 (a follow), C 0.5 two hops via A.
    assert [i["post_id"] for i in doc["items"]] == ["b2", "c1", "b1"]
    assert doc["user"] == "U" and doc["candidates"] == expected["candidates"] == 4
    assert doc["graph"]["accounts"] == 4 and doc["platform"] == IG
    assert doc["items"][1]["why"] == ["2 hops via @a"]


def test_without_explain_the_factors_are_left_out(served: Served) -> None:
    with _client(served) as client:
        plain = client.get("/workspaces/brand/feed/U?source=network").json()
        explained = client.get("/workspaces/brand/feed/u?explain=true&source=network").json()
    assert [i["post_id"] for i in plain["items"]] == [i["post_id"] for i in explained["items"]]
    assert "score" not in plain["items"][0] and "ppr" not in plain["items"][0]
    assert explained["items"][0]["score"] > explained["items"][1]["score"] > 0
    # An account that follows nobody: an empty feed, not an error.
    with _client(served) as client:
        assert client.get("/workspaces/brand/feed/c?source=network").json()["items"] == []


def test_only_watched_accounts_of_ones_own_workspace(served: Served) -> None:
    with _client(served) as client:
        assert client.get("/workspaces/brand/feed/a").status_code == 404  # rival watches @a
        assert client.get("/workspaces/rival/feed/a").status_code == 404  # not ana's workspace
        assert client.get("/workspaces/brand/feed/u?platform=tiktok").status_code == 404
        assert client.get("/workspaces/brand/feed/u?n=0").status_code == 422
        assert client.get("/workspaces/brand/feed/u?at=yesterday-ish").status_code == 400
    with httpx.Client(base_url=served.base) as anonymous:
        assert anonymous.get("/workspaces/brand/feed/u").status_code == 401


def test_the_graph_is_built_once_then_grown_from_new_files(served: Served) -> None:
    with _client(served) as client:
        # Requests that differ (so no answer is reused) share one graph.
        client.get("/workspaces/brand/feed/u?n=1&source=network")
        second = client.get("/workspaces/brand/feed/u?n=2&source=network").json()
        assert second["graph"]["loaded_from"] == "memory"
        assert second["graph"]["edge_files_read"] == 0
        # U now also follows D, who posted: one new edge file is read and D's post appears.
        LakeWriter(served.home / "lake").append_records(ParsedRecords(
            posts=[_post("d1", "D", 9.95, 10**5, 50)],
            edges=[Edge(IG, "U", "D", "follows", day(10), "f2")],
        ))  # fmt: skip
        grown = client.get("/workspaces/brand/feed/u?n=4&explain=true&source=network").json()
    assert grown["graph"]["loaded_from"] == "incremental"
    assert grown["graph"]["edge_files_read"] == 1 and grown["graph"]["accounts"] == 5
    assert "d1" in [i["post_id"] for i in grown["items"]]
    expected = build_feed(LakeQuery(served.home / "lake"), "@u", n=4, platform=IG).to_json()
    assert [{k: v for k, v in i.items() if k != "reason"} for i in grown["items"]] == expected[
        "items"
    ]
    assert (served.home / "cache" / "discover" / "graph-instagram.npz").exists()


# --- sources and the blend --------------------------------------------------------------------

SEEN = day(10)


def _tagged(pid: str, owner: str, age_h: float, likes: int, *tags: str) -> Post:
    return Post(IG, pid, SEEN, "r", owner_id=owner, owner_handle=owner.lower(),
                taken_at=SEEN - timedelta(hours=age_h), likes=likes, comments=0,
                hashtags=list(tags))  # fmt: skip


def _like(user: str, owner: str, pid: str) -> Edge:
    return Edge(IG, user, owner, "liked", SEEN, "e", post_id=pid)


@pytest.fixture(scope="module")
def sourced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The lake of ``tests/discover/test_sources.py``, whose every source's answer is known:
    U follows A; A follows C and D; U liked D's old post (#cake) and wrote u0 (#cake #baking);
    E posts about cake, baking and football; L1-L4 liked q1-q3, M1-M4 liked r1-r3, V liked q1
    and q2. Workspace "brand" watches @u, @v and @c."""
    home = tmp_path_factory.mktemp("feed-sources")
    posts = [
        _tagged("a1", "A", 5, 100), _tagged("c1", "C", 5, 100), _tagged("d1", "D", 5, 100),
        _tagged("d-old", "D", 24 * 20, 10, "cake"),
        _tagged("u0", "U", 24 * 20, 10, "cake", "baking"),
        _tagged("e1", "E", 5, 10, "baking"), _tagged("e2", "E", 5, 1000, "cake"),
        _tagged("e3", "E", 5, 5000, "football"),
        *(_tagged(f"q{i}", "Q", 3, 20) for i in (1, 2, 3)),
        *(_tagged(f"r{i}", "R", 3, 20) for i in (1, 2, 3)),
    ]  # fmt: skip
    edges = [Edge(IG, a, b, "follows", SEEN, "f") for a, b in (("U", "A"), ("A", "C"), ("A", "D"))]
    edges.append(_like("U", "D", "d-old"))
    for i in range(1, 5):
        edges += [_like(f"L{i}", "Q", f"q{j}") for j in (1, 2, 3)]
        edges += [_like(f"M{i}", "R", f"r{j}") for j in (1, 2, 3)]
    edges += [_like("V", "Q", "q1"), _like("V", "Q", "q2")]
    accounts = {e.src for e in edges} | {e.dst for e in edges} | {p.owner_id for p in posts}
    profiles = [Profile(IG, x, x.lower(), SEEN, "p") for x in sorted(a for a in accounts if a)]
    LakeWriter(home / "lake").append_records(
        ParsedRecords(posts=posts, profiles=profiles, edges=edges)
    )
    store = WatchlistStore(home / "catalog.sqlite")
    store.create_user("ana", "correct horse battery", workspace="brand", role="viewer")
    for entry in ("@u", "@v", "@c"):
        store.add("brand", entry, interval_s=900, user="setup")
    key = store.create_key("ana", workspace="brand", scope="read")
    options = ServiceOptions(rate_per_minute=100_000, burst=10_000, secure_cookies=False)
    for base in start_api(home, options):
        yield Served(base + "/api/v1", home, key)


def _ids(doc: dict[str, Any]) -> list[str]:
    return [str(i["post_id"]) for i in doc["items"]]


def _without_reason(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in i.items() if k != "reason"} for i in items]


@pytest.mark.parametrize(
    ("handle", "params"),
    [
        ("u", {}),
        ("u", {"n": 4, "weights": "network=1,popular=1,fof=0", "seed": 7}),
        ("v", {"n": 5, "weights": "als=1,popular=0.2", "seed": 3}),
        ("c", {"n": 3}),
    ],
)
def test_the_blend_equals_build_source_feed(
    sourced: Served, handle: str, params: dict[str, Any]
) -> None:
    with _client(sourced) as client:
        answer = client.get(f"/workspaces/brand/feed/@{handle}", params={**params, "explain": 1})
        assert answer.status_code == 200, answer.text
        doc = answer.json()
    expected = build_source_feed(
        LakeQuery(sourced.home / "lake"), "@" + handle, n=int(params.get("n", 10)), platform=IG,
        weights=parse_weights(params.get("weights")), seed=int(params.get("seed", 0)),
    ).to_json()  # fmt: skip
    assert doc["source"] == "blend" and doc["items"], doc
    assert _without_reason(doc["items"]) == expected["items"]
    assert doc["candidates"] == expected["candidates"] and doc["at"] == expected["at"]
    assert doc["weights"] == parse_weights(params.get("weights"))
    assert doc["seed"] == int(params.get("seed", 0))
    assert len(set(_ids(doc))) == len(doc["items"])  # no post twice
    for item in doc["items"]:
        assert item["source"] in {"network", "fof", "interests", "als", "popular"}
        assert item["reason"] == item["why"][0] and item["reason"]


def test_each_source_over_http(sourced: Served) -> None:
    """Each source's answer as ``tests/discover/test_sources.py`` knows it, through the API."""
    with _client(sourced) as client:

        def get(handle: str, source: str, n: int = 10) -> dict[str, Any]:
            answer = client.get(
                f"/workspaces/brand/feed/{handle}", params={"source": source, "n": n}
            )
            assert answer.status_code == 200, (source, answer.text)
            doc: dict[str, Any] = answer.json()
            assert doc["source"] == source
            assert {i["source"] for i in doc["items"]} <= {source}
            assert "score" not in (doc["items"] or [{}])[0]  # factors only with explain
            return doc

        network = get("u", "network")
        assert set(_ids(network)) == {"a1", "c1", "d1"}
        fof = get("u", "fof")
        assert _ids(fof) == ["d1", "c1"]
        assert [i["reason"] for i in fof["items"]] == ["because you liked @d", "followed by @a"]
        interests = get("u", "interests")
        assert _ids(interests) == ["e2", "e1"]
        assert interests["items"][0]["reason"] == "popular in #cake"
        popular = get("u", "popular", n=3)
        assert _ids(popular) == ["e3", "e2", "a1"]
        assert popular["items"][0]["reason"] == "popular this week (5,000 likes)"
        als = get("v", "als", n=3)
        assert _ids(als)[0] == "q3" and {"q1", "q2"}.isdisjoint(_ids(als))
        assert als["items"][0]["reason"] == "liked by people like you"
        # Only the network source's weight: the blend is the network source's ranking.
        only = client.get(
            "/workspaces/brand/feed/u",
            params={"weights": "network=1,fof=0,interests=0,als=0,popular=0"},
        ).json()
        assert {i["source"] for i in only["items"]} == {"network"}
        assert set(_ids(only)) == {"a1", "c1", "d1"}


def test_the_feed_data_is_read_once_per_lake_state(sourced: Served) -> None:
    with _client(sourced) as client:
        first = client.get("/workspaces/brand/feed/u", params={"seed": 11}).json()
        second = client.get("/workspaces/brand/feed/u", params={"seed": 12, "n": 3}).json()
        popular = client.get("/workspaces/brand/feed/v", params={"source": "popular"}).json()
        # The same parameters again: the same answer, and its ETag makes it a 304.
        again = client.get("/workspaces/brand/feed/u", params={"seed": 11})
        assert again.json() == first
        etag = again.headers["etag"]
        cached = client.get(
            "/workspaces/brand/feed/u", params={"seed": 11}, headers={"If-None-Match": etag}
        )
        assert cached.status_code == 304
    assert first["feed_data"]["loaded_from"] in {"lake", "memory"}
    assert second["feed_data"]["loaded_from"] == "memory"
    assert popular["feed_data"]["loaded_from"] == "memory"
    assert second["graph"]["loaded_from"] in {"memory", "disk"}


def test_bad_sources_and_weights_are_refused(sourced: Served) -> None:
    with _client(sourced) as client:
        unknown = client.get("/workspaces/brand/feed/u", params={"source": "friends"})
        assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "source"
        for weights in ("network", "nobody=1", "als=x", "als=-1", "network=0,popular=0,fof=0,"
                        "interests=0,als=0"):  # fmt: skip
            refused = client.get("/workspaces/brand/feed/u", params={"weights": weights})
            assert refused.status_code == 400, weights
            assert refused.json()["error"]["field"] == "weights"
        assert client.get("/workspaces/brand/feed/u?seed=x").json()["error"]["field"] == "seed"
        # A source still answers only for watched accounts.
        assert client.get("/workspaces/brand/feed/e", params={"source": "als"}).status_code == 404
