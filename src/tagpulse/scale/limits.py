"""Rate limits shared by every worker: token buckets and account cool-downs in Redis.

Each account (and each route: a proxy or source address, when given a budget) has a bucket
``{tokens, updated}`` in clock seconds. One Lua script refills and takes from all the buckets a
request needs at once, atomically, so N workers together never take more than a bucket holds.
A cool-down (after a 429, a 401 "please wait", a checkpoint, a reset connection) is a key every
worker's script checks first: the account rests for every worker, with the same exponential
backoff as the single collector (:class:`~tagpulse.collect.breaker.BackoffPolicy`).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from tagpulse.collect.breaker import BackoffPolicy
from tagpulse.errors import PlatformError

__all__ = ["Budget", "GlobalLimits"]

#: KEYS[1]: the account's cool-down key; KEYS[2..]: bucket hashes.
#: ARGV: now, then capacity, rate_per_s, need for each bucket.
#: Returns {1, "0"} when a token was taken from every bucket, else {0, "<wait seconds>"}.
_TAKE = """
local now = tonumber(ARGV[1])
local rest = tonumber(redis.call('GET', KEYS[1]) or '-1')
if rest > now then return {0, tostring(rest - now)} end
local tokens = {}
local updated = {}
local wait = 0
for i = 2, #KEYS do
  local cap = tonumber(ARGV[3 * i - 4])
  local rate = tonumber(ARGV[3 * i - 3])
  local need = tonumber(ARGV[3 * i - 2])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'updated')
  local t = tonumber(state[1])
  local u = tonumber(state[2])
  if t == nil then t = cap; u = now end
  if now > u then t = math.min(cap, t + (now - u) * rate); u = now end
  tokens[i] = t
  updated[i] = u
  if t < need then
    local w = 1e18
    if rate > 0 then w = (need - t) / rate end
    if w > wait then wait = w end
  end
end
if wait > 0 then return {0, tostring(wait)} end
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], 'tokens', tostring(tokens[i] - 1), 'updated', tostring(updated[i]))
end
return {1, '0'}
"""

#: Extend a cool-down, never shorten it (another worker may have set a longer one).
_REST = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[1])
"""


@dataclass(slots=True, frozen=True)
class Budget:
    """A bucket: ``capacity`` requests at once, refilled at ``per_hour`` (clock time)."""

    key: str
    capacity: float
    per_hour: float

    def need(self, headroom: float) -> float:
        # A little more than one token, like the single collector's pool: the platform counts
        # the request a moment later than we do, so an exactly-empty bucket would overrun it.
        return 1.0 + min(headroom, max(0.0, self.capacity - 1.0))


def route_key(route: str) -> str:
    """A proxy URL may carry credentials: buckets are keyed by its hash, never the URL."""
    return "route:" + hashlib.sha256(route.encode()).hexdigest()[:16]


class GlobalLimits:
    """Token buckets and cool-downs in Redis under ``<namespace>:limits:…``."""

    def __init__(
        self,
        client: Any,
        *,
        namespace: str = "tagpulse",
        policy: BackoffPolicy | None = None,
        headroom: float = 0.1,
        seed: int | None = None,
    ) -> None:
        self.client = client
        self.prefix = f"{namespace}:limits"
        self.policy = policy or BackoffPolicy()
        self.headroom = headroom
        self._take = client.register_script(_TAKE)
        self._rest = client.register_script(_REST)
        self._rng = random.Random(seed)

    def _rest_key(self, alias: str) -> str:
        return f"{self.prefix}:rest:{alias}"

    def try_take(self, alias: str, budgets: list[Budget], now: float) -> float:
        """Take one token from every budget of ``alias``; 0.0 when taken, else the clock
        seconds to wait (the account rests, or a bucket is short)."""
        keys = [self._rest_key(alias)] + [f"{self.prefix}:bucket:{b.key}" for b in budgets]
        args: list[str] = [repr(now)]
        for b in budgets:
            args += [repr(b.capacity), repr(b.per_hour / 3600.0), repr(b.need(self.headroom))]
        granted, wait = self._take(keys=keys, args=args)
        return 0.0 if int(granted) == 1 else max(float(wait), 0.0)

    def rest(self, alias: str, error: PlatformError, now: float) -> float:
        """The account failed with ``error``: rest it for every worker; returns the length."""
        failures = int(self.client.hincrby(f"{self.prefix}:failures", alias, 1))
        length = min(self.policy.cap_s, self.policy.base_for(error) * 2.0 ** (failures - 1))
        length *= 1 + self._rng.uniform(0, self.policy.jitter)
        self._rest(keys=[self._rest_key(alias)], args=[repr(now + length)])
        self.client.hset(f"{self.prefix}:last_error", alias, f"{type(error).__name__}: {error}")
        return length

    def succeeded(self, alias: str) -> None:
        self.client.hdel(f"{self.prefix}:failures", alias)

    def resting_until(self, alias: str) -> float | None:
        value = self.client.get(self._rest_key(alias))
        return None if value is None else float(value)
