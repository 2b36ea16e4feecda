"""The sandbox's Instagram Graph API over real loopback HTTP (plain httpx): shapes as recorded,
requested fields only, tokens, paging, the app budget and the 7-day hashtag limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tagpulse.platforms.sandbox.routes_graph import (
    GraphLimits,
    graph_sandbox,
    sandbox_ig_user_id,
    sandbox_token,
)
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.social import SocialWorld
from tagpulse.platforms.sandbox.social_truth import posts_truth, profile_truth
from tagpulse.platforms.sandbox.world import DAY, HOUR, WEEK, World

from .conftest import ManualClock

GRAPH = Path(__file__).parents[2] / "fixtures" / "instagram_graph"
USER = sandbox_ig_user_id(1)
TOKEN = sandbox_token(1)
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
MEDIA_FIELDS = "id,caption,media_type,comments_count,like_count,permalink,timestamp,media_url"


@pytest.fixture
def graph(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.base_url}/graph/v21.0", timeout=10.0) as http:
        yield http


def get(http: httpx.Client, path: str, token: str | None = TOKEN, **params: str) -> httpx.Response:
    if token is not None:
        params["access_token"] = token
    return http.get(path, params=params)


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "OAuthException" and error["fbtrace_id"].startswith("A")
    return error


def search(http: httpx.Client, tag: str) -> str:
    response = get(http, "/ig_hashtag_search", user_id=USER, q=tag)
    assert response.status_code == 200, response.text
    hashtag_id: str = response.json()["data"][0]["id"]
    return hashtag_id


def public_business(social: SocialWorld, t: float, min_posts: int) -> Any:
    for account in social.accounts:
        if (
            account.is_business
            and not account.is_private
            and account.deleted_at is None
            and account.old_username is None
            and social.post_count(account, t) >= min_posts
        ):
            return account
    raise LookupError("no public business account")


def test_search_gives_static_ids_and_the_usage_header(
    graph: httpx.Client, world: World, server: SandboxServer
) -> None:
    recorded = orjson.loads((GRAPH / "hashtag_search.json").read_bytes())
    response = get(graph, "/ig_hashtag_search", user_id=USER, q="#Paris")
    assert response.status_code == 200
    assert response.json().keys() == recorded.keys()
    assert response.json() == {"data": [{"id": world.hashtag_id("paris")}]}
    other = search(graph, "anything_at_all")
    assert (
        other
        == search(graph, "anything_at_all")
        == graph_sandbox(server).hashtag_id("anything_at_all")
    )
    usage = json.loads(response.headers["X-App-Usage"])
    assert usage.keys() == {"call_count", "total_cputime", "total_time"}
    assert usage["call_count"] == 1
    node = get(graph, f"/{other}", fields="id,name").json()
    assert node == {"id": other, "name": "anything_at_all"}


def test_recent_media_shape_and_content(
    graph: httpx.Client, world: World, clock: ManualClock
) -> None:
    social = world.social
    now = clock.time()
    hashtag_id = search(graph, "paris")
    fields = f"{MEDIA_FIELDS},children{{media_url}}"
    body = get(graph, f"/{hashtag_id}/recent_media", user_id=USER, fields=fields, limit="50").json()
    assert body["data"] and "next" not in body.get("paging", {})
    for item in body["data"]:
        assert set(item) <= {*MEDIA_FIELDS.split(","), "children"}
        post = social.post(int(item["id"]))
        assert post is not None and "paris" in post.hashtags
        assert now - DAY < post.taken_at <= now
        assert TIME.match(item["timestamp"])
        assert item["comments_count"] == social.comment_count(post, now)
        assert ("like_count" in item) is (not post.likes_hidden)
        assert item["permalink"].startswith("https://www.instagram.com/")
        if post.kind == "carousel":
            assert len(item["children"]["data"]) == len(post.children)
            assert "media_url" not in item
    # The recorded page's shape: asked for its fields, the sandbox answers exactly those keys.
    recorded = orjson.loads((GRAPH / "hashtag_recent_medias_p1.json").read_bytes())
    asked = "id,media_type,comments_count,like_count"
    page = get(graph, f"/{hashtag_id}/recent_media", user_id=USER, fields=asked, limit="5").json()
    assert page.keys() == recorded.keys()
    shown = [item for item in page["data"] if "like_count" in item]
    assert {frozenset(item) for item in shown} == {frozenset(recorded["data"][0])}
    assert page["paging"]["cursors"].keys() == recorded["paging"]["cursors"].keys()


def test_paging_next_links_resume_exactly_and_carry_no_token(graph: httpx.Client) -> None:
    hashtag_id = search(graph, "sunset")
    for edge in ("recent_media", "top_media"):
        whole = get(graph, f"/{hashtag_id}/{edge}", user_id=USER, limit="50").json()["data"]
        seen: list[str] = []
        page = get(graph, f"/{hashtag_id}/{edge}", user_id=USER, limit="4").json()
        while True:
            seen += [item["id"] for item in page["data"]]
            link = page.get("paging", {}).get("next")
            if link is None:
                break
            assert "access_token" not in link and "after=" in link
            page = graph.get(f"{link}&access_token={TOKEN}").json()
        assert seen == [item["id"] for item in whole] and len(seen) > 4


def test_top_media_is_ranked_by_likes(
    graph: httpx.Client, world: World, clock: ManualClock
) -> None:
    social = world.social
    hashtag_id = search(graph, "nike")
    data = get(graph, f"/{hashtag_id}/top_media", user_id=USER, limit="50").json()["data"]
    posts = [social.post(int(item["id"])) for item in data]
    likes = [social.like_count(post, clock.time()) for post in posts if post is not None]
    assert len(likes) == len(data) <= 50 and likes == sorted(likes, reverse=True)


def test_fields_are_checked(graph: httpx.Client) -> None:
    hashtag_id = search(graph, "paris")
    bad = get(graph, f"/{hashtag_id}/top_media", user_id=USER, fields="id,username")
    assert bad.status_code == 400
    assert error_of(bad)["message"] == (
        "(#100) Tried accessing nonexisting field (username) on node type (IGMedia (hashtag media))"
    )
    assert (
        error_of(get(graph, f"/{hashtag_id}/top_media", user_id=USER, fields="id{"))["code"] == 100
    )
    missing = get(graph, "/17841999999999999/top_media", user_id=USER)
    assert (error_of(missing)["code"], error_of(missing)["error_subcode"]) == (100, 33)
    assert error_of(get(graph, "/nowhere/at/all"))["code"] == 2500
    assert "required" in error_of(get(graph, f"/{hashtag_id}/top_media"))["message"]
    other_user = get(graph, f"/{hashtag_id}/recent_media", user_id=sandbox_ig_user_id(2))
    assert "not the Instagram account" in error_of(other_user)["message"]


def test_tokens(graph: httpx.Client, server: SandboxServer, clock: ManualClock) -> None:
    missing = get(graph, "/ig_hashtag_search", token=None, user_id=USER, q="paris")
    assert (missing.status_code, error_of(missing)["code"]) == (400, 104)
    invalid = get(graph, "/ig_hashtag_search", token="nope", user_id=USER, q="paris")
    assert (
        error_of(invalid)["code"] == 190 and "invalid_token" in invalid.headers["WWW-Authenticate"]
    )
    bearer = graph.get(
        "/ig_hashtag_search",
        params={"user_id": USER, "q": "paris"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert bearer.status_code == 200
    state = graph_sandbox(server)
    state.register_token("brand-token", ig_user_id="17841400000000077", expires_at=clock.time() + 5)
    ok = get(graph, "/ig_hashtag_search", token="brand-token", user_id="17841400000000077", q="x")
    assert ok.status_code == 200
    clock.advance(5)
    expired = get(
        graph, "/ig_hashtag_search", token="brand-token", user_id="17841400000000077", q="x"
    )
    assert (error_of(expired)["code"], error_of(expired)["error_subcode"]) == (190, 463)
    logged = [record for record in server.request_log() if record.path.startswith("/graph/")]
    assert [record.outcome for record in logged] == [
        "graph:token_missing",
        "graph:token_invalid",
        "graph:ok",
        "graph:ok",
        "graph:token_expired",
    ]
    assert not any("access_token" in record.path or "token=" in record.path for record in logged)
    assert [r.alias for r in state.records()][2:4] == ["graph-token-1", "graph-1"]


def test_business_discovery_equals_the_ground_truth(
    graph: httpx.Client, world: World, clock: ManualClock
) -> None:
    social = world.social
    now = clock.time()
    account = public_business(social, now, min_posts=12)
    truth = profile_truth(social, account.username, now)
    posts = posts_truth(social, account.username, now)
    assert truth is not None and posts is not None
    media_fields = "id,timestamp,like_count,comments_count,username"
    fields = (
        f"business_discovery.username({account.username}){{followers_count,follows_count,"
        f"media_count,username,ig_id,name,media.limit(5){{{media_fields}}}}}"
    )
    body = get(graph, f"/{USER}", fields=fields).json()
    found = body["business_discovery"]
    assert body["id"] == USER
    assert (found["followers_count"], found["follows_count"], found["media_count"]) == (
        truth["followers"],
        truth["following"],
        truth["posts"],
    )
    assert (found["username"], found["ig_id"], found["name"]) == (
        account.username,
        account.pk,
        account.full_name,
    )
    listed: list[dict[str, Any]] = []
    while True:
        listed += found["media"]["data"]
        after = found["media"].get("paging", {}).get("cursors", {}).get("after")
        if after is None:
            break
        paged = fields.replace("media.limit(5)", f"media.after({after}).limit(5)")
        found = get(graph, f"/{USER}", fields=paged).json()["business_discovery"]
    assert [int(item["id"]) for item in listed] == [post["pk"] for post in posts["posts"]]
    assert all(item["username"] == account.username for item in listed)
    for item, real in zip(listed, posts["posts"], strict=True):
        assert item["comments_count"] == real["comments"]
        assert item.get("like_count") == (None if real["likes_hidden"] else real["likes"])
    personal = next(a for a in social.accounts if not a.is_business and not a.is_private)
    refused = get(
        graph, f"/{USER}", fields=f"business_discovery.username({personal.username}){{id}}"
    )
    error = error_of(refused)
    assert (error["code"], error["error_subcode"], error["error_user_title"]) == (
        110,
        2207013,
        "Cannot find User",
    )


def test_app_budget_answers_the_4_error(
    graph: httpx.Client, server: SandboxServer, clock: ManualClock
) -> None:
    graph_sandbox(server, GraphLimits(app_calls_per_hour=2))
    assert get(graph, "/ig_hashtag_search", user_id=USER, q="a").status_code == 200
    second = get(graph, "/ig_hashtag_search", user_id=USER, q="b")
    assert json.loads(second.headers["X-App-Usage"])["call_count"] == 100
    third = get(graph, "/ig_hashtag_search", user_id=USER, q="c")
    assert third.status_code == 400
    assert error_of(third)["message"] == "(#4) Application request limit reached"
    assert error_of(third)["code"] == 4 and error_of(third)["is_transient"] is True
    assert json.loads(third.headers["X-App-Usage"])["call_count"] >= 100
    assert graph_sandbox(server).app_calls() == 2  # refused calls do not count
    clock.advance(HOUR)
    assert get(graph, "/ig_hashtag_search", user_id=USER, q="c").status_code == 200


def test_hashtag_limit_over_7_days(
    graph: httpx.Client, server: SandboxServer, clock: ManualClock
) -> None:
    state = graph_sandbox(server)
    for i in range(30):
        search(graph, f"tag{i:02d}")
        clock.advance(600)
    hashtag_id = search(graph, "tag00")  # a repeat is free
    refused = get(graph, "/ig_hashtag_search", user_id=USER, q="tag30")
    error = error_of(refused)
    assert refused.status_code == 400
    assert (error["code"], error["error_subcode"], error["error_user_title"]) == (
        24,
        2207024,
        "Hashtag limit reached",
    )
    assert get(graph, f"/{hashtag_id}/recent_media", user_id=USER).status_code == 200
    assert state.records()[-2].outcome == "hashtag_limit" and state.records()[-2].tag == "tag30"
    clock.advance(WEEK - 30 * 600)  # tag00's first search leaves the window
    assert search(graph, "tag30")
    assert len(state.hashtags_in_window(USER)) == 30
    assert state.hashtags_in_window(USER)[0] == "tag01"
    assert get(graph, "/ig_hashtag_search", user_id=USER, q="tag00").status_code == 400
