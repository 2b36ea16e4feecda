"""The sandbox's account endpoints over real loopback HTTP, checked against the ground truth."""

from __future__ import annotations

import io
import json
from itertools import islice
from typing import Any

import httpx
import orjson
import pytest
from PIL import Image

from tagpulse.platforms.sandbox.images import is_webp_quirk
from tagpulse.platforms.sandbox.routes_user import (
    COMMENTS_QUERY_HASHES,
    FOLLOWERS_QUERY_HASH,
    FOLLOWING_QUERY_HASH,
    MEDIAS_QUERY_HASH,
    PROFILE_GRID_DOC_ID,
)
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.social import SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.social_truth import posts_truth, profile_truth
from tagpulse.platforms.sandbox.world import DAY, HOUR

from .conftest import IG_FIXTURES, ManualClock, client, public_account

PROFILE = "/api/v1/users/web_profile_info/"
GRID_KEY = "xdt_api__v1__feed__user_timeline_graphql_connection"


def _load(name: str) -> Any:
    return orjson.loads((IG_FIXTURES / name).read_bytes())


def profile(http: httpx.Client, username: str) -> httpx.Response:
    return http.get(PROFILE, params={"username": username})


def graphql(http: httpx.Client, variables: dict[str, Any], **ids: str) -> httpx.Response:
    return http.get("/graphql/query/", params={**ids, "variables": json.dumps(variables)})


def grid(http: httpx.Client, username: str, after: str | None = None) -> dict[str, Any]:
    variables: dict[str, Any] = {"username": username, "first": 12}
    if after is not None:
        variables["after"] = after
    response = graphql(http, variables, doc_id=PROFILE_GRID_DOC_ID)
    assert response.status_code == 200, response.text
    connection: dict[str, Any] = orjson.loads(response.content)["data"][GRID_KEY]
    return connection


def all_grid(http: httpx.Client, username: str, after: str | None = None) -> list[int]:
    pks: list[int] = []
    while True:
        page = grid(http, username, after)
        pks.extend(edge["node"]["pk"] for edge in page["edges"])
        if not page["page_info"]["has_next_page"]:
            return pks
        after = page["page_info"]["end_cursor"]


def truth_pks(social: SocialWorld, account: SocialAccount, t: float) -> list[int]:
    return [post.pk for post in social.posts_at(account, t)]


def pick(social: SocialWorld, t: float, **flags: bool) -> SocialAccount:
    for account in social.accounts:
        if account.is_private != flags.get("private", False):
            continue
        if flags.get("deleted_before") and not (account.deleted_at and account.deleted_at < t):
            continue
        if flags.get("deleted_after") and not (account.deleted_at and account.deleted_at > t):
            continue
        if flags.get("renamed_after") and not (account.renamed_at and account.renamed_at > t):
            continue
        if flags.get("renamed_before") and not (account.renamed_at and account.renamed_at < t):
            continue
        return account
    raise LookupError(f"no account with {flags}")


def test_profile_shape_and_counts(server: SandboxServer, social: SocialWorld) -> None:
    now = server.clock.time()
    account = public_account(social, now, 40, 400)
    with client(server) as http:
        response = profile(http, account.username)
    assert response.status_code == 200
    body = orjson.loads(response.content)
    assert body["status"] == "ok"
    user = body["data"]["user"]
    recorded = _load("profile.json")["data"]["user"]
    assert set(user) == set(recorded)
    for key, value in recorded.items():
        if value is not None and user[key] is not None:
            assert type(user[key]) is type(value), key
    at = float(response.headers["X-Sandbox-Time"])
    truth = profile_truth(social, account.username, at)
    assert truth is not None and truth["state"] == "active"
    assert user["id"] == account.id == truth["id"]
    assert user["username"] == account.username
    assert user["edge_followed_by"]["count"] == truth["followers"] > 0
    assert user["edge_follow"]["count"] == truth["following"]
    timeline = user["edge_owner_to_timeline_media"]
    assert timeline["count"] == truth["posts"] == social.post_count(account, at)
    # The 12 newest posts are embedded, as in the 2022 recording, node keys per __typename.
    legacy = _load("legacy/cd4bec8/profile.json")["data"]["user"]["edge_owner_to_timeline_media"]
    shapes = {edge["node"]["__typename"]: set(edge["node"]) for edge in legacy["edges"]}
    nodes = [edge["node"] for edge in timeline["edges"]]
    assert [int(node["id"]) for node in nodes] == truth_pks(social, account, at)[:12]
    for node in nodes:
        assert set(node) - {"like_and_view_counts_disabled"} == shapes[node["__typename"]]
        assert node["owner"] == {"id": account.id, "username": account.username}
        assert node["taken_at_timestamp"] <= at
    assert timeline["page_info"]["has_next_page"] is True
    cursor = timeline["page_info"]["end_cursor"]
    assert cursor == f"{nodes[-1]['id']}_{account.id}"
    # The profile's cursor is the feed's max_id: a collector goes on from the embedded posts.
    with client(server) as http:
        feed = http.get(f"/api/v1/feed/user/{account.id}/", params={"max_id": cursor})
    items = orjson.loads(feed.content)["items"]
    assert [item["pk"] for item in items] == truth_pks(social, account, at)[12:24]


def test_grid_pagination_matches_truth_and_resumes(
    server: SandboxServer, social: SocialWorld, clock: ManualClock
) -> None:
    t = clock.time()
    account = public_account(social, t, 60, 400, min_rate=5.0)
    expected = truth_pks(social, account, t)
    with client(server) as http:
        pages = []
        after = None
        while True:
            page = grid(http, account.username, after)
            pages.append(page)
            if not page["page_info"]["has_next_page"]:
                break
            after = page["page_info"]["end_cursor"]
        got = [edge["node"]["pk"] for page in pages for edge in page["edges"]]
        assert got == expected
        assert len(set(got)) == len(got) == social.post_count(account, t)
        first_item = pages[0]["edges"][0]["node"]
        assert first_item["user"]["username"] == account.username
        assert first_item["id"] == f"{first_item['pk']}_{account.pk}"
        # Resuming from any stored cursor continues exactly, even after new posts appeared.
        clock.advance(2 * DAY)
        newer = truth_pks(social, account, clock.time())
        assert len(newer) > len(expected)
        for index in (0, 2, len(pages) - 2):
            cursor = pages[index]["page_info"]["end_cursor"]
            resumed = all_grid(http, account.username, cursor)
            assert resumed == expected[(index + 1) * 12 :]
        assert all_grid(http, account.username) == newer


def test_feed_endpoint_matches_truth(server: SandboxServer, social: SocialWorld) -> None:
    t = server.clock.time()
    account = public_account(social, t, 30, 150)
    expected = truth_pks(social, account, t)
    recorded_keys = {"play_count", "comments_disabled"}  # reels.json / disabled comments
    for name in ("media.json", "media-2.json", "media-3.json"):
        recorded_keys |= set(_load(name)["items"][0])
    got: list[int] = []
    cursors: list[str] = []
    with client(server) as http:
        max_id = None
        while True:
            params = {"count": "12"} | ({"max_id": max_id} if max_id else {})
            response = http.get(f"/api/v1/feed/user/{account.id}/", params=params)
            assert response.status_code == 200
            body = orjson.loads(response.content)
            assert body["status"] == "ok" and body["num_results"] == len(body["items"])
            for item in body["items"]:
                assert set(item) <= recorded_keys
                assert item["code"] and item["caption"]["text"] is not None
            got.extend(item["pk"] for item in body["items"])
            if not body["more_available"]:
                assert "next_max_id" not in body
                break
            max_id = body["next_max_id"]
            cursors.append(max_id)
        assert got == expected
        middle = cursors[len(cursors) // 2]
        response = http.get(f"/api/v1/feed/user/{account.id}/", params={"max_id": middle})
        items = orjson.loads(response.content)["items"]
        start = (len(cursors) // 2 + 1) * 12
        assert [item["pk"] for item in items] == expected[start : start + 12]


def test_media_info_and_counts_grow(
    server: SandboxServer, social: SocialWorld, clock: ManualClock
) -> None:
    t = clock.time()
    account = public_account(social, t, 40, 400)
    post = social.posts_at(account, t)[0]
    with client(server) as http:
        first = orjson.loads(http.get(f"/api/v1/media/{post.pk}/info/").content)
        clock.advance(DAY)
        later = orjson.loads(http.get(f"/api/v1/media/{post.pk}_{account.pk}/info/").content)
        missing = http.get("/api/v1/media/123/info/")
    assert set(first) == set(_load("media.json")) | {"status"}
    item, again = first["items"][0], later["items"][0]
    assert item["pk"] == post.pk and item["taken_at"] == post.taken_at
    if not post.likes_hidden:
        assert item["like_count"] == social.like_count(post, t)
        assert again["like_count"] == social.like_count(post, t + DAY) >= item["like_count"]
    assert item["comment_count"] == social.comment_count(post, t)
    assert again["comment_count"] == social.comment_count(post, t + DAY)
    assert len(again["preview_comments"]) == min(2, again["comment_count"])
    assert missing.status_code == 404
    assert orjson.loads(missing.content)["message"] == "Media not found or unavailable"


def test_private_account_shows_counts_but_no_posts(
    server: SandboxServer, social: SocialWorld
) -> None:
    t = server.clock.time()
    account = pick(social, t, private=True)
    assert social.post_count(account, t) > 0
    with client(server) as http:
        user = orjson.loads(profile(http, account.username).content)["data"]["user"]
        page = grid(http, account.username)
        feed = orjson.loads(http.get(f"/api/v1/feed/user/{account.id}/").content)
        followers = graphql(http, {"id": account.id, "first": 24}, query_hash=FOLLOWERS_QUERY_HASH)
    assert user["is_private"] is True
    assert user["edge_owner_to_timeline_media"]["count"] == social.post_count(account, t)
    assert user["edge_owner_to_timeline_media"]["edges"] == []
    assert page["edges"] == [] and page["page_info"]["has_next_page"] is False
    assert feed["items"] == [] and feed["more_available"] is False
    edge = orjson.loads(followers.content)["data"]["user"]["edge_followed_by"]
    assert edge["edges"] == [] and edge["count"] == social.follower_count(account, t)


def test_deleted_account_is_not_found(
    server: SandboxServer, social: SocialWorld, clock: ManualClock
) -> None:
    t = clock.time()
    gone = pick(social, t, deleted_before=True)
    later = pick(social, t, deleted_after=True)
    assert later.deleted_at is not None
    with client(server) as http:
        response = profile(http, gone.username)
        assert response.status_code == 404
        assert orjson.loads(response.content) == {"data": {"user": None}, "status": "ok"}
        assert http.get(f"/api/v1/feed/user/{gone.id}/").status_code == 404
        by_id = graphql(http, {"id": gone.id, "first": 12}, query_hash=FOLLOWING_QUERY_HASH)
        assert orjson.loads(by_id.content) == {"data": {"viewer": {}, "user": None}, "status": "ok"}
        assert grid(http, gone.username) is None
        # An account deleted while the collector runs: there, then gone.
        assert profile(http, later.username).status_code == 200
        clock.t = later.deleted_at + 1
        assert profile(http, later.username).status_code == 404
    truth = profile_truth(social, gone.username, t)
    assert truth is not None and truth["state"] == "deleted" and truth["posts"] is None
    stats = server.stats()["accounts"]["big"]
    assert stats["not_found"] == 3


def test_renamed_account(server: SandboxServer, social: SocialWorld, clock: ManualClock) -> None:
    t = clock.time()
    account = pick(social, t, renamed_after=True)
    assert account.old_username is not None and account.renamed_at is not None
    old, new = account.old_username, account.username
    with client(server) as http:
        before = orjson.loads(profile(http, old).content)["data"]["user"]
        assert before["username"] == old and before["id"] == account.id
        assert profile(http, new).status_code == 404  # not taken yet
        clock.t = account.renamed_at + 1
        via_old = orjson.loads(profile(http, old).content)["data"]["user"]
        via_new = orjson.loads(profile(http, new).content)["data"]["user"]
        page = http.get(f"/{old}/")
    assert via_old["username"] == via_new["username"] == new
    assert via_old["id"] == via_new["id"] == account.id
    assert page.status_code == 301 and page.headers["Location"] == f"/{new}/"
    truth = profile_truth(social, old, clock.time())
    assert truth is not None and truth["state"] == "renamed" and truth["username_at_t"] == new


def _all_follows(http: httpx.Client, account: SocialAccount, query_hash: str) -> list[str]:
    key = "edge_followed_by" if query_hash == FOLLOWERS_QUERY_HASH else "edge_follow"
    ids: list[str] = []
    variables: dict[str, Any] = {"id": account.id, "include_reel": True, "first": 24}
    while True:
        response = graphql(http, variables, query_hash=query_hash)
        assert response.status_code == 200
        edge = orjson.loads(response.content)["data"]["user"][key]
        ids.extend(e["node"]["id"] for e in edge["edges"])
        if not edge["page_info"]["has_next_page"]:
            return ids
        variables["after"] = edge["page_info"]["end_cursor"]


def test_follow_lists_need_a_session_and_match_truth(
    server: SandboxServer, social: SocialWorld
) -> None:
    t = server.clock.time()
    account = max(
        (a for a in social.accounts if not a.is_private and a.deleted_at is None),
        key=lambda a: len(social.followers(a, t)),
    )
    with client(server, session=None) as anonymous:
        response = graphql(anonymous, {"id": account.id}, query_hash=FOLLOWERS_QUERY_HASH)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")
    with client(server) as http:
        first = graphql(http, {"id": account.id, "first": 24}, query_hash=FOLLOWERS_QUERY_HASH)
        followers = _all_follows(http, account, FOLLOWERS_QUERY_HASH)
        following = _all_follows(http, account, FOLLOWING_QUERY_HASH)
    doc = orjson.loads(first.content)
    recorded = _load("followers-feed.json")
    assert set(doc["data"]["user"]) == set(recorded["data"]["user"])
    node = doc["data"]["user"]["edge_followed_by"]["edges"][0]["node"]
    assert set(node) == set(recorded["data"]["user"]["edge_followed_by"]["edges"][0]["node"])
    assert doc["data"]["user"]["edge_followed_by"]["count"] == social.follower_count(account, t)
    assert len(followers) > 24
    assert followers == [a.id for a in social.followers(account, t)]
    assert following == [a.id for a in social.following(account, t)]


def test_comments_pages_match_truth(server: SandboxServer, social: SocialWorld) -> None:
    t = server.clock.time()
    post = next(
        post
        for account in social.accounts
        if not account.is_private and account.deleted_at is None
        for post in islice(social.iter_posts(account, t), 20)
        if 30 <= social.comment_count(post, t) <= 200
    )
    truth = social.comments_at(post, t)
    pages: list[list[dict[str, Any]]] = []
    with client(server) as http:
        code = http.get("/__sandbox/truth/post", params={"pk": post.pk}).json()["code"]
        variables: dict[str, Any] = {"shortcode": code, "first": 12}
        while True:
            response = graphql(http, variables, query_hash=COMMENTS_QUERY_HASHES[0])
            edge = orjson.loads(response.content)["data"]["shortcode_media"][
                "edge_media_to_comment"
            ]
            assert edge["count"] == len(truth)
            pages.append([e["node"] for e in edge["edges"]])
            if not edge["page_info"]["has_next_page"]:
                break
            variables["after"] = edge["page_info"]["end_cursor"]
        unknown = graphql(http, {"shortcode": "AAAAAAAAAAB"}, query_hash=COMMENTS_QUERY_HASHES[1])
    recorded = _load("media-comments.json")["data"]["shortcode_media"]["edge_media_to_comment"]
    assert set(pages[0][0]) == set(recorded["edges"][0]["node"])
    assert set(pages[0][0]["owner"]) == set(recorded["edges"][0]["node"]["owner"])
    assert all(len(page) == 12 for page in pages[:-1]) and 0 < len(pages[-1]) <= 12
    assert [node["id"] for node in pages[0]] == [c.id for c in truth[-12:]]
    # Newest page first, each page oldest first: reversed pages give the whole thread in order.
    thread = [node for page in reversed(pages) for node in page]
    assert [node["id"] for node in thread] == [c.id for c in truth]
    assert [node["created_at"] for node in thread] == sorted(c.created_at for c in truth)
    assert all(c.created_at <= t for c in truth)
    assert orjson.loads(unknown.content) == {"data": {"shortcode_media": None}, "status": "ok"}


def test_graphql_medias_by_id(server: SandboxServer, social: SocialWorld) -> None:
    t = server.clock.time()
    account = public_account(social, t, 20, 100)
    with client(server) as http:
        response = graphql(http, {"id": account.id, "first": 12}, query_hash=MEDIAS_QUERY_HASH)
        bad = graphql(http, {"id": account.id}, query_hash="0" * 32)
    media = orjson.loads(response.content)["data"]["user"]["edge_owner_to_timeline_media"]
    assert media["count"] == social.post_count(account, t)
    assert [int(e["node"]["id"]) for e in media["edges"]] == truth_pks(social, account, t)[:12]
    assert bad.status_code == 400


def test_budget_and_faults_apply(server: SandboxServer, social: SocialWorld) -> None:
    t = server.clock.time()
    account = public_account(social, t, 20, 400)
    server.script_faults("big", ["429", "truncated", "reset"])
    with client(server) as http:
        limited = profile(http, account.username)
        assert limited.status_code == 429
        assert orjson.loads(limited.content)["message"].startswith("Please wait")
        truncated = http.get(f"/api/v1/feed/user/{account.id}/")
        assert truncated.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(truncated.content)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            graphql(http, {"id": account.id}, query_hash=FOLLOWERS_QUERY_HASH)
    with client(server) as http:
        assert profile(http, account.username).status_code == 200
    with client(server, session="sess-small") as small:
        statuses = [profile(small, account.username).status_code for _ in range(11)]
        missing_app_id = small.get(PROFILE, params={"username": "x"}, headers={"X-IG-App-ID": ""})
    assert statuses == [200] * 10 + [429]
    assert missing_app_id.status_code == 400
    outcomes = [r.outcome for r in server.request_log() if r.account == "big"]
    assert outcomes[:3] == ["fault:429", "fault:truncated", "fault:reset"]
    assert server.stats()["accounts"]["small"]["throttled"] == 1


def test_media_files_are_images(server: SandboxServer, social: SocialWorld) -> None:
    t = server.clock.time()
    posts = [
        post
        for account in social.accounts
        if account.deleted_at is None
        for post in islice(social.iter_posts(account, t), 3)
    ][:160]
    seed, share = social.seed, social.config.webp_share
    quirky = [p for p in posts if is_webp_quirk(seed, str(p.pk), share)]
    assert quirky and len(quirky) < len(posts) // 4
    with client(server) as http:
        item = orjson.loads(http.get(f"/api/v1/media/{posts[0].pk}/info/").content)["items"][0]
        url = item["image_versions2"]["candidates"][1]["url"]
        assert url.startswith(server.base_url + "/media/")
        first = http.get(url)
        assert first.status_code == 200 and first.content == http.get(url).content
        kinds = {}
        for post in posts[:40] + quirky[:3]:
            response = http.get(f"/media/{post.pk}_640.jpg")
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/jpeg"  # even for WebP bytes
            body = response.content
            webp = body[:4] == b"RIFF" and body[8:12] == b"WEBP"
            assert webp or body[:3] == b"\xff\xd8\xff"
            assert webp == is_webp_quirk(seed, str(post.pk), share)
            kinds[post.pk] = webp
            with Image.open(io.BytesIO(body)) as image:
                assert image.size[0] == 640 // 8
        assert True in kinds.values() and False in kinds.values()
        assert http.get("/media/42_640.jpg").status_code == 404
        pic = http.get(item["user"]["profile_pic_url"])
        assert pic.status_code == 200 and pic.content[:3] == b"\xff\xd8\xff"


def test_truth_endpoints(server: SandboxServer, social: SocialWorld) -> None:
    t = server.clock.time() + 5 * HOUR
    account = public_account(social, t, 10, 60)
    asked = {"username": account.username, "t": repr(t)}
    with client(server, session=None) as http:
        got = http.get("/__sandbox/truth/profile", params=asked).json()
        assert got == profile_truth(social, account.username, t)
        posts = http.get("/__sandbox/truth/posts", params=asked).json()
        assert posts == posts_truth(social, account.username, t)
        assert [p["pk"] for p in posts["posts"]] == truth_pks(social, account, t)
        followers = http.get("/__sandbox/truth/followers", params={"username": account.username})
        now = server.clock.time()
        assert [a["id"] for a in followers.json()["accounts"]] == [
            a.id for a in social.followers(account, now)
        ]
        missing = http.get("/__sandbox/truth/profile", params={"username": "nobody.here"})
        assert missing.status_code == 404
        assert len(http.get("/__sandbox/users").json()) == len(social.accounts)
    # Truth costs no budget and needs no session.
    assert server.request_log() == []
