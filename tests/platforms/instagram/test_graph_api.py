"""GraphClient over real loopback HTTP against the sandbox's Graph API (no mocks): hashtag search
-> top/recent media, business discovery, the client-side 30-hashtags-per-7-days quota on the
sandbox's SteppedClock, usage headers, and every documented error body."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tagpulse.errors import (
    InputError,
    LoginRequired,
    NotFound,
    PlatformError,
    RateLimited,
    TransportError,
)
from tagpulse.platforms.instagram.exceptions import GraphRateLimited, HashtagQuotaExceeded
from tagpulse.platforms.instagram.graph_api import GraphClient, GraphUsage, classify
from tagpulse.platforms.instagram.graph_quota import HashtagIdCache, HashtagQuota
from tagpulse.platforms.instagram.parse_graph import parse_business_discovery, parse_hashtag_media
from tagpulse.platforms.sandbox.clock import SteppedClock
from tagpulse.platforms.sandbox.payloads import shortcode_from_pk
from tagpulse.platforms.sandbox.routes_graph import (
    GraphLimits,
    graph_sandbox,
    sandbox_ig_user_id,
    sandbox_token,
)
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.social import SocialPost, SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.social_truth import posts_truth, profile_truth
from tagpulse.platforms.sandbox.world import DAY, HOUR, WEEK, World

GRAPH = Path(__file__).parents[2] / "fixtures" / "instagram_graph"
KINDS = {"image": "image", "video": "video", "carousel": "carousel", "reel": "reel"}


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7)


@pytest.fixture
def clock(world: World) -> SteppedClock:
    return SteppedClock(world.start + 3 * DAY + 17.25)


@pytest.fixture
def server(world: World, clock: SteppedClock) -> Iterator[SandboxServer]:
    with SandboxServer(world, clock) as srv:
        yield srv


@pytest.fixture
def quota(tmp_path: Path, clock: SteppedClock) -> Iterator[HashtagQuota]:
    with HashtagQuota(tmp_path / "graph.sqlite", now=clock.time) as q:
        yield q


def client(server: SandboxServer, clock: SteppedClock, n: int = 1, **options: Any) -> GraphClient:
    return GraphClient(
        f"{server.base_url}/graph/v21.0",
        access_token=sandbox_token(n),
        ig_user_id=sandbox_ig_user_id(n),
        now=clock.time,
        **options,
    )


def truth_tagged(social: SocialWorld, tag: str, t: float, since: float) -> list[SocialPost]:
    """Ground truth: the public posts carrying #tag taken in (since, t], newest first."""
    found = []
    for account in social.accounts:
        if account.is_private or account.deleted(t):
            continue
        for post in social.iter_posts(account, t):
            if post.taken_at <= since:
                break
            if tag in post.hashtags:
                found.append(post)
    return sorted(found, key=lambda post: -post.pk)


def business(social: SocialWorld, t: float, min_posts: int) -> SocialAccount:
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


def graph_requests(server: SandboxServer) -> int:
    return sum(1 for record in server.request_log() if record.path.startswith("/graph/"))


# -- hashtags -------------------------------------------------------------------------------


def test_recent_media_are_the_worlds_posts_of_the_last_24h(
    server: SandboxServer, clock: SteppedClock, quota: HashtagQuota
) -> None:
    social = server.world.social
    now = clock.time()
    with client(server, clock, quota=quota) as graph:
        answer = graph.recent_media("paris", limit=50)
    records = parse_hashtag_media(
        answer.body, tag="paris", edge="recent", collected_at=clock.now(), raw_id="r"
    )
    truth = truth_tagged(social, "paris", now, now - DAY)
    assert len(truth) >= 5
    assert [post.post_id for post in records.posts] == [str(post.pk) for post in truth]
    assert records.next_cursor is None
    for post, real in zip(records.posts, truth, strict=True):
        assert post.platform == "instagram" and post.seen_via == "graph:tag:paris:recent"
        assert post.owner_id is None and post.owner_handle is None  # hashtag media: no owner
        assert post.shortcode == shortcode_from_pk(real.pk)
        assert post.taken_at == datetime.fromtimestamp(real.taken_at, tz=UTC)
        assert post.caption == real.caption and "paris" in post.hashtags
        assert post.likes == (None if real.likes_hidden else social.like_count(real, now))
        assert post.comments == social.comment_count(real, now)
        assert post.media_type == KINDS[real.kind]
        assert post.media_urls  # images, videos and each carousel child
    assert answer.usage.app["call_count"] >= 1
    assert answer.context == {"tag": "paris", "edge": "recent"}
    assert answer.endpoint == "graph/recent_media" and answer.params["limit"] == "50"
    assert quota.used(sandbox_ig_user_id(1))[0][0] == "paris"


def test_top_media_pages_give_the_50_most_liked_of_the_week(
    server: SandboxServer, clock: SteppedClock
) -> None:
    social = server.world.social
    now = clock.time()
    seen: list[str] = []
    cursor = None
    pages = 0
    with client(server, clock) as graph:
        while True:
            answer = graph.top_media("nike", after=cursor, limit=20)
            page = parse_hashtag_media(answer.body, tag="nike", edge="top", collected_at=now)
            seen += [post.post_id for post in page.posts]
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
    truth = sorted(
        truth_tagged(social, "nike", now, now - WEEK),
        key=lambda post: (-social.like_count(post, now), -post.pk),
    )[:50]
    assert seen == [str(post.pk) for post in truth]
    assert pages == -(-len(truth) // 20)
    assert len(set(seen)) == len(seen)


def test_a_hashtag_id_is_searched_once(
    server: SandboxServer, clock: SteppedClock, tmp_path: Path
) -> None:
    state = graph_sandbox(server)
    cache = HashtagIdCache(tmp_path / "ids.sqlite")
    with client(server, clock, hashtag_ids=cache) as graph:
        graph.recent_media("adidas")
        graph.top_media("adidas")
    assert [r.endpoint for r in state.records()] == [
        "ig_hashtag_search",
        "recent_media",
        "top_media",
    ]
    # The id survives the process: a new client (and cache) on the same file searches nothing.
    with client(server, clock, hashtag_ids=HashtagIdCache(tmp_path / "ids.sqlite")) as graph:
        graph.recent_media("adidas")
    assert [r.endpoint for r in state.records()][3:] == ["recent_media"]
    assert cache.get("#Adidas") == state.hashtag_id("adidas")


# -- the client-side quota ------------------------------------------------------------------


def test_quota_refuses_the_31st_hashtag_unsent_allows_repeats_and_frees_after_7_days(
    server: SandboxServer, clock: SteppedClock, quota: HashtagQuota
) -> None:
    user = sandbox_ig_user_id(1)
    tags = ["paris", *(f"filler{i:02d}" for i in range(29))]
    first_at = clock.time()
    with client(server, clock, quota=quota) as graph:
        for tag in tags:
            graph.hashtag_id(tag)
            clock.advance(60)
        assert quota.remaining(user) == 0
        assert graph_sandbox(server).hashtags_in_window(user) == tags

        sent = graph_requests(server)
        with pytest.raises(HashtagQuotaExceeded) as refused:
            graph.top_media("sunset")
        error = refused.value
        assert graph_requests(server) == sent  # nothing was sent, not even the search
        assert isinstance(error, RateLimited) and not error.server_side
        assert error.frees_at == datetime.fromtimestamp(first_at + WEEK, tz=UTC)
        assert (error.used, error.limit, error.hashtag, error.ig_user_id) == (
            30,
            30,
            "sunset",
            user,
        )
        assert "#paris" in str(error) and "leaves the window at" in str(error)

        # A hashtag already in the window is free, as often as wanted.
        graph.top_media("paris")
        graph.recent_media("#PARIS")
        assert graph_requests(server) == sent + 2

        clock.advance(first_at + WEEK - clock.time() - 1)
        with pytest.raises(HashtagQuotaExceeded):
            graph.recent_media("sunset")
        clock.advance(1)  # paris' first query is now 7 days old: its slot frees
        records = parse_hashtag_media(
            graph.recent_media("sunset").body, tag="sunset", edge="recent", collected_at=clock.now()
        )
        assert records.posts and all("sunset" in post.hashtags for post in records.posts)
    used = [tag for tag, _ in quota.used(user)]
    assert len(used) == 30 and "paris" not in used and used[-1] == "sunset"


def test_quota_lives_in_sqlite_wal_and_is_shared(tmp_path: Path, clock: SteppedClock) -> None:
    path = tmp_path / "state" / "graph.sqlite"
    with HashtagQuota(path, limit=2, now=clock.time) as one:
        assert one.acquire("1", "#Paris") is True
        assert one.acquire("1", "paris") is False  # a repeat is free
        assert one.acquire("2", "nike") is True  # accounts are counted apart
        clock.advance(HOUR)
        assert one.acquire("1", "nike") is True
    with HashtagQuota(path, limit=2, now=clock.time) as two:
        assert [tag for tag, _ in two.used("1")] == ["paris", "nike"]
        with pytest.raises(HashtagQuotaExceeded) as refused:
            two.check("1", "adidas")
        assert refused.value.frees_at == datetime.fromtimestamp(clock.time() - HOUR + WEEK, tz=UTC)
        two.check("1", "nike")
        assert two.frees_at("2") is None and two.remaining("2") == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(InputError):
        HashtagQuota(path).acquire("1", "two words")


def test_the_servers_own_hashtag_limit_answers_code_24(
    server: SandboxServer, clock: SteppedClock
) -> None:
    graph_sandbox(server, GraphLimits(hashtag_limit=3))
    with client(server, clock) as graph:  # no client-side quota: the server refuses
        for tag in ("paris", "nike", "puma"):
            graph.hashtag_search(tag)
        with pytest.raises(HashtagQuotaExceeded) as refused:
            graph.hashtag_search("adidas")
        graph.hashtag_search("nike")  # still free
        clock.advance(WEEK)
        graph.hashtag_search("adidas")
    assert refused.value.server_side and refused.value.status == 400
    assert refused.value.ig_user_id == sandbox_ig_user_id(1)
    assert b"2207024" in (refused.value.body or b"")


# -- business discovery ---------------------------------------------------------------------


def test_business_discovery_counts_and_media_equal_the_ground_truth(
    server: SandboxServer, clock: SteppedClock
) -> None:
    social = server.world.social
    now = clock.time()
    account = business(social, now, min_posts=25)
    truth = profile_truth(social, account.username, now)
    posts = posts_truth(social, account.username, now, limit=20)
    assert truth is not None and posts is not None
    with client(server, clock) as graph:
        first = parse_business_discovery(
            graph.business_discovery(account.username, media_limit=10).body,
            collected_at=clock.now(),
            hint_handle=account.username,
        )
        assert first.next_cursor is not None
        second = parse_business_discovery(
            graph.business_discovery(
                account.username, media_limit=10, after=first.next_cursor
            ).body,
            collected_at=clock.now(),
            hint_handle=account.username,
        )
    (profile,) = first.profiles
    assert profile.handle == account.username and profile.is_business is True
    assert (profile.followers, profile.following, profile.posts_count) == (
        truth["followers"],
        truth["following"],
        truth["posts"],
    )
    assert (profile.name, profile.bio, profile.external_url) == (
        account.full_name,
        account.biography,
        account.external_url,
    )
    listed = first.posts + second.posts
    assert [post.post_id for post in listed] == [str(p["pk"]) for p in posts["posts"]]
    for post, real in zip(listed, posts["posts"], strict=True):
        assert post.owner_handle == account.username and post.owner_id == profile.user_id
        assert post.likes == (None if real["likes_hidden"] else real["likes"])
        assert post.comments == real["comments"]
        assert post.shortcode == real["code"]
        assert post.seen_via == f"graph:profile:{account.username}"


def test_business_discovery_refuses_what_is_not_a_public_business_account(
    server: SandboxServer, clock: SteppedClock
) -> None:
    social = server.world.social
    now = clock.time()
    personal = next(a for a in social.accounts if not a.is_business and not a.is_private)
    private = next(a for a in social.accounts if a.is_private)
    with client(server, clock) as graph:
        for handle in ("no.such.account", personal.username, private.username):
            with pytest.raises(NotFound, match="2207013") as missing:
                graph.business_discovery(handle)
            assert missing.value.status == 400
        assert social.resolve(personal.username, now)[0] is personal


# -- errors, budgets, secrets ---------------------------------------------------------------


def test_tokens_refused_expired_and_never_shown(server: SandboxServer, clock: SteppedClock) -> None:
    with GraphClient(
        f"{server.base_url}/graph/v21.0",
        access_token="not-a-token-0123",
        ig_user_id=sandbox_ig_user_id(1),
        now=clock.time,
    ) as graph:
        with pytest.raises(LoginRequired, match="code 190") as refused:
            graph.hashtag_search("paris")
        assert "not-a-token-0123" not in str(refused.value) + repr(graph)
    state = graph_sandbox(server)
    state.register_token(
        "short-lived-token", ig_user_id="17841400000000042", expires_at=clock.time() + 60
    )
    with GraphClient(
        f"{server.base_url}/graph/v21.0",
        access_token="short-lived-token",
        ig_user_id="17841400000000042",
        app_secret="app-secret",
        now=clock.time,
    ) as graph:
        answer = graph.hashtag_search("paris")
        assert "access_token" not in answer.params and "appsecret_proof" not in answer.params
        assert "short-lived-token" not in answer.url + repr(answer.params)
        clock.advance(61)
        with pytest.raises(LoginRequired, match="190/463"):
            graph.hashtag_search("paris")
    logged = " ".join(record.path for record in server.request_log())
    assert "token" not in logged.replace("graph-token", "") and "appsecret_proof" not in logged
    dead = GraphClient(
        "http://127.0.0.1:9/graph/v21.0", access_token="secret-token-xyz", ig_user_id="1"
    )
    with dead, pytest.raises(TransportError) as failed:
        dead.hashtag_search("paris")
    assert "secret-token-xyz" not in str(failed.value) and failed.value.__cause__ is None


@pytest.mark.parametrize(
    ("fault", "code"), [("user_limit", 17), ("page_limit", 32), ("api_limit", 613)]
)
def test_rate_limit_codes_hold_the_client_off(
    server: SandboxServer, clock: SteppedClock, fault: str, code: int
) -> None:
    graph_sandbox(server).script_errors([fault])
    with client(server, clock, usage_wait_s=600) as graph:
        with pytest.raises(GraphRateLimited) as limited:
            graph.hashtag_search("paris")
        assert (limited.value.code, limited.value.status) == (code, 400)
        assert limited.value.retry_after_s == 600
        sent = graph_requests(server)
        with pytest.raises(GraphRateLimited, match="not sending"):
            graph.hashtag_search("paris")
        assert graph_requests(server) == sent
        clock.advance(600)
        graph.hashtag_search("paris")


def test_business_use_case_limit_and_service_errors(
    server: SandboxServer, clock: SteppedClock
) -> None:
    graph_sandbox(server).script_errors(["buc_limit", "service"])
    with client(server, clock) as graph:
        with pytest.raises(GraphRateLimited) as limited:
            graph.hashtag_search("paris")
        assert limited.value.code == 80002 and limited.value.retry_after_s == 12 * 60
        assert graph.usage is not None and graph.usage.exhausted
        clock.advance(12 * 60)
        with pytest.raises(TransportError, match="temporary failure"):
            graph.hashtag_search("paris")


def test_app_budget_usage_header_and_the_4_error(
    server: SandboxServer, clock: SteppedClock
) -> None:
    graph_sandbox(server, GraphLimits(app_calls_per_hour=3))
    with client(server, clock) as first:
        percents = [first.hashtag_search(tag).usage.app["call_count"] for tag in ("a1", "a2", "a3")]
        assert percents == [34, 67, 100]
        assert first.usage is not None and first.usage.exhausted
        sent = graph_requests(server)
        with pytest.raises(GraphRateLimited, match="not sending") as held:
            first.hashtag_search("a1")
        assert graph_requests(server) == sent and held.value.retry_after_s == 3600
    second = client(server, clock, n=2)  # another token of the same app
    with second, pytest.raises(GraphRateLimited, match=r"\(#4\) Application request") as limited:
        second.hashtag_search("b1")
    assert (limited.value.code, limited.value.status) == (4, 400)
    assert limited.value.usage["app"]["call_count"] >= 100
    clock.advance(HOUR)
    with client(server, clock, n=2) as second:
        assert second.hashtag_search("b1").usage.app["call_count"] == 34


ERRORS: dict[str, Any] = orjson.loads((GRAPH / "errors-composed.json").read_bytes())


@pytest.mark.parametrize(
    ("name", "endpoint", "kind"),
    [
        ("app-limit", "graph/top_media", GraphRateLimited),
        ("user-limit", "graph/top_media", GraphRateLimited),
        ("page-limit", "graph/business_discovery", GraphRateLimited),
        ("rate-613", "graph/recent_media", GraphRateLimited),
        ("buc-limit", "graph/top_media", GraphRateLimited),
        ("token-expired", "graph/top_media", LoginRequired),
        ("token-invalid", "graph/ig_hashtag_search", LoginRequired),
        ("hashtag-limit", "graph/ig_hashtag_search", HashtagQuotaExceeded),
        ("user-not-found", "graph/business_discovery", NotFound),
        ("object-missing", "graph/top_media", NotFound),
        ("permission", "graph/business_discovery", PlatformError),
        ("service", "graph/top_media", TransportError),
    ],
)
def test_each_error_body_maps_to_its_error(name: str, endpoint: str, kind: type) -> None:
    case = ERRORS[name]
    body = orjson.dumps(case["body"])
    error = classify(
        case["status"], body, case["headers"], "https://graph.example/x", endpoint=endpoint
    )
    assert type(error) is kind
    assert error is not None and error.status == case["status"]
    assert case["body"]["error"]["message"][:30] in str(error)
    if isinstance(error, GraphRateLimited):
        assert error.code == case["body"]["error"]["code"]
    if name == "buc-limit":
        assert isinstance(error, GraphRateLimited) and error.retry_after_s == 720
    if name == "hashtag-limit":
        assert isinstance(error, HashtagQuotaExceeded) and error.server_side


def test_recorded_code_100_is_no_not_found_when_it_is_about_permissions() -> None:
    body = (GRAPH / "error.json").read_bytes()
    for endpoint in ("graph/business_discovery", "graph/top_media"):
        error = classify(400, body, {}, "u", endpoint=endpoint)
        assert type(error) is PlatformError and "Pages Public Content Access" in str(error)
    plain = orjson.dumps({"error": {"message": "(#100) Invalid parameter", "code": 100}})
    assert type(classify(400, plain, {}, "u", endpoint="graph/business_discovery")) is NotFound
    assert type(classify(400, plain, {}, "u", endpoint="graph/top_media")) is PlatformError
    assert classify(200, b"{}", {}, "u") is None
    assert type(classify(502, b"<html>bad gateway</html>", {}, "u")) is TransportError


def test_usage_regain_estimate_is_in_minutes() -> None:
    usage = GraphUsage.from_headers(
        {
            "X-Business-Use-Case-Usage": orjson.dumps(
                {"1": [{"call_count": 100, "estimated_time_to_regain_access": 5}]}
            ).decode()
        }
    )
    assert usage.exhausted and usage.regain_after_s == 300


def test_bad_input_is_refused_before_sending(server: SandboxServer, clock: SteppedClock) -> None:
    with client(server, clock) as graph:
        for call in (
            lambda: graph.top_media("two words"),
            lambda: graph.top_media("paris", limit=51),
            lambda: graph.top_media("paris", after="a,b{c}"),
            lambda: graph.business_discovery("bad handle!"),
            lambda: graph.business_discovery("nike", media_limit=99),
        ):
            with pytest.raises(InputError):
                call()
    assert graph_requests(server) == 0
