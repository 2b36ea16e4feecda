"""XClient over real loopback HTTP: a threading http.server serving recorded bodies and failures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from tagpulse.errors import (
    ConfigError,
    InputError,
    LoginRequired,
    NotFound,
    PlatformError,
    RateLimited,
    TransportError,
)
from tagpulse.platforms.x.client import RateBudget, XClient, classify
from tagpulse.platforms.x.exceptions import XRateLimited
from tagpulse.platforms.x.parse import parse_response
from tests.platforms.x.conftest import twarc2_lines

TOKEN = "AAAA-test-bearer-token-0123456789"
RESET = 1_632_328_989  # epoch seconds, as X sends x-rate-limit-reset


def _body(name: str) -> bytes:
    """A recorded answer as the API sent it: the twarc2 line without twarc's ``__twarc``."""
    doc = orjson.loads(twarc2_lines(name)[0])
    del doc["__twarc"]
    return orjson.dumps(doc)


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeX:
    """Routes: path -> (status, headers, body), or "reset" to drop the connection unanswered."""

    base_url: str = ""
    routes: dict[str, tuple[int, dict[str, str], bytes] | str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    state = FakeX()

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
            status, headers, body = route if isinstance(route, tuple) else (404, {}, b"{}")
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
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _budget_headers(remaining: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": "450",
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(RESET),
    }


def test_recent_search_sends_token_and_fields(fake_x: FakeX) -> None:
    body = _body("brexit.jsonl")
    fake_x.routes["/2/tweets/search/recent"] = (200, _budget_headers(449), body)
    with XClient(fake_x.base_url, bearer_token=TOKEN) as client:
        assert client.remaining("tweets/search/recent") is None
        answer = client.recent_search("#brexit", next_token="abc")
        assert client.remaining("tweets/search/recent") == 449
        assert client.budget("tweets/search/recent") == RateBudget(
            limit=450, remaining=449, reset_at=datetime.fromtimestamp(RESET, tz=UTC)
        )
    assert answer.body == body
    assert answer.status == 200 and answer.endpoint == "tweets/search/recent"
    assert answer.rate_limit.remaining == 449
    (request,) = fake_x.seen
    assert request.path == "/2/tweets/search/recent"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    params = request.params
    assert params["query"] == "#brexit"
    assert params["max_results"] == "100"
    assert params["next_token"] == "abc"
    tweet_fields = set(params["tweet.fields"].split(","))
    assert {"public_metrics", "entities", "created_at", "lang", "referenced_tweets"} <= tweet_fields
    assert "author_id" in tweet_fields
    expansions = set(params["expansions"].split(","))
    assert {"author_id", "referenced_tweets.id", "attachments.media_keys", "geo.place_id"} <= (
        expansions
    )
    assert {"public_metrics", "verified", "description"} <= set(params["user.fields"].split(","))
    # What the collector archives carries no secret.
    assert answer.params == params
    assert TOKEN not in answer.url and TOKEN not in orjson.dumps(answer.params).decode()
    records = parse_response(answer.body, collected_at=datetime.now(UTC), query="#brexit")
    assert sum(p.seen_via == "search:#brexit" for p in records.posts) == 100


def test_recent_counts_params(fake_x: FakeX) -> None:
    fake_x.routes["/2/tweets/counts/recent"] = (200, _budget_headers(299), _body("counts.jsonl"))
    with XClient(fake_x.base_url, bearer_token=TOKEN) as client:
        answer = client.recent_counts(
            "dogs", start_time=datetime(2021, 10, 16, 20, 21, 34, tzinfo=UTC).astimezone()
        )
        client.recent_counts("#cats", granularity="day")
    first, second = fake_x.seen
    assert first.params == {
        "query": "dogs",
        "granularity": "hour",
        "start_time": "2021-10-16T20:21:34Z",
    }
    assert second.params == {"query": "#cats", "granularity": "day"}
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    records = parse_response(answer.body, collected_at=datetime.now(UTC), query="dogs")
    assert len(records.tag_counts) == 169


def test_users_by(fake_x: FakeX) -> None:
    fake_x.routes["/2/users/by"] = (200, _budget_headers(899), _body("users.jsonl"))
    with XClient(fake_x.base_url + "/", bearer_token=TOKEN) as client:
        answer = client.users_by(["@DoDirty78", "Jamie_iovine"])
    (request,) = fake_x.seen
    assert request.params["usernames"] == "DoDirty78,Jamie_iovine"
    assert {"public_metrics", "verified", "description"} <= set(
        request.params["user.fields"].split(",")
    )
    assert answer.url == f"{fake_x.base_url}/2/users/by"
    assert len(parse_response(answer.body, collected_at=datetime.now(UTC)).profiles) == 96


def test_429_is_rate_limited_with_the_reset_time(fake_x: FakeX) -> None:
    body = orjson.dumps(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    )
    fake_x.routes["/2/tweets/search/recent"] = (429, _budget_headers(0), body)
    with XClient(fake_x.base_url, bearer_token=TOKEN) as client:
        with pytest.raises(RateLimited) as caught:
            client.recent_search("#brexit")
        assert client.remaining("tweets/search/recent") == 0
    error = caught.value
    assert isinstance(error, XRateLimited)
    assert error.reset_at == datetime.fromtimestamp(RESET, tz=UTC)
    assert (error.limit, error.remaining, error.status) == (450, 0, 429)
    assert error.body == body
    assert "2021-09-22T16:43:09Z" in str(error)
    assert TOKEN not in str(error)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, LoginRequired),
        (403, LoginRequired),
        (404, NotFound),
        (500, TransportError),
        (503, TransportError),
    ],
)
def test_status_classes(fake_x: FakeX, status: int, expected: type[PlatformError]) -> None:
    body = orjson.dumps({"title": "Problem", "detail": f"detail {status}", "status": status})
    fake_x.routes["/2/users/by"] = (status, {}, body)
    with XClient(fake_x.base_url, bearer_token=TOKEN) as client, pytest.raises(expected) as caught:
        client.users_by(["jack"])
    assert caught.value.status == status
    assert f"detail {status}" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_400_is_a_plain_platform_error(fake_x: FakeX) -> None:
    body = orjson.dumps(
        {
            "errors": [{"parameters": {"query": ["#"]}, "message": "Invalid query"}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
        }
    )
    fake_x.routes["/2/tweets/counts/recent"] = (400, {}, body)
    with (
        XClient(fake_x.base_url, bearer_token=TOKEN) as client,
        pytest.raises(PlatformError) as caught,
    ):
        client.recent_counts("#")
    assert type(caught.value) is PlatformError
    assert "Invalid Request" in str(caught.value) and "Invalid query" in str(caught.value)


def test_connection_reset_and_refused_are_transport_errors(fake_x: FakeX) -> None:
    fake_x.routes["/2/tweets/search/recent"] = "reset"
    with XClient(fake_x.base_url, bearer_token=TOKEN) as client, pytest.raises(TransportError):
        client.recent_search("#brexit")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    refused = XClient(f"http://127.0.0.1:{closed_port}", bearer_token=TOKEN)
    with refused, pytest.raises(TransportError, match="connection failed"):
        refused.recent_search("#brexit")


def test_bad_arguments_are_refused_before_any_request(fake_x: FakeX) -> None:
    with pytest.raises(ConfigError):
        XClient(fake_x.base_url, bearer_token="  ")
    with XClient(fake_x.base_url, bearer_token=TOKEN) as client:
        assert TOKEN not in repr(client)
        with pytest.raises(InputError):
            client.recent_search("#brexit", max_results=5)
        with pytest.raises(InputError):
            client.users_by(["not a handle"])
        with pytest.raises(InputError):
            client.users_by([])
        with pytest.raises(InputError):
            client.recent_counts("dogs", start_time=datetime(2021, 10, 16))
    assert fake_x.seen == []


def test_classify_directly() -> None:
    assert classify(200, b"{}", {}, "u") is None
    limited = classify(429, b"not json", {"X-Rate-Limit-Reset": "0"}, "u")
    assert isinstance(limited, XRateLimited) and limited.reset_at == datetime(
        1970, 1, 1, tzinfo=UTC
    )
    assert isinstance(classify(429, b"", {}, "u"), XRateLimited)
    assert isinstance(classify(502, b"<html>bad gateway</html>", {}, "u"), TransportError)
