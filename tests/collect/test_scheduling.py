"""Token buckets, breakers, the due-queue and account rotation."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tagpulse.collect.accounts import (
    AccountPool,
    AccountSpec,
    SecretBox,
    load_accounts_file,
    store_accounts,
    stored_accounts,
)
from tagpulse.collect.breaker import BackoffPolicy, Breaker
from tagpulse.collect.ratelimit import TokenBucket
from tagpulse.collect.schedule import Scheduler
from tagpulse.errors import (
    CheckpointRequired,
    ConfigError,
    InputError,
    RateLimited,
    TransportError,
)
from tagpulse.lake.catalog import Catalog


def test_token_bucket() -> None:
    bucket = TokenBucket(capacity=2, rate_per_s=0.5)
    assert bucket.try_take(0) and bucket.try_take(0)
    assert not bucket.try_take(0)
    assert bucket.wait_time(0) == pytest.approx(2.0)
    assert not bucket.try_take(1.9)
    assert bucket.try_take(2.0)
    assert bucket.available(100) == 2  # capped at capacity


def test_breaker_backoff_doubles_and_caps() -> None:
    policy = BackoffPolicy(rate_limited_s=100, cap_s=350, jitter=0.0)
    breaker = Breaker(policy=policy, rng=random.Random(1))
    lengths = [breaker.trip(RateLimited("429"), 0) for _ in range(4)]
    assert lengths == [100, 200, 350, 350]
    assert not breaker.usable(349) and breaker.usable(350)
    breaker.succeed()
    assert breaker.state == "ok" and breaker.failures == 0


def test_breaker_jitter_and_kinds() -> None:
    policy = BackoffPolicy(checkpoint_s=1000, transport_s=10, jitter=0.2)
    b = Breaker(policy=policy, rng=random.Random(3))
    length = b.trip(CheckpointRequired("checkpoint_required"), 0)
    assert 1000 <= length <= 1200
    b2 = Breaker(policy=policy, rng=random.Random(3))
    assert 10 <= b2.trip(TransportError("reset"), 0) <= 12


def test_scheduler_slots_and_restart() -> None:
    s = Scheduler(1800, jitter=0.0, seed=1)
    added, _ = s.sync([("instagram", "a"), ("instagram", "b")], {}, now=4000)
    assert len(added) == 2
    task = s.pop()
    assert task is not None and task.slot == 3600 and task.due == 4000
    nxt = s.done(task, now=4001)
    assert nxt is not None and nxt.slot == 5400
    # Restart with a checkpoint: next slot after the last one done.
    s2 = Scheduler(1800, jitter=0.0)
    s2.sync([("instagram", "a")], {("instagram", "a"): 3600.0}, now=4100)
    t2 = s2.pop()
    assert t2 is not None and t2.slot == 5400 and t2.due == 5400
    # Down for a day: missed slots are skipped, not back-filled.
    s3 = Scheduler(1800, jitter=0.0)
    s3.sync([("instagram", "a")], {("instagram", "a"): 3600.0}, now=90_500)
    t3 = s3.pop()
    assert t3 is not None and t3.slot == 90_000


def test_scheduler_retry_and_removal() -> None:
    s = Scheduler(1800, jitter=0.0)
    s.sync([("instagram", "a")], {}, now=0)
    task = s.pop()
    assert task is not None
    again, same = s.retry(task, now=10, delay_s=60)
    assert same and again is not None and again.due == 70 and again.attempts == 1
    s.pop()
    _, same = s.retry(again, now=1790, delay_s=60)
    assert not same  # the next slot is due by then
    s.sync([], {}, now=1800)
    assert s.peek() is None


def _pool(n: int) -> AccountPool:
    specs = [AccountSpec(f"a{i}", f"s{i}", requests_per_hour=3600, burst=1) for i in range(n)]
    return AccountPool.build(specs, lambda spec: None, BackoffPolicy(jitter=0), seed=1)


def test_pool_rotates_and_skips_cooling() -> None:
    pool = _pool(3)
    got = [pool.acquire(0)[0] for _ in range(3)]
    assert [a.alias for a in got if a] == ["a0", "a1", "a2"]
    account, wait = pool.acquire(0)
    assert account is None and wait == pytest.approx(1.0)
    pool.accounts[1].breaker.trip(RateLimited("429"), 0.5)
    picked = [pool.acquire(t)[0] for t in (1.0, 1.0, 1.0)]
    assert "a1" not in [a.alias for a in picked if a]
    assert not pool.all_cooling(1.0)
    for acc in pool.accounts:
        acc.breaker.trip(RateLimited("429"), 2.0)
    assert pool.all_cooling(2.0)
    account, wait = pool.acquire(2.0)
    assert account is None and wait > 800


def test_accounts_file_and_encrypted_storage(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[[account]]\nalias = "one"\nsessionid = "SECRET-SESSION"\nproxy = "socks5://u:p@h:1"\n'
        'requests_per_hour = 120\n\n[[account]]\nalias = "two"\nsessionid = "S2"\n'
        'source_address = "127.0.0.2"\n'
    )
    specs = load_accounts_file(path)
    assert [s.alias for s in specs] == ["one", "two"]
    assert "SECRET" not in repr(specs)
    catalog = Catalog(tmp_path / "catalog.sqlite")
    box = SecretBox("k" * 32)
    store_accounts(catalog, box, specs)
    raw = (tmp_path / "catalog.sqlite").read_bytes()
    wal = tmp_path / "catalog.sqlite-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert b"SECRET-SESSION" not in raw and b"u:p@h" not in raw
    back = stored_accounts(catalog, box, "instagram")
    assert back[0].session_id == "SECRET-SESSION" and back[0].proxy == "socks5://u:p@h:1"
    assert back[0].requests_per_hour == 120 and back[1].source_address == "127.0.0.2"
    with pytest.raises(ConfigError, match="TAGPULSE_SECRET_KEY changed"):
        stored_accounts(catalog, SecretBox("other" * 8), "instagram")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("not toml [", "not valid TOML"),
        ("", "no \\[\\[account\\]\\]"),
        ('[[account]]\nsessionid = "x"\n', "no alias"),
        ('[[account]]\nalias = "a"\nrequests_per_hour = -1\n', "requests_per_hour"),
        ('[[account]]\nalias = "a"\n[[account]]\nalias = "a"\n', "used twice"),
    ],
)
def test_accounts_file_errors(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        load_accounts_file(path)
    assert str(path) in str(err.value)
