"""API load: the timeline endpoint at 100 concurrent clients on loopback.

Data: a demo-sized lake (8 tags, 14 days of 15-minute snapshots: 10,752 rows; quick: 2 days),
one workspace watching every tag, one read key. The server is ``tagpulse serve`` in its own
process (one uvicorn worker); the load comes from another process: 100 asyncio clients on
keep-alive connections (a bare HTTP/1.1 client on asyncio streams, cheap enough to leave the
server most of the machine), each asking again as soon as it has its answer (a closed loop),
for a fixed time (15 s; quick: 3 s), after a 2 s warm-up on the same connections' kind.

Baseline: the same load on ``/api/v1/health`` (routing, middleware, rate limiter and JSON, no
lake): the floor of what this server can answer. The ratio is the timeline's throughput over
that floor; the issue's goal of p99 < 100 ms with zero errors is reported beside it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from common import Result, main, report
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DEFAULT_START
from tagpulse.records import HashtagSnapshot
from tagpulse.service.watchlists import WatchlistStore

NAME = "API timeline load"
GOAL = 0.5
P99_GOAL_MS = 100.0
CLIENTS = 100
TAGS = ("nike", "adidas", "puma", "paris", "travel", "food", "sunset", "coffee")


def build_home(home: Path, days: int) -> str:
    writer = LakeWriter(home / "lake")
    start = utc_from_epoch(DEFAULT_START)
    for day in range(days):
        snaps, slots = [], []
        for i, tag in enumerate(TAGS):
            for q in range(96):
                at = start + timedelta(days=day, minutes=15 * q)
                count = 100_000 * (i + 1) + (day * 96 + q) * (50 + 10 * i)
                snaps.append(HashtagSnapshot("instagram", tag, count, [], [], at, "a", None))
                slots.append(at)
        writer.append_snapshots(snaps, slots)
    store = WatchlistStore(home / "catalog.sqlite")
    store.create_user("bench", "bench-password-1", workspace="demo", role="viewer")
    for tag in TAGS:
        store.add("demo", tag, interval_s=900, user="bench")
    return store.create_key("bench", workspace="demo", scope="read")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _one_client(
    host: str, port: int, request: bytes, until: float, latencies: list[float] | None
) -> int:
    """One keep-alive connection asking again as soon as it has its answer; returns errors.

    A bare HTTP/1.1 client on asyncio streams: the load generator shares the machine's two
    cores with the server, so it must cost far less per request than the server does.
    """
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if latencies is not None:
                latencies.append(time.perf_counter() - started)
                errors += status != 200
    finally:
        writer.close()
    return errors


async def _load(base: str, path: str, key: str, seconds: float) -> dict[str, Any]:
    host, port = base.removeprefix("http://").split(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {key}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    warm = time.perf_counter() + 2.0
    await asyncio.gather(
        *(_one_client(host, int(port), request, warm, None) for _ in range(CLIENTS))
    )
    started = time.perf_counter()
    errors = await asyncio.gather(
        *(
            _one_client(host, int(port), request, started + seconds, latencies)
            for _ in range(CLIENTS)
        )
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": sum(errors),
        "per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def run(quick: bool = False) -> list[Result]:
    tmp = Path(tempfile.mkdtemp(prefix="tagpulse-bench-api-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        key = build_home(tmp, 2 if quick else 14)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        server = subprocess.Popen(
            [sys.executable, "-m", "tagpulse", "serve", "--demo", "--home", str(tmp), "--port",
             str(port), "--rate", "100000000"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the API server did not start")
            time.sleep(0.1)
        seconds = 3.0 if quick else 15.0
        timeline_path = "/api/v1/workspaces/demo/timelines?interval=1h&since=7d"
        floor = asyncio.run(_load(base, "/api/v1/health", key, seconds))
        ours = asyncio.run(_load(base, timeline_path, key, seconds))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    details = {
        "clients": CLIENTS,
        "seconds": seconds,
        "timeline": ours,
        "health": floor,
        "p99_goal_ms": P99_GOAL_MS,
        "p99_goal_met": ours["p99_ms"] < P99_GOAL_MS and ours["errors"] == 0,
    }
    print(
        f"  timeline: {ours['per_s']:,.0f} req/s, p50 {ours['p50_ms']:.1f} ms, "
        f"p99 {ours['p99_ms']:.1f} ms, errors {ours['errors']}; health: {floor['per_s']:,.0f} "
        f"req/s, p99 {floor['p99_ms']:.1f} ms"
    )
    return [
        report(
            Result(
                name=NAME,
                value=ours["per_s"],
                baseline=floor["per_s"],
                ratio=ours["per_s"] / floor["per_s"],
                goal=GOAL,
                unit="requests/s",
                higher_is_better=True,
                baseline_name="/health at the same load",
                details=details,
            )
        )
    ]


if __name__ == "__main__":
    main(run)
