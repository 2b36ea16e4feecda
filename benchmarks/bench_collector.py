"""Collector throughput against the sandbox platform's budget (the physical limit).

The real pieces, wired as ``tests/collect/conftest.py`` wires them: a ``World(seed=7)`` with 20
accounts, ``SandboxServer`` on loopback with its default ``Limits``, an ``AcceleratedClock``
shared by both, and ``build_collector`` with 20 ``AccountSpec`` each bound to its own loopback
source address (127.0.0.2 … 127.0.0.21), so the per-IP budgets never bind and each account's
own budget does. Each account is configured at the sandbox's rate (requests_per_hour =
refill_per_hour) with a burst half a token below its capacity (see ``BURST_MARGIN``). Demand
exceeds supply: the 8 sandbox tags every 3 simulated seconds ask for 2.4 times what the 20
budgets allow.

Value: requests the sandbox served OK during ``collector.run()``. Baseline: the sandbox's
allowed budget over that run, from its own ``stats()`` read before and after: the tokens each
account held when the run began plus ``allowed_budget_so_far`` gained since (the per-IP budgets,
checked not to bind, would allow more). The clock's speed keeps the collector budget-bound, not
CPU-bound, on 2 cores (its CPU use is in the details).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import Result, main, report
from tagpulse.collect.accounts import AccountSpec
from tagpulse.collect.build import build_collector
from tagpulse.collect.runner import CollectorOptions
from tagpulse.config import Settings
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import AcceleratedClock
from tagpulse.platforms.sandbox.server import Limits, SandboxServer
from tagpulse.platforms.sandbox.world import HOUR, World, default_accounts
from tagpulse.records import Event, HashtagSnapshot

NAME = "collector vs budget"
GOAL = 0.95
ACCOUNTS = 20
#: Simulated seconds per wall second; 20 accounts x 200/h at 90x is 100 requests per wall second.
SPEED = 90.0
FULL_WALL_S = 25.0
QUICK_WALL_S = 5.0
INTERVAL_S = 3.0  # 8 tags every 3 s: 9,600 requests/h wanted, 4,000/h allowed
#: The collector's rate is the sandbox's; its burst is half a token below the sandbox's capacity.
#: At exactly the capacity every account got throttled within two minutes (simulated): the
#: collector takes a token when it sends, the sandbox when it receives, so while the sandbox's
#: bucket sits full (capped) the collector's keeps refilling for one request's latency and ends
#: up a fraction of a token ahead. Half a token of margin costs 0.5 of ~140 per account.
RATE_FACTOR = 1.0
BURST_MARGIN = 0.5


class _CountingReporter:
    """Counts what the collector reports (the loop's sleeps say why it was idle)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshots = 0
        self.sleeps: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    def snapshot(self, snapshot: HashtagSnapshot, warnings: list[str]) -> None:
        self.snapshots += 1

    def event(self, event: Event) -> None:
        self.events[event.kind] += 1

    def sleeping(self, seconds: float, reason: str) -> None:
        self.sleeps["next tag due" if reason.startswith("next:") else reason] += 1

    def flushed(self, snapshots: int) -> None:
        pass


def run(quick: bool = False) -> list[Result]:
    wall_s = QUICK_WALL_S if quick else FULL_WALL_S
    tmp = Path(tempfile.mkdtemp(prefix="tagpulse-bench-collector-"))
    try:
        return [report(_run(tmp, wall_s))]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(tmp: Path, wall_s: float) -> Result:
    world = World(seed=7, accounts=default_accounts(ACCOUNTS))
    LakeWriter.warm_up()  # one-off imports must not eat simulated hours
    tags_file = tmp / "tags.txt"
    tags_file.write_text("\n".join(world.tags) + "\n")
    clock = AcceleratedClock.starting_now(world.start + 2 * HOUR, SPEED)
    server = SandboxServer(world, clock, limits=Limits()).start()
    try:
        settings = Settings(home=tmp / "home", instagram_base_url=server.base_url, sandbox=True)
        specs = [
            AccountSpec(
                a.alias,
                a.session_id,
                source_address=f"127.0.0.{i + 2}",
                requests_per_hour=a.refill_per_hour * RATE_FACTOR,
                burst=a.capacity - BURST_MARGIN,
            )
            for i, a in enumerate(world.accounts)
        ]
        sim_s = wall_s * SPEED
        options = CollectorOptions(
            interval_s=INTERVAL_S,
            until=clock.time() + sim_s,
            flush_wall_s=0.5,
            max_wall_sleep_s=0.05,
            seed=1,
        )
        reporter = _CountingReporter()
        wall0 = time.perf_counter()
        cpu0 = time.process_time()
        collector = build_collector(
            settings, tags_file, accounts=specs, options=options, clock=clock, reporter=reporter
        )
        build_wall_s = time.perf_counter() - wall0
        begin = server.stats()
        stats = collector.run()
        run_wall_s = time.perf_counter() - wall0
        cpu_s = time.process_time() - cpu0
        end = server.stats()
        collector.pool.close()
    finally:
        server.stop()

    totals = end["totals"]
    served = int(totals["served_ok"]) - int(begin["totals"]["served_ok"])
    # The sandbox's budget over collector.run(): what each account's bucket held when the run
    # began plus what the sandbox allowed since. build_collector's wall time (which the
    # accelerated clock turns into a simulated minute) is left out, and so is the time the
    # server stood idle before; the budget since the server started is in the details too.
    budget = sum(
        end["accounts"][alias]["allowed_budget_so_far"]
        - begin["accounts"][alias]["allowed_budget_so_far"]
        + begin["accounts"][alias]["tokens"]
        for alias in end["accounts"]
    )
    window_s = end["sim_time"] - begin["sim_time"]
    ip_budget = Limits().ip_capacity + Limits().ip_refill_per_hour * window_s / 3600
    if ip_budget < budget / ACCOUNTS:
        raise AssertionError("the per-IP budget binds: the baseline would be wrong")
    account_spec = world.accounts[0]
    since_start = float(totals["effective_allowed_budget_so_far"])
    per_account = end["accounts"]
    details: dict[str, Any] = {
        "accounts": ACCOUNTS,
        "source_addresses": sorted(end["ips"]),
        "collector_budget": (
            f"requests_per_hour = {RATE_FACTOR:g} x refill_per_hour "
            f"({account_spec.refill_per_hour:g}/h), burst = capacity - {BURST_MARGIN:g} "
            f"({account_spec.capacity - BURST_MARGIN:g} of {account_spec.capacity:g})"
        ),
        "tags": len(world.tags),
        "interval_s": INTERVAL_S,
        "demand_per_hour": len(world.tags) * 3600 / INTERVAL_S,
        "clock_speed": SPEED,
        "simulated_s": window_s,
        "wall_s": run_wall_s,
        "build_collector_wall_s": build_wall_s,
        "cpu_s": cpu_s,
        "cpu_share_of_one_core": cpu_s / run_wall_s,
        "cores": os.cpu_count(),
        "requests_sent": int(totals["requests"]),
        "served_ok": served,
        "ip_budget_per_address": ip_budget,
        "served_per_wall_s": served / run_wall_s,
        "budget_since_server_start": since_start,
        "ratio_to_budget_since_server_start": int(totals["served_ok"]) / since_start,
        "bans": int(totals["banned"]),
        "violations": int(totals["violations"]),
        "throttled": int(totals["throttled"]),
        "not_found": int(totals["not_found"]),
        "faults": int(totals["faults"]),
        "served_min_max_per_account": [
            min(a["served_ok"] for a in per_account.values()),
            max(a["served_ok"] for a in per_account.values()),
        ],
        "collector": {
            "requests": stats.requests,
            "snapshots": stats.snapshots,
            "acknowledged": stats.acknowledged,
            "throttles": stats.throttles,
            "failures": stats.failures,
            "slots_missed": stats.slots_missed,
        },
        "loop_sleeps": dict(reporter.sleeps),
        "events": dict(reporter.events),
    }
    if details["bans"]:
        raise AssertionError(f"the collector got {details['bans']} account(s) banned")
    return Result(
        name=NAME,
        value=served,
        baseline=budget,
        ratio=served / budget,
        goal=GOAL,
        unit="requests",
        higher_is_better=True,
        baseline_name="sandbox budget",
        details=details,
    )


if __name__ == "__main__":
    main(run)
