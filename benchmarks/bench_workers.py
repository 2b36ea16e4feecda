"""Distributed collection: snapshots per second with 1, 2 and 3 worker processes on a Redis
queue against the sandbox, and against the sandbox's allowed request budget (the physical
limit).

The real pieces: Debian's ``redis-server`` on a free loopback port, ``SandboxServer`` on
loopback with an ``AcceleratedClock`` (``SPEED`` simulated seconds per wall second), 20 sandbox
accounts each bound to its own loopback source address (so the per-IP budgets never bind), and
``tagpulse scale worker`` processes (``python -m tagpulse.scale worker``). Three start at once;
two are paused (SIGSTOP) while idle and resumed one per run, so runs have 1, 2, then 3 workers.
Each run enqueues ``TASKS`` fresh (tag, slot) tasks and is timed from the enqueue to the last
snapshot marked done (each snapshot is its own Parquet file, renamed into place).

Value: snapshots/s with 3 workers. Baseline: snapshots/s with 1 worker (same tasks, same
sandbox). The sandbox's sustained budget (20 accounts x 200/h at ``SPEED``) in requests per
wall second is in the details with each run's share of it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from common import Result, main, report
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import AcceleratedClock
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.world import HOUR, World, default_accounts
from tagpulse.scale.local import LocalRedis, spawn_worker
from tagpulse.scale.queue import QueueKeys, SlotTask, enqueue_slots, make_broker, redis_client

NAME = "workers 3 vs 1"
GOAL = 1.5
ACCOUNTS = 20
#: 20 accounts x 200/h at 90x: 100 requests per wall second allowed, more than 3 workers on 2
#: cores can use, so the workers (not the budget) are measured.
SPEED = 90.0
FULL_TASKS = 300
QUICK_TASKS = 40


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def run(quick: bool = False) -> list[Result]:
    tmp = Path(tempfile.mkdtemp(prefix="tagpulse-bench-workers-"))
    try:
        return [report(_run(tmp, QUICK_TASKS if quick else FULL_TASKS))]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(tmp: Path, n_tasks: int) -> Result:
    world = World(seed=7, accounts=default_accounts(ACCOUNTS))
    LakeWriter.warm_up()
    clock = AcceleratedClock.starting_now(world.start + 2 * HOUR, SPEED)
    tags = sorted(world.tags)
    accounts = tmp / "accounts.toml"
    accounts.write_text(
        "\n".join(
            f'[[account]]\nalias = "{a.alias}"\nsessionid = "{a.session_id}"\n'
            f'source_address = "127.0.0.{i + 2}"\n'
            f"requests_per_hour = {a.refill_per_hour * 0.95}\nburst = {a.capacity}\n"
            for i, a in enumerate(world.accounts)
        )
    )
    allowed_per_wall_s = sum(a.refill_per_hour for a in world.accounts) / 3600 * SPEED
    runs: list[dict[str, Any]] = []
    workers: list[subprocess.Popen[bytes]] = []
    with LocalRedis() as redis, SandboxServer(world, clock) as server:
        client = redis_client(redis.url)
        keys = QueueKeys()
        try:
            # All three start at once (start-up is most of a quick run); the second and third
            # are paused (SIGSTOP) while idle, holding no message, and resumed for their runs.
            for n in (1, 2, 3):
                workers.append(
                    spawn_worker(
                        redis.url,
                        home=tmp / "home",
                        accounts=accounts,
                        base_url=server.base_url,
                        log=tmp / f"worker{n}.log",
                    )
                )
            _wait(lambda: client.scard(keys.workers) >= 3, 300, "three workers")
            for proc in workers[1:]:
                proc.send_signal(signal.SIGSTOP)
            for n in (1, 2, 3):
                if n > 1:
                    workers[n - 1].send_signal(signal.SIGCONT)
                base = n * 1_000_000  # fresh slots for each run
                tasks = [
                    SlotTask("instagram", tags[i % len(tags)], base + 900 * (i // len(tags)))
                    for i in range(n_tasks)
                ]
                done_before = client.hlen(keys.done_hash)
                before = server.stats()["totals"]
                broker = make_broker(redis.url)
                t0 = time.perf_counter()
                enqueue_slots(broker, client, tasks)
                _wait(lambda d=done_before: client.hlen(keys.done_hash) >= d + n_tasks, 600, "run")
                wall = time.perf_counter() - t0
                broker.close()
                after = server.stats()["totals"]
                rate = n_tasks / wall
                runs.append(
                    {
                        "workers": n,
                        "snapshots": n_tasks,
                        "wall_s": wall,
                        "snapshots_per_s": rate,
                        "requests": int(after["requests"]) - int(before["requests"]),
                        "throttled": int(after["throttled"]) - int(before["throttled"]),
                        "share_of_budget": rate / allowed_per_wall_s,
                    }
                )
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        outcomes = set(client.hvals(keys.done_hash))
    if outcomes != {"ok"}:
        raise AssertionError(f"some tasks did not end ok: {outcomes}")
    one = runs[0]["snapshots_per_s"]
    details: dict[str, Any] = {
        "runs": runs,
        "ratio_2_vs_1": runs[1]["snapshots_per_s"] / one,
        "ratio_3_vs_1": runs[2]["snapshots_per_s"] / one,
        "allowed_requests_per_wall_s": allowed_per_wall_s,
        "accounts": ACCOUNTS,
        "clock_speed": SPEED,
        "cores": os.cpu_count(),
        "note": "redis-server, the sandbox and the workers share the machine's cores",
    }
    return Result(
        name=NAME,
        value=runs[2]["snapshots_per_s"],
        baseline=one,
        ratio=runs[2]["snapshots_per_s"] / one,
        goal=GOAL,
        unit="snapshots/s",
        higher_is_better=True,
        baseline_name="1 worker",
        details=details,
    )


if __name__ == "__main__":
    main(run)
