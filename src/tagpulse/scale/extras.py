"""The ``scale`` extra's modules, imported on first use with a message naming the extra."""

from __future__ import annotations

from typing import Any

from tagpulse.extras import require

__all__ = ["dramatiq_module", "redis_module"]


def redis_module() -> Any:
    return require("redis", "scale")


def dramatiq_module() -> Any:
    require("dramatiq.brokers.redis", "scale")  # the Redis broker, with its redis client
    return require("dramatiq", "scale")
