"""One worker's task logic in process, on a real Redis and the sandbox: idempotent re-runs,
duplicate messages, a crash between the lake write and the done mark, and the scheduler CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tagpulse.cli.scale import app as scale_app
from tagpulse.collect.accounts import AccountSpec
from tagpulse.config import Settings
from tagpulse.errors import RateLimited
from tagpulse.platforms.sandbox.clock import SteppedClock
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.world import HOUR, World, default_accounts
from tagpulse.scale.local import LocalRedis
from tagpulse.scale.queue import QueueKeys, SlotTask, redis_client
from tagpulse.scale.worker import SlotCollector


@pytest.fixture
def rig(local_redis: LocalRedis, tmp_path: Path) -> Iterator[tuple[SlotCollector, SandboxServer]]:
    world = World(seed=7, accounts=default_accounts(2))
    clock = SteppedClock(world.start + 2 * HOUR)
    with SandboxServer(world, clock) as server:
        home = tmp_path / "home"
        settings = Settings(home=home, instagram_base_url=server.base_url, sandbox=True)
        rate = world.accounts[0].refill_per_hour * 0.95
        specs = [
            AccountSpec(a.alias, a.session_id, requests_per_hour=rate, burst=a.capacity)
            for a in world.accounts
        ]
        collector = SlotCollector(
            client=redis_client(local_redis.url), settings=settings, specs=specs, clock=clock
        )
        yield collector, server


def _rows(collector: SlotCollector) -> list[dict[str, object]]:
    folder = collector.settings.lake_dir / "tables" / "hashtag_snapshots"
    return [r for f in sorted(folder.rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_a_task_runs_once_whatever_is_redelivered(
    rig: tuple[SlotCollector, SandboxServer],
) -> None:
    collector, server = rig
    task = SlotTask("instagram", "nike", 1_800_000_000)
    assert collector.run(task, "token-a") == "ok"
    assert collector.run(task, "token-a") == "done_before"  # redelivered after it finished
    other = SlotTask("instagram", "paris", 1_800_000_000)
    collector.redis.set(QueueKeys().claim(other.snapshot_id), "token-x")
    assert collector.run(other, "token-b") == "claimed_elsewhere"  # a twin message owns it
    rows = _rows(collector)
    assert [r["snapshot_id"] for r in rows] == ["instagram:nike:1800000000"]
    served = [r for r in server.request_log() if r.outcome == "ok"]
    assert len(served) == 1 and rows[0]["post_count"] == served[0].media_count


def test_a_crash_after_the_write_replaces_the_file_on_rerun(
    rig: tuple[SlotCollector, SandboxServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    collector, server = rig
    task = SlotTask("instagram", "adidas", 1_800_000_900)
    real_finish = collector._finish

    def crash(sid: str, outcome: str) -> str:
        raise RuntimeError("killed between the lake write and the done mark")

    monkeypatch.setattr(collector, "_finish", crash)
    with pytest.raises(RuntimeError):
        collector.run(task, "token-c")
    assert len(_rows(collector)) == 1
    monkeypatch.setattr(collector, "_finish", real_finish)
    assert collector.run(task, "token-c") == "ok"  # the same message, redelivered
    rows = _rows(collector)
    assert len(rows) == 1  # replaced, not added
    assert int(collector.redis.get(QueueKeys().takeovers)) == 1
    served = [r for r in server.request_log() if r.outcome == "ok"]
    assert len(served) == 2 and rows[0]["post_count"] == served[-1].media_count


def test_a_throttled_account_rests_for_everyone_and_another_serves(
    rig: tuple[SlotCollector, SandboxServer],
) -> None:
    collector, server = rig
    first = collector.specs[0].alias
    collector.limits.rest(first, RateLimited("429"), collector.clock.time())
    for k in range(3):
        collector.run(SlotTask("instagram", "puma", 1_800_000_000 + 900 * k), f"t{k}")
    assert {r.account for r in server.request_log()} == {collector.specs[1].alias}


def test_schedule_once_enqueues_each_slot_once(local_redis: LocalRedis, tmp_path: Path) -> None:
    tags = tmp_path / "tags.txt"
    tags.write_text("#Nike\nparis\n@someone\n")
    args = ["schedule", str(tags), "--redis", local_redis.url, "--every", "15m", "--once"]
    args += ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    first = runner.invoke(scale_app, args)
    assert first.exit_code == 0, first.output
    assert "2 tasks enqueued" in first.output
    second = runner.invoke(scale_app, args)
    assert "0 tasks enqueued" in second.output
    client = redis_client(local_redis.url)
    ids = sorted(client.smembers(QueueKeys().scheduled_set))
    assert [i.rsplit(":", 1)[0] for i in ids] == ["instagram:nike", "instagram:paris"]
    slot = int(ids[0].rsplit(":", 1)[1])
    assert slot % 900 == 0
    assert client.llen("tagpulse-dramatiq:tagpulse-collect") == 2  # dramatiq's queue list
