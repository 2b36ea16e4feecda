"""Budgets and injected faults of the sandbox's X and TikTok routes.

Instagram's data path (:meth:`SandboxServer.data`) knows web sessions and the app id; X and
TikTok identify callers differently, so their requests pass this gate instead, which gives them
the same kinds of trouble:

* **X**: ``Authorization: Bearer <token>`` of a registered app (``World.x_tokens``; by default
  ``sandbox-x-token-1`` … ``-3``, aliases ``x01`` … ``x03``), else 401. Each app has a window per
  endpoint, as X counts them: :data:`X_RATE_LIMITS` requests per 15 minutes, times
  ``Limits.x_rate_scale`` (rounded, at least 1). A window opens with the first request after
  the previous one closed; every answer to a known app carries ``x-rate-limit-limit``,
  ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (epoch seconds), and a request over the
  limit is answered 429 (and costs nothing).
* **TikTok**: anonymous web requests, one budget per client IP (``Limits.tiktok_ip_capacity``
  tokens, refilled at ``tiktok_ip_refill_per_hour`` of simulated time; apart from Instagram's
  per-IP budget). A request finding no token gets the captcha wall (HTTP 200, ``statusCode``
  10000) and costs nothing.
* **Faults**: :class:`FaultConfig`'s probabilities apply to every request here (drawn from the
  gate's own generator, seeded by ``FaultConfig.seed``, so the X and TikTok draws do not depend
  on Instagram's traffic), and :meth:`SandboxServer.script_faults` scripts them for an X app's
  alias or for ``"tiktok"`` (the next TikTok requests, whoever sends them). Faults come before
  budgets and cost none. What each fault looks like: :mod:`routes_x`, :mod:`routes_tiktok`.
"""

from __future__ import annotations

import math
import random
import threading
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from tagpulse.errors import ConfigError
from tagpulse.platforms.sandbox.payloads import FaultConfig
from tagpulse.platforms.sandbox.payloads_x import XTokenSpec
from tagpulse.platforms.sandbox.world import Limits, TokenBucket

if TYPE_CHECKING:
    from tagpulse.platforms.sandbox.server import SandboxServer

__all__ = [
    "TIKTOK",
    "X_RATE_LIMITS",
    "X_WINDOW_S",
    "Admission",
    "PlatformGate",
    "platform_gate",
]

X_RATE_LIMITS: Mapping[str, int] = {
    "tweets/counts/recent": 300,
    "tweets/search/recent": 450,
    "users/by": 300,
    "users/by/username": 300,
}
"""Requests per app and 15-minute window, as X documents them for app (bearer) auth."""
X_WINDOW_S = 900.0
TIKTOK = "tiktok"
"""The alias that scripts faults for TikTok requests."""


class Admission(NamedTuple):
    """What the gate decided: ``outcome`` is ok, unauthorized, throttled, captcha or
    ``fault:<kind>``; ``headers`` are X's rate-limit headers (empty for TikTok)."""

    alias: str | None
    outcome: str
    fault: str | None
    headers: dict[str, str]


@dataclass(slots=True)
class _Window:
    limit: int
    used: int = 0
    reset_at: float = -math.inf


@dataclass(slots=True)
class _Caller:
    requests: int = 0
    admitted: int = 0
    throttled: int = 0
    faults: int = 0
    script: deque[str] = field(default_factory=deque)
    windows: dict[str, _Window] = field(default_factory=dict)


@dataclass(slots=True)
class _Ip:
    bucket: TokenBucket
    requests: int = 0
    captchas: int = 0


class PlatformGate:
    """The X apps' windows, TikTok's per-IP buckets and the faults of both."""

    def __init__(
        self,
        x_tokens: Sequence[XTokenSpec],
        faults: FaultConfig,
        limits: Limits,
        reserved: Sequence[str] = (),
    ) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._rng = random.Random(f"tagpulse-sandbox:platform-faults:{faults.seed}")
        self._weights = faults.weighted_kinds()
        self._tokens: dict[str, XTokenSpec] = {}
        self._callers: dict[str, _Caller] = {TIKTOK: _Caller()}
        for spec in x_tokens:
            if spec.token in self._tokens or spec.alias in self._callers or spec.alias in reserved:
                raise ConfigError(
                    f"X app {spec.alias!r}: its alias or token is used twice (aliases must "
                    "differ from the Instagram accounts' and from 'tiktok')"
                )
            self._tokens[spec.token] = spec
            self._callers[spec.alias] = _Caller()
        self._ips: dict[str, _Ip] = {}
        self.unauthorized = 0

    def script_faults(self, alias: str, kinds: Sequence[str]) -> bool:
        """Queue faults (short names) for an X app or ``"tiktok"``; False for another alias."""
        with self._lock:
            caller = self._callers.get(alias)
            if caller is None:
                return False
            caller.script.extend(kinds)
            return True

    def _fault(self, caller: _Caller) -> str | None:
        if caller.script:
            return caller.script.popleft()
        if not any(p > 0 for _, p in self._weights):
            return None
        u = self._rng.random()
        for kind, p in self._weights:
            if u < p:
                return kind
            u -= p
        return None

    def x_limit(self, endpoint: str) -> int:
        return max(1, round(X_RATE_LIMITS[endpoint] * self.limits.x_rate_scale))

    def admit_x(self, token: str | None, endpoint: str, now: float) -> Admission:
        """Let an X request through, or say why not (see the module doc)."""
        spec = self._tokens.get(token) if token else None
        with self._lock:
            if spec is None:
                self.unauthorized += 1
                return Admission(None, "unauthorized", None, {})
            caller = self._callers[spec.alias]
            caller.requests += 1
            window = caller.windows.get(endpoint)
            if window is None:
                window = caller.windows[endpoint] = _Window(self.x_limit(endpoint))
            if now >= window.reset_at:
                window.used = 0
                window.reset_at = now + X_WINDOW_S
            fault = self._fault(caller)
            if fault is not None:
                caller.faults += 1
                outcome = f"fault:{fault}"
            elif window.used >= window.limit:
                caller.throttled += 1
                outcome = "throttled"
            else:
                window.used += 1
                caller.admitted += 1
                outcome = "ok"
            headers = {
                "x-rate-limit-limit": str(window.limit),
                "x-rate-limit-remaining": str(window.limit - window.used),
                "x-rate-limit-reset": str(math.ceil(window.reset_at)),
            }
        return Admission(spec.alias, outcome, fault, headers)

    def admit_tiktok(self, ip: str, now: float) -> Admission:
        """Let a TikTok request through, or say why not (see the module doc)."""
        with self._lock:
            caller = self._callers[TIKTOK]
            state = self._ips.get(ip)
            if state is None:
                limits = self.limits
                bucket = TokenBucket(
                    limits.tiktok_ip_capacity, limits.tiktok_ip_refill_per_hour, now
                )
                state = self._ips[ip] = _Ip(bucket)
            caller.requests += 1
            state.requests += 1
            fault = self._fault(caller)
            if fault is not None:
                caller.faults += 1
                outcome = f"fault:{fault}"
            elif not state.bucket.take(now):
                caller.throttled += 1
                state.captchas += 1
                outcome = "captcha"
            else:
                caller.admitted += 1
                outcome = "ok"
        return Admission(None, outcome, fault, {})

    def stats(self, now: float) -> dict[str, Any]:
        """Requests, admissions, throttles and faults per X app and for TikTok; X windows and
        TikTok's per-IP tokens as of ``now``."""
        with self._lock:
            callers = {
                alias: {
                    "requests": c.requests,
                    "admitted": c.admitted,
                    "throttled": c.throttled,
                    "faults": c.faults,
                    "windows": {
                        endpoint: {
                            "limit": w.limit,
                            "remaining": w.limit - w.used if now < w.reset_at else w.limit,
                            "reset_at": w.reset_at,
                        }
                        for endpoint, w in c.windows.items()
                    },
                }
                for alias, c in self._callers.items()
            }
            ips = {
                ip: {
                    "requests": s.requests,
                    "captchas": s.captchas,
                    "tokens": s.bucket.available(now),
                }
                for ip, s in self._ips.items()
            }
        tiktok = callers.pop(TIKTOK)
        tiktok.pop("windows")
        return {
            "x": callers,
            "x_unauthorized": self.unauthorized,
            "tiktok": tiktok | {"ips": ips},
        }


_GATES: weakref.WeakKeyDictionary[SandboxServer, PlatformGate] = weakref.WeakKeyDictionary()
_GATES_LOCK = threading.Lock()


def platform_gate(app: SandboxServer) -> PlatformGate:
    """The gate of a server (made on first use from its world, faults and limits)."""
    with _GATES_LOCK:
        gate = _GATES.get(app)
        if gate is None:
            reserved = [account.alias for account in app.world.accounts]
            gate = _GATES[app] = PlatformGate(app.world.x_tokens, app.faults, app.limits, reserved)
        return gate
