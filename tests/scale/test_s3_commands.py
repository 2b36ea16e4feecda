"""The commands converted to object storage give, with the lake on a real S3 server
(SeaweedFS), the same answers as on a local lake holding the same files.

One lake is built once per module on local disk (the sandbox world's counts and social graph, and
the planted prediction lake), and its files are copied object by object under an S3 prefix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.config import load_settings
from tagpulse.discover.graph import load_graph
from tagpulse.discover.graph_store import GraphStore, edge_files
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.storage import ObjectLake
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.predict.registry import lake_fingerprint
from tagpulse.records import Edge, ParsedRecords
from tagpulse.service.app import ServiceOptions, create_app
from tagpulse.service.watchlists import WatchlistStore
from tests.discover.social_lake import write_social_lake
from tests.predict.lakes import build_planted_lake
from tests.scale.s3_server import S3Server
from tests.scale.test_s3_cli import _fill

runner = CliRunner()
WORLD = World(seed=7)
CAMPAIGN_START = utc_from_epoch(WORLD.start + 3 * DAY + 9 * HOUR)  # the nike campaign, day 4


@dataclass(frozen=True)
class Lakes:
    local: Path
    s3: Path
    lake: ObjectLake
    env: dict[str, str]

    def both(self, args: list[str]) -> tuple[str, str]:
        """The output of ``tagpulse ARGS`` on the local lake, then on the S3 lake (with the
        home's path in it written as ``HOME``)."""
        local = _invoke([*args, "--home", str(self.local)], None).replace(str(self.local), "HOME")
        s3 = _invoke([*args, "--home", str(self.s3)], self.env).replace(str(self.s3), "HOME")
        return local, s3

    def both_json(self, args: list[str]) -> tuple[Any, Any]:
        local, s3 = self.both([*args, "--json"])
        return orjson.loads(local), orjson.loads(s3)


def _first_difference(a: Any, b: Any, at: str = "") -> str | None:
    """Where two JSON documents first differ (None when they are equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            found = _first_difference(a.get(k), b.get(k), f"{at}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{at}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9):
        return None  # DuckDB's parallel sums may add floats in another order
    return None if a == b else f"{at}: {a!r} != {b!r}"


def _invoke(args: list[str], env: dict[str, str] | None) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def _mirror(local_lake: Path, lake: ObjectLake) -> int:
    """Copy every table file of ``local_lake`` to the same key under ``lake``."""
    files = sorted(p for p in (local_lake / "tables").rglob("*.parquet"))
    for path in files:
        lake.put(lake.key(path.relative_to(local_lake).as_posix()), path.read_bytes())
    return len(files)


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Lakes:
    local, s3 = tmp_path_factory.mktemp("local-home"), tmp_path_factory.mktemp("s3-home")
    _fill(local / "lake")
    write_social_lake(local, WORLD, WORLD.start + 16 * DAY)
    build_planted_lake(local, accounts=30, per_account=14)
    lake = s3_server.lake(s3 / "lake")
    assert _mirror(local / "lake", lake) > 20
    return Lakes(local, s3, lake, s3_server.env() | {"TAGPULSE_LAKE_URL": lake.url})


def _top_liker(lakes: Lakes) -> str:
    rows = LakeQuery(lakes.local / "lake").rows(
        "SELECT src FROM edges WHERE kind = 'liked' GROUP BY src ORDER BY count(*) DESC, src "
        "LIMIT 1"
    )
    return str(rows[0]["src"])


def test_insights_on_s3_equal_local(lakes: Lakes, monkeypatch: pytest.MonkeyPatch) -> None:
    end = CAMPAIGN_START + timedelta(hours=36)
    campaign = ["insights", "campaign", "--tags", "nike", "--start", CAMPAIGN_START.isoformat(),
                "--end", end.isoformat()]  # fmt: skip
    local, s3 = lakes.both_json(campaign)
    assert _first_difference(local, s3) is None
    assert local["periods"]
    local, s3 = lakes.both_json(["insights", "forecast", "nike", "--days", "2"])
    assert _first_difference(local, s3) is None and local
    local, s3 = lakes.both_json(["insights", "influencers", "tag"])
    assert _first_difference(local, s3) is None and local["accounts"]
    local, s3 = lakes.both_json(["insights", "classes"])
    assert _first_difference(local, s3) is None and "dog" in orjson.dumps(local).decode()
    report = ["insights", "report", "nike", "--since", (CAMPAIGN_START - timedelta(days=2))
              .isoformat(), "--until", end.isoformat(), "--out", "report.html"]  # fmt: skip
    pages = []
    for home, env in ((lakes.local, None), (lakes.s3, lakes.env)):
        monkeypatch.chdir(home)
        text = _invoke([*report, "--home", str(home)], env)
        assert text.startswith("report: report.html (")
        page = (home / "report.html").read_text()
        pages.append((text, re.sub(r'"generated_at":"[^"]*"', "", page)))
    assert pages[1] == pages[0]
    assert "#nike" in pages[0][1]


@pytest.mark.slow
def test_enrich_text_writes_post_text_to_s3_and_sentiment_reads_it(lakes: Lakes) -> None:
    for home, env in ((lakes.local, None), (lakes.s3, lakes.env)):
        _invoke(["enrich", "--text", "--no-images", "--json", "--home", str(home)], env)
    assert not (lakes.s3 / "lake" / "tables").exists()  # it went to the bucket
    assert lakes.lake.glob("tables/post_text/platform=*/date=*/*.parquet")
    sql = "SELECT platform, post_id, kind, sentiment FROM post_text ORDER BY ALL"
    local_rows = LakeQuery(lakes.local / "lake").rows(sql)
    assert local_rows and LakeQuery(lakes.lake).rows(sql) == local_rows
    local, s3 = lakes.both_json(["insights", "sentiment", "--interval", "1d"])
    assert _first_difference(local, s3) is None and local["points"]


def test_export_and_status_on_s3_equal_local(lakes: Lakes) -> None:
    for fmt in ("jsonl", "csv"):
        local_out, s3_out = lakes.local / f"posts.{fmt}", lakes.s3 / f"posts.{fmt}"
        _invoke(["export", "posts", "--format", fmt, "--out", str(local_out),
                 "--home", str(lakes.local)], None)  # fmt: skip
        _invoke(["export", "posts", "--format", fmt, "--out", str(s3_out),
                 "--home", str(lakes.s3)], lakes.env)  # fmt: skip
        assert s3_out.read_bytes() == local_out.read_bytes()
        assert local_out.stat().st_size > 10_000
    local, s3 = lakes.both_json(["status"])
    assert _first_difference(local, s3) is None


@pytest.mark.slow
def test_predict_on_s3_equals_local(lakes: Lakes) -> None:
    pytest.importorskip("lightgbm")
    local, s3 = lakes.both_json(["predict", "evaluate", "--folds", "2"])
    assert _first_difference(local, s3) is None and local["posts"] > 400
    local, s3 = lakes.both_json(["predict", "train", "--folds", "2"])
    assert _first_difference(local["metrics"], s3["metrics"]) is None
    # The same files under both lakes: the same fingerprint of what the model was trained on.
    # The fingerprint of what the model saw counts the same files (their names differ: the
    # post_text parts written by `enrich` on each lake have their own names).
    assert s3["snapshot"]["lake_files"] == local["snapshot"]["lake_files"] > 20
    assert lake_fingerprint(lakes.lake)[0] == lake_fingerprint(lakes.local / "lake")[0]
    local, s3 = lakes.both_json(["predict", "score", "--post", "instagram:u0p5"])
    assert _first_difference(local, s3) is None and local["ratio"] > 0
    local_text, s3_text = lakes.both(["predict", "best-time", "--account", "acct0"])
    assert s3_text == local_text and "best hour" in local_text


@pytest.mark.slow
def test_feed_similar_tags_and_feed_eval_on_s3_equal_local(lakes: Lakes) -> None:
    user = _top_liker(lakes)
    for source in ("network", "blend"):
        local, s3 = lakes.both_json(["feed", user, "--n", "8", "--source", source, "--seed", "3"])
        assert _first_difference(local, s3) is None and len(local["items"]) == 8
    rows = LakeQuery(lakes.local / "lake").rows(
        "SELECT t AS tag FROM (SELECT unnest(hashtags) AS t FROM posts) WHERE t <> 'tag' "
        "GROUP BY t "
        "ORDER BY count(*) DESC, t LIMIT 1"
    )
    local, s3 = lakes.both_json(["similar-tags", rows[0]["tag"], "--n", "5"])
    assert _first_difference(local, s3) is None and local
    local, s3 = lakes.both_json(["feed-eval", "--min-likes", "60", "--k", "5"])
    assert _first_difference(local, s3) is None and local["users"] > 0


def test_graph_cache_on_s3_grows_from_new_edge_objects(lakes: Lakes, tmp_path: Path) -> None:
    query = LakeQuery(lakes.lake)
    stamps = edge_files(query)
    assert stamps == sorted(stamps) and all(s.size > 0 and s.mtime_ns > 0 for s in stamps)
    assert [s.name for s in stamps] == [s.name for s in edge_files(LakeQuery(lakes.local /
                                                                              "lake"))]  # fmt: skip
    cache = tmp_path / "cache"
    first = GraphStore(query, cache).load("instagram")
    assert first.how == "full" and first.files_read == len(stamps)
    again = GraphStore(query, cache).load("instagram")
    assert again.how == "disk" and again.files_read == 0
    assert again.graph.nodes == first.graph.nodes
    # A new edge object (an extra platform keeps the shared lake's other answers unchanged).
    at = utc_from_epoch(WORLD.start + 15 * DAY)
    LakeWriter(lakes.lake).append_records(
        ParsedRecords(edges=[Edge("instagram", "s3-new-a", "s3-new-b", "follows", at, "t")])
    )
    try:
        grown = GraphStore(query, cache).load("instagram")
        assert grown.how == "incremental" and grown.files_read == 1
        full = load_graph(query, platform="instagram")
        assert set(grown.graph.nodes) == set(full.nodes) and "s3-new-a" in grown.graph.nodes
        assert grown.graph.weights.nnz == full.weights.nnz
    finally:
        new = [s for s in edge_files(query) if s not in stamps]
        lakes.lake.remove(lakes.lake.key("tables", "edges", s.name) for s in new)
    assert edge_files(query) == stamps


@pytest.fixture
def s3_api(lakes: Lakes, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    for name, value in lakes.env.items():
        monkeypatch.setenv(name, value)
    store = WatchlistStore(lakes.s3 / "catalog.sqlite")
    store.create_user("analyst", "correct horse battery", workspace="brand", role="analyst")
    key = store.create_key("analyst", workspace="brand", scope="read")
    for tag in ("nike", "adidas"):
        store.add("brand", tag, interval_s=900, user="setup")
    settings = load_settings(home=lakes.s3, sandbox=True)
    with TestClient(create_app(settings, ServiceOptions(rate_per_minute=10_000))) as client:
        yield client, key


def test_serve_reads_and_exports_from_s3(s3_api: tuple[TestClient, str], lakes: Lakes) -> None:
    client, key = s3_api
    assert client.get("/api/v1/health").json()["lake"] is True
    headers = {"Authorization": "Bearer " + key}
    timelines = client.get("/api/v1/workspaces/brand/timelines", params={"interval": "1d"},
                           headers=headers)  # fmt: skip
    assert timelines.status_code == 200, timelines.text
    body = timelines.text
    assert "nike" in body and "puma" not in body
    export = client.get("/api/v1/workspaces/brand/exports/hashtag_snapshots?format=csv",
                        headers=headers)  # fmt: skip
    assert export.status_code == 200, export.text
    lines = export.text.strip().splitlines()
    # 8 days of hourly counts for each of the workspace's two tags, and a header
    assert len(lines) == 1 + 2 * 8 * 24
    assert not re.search(r"\bpuma\b", export.text)
