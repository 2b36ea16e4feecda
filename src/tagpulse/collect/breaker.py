"""Per-account circuit breaker: cool down with exponential backoff and jitter after trouble."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tagpulse.errors import (
    CheckpointRequired,
    LoginRequired,
    PlatformError,
    RateLimited,
    TransportError,
)

__all__ = ["BackoffPolicy", "Breaker", "trips_breaker"]


def trips_breaker(error: PlatformError) -> bool:
    """Errors that mean "this account (or its IP) must stop for a while"."""
    return isinstance(error, RateLimited | LoginRequired | CheckpointRequired | TransportError)


@dataclass(slots=True, frozen=True)
class BackoffPolicy:
    """Base cool-down per kind of trouble, doubled per consecutive failure, capped, jittered."""

    rate_limited_s: float = 900.0
    login_s: float = 1800.0
    checkpoint_s: float = 3600.0
    transport_s: float = 120.0
    cap_s: float = 6 * 3600.0
    jitter: float = 0.2

    def base_for(self, error: PlatformError) -> float:
        if isinstance(error, CheckpointRequired):
            return self.checkpoint_s
        if isinstance(error, LoginRequired):
            return self.login_s
        if isinstance(error, RateLimited):
            return self.rate_limited_s
        return self.transport_s


@dataclass(slots=True)
class Breaker:
    """State of one account: ``ok`` or ``cooling`` until a time."""

    policy: BackoffPolicy
    rng: random.Random
    failures: int = 0
    cooldown_until: float | None = None
    last_error: str | None = None

    @property
    def state(self) -> str:
        return "cooling" if self.cooldown_until is not None else "ok"

    def usable(self, now: float) -> bool:
        if self.cooldown_until is None:
            return True
        return now >= self.cooldown_until

    def trip(self, error: PlatformError, now: float) -> float:
        """Open the breaker; returns the cool-down length in clock seconds."""
        self.failures += 1
        base = self.policy.base_for(error) * 2.0 ** (self.failures - 1)
        length = min(self.policy.cap_s, base)
        length *= 1 + self.rng.uniform(0, self.policy.jitter)
        self.cooldown_until = now + length
        self.last_error = f"{type(error).__name__}: {error}"
        return length

    def succeed(self) -> None:
        self.failures = 0
        self.cooldown_until = None
        self.last_error = None
