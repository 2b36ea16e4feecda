"""`tagpulse track` as a real process: kill -9 and restart, SIGTERM, --once."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tests.cli.conftest import Sandbox

pytestmark = pytest.mark.subprocess


def snapshot_ids(home: Path) -> set[str]:
    rows = LakeQuery(home / "lake").rows("SELECT snapshot_id FROM hashtag_snapshots")
    return {str(r["snapshot_id"]) for r in rows}


def acknowledged(home: Path) -> set[str]:
    catalog = Catalog(home / "catalog.sqlite")
    try:
        return {
            f"{s.platform}:{s.tag}:{int(s.last_slot)}"
            for s in catalog.schedules()
            if s.last_slot is not None
        }
    finally:
        catalog.close()


def wait_for_data(home: Path, timeout: float = 120) -> None:
    # Generous: a loaded 2-core machine can take 20 s just to start the CLI; this only stops a hang.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if LakeQuery(home / "lake").has_data("hashtag_snapshots"):
            return
        time.sleep(0.1)
    raise AssertionError("the collector stored nothing")


@pytest.mark.slow
def test_kill_9_and_restart_loses_and_duplicates_nothing(sandbox: Sandbox) -> None:
    rng = random.Random(5)
    seen: set[str] = set()
    acked_ever: set[str] = set()
    for _ in range(4):
        proc = subprocess.Popen(
            sandbox.track_args("--every", "10m", "--flush-secs", "0.15", "--quiet"),
            env=sandbox.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for_data(sandbox.home)
            time.sleep(rng.uniform(0.5, 2.0))
        finally:
            proc.kill()  # SIGKILL: no chance to flush
            proc.wait(10)
        acked = acknowledged(sandbox.home)
        stored = snapshot_ids(sandbox.home)
        # Every acknowledged slot is in the lake …
        assert acked <= stored, acked - stored
        acked_ever |= acked
        # … and nothing seen before has gone.
        assert seen <= stored
        seen = stored
    result = LakeWriter(sandbox.home / "lake").compact()
    assert result.rows_after <= result.rows_before
    query = LakeQuery(sandbox.home / "lake")
    dupes = query.rows(
        "SELECT snapshot_id, count(*) AS n FROM hashtag_snapshots_all GROUP BY 1 HAVING n > 1"
    )
    assert dupes == []
    final = snapshot_ids(sandbox.home)
    assert seen <= final and acked_ever <= final
    assert len(final) >= 8


def test_sigterm_finishes_flushes_and_exits_cleanly(sandbox: Sandbox) -> None:
    proc = subprocess.Popen(
        sandbox.track_args("--every", "10m", "--flush-secs", "30"),
        env=sandbox.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Wait for the collector's own log lines, then stop it mid-run.
        assert proc.stderr is not None
        lines = []
        while len([x for x in lines if '"snapshot"' in x]) < 6:
            line = proc.stderr.readline()
            assert line, "collector exited early"
            lines.append(line)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "finishing the request in flight" in err
    stored = len(snapshot_ids(sandbox.home))
    assert stored >= 6
    # Everything collected was flushed before exit.
    assert f"{stored} snapshots ({stored} stored)" in out


def test_track_once_then_status_json(sandbox: Sandbox) -> None:
    done = sandbox.run(*sandbox.track_args("--once")[3:])
    assert done.returncode == 0, done.stderr
    assert "4 snapshots (4 stored)" in done.stdout
    rows = LakeQuery(sandbox.home / "lake").rows(
        "SELECT tag, post_count FROM hashtag_snapshots ORDER BY tag"
    )
    assert [r["tag"] for r in rows] == ["newyears", "nike", "paris", "slowtag"]
    status = sandbox.run("status", "--json")
    assert status.returncode == 0, status.stderr
    doc = orjson.loads(status.stdout)
    tags = {t["tag"]: t for t in doc["tags"]}
    assert set(tags) == {"newyears", "nike", "paris", "slowtag"}
    assert tags["paris"]["last_count"] == next(r["post_count"] for r in rows if r["tag"] == "paris")
    assert tags["newyears"]["last_count"] is None and tags["newyears"]["warnings"] == 1
    assert all(t["next_due"] != "—" for t in tags.values())
    assert {a["alias"] for a in doc["accounts"]} == {"acct01", "acct02", "acct03"}
    assert all(a["state"] == "ok" for a in doc["accounts"])
    human = sandbox.run("status")
    assert "#paris" in human.stdout and "acct01" in human.stdout
    # Secrets never reach the output or logs.
    assert "sess-acct" not in done.stdout + done.stderr + status.stdout + human.stdout


def test_track_bad_watchlist_names_the_line(sandbox: Sandbox) -> None:
    sandbox.tags_file.write_text("nike\nnew york\n")
    done = sandbox.run(*sandbox.track_args("--once")[3:])
    assert done.returncode == 2
    assert f"{sandbox.tags_file}:2" in done.stderr
    assert "spaces" in done.stderr
    assert "Traceback" not in done.stderr
