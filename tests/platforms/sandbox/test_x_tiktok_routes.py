"""The sandbox's X API v2 and TikTok web routes over real loopback HTTP, with the real clients
and parsers: shapes parse into the right records, counts equal the truth, budgets and faults
behave as documented, answers are a function of the seed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise

import httpx
import orjson
import pytest

from tagpulse.errors import LoginRequired, PlatformError, RateLimited, TransportError
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.payloads import FaultConfig
from tagpulse.platforms.sandbox.payloads_x import TOO_MANY_REQUESTS_BODY, UNAUTHORIZED_BODY
from tagpulse.platforms.sandbox.server import Limits, SandboxServer
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.tiktok_world import (
    TIKTOK_COUNT_FACTOR,
    tiktok_tag_truth,
    tiktok_user_truth,
    tiktok_view,
)
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.platforms.sandbox.x_world import (
    X_COUNT_FACTOR,
    x_counts_truth,
    x_tweet_count,
    x_user_truth,
    x_view,
)
from tagpulse.platforms.tiktok.client import TikTokClient
from tagpulse.platforms.tiktok.exceptions import UnknownShape as TikTokUnknownShape
from tagpulse.platforms.tiktok.exceptions import VerifyRequired
from tagpulse.platforms.tiktok.parse import parse_payload
from tagpulse.platforms.x.client import XClient
from tagpulse.platforms.x.exceptions import UnknownShape as XUnknownShape
from tagpulse.platforms.x.exceptions import XRateLimited
from tagpulse.platforms.x.parse import parse_response
from tagpulse.records import ParsedRecords
from tests.platforms.sandbox.conftest import ManualClock

TOKEN = "sandbox-x-token-1"


def at(clock: ManualClock) -> datetime:
    return utc_from_epoch(clock.time())


@pytest.fixture
def x(server: SandboxServer) -> Iterator[XClient]:
    with XClient(server.base_url, bearer_token=TOKEN) as client:
        yield client


@pytest.fixture
def tiktok(server: SandboxServer) -> Iterator[TikTokClient]:
    with TikTokClient(server.base_url) as client:
        yield client


def accounts(world: World, t: float) -> dict[str, SocialAccount]:
    """A public account with a valid X handle, one with a dot, a private, a deleted and a
    renamed one."""
    social = world.social
    live = [a for a in social.accounts if social.resolve(a.username, t)[1] == "active"]
    public = [a for a in live if not a.is_private and a.old_username is None]
    return {
        "plain": next(a for a in public if "." not in a.username and len(a.username) <= 15),
        "dotted": next(a for a in public if "." in a.username),
        "private": next(a for a in live if a.is_private),
        "deleted": next(a for a in social.accounts if a.deleted_at is not None and a.deleted(t)),
        "renamed": next(
            a
            for a in social.accounts
            if a.old_username and a.renamed_at is not None and a.renamed_at < t
            if not a.deleted(t)
        ),
    }


# -- X: counts ------------------------------------------------------------------------------------


def test_x_counts_parse_into_tag_counts_equal_to_the_truth(
    world: World, clock: ManualClock, x: XClient
) -> None:
    now = clock.time()
    answer = x.recent_counts("#Paris")
    parsed = parse_response(answer.body, collected_at=at(clock), query="#Paris")
    assert parsed.warnings == []
    counts = parsed.tag_counts
    # 7 days of hours: a cut first bucket, 167 whole hours, a cut last one.
    assert len(counts) == 169 and {c.tag for c in counts} == {"paris"}
    assert counts[0].bucket_start.timestamp() == math.floor(now) - 7 * DAY
    assert counts[-1].bucket_end.timestamp() == math.floor(now)
    for before, after in pairwise(counts):
        assert before.bucket_end == after.bucket_start
    for c in counts:
        assert c.count == x_tweet_count(
            world, "paris", c.bucket_start.timestamp(), c.bucket_end.timestamp()
        )
    truth = x_counts_truth(world, "paris", now)
    assert [b["tweet_count"] for b in truth["buckets"]] == [c.count for c in counts]
    assert orjson.loads(answer.body)["meta"] == {"total_tweet_count": truth["total_tweet_count"]}
    # A whole hour holds the world's increment over that hour times the documented factor.
    whole = counts[100]
    start, end = whole.bucket_start.timestamp(), whole.bucket_end.timestamp()
    posts = (world.true_count("paris", start), world.true_count("paris", end))
    assert whole.count == math.floor(posts[1] * X_COUNT_FACTOR) - math.floor(
        posts[0] * X_COUNT_FACTOR
    )
    assert 0.2 < whole.count / (posts[1] - posts[0]) < 0.3


def test_x_counts_granularities_and_windows_agree(
    world: World, clock: ManualClock, x: XClient
) -> None:
    now = clock.time()
    totals = {}
    for granularity in ("minute", "hour", "day"):
        doc = orjson.loads(x.recent_counts("#nike", granularity=granularity).body)
        totals[granularity] = doc["meta"]["total_tweet_count"]
        assert sum(b["tweet_count"] for b in doc["data"]) == totals[granularity]
        if granularity == "day":
            assert len(doc["data"]) == 8  # 7 days cut at both ends
    assert len(set(totals.values())) == 1
    start = utc_from_epoch(math.floor(now) - 5 * HOUR)
    parsed = parse_response(
        x.recent_counts("#nike", start_time=start).body, collected_at=at(clock), query="#nike"
    )
    assert parsed.tag_counts[0].bucket_start == start
    assert sum(c.count for c in parsed.tag_counts) == x_tweet_count(
        world, "nike", start.timestamp(), math.floor(now)
    )
    # Unknown tags have no tweets; other X operators are refused with X's 400.
    doc = orjson.loads(x.recent_counts("#neverusedtag").body)
    assert doc["meta"]["total_tweet_count"] == 0
    with pytest.raises(PlatformError, match="HTTP 400") as caught:
        x.recent_counts("#nike lang:en")
    assert orjson.loads(caught.value.body or b"")["title"] == "Invalid Request"
    with pytest.raises(PlatformError, match="start_time"):
        x.recent_counts("#nike", start_time=utc_from_epoch(now - 8 * DAY))


# -- X: search ------------------------------------------------------------------------------------


def search_pages(x: XClient, query: str, max_results: int, **params: str) -> list[bytes]:
    bodies = []
    token: str | None = None
    while True:
        args = {"query": query, "max_results": str(max_results), **params}
        args |= {"tweet.fields": "author_id,created_at,entities,lang,public_metrics"}
        args |= {
            "expansions": "author_id,entities.mentions.username",
            "user.fields": "public_metrics",
        }
        if token:
            args["next_token"] = token
        body = x.get("tweets/search/recent", "/2/tweets/search/recent", args).body
        bodies.append(body)
        token = orjson.loads(body)["meta"].get("next_token")
        if token is None:
            return bodies


def test_x_search_returns_what_counts_count(world: World, clock: ManualClock, x: XClient) -> None:
    now = clock.time()
    start = utc_from_epoch(math.floor(now / HOUR) * HOUR - HOUR)
    stamp_ = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    bodies = search_pages(x, "#paris", 100, start_time=stamp_)
    parsed = ParsedRecords()
    for body in bodies:
        parsed.extend(parse_response(body, collected_at=at(clock), query="#paris"))
    ids = [p.post_id for p in parsed.posts]
    assert (
        len(ids)
        == len(set(ids))
        == x_tweet_count(world, "paris", start.timestamp(), math.floor(now))
    )
    assert ids == sorted(ids, key=int, reverse=True)  # newest first, pages continue exactly
    assert len(bodies) == math.ceil(len(ids) / 100)
    assert all("paris" in p.hashtags and p.seen_via == "search:#paris" for p in parsed.posts)
    assert all(start <= p.taken_at < at(clock) for p in parsed.posts if p.taken_at)
    view = x_view(world)
    profiles = {p.user_id: p for p in parsed.profiles}
    for post in parsed.posts[:20]:
        author = profiles[post.owner_id]  # every author came in includes.users
        assert post.owner_handle == author.handle
        truth = x_user_truth(world, author.handle, now)
        assert truth is not None and truth["id"] == post.owner_id
        assert author.followers == truth["followers"] and author.posts_count == truth["tweets"]
    mentions = [e for e in parsed.edges if e.kind == "mentioned"]
    assert mentions and all(e.dst in profiles for e in mentions)
    assert all(view.resolve(e.dst_handle or "", now) is not None for e in mentions)


def test_x_search_pages_a_quiet_tag_to_its_end(
    world: World, clock: ManualClock, x: XClient
) -> None:
    now = clock.time()
    bodies = search_pages(x, "#slowtag", 10)
    docs = [orjson.loads(b) for b in bodies]
    tweets = [t for d in docs for t in d.get("data", [])]
    assert len(tweets) == x_counts_truth(world, "slowtag", now)["total_tweet_count"] > 10
    assert "next_token" not in docs[-1]["meta"]
    assert docs[0]["meta"]["newest_id"] == tweets[0]["id"]
    assert docs[0]["meta"]["result_count"] == len(docs[0]["data"])
    # Only the fields asked for: a default search has id, text and the edit history.
    plain = orjson.loads(x.get("s", "/2/tweets/search/recent", {"query": "#slowtag"}).body)
    assert set(plain["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    assert "includes" not in plain


# -- X: users -------------------------------------------------------------------------------------


def test_x_users_by_equal_the_truth(world: World, clock: ManualClock, x: XClient) -> None:
    now = clock.time()
    chosen = accounts(world, now)
    view = x_view(world)
    plain, dotted = chosen["plain"], chosen["dotted"]
    assert view.x_handle(plain.username) == plain.username
    dotted_handle = view.x_handle(dotted.username)
    assert "." not in dotted_handle and len(dotted_handle) <= 15
    renamed = chosen["renamed"]
    asked = [
        plain.username,
        dotted_handle,
        view.x_handle(chosen["private"].username),
        view.x_handle(chosen["deleted"].username),
        view.x_handle(renamed.old_username or ""),
        view.x_handle(renamed.username),
        "nobody_at_all",
    ]
    answer = x.users_by(asked)
    parsed = parse_response(answer.body, collected_at=at(clock))
    by_handle = {p.handle: p for p in parsed.profiles}
    for handle in (plain.username, dotted_handle, view.x_handle(renamed.username)):
        truth = x_user_truth(world, handle, now)
        assert truth is not None
        profile = by_handle[handle]
        assert profile.state == "ok" and profile.user_id == truth["id"]
        assert (profile.followers, profile.following, profile.posts_count) == (
            truth["followers"], truth["following"], truth["tweets"]
        )  # fmt: skip
        assert profile.followers == world.social.follower_count(
            view.resolve(handle, now),  # type: ignore[arg-type]
            now,
        )
    assert by_handle[view.x_handle(chosen["private"].username)].is_private is True
    missing = [
        view.x_handle(chosen["deleted"].username),
        view.x_handle(renamed.old_username or ""),
        "nobody_at_all",
    ]
    # Beside data, X's partial errors are warnings to the parser; asked alone, a missing
    # handle is a not-found profile (how the tracker asks: one handle a request).
    assert len(parsed.warnings) == 3 and all("Not Found Error" in w for w in parsed.warnings)
    for handle in missing:
        alone = parse_response(x.users_by([handle]).body, collected_at=at(clock))
        assert [(p.handle, p.state) for p in alone.profiles] == [(handle, "not_found")]
    error = orjson.loads(answer.body)["errors"][0]
    assert error["title"] == "Not Found Error"
    assert error["detail"].startswith("Could not find user with usernames: [")
    single = orjson.loads(x.get("u", f"/2/users/by/username/{plain.username}", {}).body)
    assert single["data"]["username"] == plain.username
    assert set(single["data"]) == {"id", "name", "username"}


# -- X: auth, budgets, faults ---------------------------------------------------------------------


def test_x_bad_or_missing_token_is_401(server: SandboxServer, clock: ManualClock) -> None:
    bad = XClient(server.base_url, bearer_token="not-a-sandbox-token")
    with bad, pytest.raises(LoginRequired) as caught:
        bad.recent_counts("#paris")
    assert caught.value.status == 401
    assert orjson.loads(caught.value.body or b"") == UNAUTHORIZED_BODY
    answer = httpx.get(f"{server.base_url}/2/tweets/counts/recent", params={"query": "#paris"})
    assert answer.status_code == 401 and answer.json() == UNAUTHORIZED_BODY
    assert "x-rate-limit-remaining" not in answer.headers
    outcomes = [r.outcome for r in server.request_log()]
    assert outcomes == ["x:unauthorized", "x:unauthorized"]


@pytest.fixture
def small_x(world: World, clock: ManualClock) -> Iterator[SandboxServer]:
    # 300 x 0.01: three counts requests per app and 15 minutes; search: 450 x 0.01 -> 4 (4.5).
    with SandboxServer(world, clock, limits=Limits(x_rate_scale=0.01)) as srv:
        yield srv


def test_x_window_budget_headers_and_429(small_x: SandboxServer, clock: ManualClock) -> None:
    opened = clock.time()
    with XClient(small_x.base_url, bearer_token=TOKEN) as x:
        remaining = []
        for _ in range(3):
            answer = x.recent_counts("#puma")
            remaining.append(answer.rate_limit.remaining)
            assert answer.headers["x-rate-limit-limit"] == "3"
            assert int(answer.headers["x-rate-limit-reset"]) == math.ceil(opened + 900)
        assert remaining == [2, 1, 0]
        clock.advance(60)
        with pytest.raises(XRateLimited) as caught:
            x.recent_counts("#puma")
        error = caught.value
        assert error.status == 429 and error.remaining == 0 and error.limit == 3
        assert error.reset_at == datetime.fromtimestamp(math.ceil(opened + 900), tz=UTC)
        assert orjson.loads(error.body or b"") == TOO_MANY_REQUESTS_BODY
        assert x.remaining("tweets/counts/recent") == 0
        # Each endpoint has its own window, each app its own budget.
        assert x.recent_search("#puma", max_results=10).rate_limit.limit == 4
        with XClient(small_x.base_url, bearer_token="sandbox-x-token-2") as other:
            assert other.recent_counts("#puma").rate_limit.remaining == 2
        clock.advance(900)  # the window closed: a new one opens
        assert x.recent_counts("#puma").rate_limit.remaining == 2
    log = [r for r in small_x.request_log() if r.path.startswith("/2/tweets/counts")]
    assert [r.outcome for r in log] == ["x:ok"] * 3 + ["x:throttled", "x:ok", "x:ok"]
    assert [r.account for r in log] == ["x01"] * 4 + ["x02", "x01"]
    stats = orjson.loads(httpx.get(f"{small_x.base_url}/__sandbox/platforms").content)
    assert stats["x"]["x01"]["throttled"] == 1 and stats["x"]["x01"]["admitted"] == 5


def test_x_scripted_faults_cost_no_budget(small_x: SandboxServer, clock: ManualClock) -> None:
    small_x.script_faults("x01", ["429", "401", "login", "checkpoint", "reset"])
    small_x.script_faults("x01", ["truncated", "malformed"])
    with XClient(small_x.base_url, bearer_token=TOKEN) as x:
        with pytest.raises(XRateLimited):
            x.recent_counts("#paris")
        with pytest.raises(LoginRequired) as unauthorized:
            x.recent_counts("#paris")
        assert unauthorized.value.status == 401
        with pytest.raises(LoginRequired) as forbidden:
            x.recent_counts("#paris")
        assert forbidden.value.status == 403 and "Client Forbidden" in str(forbidden.value)
        with pytest.raises(TransportError) as unavailable:
            x.recent_counts("#paris")
        assert unavailable.value.status == 503
        with pytest.raises(TransportError, match="connection failed"):
            x.recent_counts("#paris")
        for _ in range(2):  # truncated, then malformed: a 200 the parser refuses
            with pytest.raises(XUnknownShape, match="not valid JSON"):
                parse_response(x.recent_counts("#paris").body, collected_at=at(clock))
        assert x.recent_counts("#paris").rate_limit.remaining == 2  # faults were free
    outcomes = [r.outcome for r in small_x.request_log()]
    assert outcomes[:4] == ["x:fault:429", "x:fault:401", "x:fault:login", "x:fault:checkpoint"]
    assert outcomes[-1] == "x:ok"


def test_random_faults_apply_to_x_and_tiktok(world: World, clock: ManualClock) -> None:
    faults = FaultConfig(connection_reset=1.0, seed=3)
    with SandboxServer(world, clock, faults=faults) as srv:
        with XClient(srv.base_url, bearer_token=TOKEN) as x, pytest.raises(TransportError):
            x.recent_counts("#paris")
        with TikTokClient(srv.base_url) as tiktok, pytest.raises(TransportError):
            tiktok.challenge_detail("paris")
        assert [r.status for r in srv.request_log()] == [0, 0]


# -- TikTok ---------------------------------------------------------------------------------------


def test_tiktok_challenge_detail_equals_the_truth(
    world: World, clock: ManualClock, server: SandboxServer, tiktok: TikTokClient
) -> None:
    now = clock.time()
    body = tiktok.challenge_detail("#Nike").content
    parsed = parse_payload(body, collected_at=at(clock), hint_tag="nike")
    assert parsed.warnings == []
    snapshot = parsed.snapshots[0]
    truth = tiktok_tag_truth(world, "nike", now)
    assert snapshot.post_count == truth["video_count"]
    assert snapshot.post_count == math.floor(world.true_count("nike", now) * TIKTOK_COUNT_FACTOR)
    assert snapshot.extra["view_count"] == truth["view_count"]
    assert snapshot.extra["challenge_id"] == truth["challenge_id"]
    info = orjson.loads(body)["challengeInfo"]
    assert info["statsV2"]["videoCount"] == str(truth["video_count"])
    rounded = info["stats"]["videoCount"]
    assert rounded <= truth["video_count"] < rounded * 1.01 and str(rounded).endswith("00000")
    hidden = parse_payload(
        tiktok.challenge_detail("newyears").content, collected_at=at(clock), hint_tag="newyears"
    )
    assert hidden.snapshots[0].post_count is None
    assert any("did not report a post count" in w for w in hidden.warnings)
    unknown = parse_payload(
        tiktok.challenge_detail("neverusedtag").content, collected_at=at(clock), hint_tag="x"
    )
    assert unknown.snapshots[0].extra["state"] == "not_found"
    record = server.request_log()[0]
    assert (record.outcome, record.tag, record.media_count) == (
        "tiktok:ok",
        "nike",
        truth["video_count"],
    )


def test_tiktok_challenge_items_page_through_tagged_posts(
    world: World, clock: ManualClock, tiktok: TikTokClient
) -> None:
    now = clock.time()
    view = tiktok_view(world)
    challenge = view.challenge_id("paris")
    expected = view.tag_posts("paris", now)
    assert len(expected) > 35
    parsed = ParsedRecords()
    cursor: str | None = "0"
    pages = 0
    while cursor is not None:
        body = tiktok.challenge_items(challenge, cursor, count=30).content
        page = parse_payload(body, collected_at=at(clock), hint_tag="paris")
        parsed.extend(page)
        cursor = page.next_cursor
        pages += 1
    assert pages == math.ceil(len(expected) / 30)
    assert [p.post_id for p in parsed.posts] == [view.item_id(p) for p in expected]
    social = world.social
    for post, item in zip(expected[:10], parsed.posts[:10], strict=True):
        assert int(item.post_id) >> 32 == post.taken_at
        assert "paris" in item.hashtags and item.seen_via == "tag:paris"
        assert item.likes == social.like_count(post, now)
        assert item.comments == social.comment_count(post, now)
        assert item.media_type == ("video" if post.is_video else "carousel")
        owner = social.accounts[post.owner]
        assert item.owner_handle == owner.username_at(now)
    authors = {p.handle: p for p in parsed.profiles}
    for handle, profile in list(authors.items())[:5]:
        truth = tiktok_user_truth(world, handle, now)
        assert truth is not None and profile.followers == truth["followers"]


def test_tiktok_user_detail_and_items_equal_the_truth(
    world: World, clock: ManualClock, tiktok: TikTokClient
) -> None:
    now = clock.time()
    chosen = accounts(world, now)
    busy = max(
        (a for a in world.social.accounts if not a.is_private and not a.deleted(now)),
        key=lambda a: world.social.post_count(a, now),
    )
    parsed = parse_payload(
        tiktok.user_detail(busy.username).content, collected_at=at(clock), hint_handle=busy.username
    )
    profile = parsed.profiles[0]
    truth = tiktok_user_truth(world, busy.username, now)
    assert truth is not None and profile.state == "ok"
    assert (profile.user_id, profile.followers, profile.following, profile.posts_count) == (
        truth["id"], truth["followers"], truth["following"], truth["videos"]
    )  # fmt: skip
    assert profile.extra["heart_count"] == truth["hearts"]
    sec_uid = profile.extra["sec_uid"]
    ids: list[str] = []
    cursor: str | None = "0"
    while cursor is not None and len(ids) < 60:
        page = parse_payload(
            tiktok.user_items(sec_uid, cursor, count=25).content,
            collected_at=at(clock),
            hint_handle=busy.username,
        )
        ids += [p.post_id for p in page.posts]
        cursor = page.next_cursor
    view = tiktok_view(world)
    assert ids == [view.item_id(p) for p in world.social.posts_at(busy, now)[: len(ids)]]
    assert len(ids) == 75 or cursor is None

    private = chosen["private"]
    parsed = parse_payload(
        tiktok.user_detail(private.username).content,
        collected_at=at(clock),
        hint_handle=private.username,
    )
    assert parsed.profiles[0].is_private is True and parsed.profiles[0].state == "private"
    for gone in (chosen["deleted"].username, chosen["renamed"].old_username or "", "nobody.here"):
        body = tiktok.user_detail(gone).content
        assert orjson.loads(body)["statusCode"] == 10202
        parsed = parse_payload(body, collected_at=at(clock), hint_handle=gone)
        assert [p.state for p in parsed.profiles] == ["not_found"]


def test_tiktok_per_ip_budget_answers_the_captcha(world: World, clock: ManualClock) -> None:
    limits = Limits(tiktok_ip_capacity=3, tiktok_ip_refill_per_hour=3600, ip_capacity=2)
    with SandboxServer(world, clock, limits=limits) as srv, TikTokClient(srv.base_url) as tiktok:
        for _ in range(3):
            tiktok.challenge_detail("paris")
        with pytest.raises(VerifyRequired) as caught:
            tiktok.challenge_detail("paris")
        body = caught.value.body or b""
        assert orjson.loads(body)["statusCode"] == 10000
        with pytest.raises(VerifyRequired):
            parse_payload(body, collected_at=at(clock))
        clock.advance(1.0)  # one token back (3600 an hour)
        tiktok.challenge_detail("paris")
        # Instagram's per-IP budget is another one: still full.
        session = httpx.Client(base_url=srv.base_url, cookies={"sessionid": "sess-big"})
        answer = session.get(
            "/api/v1/tags/web_info/",
            params={"tag_name": "paris"},
            headers={"X-IG-App-ID": "936619743392459"},
        )
        assert answer.status_code == 200
        outcomes = [r.outcome for r in srv.request_log() if r.outcome.startswith("tiktok")]
        assert outcomes == ["tiktok:ok"] * 3 + ["tiktok:captcha", "tiktok:ok"]


def test_tiktok_scripted_faults(server: SandboxServer, clock: ManualClock) -> None:
    server.script_faults("tiktok", ["429", "401", "login", "checkpoint", "reset", "malformed"])
    with TikTokClient(server.base_url) as tiktok:
        with pytest.raises(RateLimited) as too_many:
            tiktok.challenge_detail("paris")
        assert too_many.value.status == 429
        with pytest.raises(RateLimited, match="empty body"):
            tiktok.challenge_detail("paris")
        with pytest.raises(LoginRequired):
            tiktok.challenge_detail("paris")
        with pytest.raises(VerifyRequired):
            tiktok.challenge_detail("paris")
        with pytest.raises(TransportError):
            tiktok.challenge_detail("paris")
        with pytest.raises(TikTokUnknownShape):
            parse_payload(tiktok.challenge_detail("paris").content, collected_at=at(clock))
        assert tiktok.challenge_detail("paris").status_code == 200
    with pytest.raises(KeyError):
        server.script_faults("nobody", ["429"])


# -- truth endpoints, determinism -----------------------------------------------------------------


def test_truth_endpoints_match_the_functions(
    world: World, clock: ManualClock, server: SandboxServer
) -> None:
    now = clock.time()
    handle = accounts(world, now)["plain"].username
    base = server.base_url
    got = httpx.get(f"{base}/__sandbox/truth/x_counts", params={"tag": "paris", "t": now}).json()
    assert got == orjson.loads(orjson.dumps(x_counts_truth(world, "paris", now)))
    got = httpx.get(f"{base}/__sandbox/truth/x_user", params={"username": handle}).json()
    assert got == orjson.loads(orjson.dumps(x_user_truth(world, handle, now)))
    got = httpx.get(f"{base}/__sandbox/truth/tiktok_tag", params={"tag": "nike"}).json()
    assert got == orjson.loads(orjson.dumps(tiktok_tag_truth(world, "nike", now)))
    got = httpx.get(f"{base}/__sandbox/truth/tiktok_user", params={"username": handle}).json()
    assert got == orjson.loads(orjson.dumps(tiktok_user_truth(world, handle, now)))
    missing = httpx.get(f"{base}/__sandbox/truth/x_user", params={"username": "nobody_at_all"})
    assert missing.status_code == 404
    assert server.request_log() == []  # truth costs nothing and is not a data request


def answers(world: World, t: float) -> list[bytes]:
    handle = accounts(world, t)["plain"].username
    with SandboxServer(world, ManualClock(t)) as srv:
        with XClient(srv.base_url, bearer_token=TOKEN) as x:
            bodies = [
                x.recent_counts("#paris").body,
                x.recent_search("#paris", max_results=20).body,
                x.users_by([handle]).body,
            ]
        with TikTokClient(srv.base_url) as tiktok:
            bodies.append(tiktok.challenge_detail("paris").content)
            bodies.append(tiktok.challenge_items(tiktok_view(world).challenge_id("paris")).content)
            bodies.append(tiktok.user_detail(handle).content)
    return [b.replace(srv.base_url.encode(), b"<base>") for b in bodies]


def test_answers_are_a_function_of_the_seed(clock: ManualClock) -> None:
    t = clock.time()
    first = answers(World(seed=7), t)
    assert first == answers(World(seed=7), t)
    other = answers(World(seed=8), t)
    assert all(a != b for a, b in zip(first, other, strict=True))
