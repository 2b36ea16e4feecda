"""The API's answers: data a workspace may see, pagination, caching, exports, limits, errors."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from tagpulse.config import load_settings
from tagpulse.errors import ConfigError
from tagpulse.service.app import ServiceOptions, create_app
from tests.service.conftest import Api, add_picture_and_label, build_lake, start_api


def _key(api: Api, name: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + api.keys[name]}


def test_timelines_show_watched_tags_with_etag(api: Api) -> None:
    with api.client() as client:
        client.headers.update(_key(api, "viewer-brand:read"))
        answer = client.get("/workspaces/brand/timelines", params={"interval": "6h"})
        assert answer.status_code == 200
        series = answer.json()["series"]
        # puma belongs to the other workspace; "shared" is watched but has no counts yet.
        assert sorted(series) == ["adidas", "nike", "shared"] and series["shared"] == []
        # Max count per 6 h bucket: nike grows 300 an hour from 10,000 (hours 0-5 → 11,500).
        assert series["nike"][0] == ["2026-11-01T00:00:00+00:00", 11_500]
        assert len(series["nike"]) == 8
        etag = answer.headers["etag"]
        again = client.get(
            "/workspaces/brand/timelines", params={"interval": "6h"},
            headers={"If-None-Match": etag},
        )  # fmt: skip
        assert again.status_code == 304 and again.content == b""
        other = client.get("/workspaces/brand/timelines", params={"tag": "puma"})
        assert other.status_code == 404
        assert other.json()["error"]["code"] == "not_found"


def test_snapshot_pages_cover_everything_once(api: Api) -> None:
    with api.client() as client:
        client.headers.update(_key(api, "viewer-brand:read"))
        seen, cursor, pages = [], None, 0
        while True:
            params: dict[str, object] = {"limit": 7, "tag": "nike"}
            if cursor:
                params["cursor"] = cursor
            doc = client.get("/workspaces/brand/snapshots", params=params).json()
            seen += [s["snapshot_id"] for s in doc["items"]]
            pages += 1
            cursor = doc["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 48 == len(set(seen)) and pages == 7
        assert (
            client.get("/workspaces/brand/snapshots", params={"cursor": "not-a-cursor"}).status_code
            == 400
        )


def test_posts_are_only_the_workspaces_and_page_newest_first(api: Api) -> None:
    with api.client() as client:
        client.headers.update(_key(api, "analyst-brand:read"))
        items, cursor = [], None
        while True:
            params: dict[str, object] = {"limit": 4}
            if cursor:
                params["cursor"] = cursor
            doc = client.get("/workspaces/brand/posts", params=params).json()
            items += doc["items"]
            cursor = doc["next_cursor"]
            if not cursor:
                break
        ids = [p["post_id"] for p in items]
        # nike (i % 3 == 0) and adidas (i % 3 == 1) posts, plus @nikefan's puma posts (i % 10 == 0).
        expected = {f"p{i:02d}" for i in range(30) if i % 3 != 2 or i % 10 == 0}
        assert set(ids) == expected and len(ids) == len(expected)
        assert ids == sorted(ids, reverse=True)  # taken_at grows with i
        rival = client.get("/workspaces/rival/posts")
        assert rival.status_code == 404


def test_profile_of_a_watched_account_only(api: Api) -> None:
    with api.client() as client:
        client.headers.update(_key(api, "viewer-brand:read"))
        doc = client.get("/workspaces/brand/profiles/nikefan").json()
        assert doc["profile"]["followers"] == 1020
        assert [f for _, f in doc["followers"]] == [1000, 1010, 1020]
        assert client.get("/workspaces/brand/profiles/user1").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_exports_stream_the_visible_rows(api: Api, fmt: str) -> None:
    with api.client() as client:
        client.headers.update(_key(api, "viewer-rival:read"))
        answer = client.get(f"/workspaces/rival/exports/hashtag_snapshots?format={fmt}")
        assert answer.status_code == 200
        if fmt == "csv":
            lines = answer.text.strip().splitlines()
            assert lines[0].startswith('"snapshot_id"') or lines[0].startswith("snapshot_id")
            assert len(lines) == 49 and all("puma" in line for line in lines[1:])
        elif fmt == "jsonl":
            rows = [orjson.loads(x) for x in answer.content.splitlines()]
            assert {r["tag"] for r in rows} == {"puma"} and len(rows) == 48
        else:
            table = pq.read_table(io.BytesIO(answer.content))
            assert table.num_rows == 48
        assert "attachment" in answer.headers["content-disposition"]


def test_hostile_inputs_get_4xx_and_change_nothing(api: Api) -> None:
    with api.client() as client:
        client.headers.update(_key(api, "admin-brand:write"))
        before = client.get("/workspaces/brand/watchlist").json()
        huge = client.post("/workspaces/brand/watchlist", content=b"{" + b" " * 200_000 + b"}",
                           headers={"Content-Type": "application/json"})  # fmt: skip
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
        for entry in ("nike'; DROP TABLE users; --", "<script>alert(1)</script>", "a\nb", ""):
            answer = client.post("/workspaces/brand/watchlist", json={"entry": entry})
            assert answer.status_code in (400, 422), entry
            assert answer.json()["error"]["message"]
        for path in ("/exports/..%2F..%2Fcatalog.sqlite", "/exports/users", "/exports/posts.csv"):
            assert client.get("/workspaces/brand" + path).status_code == 404, path
        sqlish = client.get("/workspaces/brand/timelines", params={"tag": "x' OR '1'='1"})
        assert sqlish.status_code in (400, 404)
        assert client.post("/workspaces/brand/watchlist", json={"entry": "ok",
                           "interval_s": 1}).status_code == 400  # fmt: skip
        assert client.get("/workspaces/brand/watchlist").json() == before


def test_watchlist_changes_persist_across_a_restart_and_reach_the_collector(
    tmp_path: Path,
) -> None:
    from tagpulse.service.watchlists import WatchlistStore

    store = WatchlistStore(tmp_path / "catalog.sqlite")
    store.create_user("ana", "correct horse battery", workspace="brand", role="analyst")
    key = store.create_key("ana", workspace="brand", scope="write")
    tags_file = tmp_path / "watchlist.txt"
    options = ServiceOptions(secure_cookies=False, watchlist_file=tags_file)
    import httpx

    for base in start_api(tmp_path, options):
        with httpx.Client(base_url=base + "/api/v1", headers={"X-API-Key": key}) as client:
            for entry in ("nike", "tiktok:#nike", "@nikefan"):
                assert client.post("/workspaces/brand/watchlist",
                                   json={"entry": entry}).status_code == 201  # fmt: skip
    assert tags_file.read_text().splitlines() == [
        "instagram:@nikefan",
        "instagram:nike",
        "tiktok:nike",
    ]
    for base in start_api(tmp_path, options):
        with httpx.Client(base_url=base + "/api/v1", headers={"X-API-Key": key}) as client:
            items = client.get("/workspaces/brand/watchlist").json()["items"]
            assert [(i["platform"], i["entry"], i["kind"]) for i in items] == [
                ("instagram", "@nikefan", "account"), ("instagram", "nike", "tag"),
                ("tiktok", "nike", "tag"),
            ]  # fmt: skip


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    import httpx

    build_lake(tmp_path)
    for base in start_api(tmp_path, ServiceOptions(rate_per_minute=60, burst=5)):
        with httpx.Client(base_url=base + "/api/v1") as client:
            codes = [client.get("/health").status_code for _ in range(8)]
            assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
            last = client.get("/health")
            assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
            assert last.json()["error"]["code"] == "rate_limited"


def test_refuses_a_default_secret_outside_demo(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TAGPULSE_SECRET_KEY"):
        create_app(load_settings(home=tmp_path, secret_key="changeme"))
    create_app(load_settings(home=tmp_path, secret_key="a-long-random-test-secret-value-123"))


def test_openapi_documents_every_route(api: Api) -> None:
    with api.client() as client:
        spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for path in ("/api/v1/workspaces/{workspace}/timelines", "/api/v1/auth/login",
                 "/api/v1/workspaces/{workspace}/exports/{table}", "/api/v1/health"):  # fmt: skip
        assert path in paths


def test_metrics_count_requests_without_secrets(api: Api) -> None:
    with api.client() as client:
        client.headers.update(_key(api, "viewer-brand:read"))
        client.get("/workspaces/brand/watchlist")
        text = client.get("/metrics").text
    assert 'route="/workspaces/{workspace}/watchlist",status="200"' in text
    assert all(key.split("_", 2)[2] not in text for key in api.keys.values())


def test_timeline_answers_are_reused_for_the_cache_ttl_only(tmp_path: Path) -> None:
    import httpx

    from tagpulse.lake.tables import LakeWriter
    from tagpulse.records import HashtagSnapshot
    from tagpulse.service.watchlists import WatchlistStore
    from tests.service.conftest import T0

    build_lake(tmp_path)
    store = WatchlistStore(tmp_path / "catalog.sqlite")
    store.create_user("ana", "correct horse battery", workspace="brand", role="viewer")
    key = store.create_key("ana", workspace="brand", scope="read")
    store.add("brand", "nike", interval_s=900, user="t")
    late = T0.replace(day=3)
    for ttl, expected_last in ((60.0, 10_000 + 300 * 47), (0.0, 99_999)):
        for base in start_api(tmp_path, ServiceOptions(cache_ttl_s=ttl)):
            with httpx.Client(base_url=base + "/api/v1", headers={"X-API-Key": key}) as client:
                first = client.get("/workspaces/brand/timelines").json()["series"]["nike"]
                if ttl == 60.0:
                    snap = HashtagSnapshot("instagram", "nike", 99_999, [], [], late, "a", None)
                    LakeWriter(tmp_path / "lake").append_snapshots([snap], [late])
                second = client.get("/workspaces/brand/timelines").json()["series"]["nike"]
                assert second[-1][1] == expected_last
                if ttl == 60.0:
                    assert second == first


def test_post_detail_with_labels_text_and_thumbnail(tmp_path: Path) -> None:
    import httpx

    from tagpulse.service.watchlists import WatchlistStore

    build_lake(tmp_path)
    sha = add_picture_and_label(tmp_path)
    store = WatchlistStore(tmp_path / "catalog.sqlite")
    for ws, tag in (("brand", "nike"), ("rival", "puma")):
        store.create_user(f"u-{ws}", "correct horse battery", workspace=ws, role="viewer")
        store.add(ws, tag, interval_s=900, user="t")
    keys = {
        ws: store.create_key(f"u-{ws}", workspace=ws, scope="read") for ws in ("brand", "rival")
    }
    for base in start_api(tmp_path, ServiceOptions()):
        with httpx.Client(base_url=base + "/api/v1", headers={"X-API-Key": keys["brand"]}) as c:
            answer = c.get("/workspaces/brand/posts/instagram/p00")
            assert answer.status_code == 200, answer.text
            doc = answer.json()
            assert doc["post"]["post_id"] == "p00" and doc["post"]["hashtags"] == ["nike"]
            assert [h["likes"] for h in doc["history"]] == [10]
            assert doc["labels"][0]["top_label"] == "tabby"
            assert doc["media"] == [{"index": 0, "sha256": sha, "mime": "image/jpeg",
                                     "width": 64, "height": 48,
                                     "thumbnail": "media/0/thumbnail"}]  # fmt: skip
            thumb = c.get("/workspaces/brand/posts/instagram/p00/media/0/thumbnail")
            assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
            assert (
                c.get("/workspaces/brand/posts/instagram/p00/media/1/thumbnail").status_code == 404
            )
            classes = c.get("/workspaces/brand/insights/classes").json()["platforms"][0]
            assert [(k["label"], k["posts"]) for k in classes["classes"]] == [("tabby", 1)]
            # p02 carries #puma: the other workspace's.
            assert c.get("/workspaces/brand/posts/instagram/p02").status_code == 404
        with httpx.Client(base_url=base + "/api/v1", headers={"X-API-Key": keys["rival"]}) as c:
            assert c.get("/workspaces/rival/posts/instagram/p00").status_code == 404
            assert (
                c.get("/workspaces/rival/posts/instagram/p00/media/0/thumbnail").status_code == 404
            )


def test_api_answers_while_the_lake_is_written_and_compacted(tmp_path: Path) -> None:
    import threading

    import httpx

    from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, LakeWriter
    from tagpulse.records import HashtagSnapshot
    from tagpulse.service.watchlists import WatchlistStore
    from tests.service.conftest import T0

    build_lake(tmp_path)
    store = WatchlistStore(tmp_path / "catalog.sqlite")
    store.create_user("ana", "correct horse battery", workspace="brand", role="viewer")
    key = store.create_key("ana", workspace="brand", scope="read")
    store.add("brand", "nike", interval_s=900, user="t")
    done = threading.Event()

    def write_and_compact() -> None:
        writer = LakeWriter(tmp_path / "lake")
        for i in range(40):
            at = T0.replace(day=3) + timedelta(minutes=15 * i)
            writer.append_snapshots([HashtagSnapshot("instagram", "nike", 50_000 + i, [], [], at,
                                                     "a", None)], [at])  # fmt: skip
            if i % 8 == 7:
                writer.compact(HASHTAG_SNAPSHOTS)
        done.set()

    statuses: list[int] = []
    for base in start_api(tmp_path, ServiceOptions(cache_ttl_s=0)):
        worker = threading.Thread(target=write_and_compact)
        worker.start()
        with httpx.Client(base_url=base + "/api/v1", headers={"X-API-Key": key}) as client:
            while not done.is_set():
                statuses.append(client.get("/workspaces/brand/timelines").status_code)
                statuses.append(client.get("/workspaces/brand/snapshots?limit=1000").status_code)
            worker.join()
            last = client.get("/workspaces/brand/snapshots?limit=1000&tag=nike").json()["items"]
    assert statuses and set(statuses) == {200}
    assert len(last) == 48 + 40
