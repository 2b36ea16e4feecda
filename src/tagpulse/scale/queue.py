"""Collection tasks on a Redis queue (dramatiq's Redis broker): what a task is, how it is
scheduled exactly once per slot, and the Redis keys that make its snapshot exactly-once.

A task is one observation: ``(platform, tag, slot)``; its snapshot id is
:func:`tagpulse.lake.tables.snapshot_id` of the three, the same id the single collector uses.
Keys under ``<namespace>:``:

Per-snapshot keys expire after :data:`KEEP_S`; the ``scheduled`` set and ``done`` hash are a
log for monitoring and tests (``DEL`` them to trim).

* ``scheduled:<id>`` — set (NX) when the scheduler enqueues the slot: scheduling twice (two
  schedulers, a restart) enqueues once. ``scheduled`` (a set) lists every scheduled id.
* ``claim:<id>`` — the enqueued message's token, set (NX) by the worker that runs it. A message
  redelivered after its worker died carries the same token and takes the claim over; another
  message for the same slot backs off.
* ``done:<id>`` — set after the snapshot's Parquet file is renamed into place; a re-run sees it
  and does nothing. ``done`` (a hash) maps each id to its outcome; ``running`` each id in
  flight to its worker; ``takeovers`` counts re-runs of unfinished tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tagpulse.lake.tables import snapshot_id
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.scale.extras import dramatiq_module, redis_module

__all__ = [
    "ACTOR_NAME",
    "KEEP_S",
    "QUEUE_NAME",
    "QueueKeys",
    "SlotTask",
    "enqueue_slots",
    "make_broker",
    "redis_client",
    "slot_of",
]

QUEUE_NAME = "tagpulse-collect"
ACTOR_NAME = "collect_slot"


@dataclass(slots=True, frozen=True)
class SlotTask:
    platform: str
    tag: str
    slot: int  # epoch seconds of the schedule slot (clock time)

    @property
    def snapshot_id(self) -> str:
        return snapshot_id(self.platform, self.tag, utc_from_epoch(self.slot))


#: How long the per-snapshot keys live: far longer than any retry, so a slot is never run twice;
#: they then expire, so Redis holds about a day of slots (~400 bytes a slot).
KEEP_S = 86_400


@dataclass(slots=True, frozen=True)
class QueueKeys:
    namespace: str = "tagpulse"
    keep_s: int = KEEP_S

    def scheduled(self, sid: str) -> str:
        return f"{self.namespace}:scheduled:{sid}"

    @property
    def scheduled_set(self) -> str:
        return f"{self.namespace}:scheduled"

    def claim(self, sid: str) -> str:
        return f"{self.namespace}:claim:{sid}"

    def done(self, sid: str) -> str:
        return f"{self.namespace}:done:{sid}"

    @property
    def done_hash(self) -> str:
        return f"{self.namespace}:done"

    @property
    def running(self) -> str:
        """A hash: snapshot id -> the worker running it now."""
        return f"{self.namespace}:running"

    @property
    def workers(self) -> str:
        """A set: the ids of the workers consuming now (added once warmed up)."""
        return f"{self.namespace}:workers"

    @property
    def takeovers(self) -> str:
        """A counter: messages run again after a first run that did not finish (their worker
        died mid-task, or the task raised and the queue retried it)."""
        return f"{self.namespace}:takeovers"


def slot_of(now: float, interval_s: float) -> int:
    """The start of the schedule slot that contains ``now``."""
    return int(now // interval_s * interval_s)


def redis_client(url: str) -> Any:
    """A Redis client (``decode_responses``: keys and values come back as str)."""
    return redis_module().Redis.from_url(url, decode_responses=True)


def make_broker(
    url: str,
    *,
    heartbeat_timeout_ms: int = 60_000,
    maintenance_chance: int | None = None,
    namespace: str = "tagpulse-dramatiq",
) -> Any:
    """dramatiq's Redis broker. A worker that sends no heartbeat for ``heartbeat_timeout_ms``
    is dead: queue maintenance (run on ``maintenance_chance`` in a million commands; default:
    every command, so a dead worker's messages come back promptly) puts its unacknowledged
    messages back on the queue for the others."""
    dramatiq_module()
    from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

    broker_class: Any = RedisBroker  # untyped library class
    broker = broker_class(
        url=url,
        namespace=namespace,
        heartbeat_timeout=heartbeat_timeout_ms,
        maintenance_chance=MAINTENANCE_SCALE if maintenance_chance is None else maintenance_chance,
    )
    broker.declare_queue(QUEUE_NAME)
    return broker


def enqueue_slots(
    broker: Any, client: Any, tasks: Iterable[SlotTask], *, keys: QueueKeys | None = None
) -> int:
    """Enqueue each task whose slot was not scheduled before; returns how many were."""
    from dramatiq import Message

    k = keys or QueueKeys()
    enqueued = 0
    for task in tasks:
        sid = task.snapshot_id
        if not client.set(k.scheduled(sid), "1", nx=True, ex=k.keep_s):
            continue
        client.sadd(k.scheduled_set, sid)
        token = uuid.uuid4().hex
        broker.enqueue(
            Message(
                queue_name=QUEUE_NAME,
                actor_name=ACTOR_NAME,
                args=(task.platform, task.tag, task.slot, token),
                kwargs={},
                options={},
            )
        )
        enqueued += 1
    return enqueued
