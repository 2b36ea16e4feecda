"""Every route × every role × own/other workspace × session/key scope: nobody reads or changes
what they must not, and everyone can do what their role allows."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tagpulse.service.deps import Permission, allowed
from tests.service.conftest import Api

# (method, path under /workspaces/{ws}, JSON body, permission). Writes use entries that are
# valid everywhere and are undone right after, so the matrix does not change the data.
ROUTES: list[tuple[str, str, dict[str, object] | None, Permission]] = [
    ("GET", "/watchlist", None, "read"),
    ("GET", "/timelines?interval=6h", None, "read"),
    ("GET", "/snapshots?limit=5", None, "read"),
    ("GET", "/posts?limit=5", None, "read"),
    ("GET", "/insights/timeline", None, "read"),
    ("GET", "/insights/share", None, "read"),
    ("GET", "/insights/spikes", None, "read"),
    ("GET", "/exports/posts?format=jsonl", None, "read"),
    ("POST", "/watchlist", {"entry": "matrixtag", "interval_s": 3600}, "write"),
    ("DELETE", "/watchlist/instagram/matrixtag", None, "write"),
    ("GET", "/campaigns", None, "read"),
    (
        "POST",
        "/campaigns",
        {
            "name": "mx",
            "tags": ["shared"],
            "start": "2026-11-01T00:00:00Z",
            "end": "2026-11-02T00:00:00Z",
        },
        "write",
    ),
    ("GET", "/campaigns/mx/report", None, "read"),
    ("DELETE", "/campaigns/mx", None, "write"),
    ("GET", "/insights/influencers", None, "read"),
    ("GET", "/insights/sentiment", None, "read"),
    ("GET", "/insights/classes", None, "read"),
    ("GET", "/insights/forecast?days=1&interval=30m", None, "read"),
    ("GET", "/members", None, "admin"),
    ("GET", "/feed/feedfan?n=3&explain=true", None, "read"),
    ("GET", "/feed/feedfan?n=3&source=network", None, "read"),
    ("GET", "/feed/feedfan?source=als&weights=als=1", None, "read"),
]
ROLES = ("admin", "analyst", "viewer")


def _call(client: httpx.Client, method: str, url: str, body: object, csrf: str | None) -> int:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.request(method, url, json=body, headers=headers).status_code


def _expect(role: str | None, scope: str | None, permission: Permission, same: bool) -> set[int]:
    if not same:
        return {404}
    if allowed(role, scope, permission):  # type: ignore[arg-type]
        return {200, 201, 204}
    return {403}


@pytest.mark.parametrize("workspace", ["brand", "rival"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("via", ["session", "key:read", "key:write"])
def test_route_matrix(api: Api, workspace: str, role: str, via: str) -> None:
    user = f"{role}-{workspace}"
    scope = None
    if via == "session":
        client, csrf = api.session(user)
    else:
        scope = via.split(":")[1]
        client = api.client()
        client.headers["Authorization"] = "Bearer " + api.keys[f"{user}:{scope}"]
        csrf = None
    failures = []
    try:
        for target, (method, path, body, permission) in itertools.product(
            ("brand", "rival"), ROUTES
        ):
            status = _call(client, method, f"/workspaces/{target}{path}", body, csrf)
            expected = _expect(role, scope, permission, target == workspace)
            if expected == {200, 201, 204} and (method == "DELETE" or path.endswith("/report")):
                expected = {200, 204, 404}  # nothing there if the POST was refused
            if status not in expected:
                failures.append(f"{method} {target}{path}: {status}, expected {expected}")
    finally:
        client.close()
    assert failures == []


def test_unauthenticated_and_forged_callers_get_401(api: Api) -> None:
    with api.client() as client:
        for method, path, body, _ in ROUTES:
            assert _call(client, method, f"/workspaces/brand{path}", body, None) == 401
        client.headers["Authorization"] = "Bearer tp_000000000000_forged"
        assert client.get("/workspaces/brand/watchlist").status_code == 401
        assert client.get("/health").status_code == 200


def test_session_writes_need_the_csrf_token(api: Api) -> None:
    client, csrf = api.session("analyst-brand")
    try:
        body = {"entry": "csrftag"}
        assert client.post("/workspaces/brand/watchlist", json=body).status_code == 403
        wrong = {"X-CSRF-Token": "x" * len(csrf)}
        assert (
            client.post("/workspaces/brand/watchlist", json=body, headers=wrong).status_code == 403
        )
        ok = {"X-CSRF-Token": csrf}
        assert client.post("/workspaces/brand/watchlist", json=body, headers=ok).status_code == 201
        gone = client.delete("/workspaces/brand/watchlist/instagram/csrftag", headers=ok)
        assert gone.status_code == 204
    finally:
        client.close()
