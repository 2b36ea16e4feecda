"""Three worker processes on a real Redis queue against the sandbox, one killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import AcceleratedClock
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.world import HOUR, World, default_accounts
from tagpulse.scale.local import LocalRedis, spawn_worker
from tagpulse.scale.queue import QueueKeys, SlotTask, enqueue_slots, make_broker, redis_client
from tests.scale.conftest import write_accounts

pytestmark = pytest.mark.slow

#: Simulated seconds per wall second: 3 accounts x ~190/hour = ~0.6 requests per wall second
#: after the bursts, so the buckets, not the workers, set the pace.
SPEED = 12.0
#: The workers' burst stays this far below the sandbox's capacity: a request granted a token is
#: counted by the sandbox only when it arrives, and on a loaded machine a stalled worker's
#: request can arrive a wall second or more later (x SPEED in simulated time), when the
#: sandbox's own bucket, capped at its capacity, has not kept the refill we counted on.
BURST_MARGIN = 2.0


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_workers_one_killed_exactly_once_within_budgets(
    local_redis: LocalRedis, tmp_path: Path
) -> None:
    world = World(seed=7, accounts=default_accounts(3))
    LakeWriter.warm_up()
    clock = AcceleratedClock.starting_now(world.start + 2 * HOUR, SPEED)
    tags = sorted(name for name, spec in world.tags.items() if not spec.count_hidden)[:6]
    assert len(tags) == 6
    accounts = write_accounts(
        tmp_path / "accounts.toml",
        [
            (a.alias, a.session_id, a.refill_per_hour * 0.95, a.capacity - BURST_MARGIN)
            for a in world.accounts
        ],
    )
    home = tmp_path / "home"
    with SandboxServer(world, clock) as server:
        client = redis_client(local_redis.url)
        keys = QueueKeys()
        now_slot = int(clock.time() // 900 * 900)
        tasks = [SlotTask("instagram", t, now_slot - k * 900) for k in range(10) for t in tags]
        logs = [tmp_path / f"worker{i}.log" for i in range(3)]
        workers = [
            spawn_worker(
                local_redis.url,
                home=home,
                accounts=accounts,
                base_url=server.base_url,
                heartbeat_timeout_s=2.0,
                log=logs[i],
            )
            for i in range(3)
        ]
        victim = workers[0]
        victim_id = f"w{victim.pid}"
        orphans: list[str] = []
        try:
            # Tasks go in once the three workers are up (in Redis' set of workers), so the
            # run starts with all of them and the account buckets, not start-up, set the pace.
            _wait(
                lambda: client.scard(keys.workers) >= 3,
                180,
                "three workers",
            )
            broker = make_broker(local_redis.url)
            assert enqueue_slots(broker, client, tasks) == 60
            assert enqueue_slots(broker, client, tasks) == 0  # a second scheduler adds nothing
            broker.close()

            # Kill the first worker while it holds a claimed, unfinished task: freeze it
            # (SIGSTOP), look at what it holds, and kill it (or let it go on and look again).
            def frozen_mid_task() -> bool:
                if client.hlen(keys.done_hash) < 10:
                    return False
                victim.send_signal(signal.SIGSTOP)
                orphans[:] = [s for s, w in client.hgetall(keys.running).items() if w == victim_id]
                if not orphans:
                    victim.send_signal(signal.SIGCONT)
                return bool(orphans)

            _wait(frozen_mid_task, 60, "the first worker to be mid-task after 10 snapshots")
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
            _wait(lambda: client.hlen(keys.done_hash) >= 60, 120, "all 60 snapshots")
            time.sleep(0.5)  # nothing more may arrive
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in workers:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        stats = server.stats()
        log = server.request_log()

    worker_logs = "\n".join(p.read_text(errors="replace") for p in logs)
    outcomes = client.hgetall(keys.done_hash)
    assert set(outcomes.values()) == {"ok"}, worker_logs[-3000:]
    # The task the killed worker held was run again by another worker (its lease lapsed).
    assert orphans
    for sid in orphans:
        assert client.get(keys.done(sid)) not in (None, victim_id)
    assert int(client.get(keys.takeovers) or 0) >= 1
    assert client.hlen(keys.running) == 0
    # The two others left cleanly on SIGTERM; only the killed one could not say goodbye.
    assert client.smembers(keys.workers) == {victim_id}

    # Every scheduled snapshot is in the lake exactly once: count the rows of every file on
    # disk (not a de-duplicating reader).
    files = sorted((home / "lake" / "tables" / "hashtag_snapshots").rglob("*.parquet"))
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    ids = [r["snapshot_id"] for r in rows]
    assert sorted(ids) == sorted(t.snapshot_id for t in tasks)
    assert len(ids) == len(set(ids)) == 60

    # Each count is what the sandbox served for that tag (its ground truth at request time).
    served: dict[str, set[int]] = {}
    for record in log:
        if record.outcome == "ok" and record.tag and record.media_count is not None:
            served.setdefault(record.tag, set()).add(record.media_count)
    for row in rows:
        assert row["post_count"] in served[row["tag"]], row["snapshot_id"]

    # No account went over its budget: never throttled, never a request while cooling, and
    # no more requests than its bucket allowed over the run.
    for alias, account in stats["accounts"].items():
        assert account["throttled"] == 0, alias
        assert account["violations"] == 0, alias
        assert account["requests"] <= account["allowed_budget_so_far"], alias
    assert stats["totals"]["requests"] >= 60
    assert sum(1 for r in log if r.outcome != "ok") == 0
