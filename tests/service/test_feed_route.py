"""``GET /workspaces/{ws}/feed/{handle}`` over real HTTP: the same items as ``build_feed``, only
for watched accounts, and the graph is built once and then grown from new edge files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

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
        answer = client.get("/workspaces/brand/feed/@u", params={"n": 3, "explain": "true"})
        assert answer.status_code == 200, answer.text
        doc = answer.json()
    expected = build_feed(LakeQuery(served.home / "lake"), "@u", n=3, platform=IG).to_json()
    assert doc["items"] == expected["items"]
    # U's ties: B weighs 2 (two liked posts), A 0.5 (a follow), C 0.5 two hops via A.
    assert [i["post_id"] for i in doc["items"]] == ["b2", "c1", "b1"]
    assert doc["user"] == "U" and doc["candidates"] == expected["candidates"] == 4
    assert doc["graph"]["accounts"] == 4 and doc["platform"] == IG
    assert doc["items"][1]["why"] == ["2 hops via @a"]


def test_without_explain_the_factors_are_left_out(served: Served) -> None:
    with _client(served) as client:
        plain = client.get("/workspaces/brand/feed/U").json()
        explained = client.get("/workspaces/brand/feed/u?explain=true").json()
    assert [i["post_id"] for i in plain["items"]] == [i["post_id"] for i in explained["items"]]
    assert "score" not in plain["items"][0] and "ppr" not in plain["items"][0]
    assert explained["items"][0]["score"] > explained["items"][1]["score"] > 0
    # An account that follows nobody: an empty feed, not an error.
    with _client(served) as client:
        assert client.get("/workspaces/brand/feed/c").json()["items"] == []


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
        client.get("/workspaces/brand/feed/u?n=1")
        second = client.get("/workspaces/brand/feed/u?n=2").json()
        assert second["graph"]["loaded_from"] == "memory"
        assert second["graph"]["edge_files_read"] == 0
        # U now also follows D, who posted: one new edge file is read and D's post appears.
        LakeWriter(served.home / "lake").append_records(ParsedRecords(
            posts=[_post("d1", "D", 9.95, 10**5, 50)],
            edges=[Edge(IG, "U", "D", "follows", day(10), "f2")],
        ))  # fmt: skip
        grown = client.get("/workspaces/brand/feed/u?n=4&explain=true").json()
    assert grown["graph"]["loaded_from"] == "incremental"
    assert grown["graph"]["edge_files_read"] == 1 and grown["graph"]["accounts"] == 5
    assert "d1" in [i["post_id"] for i in grown["items"]]
    expected = build_feed(LakeQuery(served.home / "lake"), "@u", n=4, platform=IG).to_json()
    assert grown["items"] == expected["items"]
    assert (served.home / "cache" / "discover" / "graph-instagram.npz").exists()
