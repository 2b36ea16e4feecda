"""Clocks: the real one, and an accelerated one shared by the sandbox and the collector.

An accelerated clock maps wall time to simulated time linearly:
``sim_now = sim_start + (time.time() - wall_anchor) * speed``. Two processes that hold the same
three numbers agree on simulated time, so the sandbox server and the collector can run apart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["AcceleratedClock", "Clock", "SteppedClock", "SystemClock", "utc_from_epoch"]


def utc_from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class Clock(Protocol):
    """Time as the collector and the sandbox see it (epoch seconds, UTC)."""

    @property
    def speed(self) -> float: ...

    def time(self) -> float: ...

    def now(self) -> datetime: ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Sleep ``seconds`` of clock time; return True if ``stop`` was set meanwhile."""
        ...


class SystemClock:
    """The real clock."""

    speed = 1.0

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return utc_from_epoch(self.time())

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if seconds <= 0:
            return bool(stop and stop.is_set())
        if stop is None:
            time.sleep(seconds)
            return False
        return stop.wait(seconds)


@dataclass(frozen=True, slots=True)
class AcceleratedClock:
    """Simulated time running ``speed`` times faster than the wall clock."""

    sim_start: float
    wall_anchor: float
    speed: float

    @classmethod
    def starting_now(cls, sim_start: float, speed: float) -> AcceleratedClock:
        return cls(sim_start=sim_start, wall_anchor=time.time(), speed=speed)

    def time(self) -> float:
        return self.sim_start + (time.time() - self.wall_anchor) * self.speed

    def now(self) -> datetime:
        return utc_from_epoch(self.time())

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        wall = max(0.0, seconds / self.speed)
        if stop is None:
            time.sleep(wall)
            return False
        return stop.wait(wall)

    def to_dict(self) -> dict[str, float]:
        return {"sim_start": self.sim_start, "wall_anchor": self.wall_anchor, "speed": self.speed}

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> AcceleratedClock:
        return cls(
            sim_start=float(data["sim_start"]),
            wall_anchor=float(data["wall_anchor"]),
            speed=float(data["speed"]),
        )


class SteppedClock:
    """Discrete-event time for tests and simulations in one process: time stands still until
    someone sleeps, and a sleep moves it forward at once. Nothing a stall does can skip a slot.
    """

    speed = float("inf")
    quantum = 1e-3

    def __init__(self, start: float) -> None:
        self._t = start
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._t

    def now(self) -> datetime:
        return utc_from_epoch(self.time())

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        # At epoch ~1.8e9 a float step is ~2e-7 s: a smaller sleep would not move time at all.
        with self._lock:
            self._t += max(self.quantum, seconds)
        return bool(stop and stop.is_set())

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)
