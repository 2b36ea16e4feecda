"""`tagpulse track`, `chart`, `insights timeline` and `compact` with the lake on a real S3
server (SeaweedFS); a command not converted to object storage says so, naming itself."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import raw_objects
from tagpulse.lake.storage import ObjectLake
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import HOUR, World
from tagpulse.records import HashtagSnapshot
from tests.cli.conftest import Sandbox, sandbox
from tests.scale.s3_server import S3Server

__all__ = ["sandbox"]

runner = CliRunner()
TAGS = ("nike", "adidas", "puma")


def _env(s3_server: S3Server, lake: ObjectLake) -> dict[str, str]:
    return s3_server.env() | {"TAGPULSE_LAKE_URL": lake.url}


def _fill(lake: Path | ObjectLake) -> None:
    """Eight days of hourly counts from the sandbox world (the nike campaign is on day 4)."""
    world = World(seed=7)
    snaps, slots = [], []
    for h in range(8 * 24):
        t = world.start + h * HOUR
        for tag in TAGS:
            at = utc_from_epoch(t)
            snaps.append(HashtagSnapshot("instagram", tag, world.true_count(tag, t), [], [], at,
                                         "a", None))  # fmt: skip
            slots.append(at)
    writer = LakeWriter(lake)
    for start in range(0, len(snaps), 100):  # many small files, for compaction to merge
        writer.append_snapshots(snaps[start : start + 100], slots[start : start + 100])


def _invoke(args: list[str], env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_chart_timeline_and_compact_on_s3_equal_local(tmp_path: Path, s3_server: S3Server) -> None:
    local_home, s3_home = tmp_path / "local", tmp_path / "s3"
    lake = s3_server.lake(s3_home / "lake")
    _fill(local_home / "lake")
    _fill(lake)
    env = _env(s3_server, lake)
    timeline_args = ["insights", "timeline", "--interval", "6h", "--json", "--home"]
    local_doc = orjson.loads(_invoke([*timeline_args, str(local_home)]))
    s3_doc = orjson.loads(_invoke([*timeline_args, str(s3_home)], env))
    assert s3_doc == local_doc
    assert [d["tag"] for d in s3_doc] == sorted(TAGS)
    nike = next(d for d in s3_doc if d["tag"] == "nike")
    world = World(seed=7)
    assert nike["last_count"] == world.true_count("nike", world.start + (8 * 24 - 1) * HOUR)
    assert nike["change_points"]  # the campaign burst
    for home, extra in ((local_home, None), (s3_home, env)):
        _invoke(["chart", "nike", "puma", "--interval", "1d",
                 "--out", str(home / "chart.html"), "--home", str(home)], extra)  # fmt: skip
    assert (s3_home / "chart.html").read_text() == (local_home / "chart.html").read_text()
    for args in (["insights", "share", "nike", "adidas", "puma", "--interval", "1d", "--json"],
                 ["insights", "spikes", "--json"]):  # fmt: skip
        local_out = orjson.loads(_invoke([*args, "--home", str(local_home)]))
        assert orjson.loads(_invoke([*args, "--home", str(s3_home)], env)) == local_out
        assert local_out
    text = _invoke(["compact", "--home", str(s3_home)], env)
    assert text == _invoke(["compact", "--home", str(local_home)])
    assert "partitions compacted: 13 → 8 files" in text
    assert len(lake.glob("tables/hashtag_snapshots/platform=*/date=*/*.parquet")) == 8
    assert orjson.loads(_invoke([*timeline_args, str(s3_home)], env)) == local_doc
    assert not (s3_home / "lake" / "tables" / HASHTAG_SNAPSHOTS / "platform=instagram").exists()


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["reparse"], "tagpulse reparse"),
        (["forget", "instagram:someone", "--yes"], "tagpulse forget"),
    ],
)
def test_unconverted_commands_say_object_storage_is_not_supported(
    tmp_path: Path, s3_server: S3Server, args: list[str], command: str
) -> None:
    lake = s3_server.lake(tmp_path / "lake")
    result = runner.invoke(app, [*args, "--home", str(tmp_path)], env=_env(s3_server, lake))
    assert result.exit_code == 2, result.output
    assert f"`{command}` does not support object storage yet" in " ".join(result.output.split())


def test_lake_url_must_be_object_storage(tmp_path: Path) -> None:
    result = runner.invoke(app, ["chart", "--home", str(tmp_path)],
                           env={"TAGPULSE_LAKE_URL": str(tmp_path / "elsewhere")})  # fmt: skip
    assert result.exit_code == 2 and "s3://bucket/prefix" in result.output


@pytest.mark.slow
def test_track_once_writes_the_lake_and_raw_archive_to_s3(
    sandbox: Sandbox, s3_server: S3Server
) -> None:
    lake = s3_server.lake(sandbox.home / "lake")
    env = sandbox.env() | _env(s3_server, lake)
    sandbox.tags_file.write_text("nike\n#Paris\n")
    done = subprocess.run(
        [*sandbox.track_args("--once", "--no-media", "--no-tag-posts"),
         "--home", str(sandbox.home)],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert lake.url in done.stdout
    assert not (sandbox.home / "lake" / "tables").exists()  # nothing went to local disk
    rows = LakeQuery(lake).rows(
        f"SELECT tag, post_count, collected_at FROM {HASHTAG_SNAPSHOTS} ORDER BY tag"
    )
    assert {r["tag"] for r in rows} >= {"paris", "nike"}
    for r in rows:
        if r["tag"] == "nike":
            truth = sandbox.world.true_count("nike", r["collected_at"].timestamp())
            assert abs(r["post_count"] - truth) <= max(5, truth // 1000)
    objects = raw_objects(lake)
    assert objects and all(u.startswith(lake.url + "/raw/platform=") for u in objects)
    with sqlite3.connect(sandbox.home / "catalog.sqlite") as db:
        paths = [p for (p,) in db.execute("SELECT path FROM raw_index")]
    assert paths and all(p.startswith(lake.url + "/raw/") for p in paths)
    chart = sandbox.home / "chart.png"
    _invoke(["chart", "nike", "--out", str(chart), "--home", str(sandbox.home)],
            _env(s3_server, lake))  # fmt: skip
    assert chart.read_bytes().startswith(b"\x89PNG")
