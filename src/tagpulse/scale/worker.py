"""The distributed collector's worker: runs collection tasks from the Redis queue.

One task = one hashtag observation with the single collector's client and parser. The account
is picked round-robin among those whose global bucket (:mod:`.limits`) grants a token; a
throttle or a login wall rests the account for every worker and the task tries another. The
snapshot is written to its own Parquet file named after its snapshot id (temp name, then
rename), then marked done in Redis: a task re-run after a crash before the mark replaces the
file rather than adding one, and a re-run after the mark does nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from tagpulse.collect.accounts import AccountSpec
from tagpulse.collect.breaker import BackoffPolicy, trips_breaker
from tagpulse.collect.build import make_client
from tagpulse.config import Settings
from tagpulse.errors import NotFound, PayloadError, PlatformError, TagpulseError
from tagpulse.lake.raw import RawArchive, content_hash
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.instagram.parse import parse_hashtag
from tagpulse.platforms.sandbox.clock import Clock, utc_from_epoch
from tagpulse.records import ParsedRecords, RawEnvelope
from tagpulse.scale.limits import Budget, GlobalLimits, route_key
from tagpulse.scale.queue import ACTOR_NAME, QUEUE_NAME, QueueKeys, SlotTask

__all__ = ["SlotCollector", "TaskFailed", "WorkerOptions", "run_worker", "snapshot_file_name"]

log = logging.getLogger(__name__)


class TaskFailed(TagpulseError):
    """No account could complete the task now; the queue retries it later."""


def snapshot_file_name(sid: str) -> str:
    """The Parquet file name (no suffix) of one snapshot: the same on every worker."""
    return "snap-" + hashlib.sha256(sid.encode()).hexdigest()[:24]


@dataclass(slots=True)
class WorkerOptions:
    worker_id: str = field(default_factory=lambda: f"w{os.getpid()}")
    max_attempts: int = 4
    #: Longest single wait for a token, in clock seconds, before the task goes back to the queue.
    max_wait_s: float = 3600.0
    tag_posts: bool = True
    #: A budget per route (proxy or source address) shared by its accounts; None: none.
    route_per_hour: float | None = None
    route_burst: float = 10.0
    namespace: str = "tagpulse"


class SlotCollector:
    """Runs one :class:`SlotTask` at a time (thread-safe: one client per account and thread)."""

    def __init__(
        self,
        *,
        client: Any,
        settings: Settings,
        specs: list[AccountSpec],
        clock: Clock,
        options: WorkerOptions | None = None,
        policy: BackoffPolicy | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.redis = client
        self.settings = settings
        self.specs = [s for s in specs if s.platform == "instagram"]
        if not self.specs:
            raise TagpulseError("the worker has no instagram account: load an accounts file")
        self.clock = clock
        self.options = options or WorkerOptions()
        self.keys = QueueKeys(self.options.namespace)
        self.limits = GlobalLimits(client, namespace=self.options.namespace, policy=policy)
        self.writer = LakeWriter(settings.lake_dir)
        self.archive = RawArchive(settings.lake_dir)
        self.stop = stop or threading.Event()
        self._local = threading.local()
        self._next = random.randrange(len(self.specs))
        self._lock = threading.Lock()

    # -- accounts ---------------------------------------------------------------------------
    def _budgets(self, spec: AccountSpec) -> list[Budget]:
        budgets = [Budget(f"account:{spec.alias}", spec.burst, spec.requests_per_hour)]
        route = spec.proxy or spec.source_address
        if route and self.options.route_per_hour:
            budgets.append(
                Budget(route_key(route), self.options.route_burst, self.options.route_per_hour)
            )
        return budgets

    def _client(self, spec: AccountSpec) -> Any:
        clients: dict[str, Any] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        if spec.alias not in clients:
            clients[spec.alias] = make_client(self.settings, spec, self.clock)
        return clients[spec.alias]

    def acquire(self) -> AccountSpec | None:
        """An account whose token was taken (waiting as long as it takes, up to
        ``max_wait_s`` per wait); None when stopped or the wait is too long."""
        n = len(self.specs)
        while not self.stop.is_set():
            with self._lock:
                start = self._next
                self._next = (self._next + 1) % n
            soonest = float("inf")
            now = self.clock.time()
            for offset in range(n):
                spec = self.specs[(start + offset) % n]
                wait = self.limits.try_take(spec.alias, self._budgets(spec), now)
                if wait == 0.0:
                    return spec
                soonest = min(soonest, wait)
            if soonest > self.options.max_wait_s:
                return None
            # Small steps: another worker's success may not free a token, but time does.
            self.clock.sleep(min(soonest, 60.0) + 0.01, self.stop)
        return None

    # -- one task -----------------------------------------------------------------------------
    def run(self, task: SlotTask, token: str) -> str:
        """Collect ``task`` (idempotent); returns its outcome: ok, not_found, quarantined,
        done_before or claimed_elsewhere. Raises :class:`TaskFailed` to be retried."""
        sid = task.snapshot_id
        if self.redis.exists(self.keys.done(sid)):
            return "done_before"
        if not self.redis.set(self.keys.claim(sid), token, nx=True, ex=self.keys.keep_s):
            holder = self.redis.get(self.keys.claim(sid))
            if holder != token:
                return "claimed_elsewhere"  # a duplicate message; its twin owns the slot
            # Our own claim: this message ran before and did not finish (its worker died, or
            # it raised and was retried): take over.
            self.redis.incr(self.keys.takeovers)
        self.redis.hset(self.keys.running, sid, self.options.worker_id)
        if task.platform != "instagram" or task.tag.startswith(("@", "p/")):
            return self._finish(sid, "unsupported")
        for _ in range(self.options.max_attempts):
            spec = self.acquire()
            if spec is None:
                break
            outcome = self._observe(task, sid, spec)
            if outcome is not None:
                return outcome
        self.redis.hdel(self.keys.running, sid)
        raise TaskFailed(f"{sid}: no account could collect it now; the queue retries it later")

    def _finish(self, sid: str, outcome: str) -> str:
        pipe = self.redis.pipeline()
        pipe.set(self.keys.done(sid), self.options.worker_id, ex=self.keys.keep_s)
        pipe.hset(self.keys.done_hash, sid, outcome)
        pipe.hdel(self.keys.running, sid)
        pipe.execute()
        return outcome

    def _observe(self, task: SlotTask, sid: str, spec: AccountSpec) -> str | None:
        try:
            response = self._client(spec).hashtag(task.tag)
        except NotFound:
            self.limits.succeeded(spec.alias)
            return self._finish(sid, "not_found")
        except PlatformError as error:
            if trips_breaker(error):
                length = self.limits.rest(spec.alias, error, self.clock.time())
                log.warning("%s: account %s rests %.0f s: %s", sid, spec.alias, length, error)
            else:
                log.warning("%s: %s", sid, error)
            return None
        now = self.clock.time()
        raw_id = content_hash(response.body)
        envelope = RawEnvelope(
            platform=task.platform,
            endpoint=response.endpoint,
            url=response.url,
            params={**response.params, "_watch": task.tag, "_slot": str(task.slot)},
            status=response.status,
            account=spec.alias,
            collected_at=utc_from_epoch(now),
            body=response.body,
            content_hash=raw_id,
        )
        try:
            parsed = parse_hashtag(
                response.body,
                tag=task.tag,
                collected_at=utc_from_epoch(now),
                account=spec.alias,
                raw_id=raw_id,
                posts=self.options.tag_posts,
            )
        except PayloadError as error:
            self.archive.write([envelope])
            log.warning("%s: answer quarantined: %s", sid, error)
            return self._finish(sid, "quarantined")
        envelope.body_is_json = True
        self.limits.succeeded(spec.alias)
        self.archive.write([envelope])
        # Posts first: a crash between the two re-writes them (readers keep one per row id);
        # the snapshot's own file is then renamed into place under its fixed name.
        if parsed.posts:
            self.writer.append_records(
                ParsedRecords(posts=parsed.posts, comments=parsed.comments, edges=parsed.edges)
            )
        self.writer.append_snapshots(
            [parsed.snapshot], [utc_from_epoch(task.slot)], part_name=snapshot_file_name(sid)
        )
        return self._finish(sid, "ok")


def run_worker(
    collector: SlotCollector,
    broker: Any,
    *,
    threads: int = 1,
    stop: threading.Event,
    max_retries: int = 20,
) -> None:
    """Consume the collection queue until ``stop`` is set (SIGTERM/SIGINT in the CLI)."""
    import dramatiq

    def collect_slot(platform: str, tag: str, slot: int, token: str) -> None:
        outcome = collector.run(SlotTask(platform, tag, int(slot)), token)
        log.info("%s:%s:%s: %s", platform, tag, slot, outcome)

    dramatiq.Actor(
        collect_slot,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        priority=0,
        options={"max_retries": max_retries, "min_backoff": 1000, "max_backoff": 60_000},
    )
    # One-off imports before the first task, not on its clock (an accelerated clock would
    # count them as simulated minutes).
    LakeWriter.warm_up()
    worker = dramatiq.Worker(broker, queues={QUEUE_NAME}, worker_threads=threads)
    worker.start()
    collector.redis.sadd(collector.keys.workers, collector.options.worker_id)
    try:
        stop.wait()
    finally:
        collector.redis.srem(collector.keys.workers, collector.options.worker_id)
        collector.stop.set()
        worker.stop()
        broker.close()
