"""The global token buckets and shared cool-downs in a real Redis (no workers)."""

from __future__ import annotations

import threading

from tagpulse.collect.breaker import BackoffPolicy
from tagpulse.errors import RateLimited
from tagpulse.scale.limits import Budget, GlobalLimits
from tagpulse.scale.local import LocalRedis
from tagpulse.scale.queue import redis_client


def test_bucket_never_grants_more_than_its_budget_to_concurrent_takers(
    local_redis: LocalRedis,
) -> None:
    # 8 threads with their own connections hammer one bucket at a frozen time: capacity 5
    # with headroom 0.1 grants exactly 4 (the 5th would leave less than 1.1 before it).
    budget = Budget("account:a", capacity=5, per_hour=3600)
    granted: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        limits = GlobalLimits(redis_client(local_redis.url))
        n = sum(1 for _ in range(20) if limits.try_take("a", [budget], 1000.0) == 0.0)
        with lock:
            granted.append(n)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 4
    limits = GlobalLimits(redis_client(local_redis.url))
    # 1 token/s: after 10 s the bucket is full again (capped at 5): 4 more with headroom.
    wait = limits.try_take("a", [budget], 1000.0)
    assert 0.0 < wait <= 1.2
    assert sum(1 for _ in range(10) if limits.try_take("a", [budget], 1010.0) == 0.0) == 4


def test_every_budget_of_a_request_must_grant(local_redis: LocalRedis) -> None:
    limits = GlobalLimits(redis_client(local_redis.url))
    account = Budget("account:a", capacity=100, per_hour=3600)
    route = Budget("route:r", capacity=3, per_hour=0)
    taken = sum(1 for _ in range(10) if limits.try_take("a", [account, route], 0.0) == 0.0)
    assert taken == 2  # the route's 3 tokens with headroom allow 2; the account had plenty
    assert limits.try_take("a", [account, route], 0.0) == float("1e18")
    # A refused request took nothing from the account's bucket either.
    assert sum(1 for _ in range(200) if limits.try_take("a", [account], 0.0) == 0.0) == 97


def test_a_rest_is_shared_and_backs_off(local_redis: LocalRedis) -> None:
    policy = BackoffPolicy(rate_limited_s=100, jitter=0.0)
    one = GlobalLimits(redis_client(local_redis.url), policy=policy)
    two = GlobalLimits(redis_client(local_redis.url), policy=policy)
    budget = Budget("account:a", capacity=10, per_hour=3600)
    assert one.rest("a", RateLimited("429"), 50.0) == 100.0
    assert two.try_take("a", [budget], 60.0) == 90.0  # the other worker sees the rest
    assert two.rest("a", RateLimited("429"), 60.0) == 200.0  # consecutive: doubled
    assert one.resting_until("a") == 260.0
    assert one.rest("a", RateLimited("429"), -300.0) == 400.0  # ends at 100: earlier, so
    assert one.resting_until("a") == 260.0  # the longer rest stands
    one.succeeded("a")
    assert one.rest("a", RateLimited("429"), 1000.0) == 100.0  # success reset the count
    assert two.try_take("a", [budget], 1100.0) == 0.0
