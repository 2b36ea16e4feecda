"""Token buckets in clock time (simulated or real)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TokenBucket"]


@dataclass(slots=True)
class TokenBucket:
    """``capacity`` tokens, refilled at ``rate_per_s``; starts full."""

    capacity: float
    rate_per_s: float
    tokens: float = field(default=-1.0)
    updated: float | None = None

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def _refill(self, now: float) -> None:
        if self.updated is None:
            self.updated = now
            return
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate_per_s)
            self.updated = now

    def available(self, now: float) -> float:
        self._refill(now)
        return self.tokens

    def try_take(self, now: float, amount: float = 1.0) -> bool:
        self._refill(now)
        if self.tokens >= amount:
            self.tokens -= amount
            return True
        return False

    def wait_time(self, now: float, amount: float = 1.0) -> float:
        """Clock seconds until ``amount`` tokens are available (0 if now)."""
        self._refill(now)
        missing = amount - self.tokens
        if missing <= 0:
            return 0.0
        if self.rate_per_s <= 0:
            return float("inf")
        return missing / self.rate_per_s
