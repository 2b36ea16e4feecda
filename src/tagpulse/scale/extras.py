"""The ``scale`` extra's modules, imported on first use with a message naming the extra."""

from __future__ import annotations

from typing import Any

from tagpulse.errors import MissingExtra

__all__ = ["dramatiq_module", "redis_module"]


def redis_module() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise MissingExtra("scale", "redis") from exc
    return redis


def dramatiq_module() -> Any:
    try:
        import dramatiq
        import dramatiq.brokers.redis
    except ImportError as exc:
        raise MissingExtra("scale", "dramatiq") from exc
    return dramatiq
