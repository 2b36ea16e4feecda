"""The sandbox server over real loopback HTTP: shapes, auth, budgets, bans, faults, truth."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest

from tagpulse.errors import ConfigError
from tagpulse.platforms.sandbox.clock import AcceleratedClock, utc_from_epoch
from tagpulse.platforms.sandbox.payloads import APP_ID
from tagpulse.platforms.sandbox.server import (
    FaultConfig,
    Limits,
    SandboxServer,
    serve_forever,
)
from tagpulse.platforms.sandbox.world import HOUR, AccountSpec, World, default_accounts

WEB_INFO = "/api/v1/tags/web_info/"


class ManualClock:
    """Simulated time that moves only when a test says so."""

    speed = 1.0

    def __init__(self, t: float) -> None:
        self.t = t

    def time(self) -> float:
        return self.t

    def now(self) -> datetime:
        return utc_from_epoch(self.t)

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self.t += max(0.0, seconds)
        return bool(stop and stop.is_set())

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def world() -> World:
    return World(seed=7)


@pytest.fixture
def clock(world: World) -> ManualClock:
    return ManualClock(world.start + 30 * HOUR + 17.25)


@pytest.fixture
def server(world: World, clock: ManualClock) -> Iterator[SandboxServer]:
    with SandboxServer(world, clock) as srv:
        yield srv


def client(
    server: SandboxServer,
    session: str | None = "sess-acct01",
    *,
    app_id: bool = True,
    local_address: str | None = None,
) -> httpx.Client:
    headers = {"X-IG-App-ID": APP_ID} if app_id else {}
    cookies = {"sessionid": session} if session else {}
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    return httpx.Client(
        base_url=server.base_url,
        headers=headers,
        cookies=cookies,
        transport=transport,
        timeout=5.0,
    )


def web_info(http: httpx.Client, tag: str = "paris") -> httpx.Response:
    return http.get(WEB_INFO, params={"tag_name": tag})


def test_base_url_and_login_page(server: SandboxServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.port > 0
    response = httpx.get(f"{server.base_url}/accounts/login/")
    assert response.status_code == 200
    assert "loginForm" in response.text


def test_web_info_shape(server: SandboxServer, world: World) -> None:
    with client(server) as http:
        response = web_info(http)
    assert response.status_code == 200
    body = orjson.loads(response.content)
    assert body["status"] == "ok"
    data = body["data"]
    assert data["name"] == "paris"
    assert data["id"].isdigit()
    at = float(response.headers["X-Sandbox-Time"])
    assert data["media_count"] == world.true_count("paris", at)
    for part in ("top", "recent"):
        sections = data[part]["sections"]
        assert sections and all(s["layout_type"] == "media_grid" for s in sections)
    top = [m["media"] for s in data["top"]["sections"] for m in s["layout_content"]["medias"]]
    assert len(top) == 9
    assert top == world.top_posts("paris", at)
    recent = [m["media"] for s in data["recent"]["sections"] for m in s["layout_content"]["medias"]]
    assert recent
    for media in top + recent:
        assert {"pk", "id", "code", "taken_at", "media_type", "like_count", "comment_count"} <= set(
            media
        )
        assert "#paris" in media["caption"]["text"]
        assert media["user"]["username"]
        assert media["image_versions2"]["candidates"][0]["url"]
        assert media["taken_at"] < at


def test_legacy_graphql_shape(server: SandboxServer, world: World) -> None:
    with client(server) as http:
        response = http.get("/explore/tags/nike/", params={"__a": "1"})
    assert response.status_code == 200
    hashtag = orjson.loads(response.content)["graphql"]["hashtag"]
    assert hashtag["name"] == "nike" and hashtag["id"].isdigit()
    media = hashtag["edge_hashtag_to_media"]
    at = float(response.headers["X-Sandbox-Time"])
    assert media["count"] == world.true_count("nike", at)
    assert {"has_next_page", "end_cursor"} <= set(media["page_info"])
    top = hashtag["edge_hashtag_to_top_posts"]["edges"]
    assert len(top) == 9
    for edge in media["edges"] + top:
        node = edge["node"]
        assert node["__typename"] in ("GraphImage", "GraphVideo", "GraphSidecar")
        assert node["id"].isdigit() and len(node["shortcode"]) == 11
        assert node["taken_at_timestamp"] < at
        assert node["edge_liked_by"]["count"] == node["edge_media_preview_like"]["count"] >= 0
        assert node["edge_media_to_comment"]["count"] >= 0
        assert "#nike" in node["edge_media_to_caption"]["edges"][0]["node"]["text"]
        assert node["owner"]["id"].isdigit()
        assert node["display_url"].startswith("https://")
        assert node["is_video"] == (node["__typename"] == "GraphVideo")
    # Without ?__a=1 the page is HTML and costs nothing.
    with client(server) as http:
        page = http.get("/explore/tags/nike/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_count_hidden_tag(server: SandboxServer) -> None:
    with client(server) as http:
        info = orjson.loads(web_info(http, "newyears").content)
        legacy = orjson.loads(http.get("/explore/tags/newyears/?__a=1").content)
    assert "media_count" not in info["data"]
    assert info["data"]["top"]["sections"]
    assert "count" not in legacy["graphql"]["hashtag"]["edge_hashtag_to_media"]
    log = server.request_log()
    assert all(record.outcome == "ok" for record in log)


def test_missing_app_id_is_400(server: SandboxServer) -> None:
    with client(server, app_id=False) as http:
        response = web_info(http)
    assert response.status_code == 400
    assert orjson.loads(response.content) == {"message": "useragent mismatch", "status": "fail"}


@pytest.mark.parametrize("session", ["sess-nobody", None])
def test_unknown_session_redirects_to_login(server: SandboxServer, session: str | None) -> None:
    with client(server, session) as http:
        response = web_info(http)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=")
    assert "web_info" in response.headers["Location"]


def test_unknown_tag_is_404(server: SandboxServer) -> None:
    with client(server) as http:
        response = web_info(http, "nosuchtag")
        legacy = http.get("/explore/tags/nosuchtag/?__a=1")
    assert response.status_code == 404 == legacy.status_code
    assert orjson.loads(response.content) == {"message": "Page not found", "status": "fail"}
    assert server.stats()["accounts"]["acct01"]["not_found"] == 2


def test_budget_exhaustion_then_violations_then_ban(
    server: SandboxServer, clock: ManualClock
) -> None:
    with client(server) as http:
        statuses = [web_info(http).status_code for _ in range(10)]
        assert statuses == [200] * 10
        throttled = web_info(http)
        assert throttled.status_code == 429
        assert orjson.loads(throttled.content) == {
            "message": "Please wait a few minutes before you try again.",
            "status": "fail",
        }
        clock.advance(60)  # still inside the 600 s cooldown
        violations = [web_info(http).status_code for _ in range(3)]
        assert violations == [429, 429, 429]
        clock.advance(3600)
        banned = web_info(http)
        assert banned.status_code == 400
        body = orjson.loads(banned.content)
        assert body["message"] == "checkpoint_required" and body["lock"] is True
        assert body["checkpoint_url"].startswith("/challenge/")
        # Other accounts are unaffected.
    with client(server, "sess-acct02") as other:
        assert web_info(other).status_code == 200
    stats = server.stats()["accounts"]["acct01"]
    assert stats["served_ok"] == 10
    assert stats["throttled"] == 1
    assert stats["violations"] == 3
    assert stats["banned"] is True
    assert stats["requests"] == 15
    log = [r for r in server.request_log() if r.account == "acct01"]
    assert [r.cooling for r in log] == [False] * 11 + [True] * 3 + [False]
    assert [r.outcome for r in log[10:]] == ["throttled"] + ["violation"] * 3 + ["banned"]


def test_waiting_out_the_cooldown_is_not_a_violation(
    server: SandboxServer, clock: ManualClock
) -> None:
    with client(server) as http:
        for _ in range(10):
            web_info(http)
        assert web_info(http).status_code == 429
        clock.advance(601)
        assert web_info(http).status_code == 200
    stats = server.stats()["accounts"]["acct01"]
    assert stats["violations"] == 0 and not stats["banned"]


def test_tokens_refill_in_simulated_time(server: SandboxServer, clock: ManualClock) -> None:
    with client(server) as http:
        for _ in range(10):
            assert web_info(http).status_code == 200
        clock.advance(2 * 18.0 + 0.01)  # 200/hour: one token every 18 s
        assert [web_info(http).status_code for _ in range(2)] == [200, 200]
        assert web_info(http).status_code == 429


def test_ip_budget(world: World, clock: ManualClock) -> None:
    accounts = [AccountSpec(f"big{i}", f"sess-big{i}", capacity=100) for i in range(3)]
    world = World(seed=7, accounts=accounts)
    limits = Limits(ip_capacity=5, ip_refill_per_hour=0)
    with SandboxServer(world, clock, limits=limits) as srv:
        with client(srv, "sess-big0") as http:
            assert [web_info(http).status_code for _ in range(6)] == [200] * 5 + [429]
        with client(srv, "sess-big1") as http:
            assert web_info(http).status_code == 429  # same IP, other account
        with client(srv, "sess-big2", local_address="127.0.0.2") as http:
            assert [web_info(http).status_code for _ in range(5)] == [200] * 5
        stats = srv.stats()
    assert stats["ips"]["127.0.0.1"]["served_ok"] == 5
    assert stats["ips"]["127.0.0.1"]["throttled"] == 2
    assert stats["ips"]["127.0.0.2"]["served_ok"] == 5
    assert stats["accounts"]["big1"]["throttled"] == 1
    assert stats["totals"]["ip_allowed_budget_so_far"] == 10


@pytest.mark.parametrize(
    ("kind", "status", "check"),
    [
        ("429", 429, lambda b: b["message"].startswith("Please wait")),
        ("401", 401, lambda b: b["require_login"] is True and b["status"] == "fail"),
        ("checkpoint", 400, lambda b: b["message"] == "checkpoint_required"),
    ],
)
def test_scripted_json_faults(server: SandboxServer, kind: str, status: int, check: Any) -> None:
    server.script_faults("acct01", [kind])
    with client(server) as http:
        response = web_info(http)
        assert response.status_code == status
        assert check(orjson.loads(response.content))
        assert web_info(http).status_code == 200  # the script is used up


def test_scripted_login_redirect(server: SandboxServer) -> None:
    server.script_faults("acct01", ["login_redirect"])
    with client(server) as http:
        response = web_info(http)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_scripted_connection_reset(server: SandboxServer) -> None:
    server.script_faults("acct01", ["reset"])
    with client(server) as http:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            web_info(http)
        assert web_info(http).status_code == 200  # a new connection works


def test_scripted_truncated_and_malformed_json(server: SandboxServer) -> None:
    server.script_faults("acct01", ["truncated", "malformed"])
    with client(server) as http:
        truncated = web_info(http)
        malformed = web_info(http)
    assert truncated.status_code == 200 == malformed.status_code
    assert truncated.content.startswith(b'{"data":')
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(truncated.content)
    assert malformed.content == b"{error}"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(malformed.content)


def test_faults_cost_no_budget_and_are_no_violations(
    server: SandboxServer, clock: ManualClock
) -> None:
    kinds = ["429", "401", "login", "checkpoint", "reset", "truncated", "malformed"]
    server.script_faults("acct01", kinds * 2)
    with client(server) as http:
        for _ in range(len(kinds) * 2):
            with contextlib.suppress(httpx.TransportError):
                web_info(http)
        assert [web_info(http).status_code for _ in range(11)] == [200] * 10 + [429]
        # While cooling, a scripted fault still wins and is not a violation.
        server.script_faults("acct01", ["malformed"])
        assert web_info(http).content == b"{error}"
    stats = server.stats()["accounts"]["acct01"]
    assert stats["faults"] == 15
    assert stats["served_ok"] == 10
    assert stats["violations"] == 0
    log = server.request_log()
    assert [r.status for r in log if r.outcome == "fault:reset"] == [0, 0]
    assert log[-1].cooling is True and log[-1].outcome == "fault:malformed"


def test_script_faults_validation(server: SandboxServer) -> None:
    with pytest.raises(ConfigError):
        server.script_faults("acct01", ["explode"])
    with pytest.raises(KeyError):
        server.script_faults("nobody", ["429"])


def test_fault_config_validation() -> None:
    with pytest.raises(ConfigError):
        FaultConfig(rate_limit_429=0.7, connection_reset=0.5)
    with pytest.raises(ConfigError):
        FaultConfig(malformed_json=-0.1)


def _statuses_with_faults(world: World, clock: ManualClock, faults: FaultConfig) -> list[int]:
    statuses = []
    with SandboxServer(world, clock, faults=faults) as srv, client(srv) as http:
        for _ in range(40):
            try:
                statuses.append(web_info(http).status_code)
            except httpx.TransportError:
                statuses.append(0)
    return statuses


def test_random_faults_are_seeded(clock: ManualClock) -> None:
    world = World(seed=7, accounts=[AccountSpec("acct01", "sess-acct01", capacity=1000)])
    faults = FaultConfig(rate_limit_429=0.3, connection_reset=0.2, malformed_json=0.1, seed=5)
    first = _statuses_with_faults(world, clock, faults)
    second = _statuses_with_faults(world, clock, faults)
    assert first == second
    assert {0, 200, 429} <= set(first)
    assert first.count(200) >= 8


def test_truth_endpoint_and_sandbox_time_header(
    server: SandboxServer, world: World, clock: ManualClock
) -> None:
    with client(server) as http:
        response = web_info(http, "adidas")
        at = float(response.headers["X-Sandbox-Time"])
        assert at == clock.time()
        count = orjson.loads(response.content)["data"]["media_count"]
        truth = http.get("/__sandbox/truth", params={"tag": "adidas", "at": repr(at)}).json()
        assert truth == {"tag": "adidas", "at": at, "count": count}
        later = at + 5 * HOUR
        truth = http.get("/__sandbox/truth", params={"tag": "adidas", "at": repr(later)}).json()
        assert truth["count"] == world.true_count("adidas", later) > count
        assert http.get("/__sandbox/truth", params={"tag": "nosuch", "at": "0"}).status_code == 404
    record = server.request_log()[-1]
    assert (record.sim_time, record.tag, record.media_count) == (at, "adidas", count)


def test_counts_grow_with_an_accelerated_clock(world: World) -> None:
    clock = AcceleratedClock.starting_now(world.start + 2 * HOUR, speed=3600.0)
    with SandboxServer(world, clock) as srv, client(srv) as http:
        first = web_info(http)
        time.sleep(0.2)
        second = web_info(http)
        dumped = http.get("/__sandbox/clock").json()
    t1, t2 = (float(r.headers["X-Sandbox-Time"]) for r in (first, second))
    assert t2 - t1 > 500  # 0.2 s of wall time is ~12 minutes here
    c1, c2 = (orjson.loads(r.content)["data"]["media_count"] for r in (first, second))
    assert c1 == world.true_count("paris", t1) < c2 == world.true_count("paris", t2)
    assert AcceleratedClock.from_dict(dumped) == clock


def test_clock_endpoint_for_a_plain_clock(server: SandboxServer) -> None:
    assert httpx.get(f"{server.base_url}/__sandbox/clock").json() == {"speed": 1.0}


def test_stats(server: SandboxServer, clock: ManualClock) -> None:
    with client(server) as http:
        for _ in range(3):
            web_info(http)
        clock.advance(HOUR)
        stats = http.get("/__sandbox/stats").json()
    acct = stats["accounts"]["acct01"]
    for key in ("requests", "served_ok", "throttled", "violations", "banned"):
        assert key in acct
    assert acct["requests"] == acct["served_ok"] == 3
    assert acct["allowed_budget_so_far"] == pytest.approx(10 + 200)
    assert stats["totals"]["requests"] == 3
    assert stats["totals"]["allowed_budget_so_far"] == pytest.approx(3 * 210)
    assert stats["totals"]["banned"] == 0
    assert stats["elapsed_s"] == pytest.approx(HOUR)
    assert stats == server.stats()


def test_concurrent_clients(world: World, clock: ManualClock) -> None:
    accounts = [AccountSpec(f"c{i}", f"sess-c{i}", capacity=100) for i in range(4)]
    world = World(seed=7, accounts=accounts)
    limits = Limits(ip_capacity=1000)
    results: list[int] = []
    lock = threading.Lock()

    def work(session: str, srv: SandboxServer) -> None:
        with client(srv, session) as http:
            statuses = [web_info(http, "puma").status_code for _ in range(25)]
        with lock:
            results.extend(statuses)

    with SandboxServer(world, clock, limits=limits) as srv:
        threads = [threading.Thread(target=work, args=(a.session_id, srv)) for a in accounts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats = srv.stats()
    assert results == [200] * 100
    assert stats["totals"]["served_ok"] == 100
    assert len(srv.request_log()) == 100


def test_serve_forever_returns_when_stopped(world: World, clock: ManualClock) -> None:
    stop = threading.Event()
    urls: list[str] = []

    def ready(srv: SandboxServer) -> None:
        urls.append(srv.base_url)

    thread = threading.Thread(
        target=serve_forever, args=(world, clock), kwargs={"on_ready": ready, "stop": stop}
    )
    thread.start()
    deadline = time.monotonic() + 5
    while not urls and time.monotonic() < deadline:
        time.sleep(0.01)
    response = httpx.get(
        f"{urls[0]}{WEB_INFO}",
        params={"tag_name": "slowtag"},
        headers={"X-IG-App-ID": APP_ID, "Cookie": "sessionid=sess-acct03"},
    )
    assert response.status_code == 200
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_stop_frees_the_port(world: World, clock: ManualClock) -> None:
    srv = SandboxServer(world, clock).start()
    http = client(srv)
    assert web_info(http).status_code == 200  # leaves a keep-alive connection open
    srv.stop()
    with pytest.raises(httpx.TransportError):
        web_info(http)
    http.close()
    assert default_accounts(1)[0].alias == "acct01"
