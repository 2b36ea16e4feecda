"""TikTokClient over real loopback HTTP: a threading http.server serving the fixture bodies and
TikTok's failure modes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tagpulse.errors import (
    CheckpointRequired,
    InputError,
    LoginRequired,
    NotFound,
    PlatformError,
    RateLimited,
    TransportError,
)
from tagpulse.platforms.tiktok.client import WEB_PARAMS, TikTokClient, classify
from tagpulse.platforms.tiktok.exceptions import VerifyRequired
from tagpulse.platforms.tiktok.parse import parse_payload
from tests.platforms.tiktok.conftest import NOW, fixture_bytes

Route = tuple[int, dict[str, str], bytes] | str


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeTikTok:
    """Routes: path -> (status, headers, body), or "reset" to drop the connection unanswered."""

    base_url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    state = FakeTikTok()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            state.seen.append(
                Seen(parts.path, query, {k.lower(): v for k, v in self.headers.items()})
            )
            route = state.routes.get(parts.path)
            if route == "reset":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            status, headers, body = route if isinstance(route, tuple) else (404, {}, b"")
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits up to one interval, once per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client(fake: FakeTikTok) -> Iterator[TikTokClient]:
    with TikTokClient(fake.base_url + "/", timeout=5.0, cookies={"msToken": "t0k"}) as tiktok:
        yield tiktok


def _ok(name: str) -> Route:
    return (200, {}, fixture_bytes(name))


def test_each_endpoint_sends_the_web_request_and_returns_the_answer(
    fake: FakeTikTok, client: TikTokClient
) -> None:
    fake.routes = {
        "/api/challenge/detail/": _ok("challenge-detail-composed.json"),
        "/api/challenge/item_list/": _ok("challenge-item-list-composed.json"),
        "/api/user/detail/": _ok("user-detail-composed.json"),
        "/api/post/item_list/": _ok("post-item-list-composed.json"),
    }
    detail = client.challenge_detail("#harbourlights")
    assert isinstance(detail, httpx.Response) and detail.status_code == 200
    assert detail.content == fixture_bytes("challenge-detail-composed.json")
    [snap] = parse_payload(detail.content, collected_at=NOW).snapshots
    challenge_id = snap.extra["challenge_id"]
    items = client.challenge_items(challenge_id, cursor=30, count=30)
    assert len(parse_payload(items.content, collected_at=NOW).posts) == 3
    user = client.user_detail("@example.baker")
    [profile] = parse_payload(user.content, collected_at=NOW).profiles
    posts = client.user_items(profile.extra["sec_uid"], cursor="1715900000000", count=35)
    assert len(parse_payload(posts.content, collected_at=NOW).posts) == 2

    assert [s.path for s in fake.seen] == [
        "/api/challenge/detail/",
        "/api/challenge/item_list/",
        "/api/user/detail/",
        "/api/post/item_list/",
    ]
    params = [s.params for s in fake.seen]
    assert params[0]["challengeName"] == "harbourlights"
    assert (params[1]["challengeID"], params[1]["cursor"], params[1]["count"]) == (
        "1650000000000001",
        "30",
        "30",
    )
    assert (params[2]["uniqueId"], params[2]["secUid"]) == ("example.baker", "")
    assert params[3]["secUid"] == "MS4wLjABAAAA-composed-example-baker"
    assert params[3]["cursor"] == "1715900000000"
    for seen in fake.seen:
        assert {k: seen.params[k] for k in WEB_PARAMS} == dict(WEB_PARAMS)
        assert seen.headers["user-agent"].startswith("Mozilla/5.0 (X11; Linux x86_64)")
        assert seen.headers["accept"].startswith("application/json")
        assert seen.headers["referer"] == fake.base_url + "/"
        assert "msToken=t0k" in seen.headers["cookie"]


def test_error_codes_in_a_200_are_answers_for_the_parser(
    fake: FakeTikTok, client: TikTokClient
) -> None:
    fake.routes["/api/user/detail/"] = _ok("user-detail-not-found-composed.json")
    answer = client.user_detail("gone.away")
    [profile] = parse_payload(answer.content, collected_at=NOW, hint_handle="gone.away").profiles
    assert profile.state == "not_found"


@pytest.mark.parametrize(
    ("route", "error", "match"),
    [
        ((200, {}, fixture_bytes("captcha-composed.json")), VerifyRequired, "statusCode 10000"),
        ((200, {}, fixture_bytes("verify-page-composed.html")), VerifyRequired, "verify"),
        ((429, {}, b'{"statusCode": 0}'), RateLimited, "429"),
        ((200, {}, b""), RateLimited, "empty body"),
        ((403, {}, b"Access Denied"), LoginRequired, "403: Access Denied"),
        ((401, {}, b"{}"), LoginRequired, "401"),
        ((302, {"location": "/login?redirect_url=x"}, b""), LoginRequired, "redirected"),
        ((302, {"location": "https://verify.example/captcha"}, b""), VerifyRequired, "verify"),
        ((302, {"location": "/elsewhere"}, b""), PlatformError, "unexpected redirect"),
        ((404, {}, b"<html>nope</html>"), NotFound, "404"),
        ((500, {}, b"oops"), TransportError, "HTTP 500: oops"),
        ((503, {}, b""), TransportError, "HTTP 503"),
        ((418, {}, b"teapot"), PlatformError, "HTTP 418: teapot"),
        ("reset", TransportError, "connection failed"),
    ],
)
def test_failures_raise_the_error_they_mean(
    fake: FakeTikTok,
    client: TikTokClient,
    route: Route,
    error: type[PlatformError],
    match: str,
) -> None:
    fake.routes["/api/user/detail/"] = route
    with pytest.raises(error, match=match) as caught:
        client.user_detail("example.baker")
    assert type(caught.value) is error
    assert caught.value.url is not None and caught.value.url.endswith("/api/user/detail/")
    if route != "reset":
        assert caught.value.body == route[2]


def test_verify_required_is_a_checkpoint(fake: FakeTikTok, client: TikTokClient) -> None:
    fake.routes["/api/challenge/detail/"] = _ok("captcha-composed.json")
    with pytest.raises(CheckpointRequired) as caught:
        client.challenge_detail("harbourlights")
    assert isinstance(caught.value, VerifyRequired) and caught.value.status_code == 10000


def test_a_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        TikTokClient(f"http://127.0.0.1:{port}", timeout=2.0) as tiktok,
        pytest.raises(TransportError, match="connection failed"),
    ):
        tiktok.user_detail("example.baker")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.challenge_detail(" # "), "tag"),
        (lambda c: c.challenge_items("abc"), "challenge_id"),
        (lambda c: c.challenge_items("1", count=0), "count"),
        (lambda c: c.challenge_items("1", count=36), "count"),
        (lambda c: c.challenge_items("1", cursor="x"), "cursor"),
        (lambda c: c.user_detail("not a handle"), "handle"),
        (lambda c: c.user_detail("@" + "a" * 25), "handle"),
        (lambda c: c.user_items(" "), "sec_uid"),
        (lambda c: c.user_items("MS4w", cursor=-1), "cursor"),
    ],
)
def test_bad_arguments_are_input_errors_before_any_request(
    fake: FakeTikTok, client: TikTokClient, call: object, field: str
) -> None:
    assert callable(call)
    with pytest.raises(InputError) as caught:
        call(client)
    assert caught.value.field == field
    assert fake.seen == []


def test_classify_passes_usable_answers() -> None:
    url = "http://x/api/user/detail/"
    assert classify(200, fixture_bytes("user-detail-composed.json"), {}, url) is None
    assert classify(200, fixture_bytes("user-page-composed.html"), {}, url) is None
    assert classify(200, b'{"statusCode": 10222}', {}, url) is None  # the parser's to judge
    assert isinstance(classify(200, b'{"status_code": "10000"}', {}, url), VerifyRequired)
