"""The resumable collection loop.

One request at a time: take the next due observation, pick a usable account (token bucket and
breaker), ask, archive the raw answer, parse it, buffer the snapshot. Buffers are flushed (raw
archive, then Parquet, then the catalog's checkpoint) every few snapshots, before sleeping, and
on stop. A snapshot is acknowledged only once its Parquet file is renamed into place, so a
``kill -9`` at any moment loses nothing acknowledged; a slot observed again after a crash has
the same snapshot id and readers keep one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from tagpulse.collect.account_tasks import AccountObserver
from tagpulse.collect.accounts import Account, AccountPool, PoolSet
from tagpulse.collect.breaker import trips_breaker
from tagpulse.collect.media_fetch import MediaFetcher, wanted_avatars, wanted_images
from tagpulse.collect.platform_tasks import TagObserver
from tagpulse.collect.schedule import Scheduler, Task
from tagpulse.collect.watchlist import Watchlist
from tagpulse.errors import InputError, NotFound, PayloadError, PlatformError
from tagpulse.lake.catalog import Catalog, CursorRow
from tagpulse.lake.catalog_privacy import subject_ref
from tagpulse.lake.raw import RawArchive, content_hash
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.instagram.client import HashtagEndpoint, Response
from tagpulse.platforms.instagram.parse import parse_hashtag
from tagpulse.platforms.sandbox.clock import Clock, utc_from_epoch
from tagpulse.records import (
    Event,
    EventLevel,
    HashtagSnapshot,
    ParsedRecords,
    Post,
    Profile,
    RawEnvelope,
)

__all__ = ["Collector", "CollectorOptions", "Reporter", "RunStats"]


def _label(task: Task) -> str:
    """How a person names a watchlist entry: ``#tag``, ``@handle`` or ``p/<shortcode>``."""
    return task.tag if task.tag.startswith(("@", "p/")) else f"#{task.tag}"


class Reporter(Protocol):
    def snapshot(self, snapshot: HashtagSnapshot, warnings: list[str]) -> None: ...

    def profile(self, profile: Profile, posts: int, warnings: list[str]) -> None: ...

    def event(self, event: Event) -> None: ...

    def sleeping(self, seconds: float, reason: str) -> None: ...

    def flushed(self, snapshots: int) -> None: ...


class _NullReporter:
    def snapshot(self, snapshot: HashtagSnapshot, warnings: list[str]) -> None:
        pass

    def profile(self, profile: Profile, posts: int, warnings: list[str]) -> None:
        pass

    def event(self, event: Event) -> None:
        pass

    def sleeping(self, seconds: float, reason: str) -> None:
        pass

    def flushed(self, snapshots: int) -> None:
        pass


@dataclass(slots=True)
class CollectorOptions:
    interval_s: float = 1800.0
    endpoint: HashtagEndpoint = "web_info"
    jitter: float = 0.1
    retry_delay_s: float = 60.0
    max_attempts: int = 4
    flush_every: int = 200
    flush_wall_s: float = 5.0
    watch_check_wall_s: float = 1.0
    max_wall_sleep_s: float = 1.0
    once: bool = False
    until: float | None = None
    seed: int | None = None
    #: An account's pass reads its posts up to this many (the profile answer holds 12) ...
    max_posts: int = 12
    #: ... and no further back than this (UTC epoch seconds).
    posts_since: float | None = None
    #: Per account and pass, read up to this many followers and as many followed accounts.
    followers: int = 0
    #: Per account and pass, read the first comments page of this many newest posts ...
    comments_posts: int = 0
    #: ... up to this many comments pages each (24 a page, newest first) ...
    comment_pages: int = 1
    #: ... and who liked this many newest posts.
    likers_posts: int = 0
    #: Store a tag's top and recent posts as ``posts`` rows (``--no-tag-posts``: counts only).
    tag_posts: bool = True
    #: Fetch the images of accounts' posts and the accounts' profile pictures into the media
    #: store (``--no-media``: off).
    media: bool = True


@dataclass(slots=True)
class RunStats:
    requests: int = 0
    snapshots: int = 0
    acknowledged: int = 0
    throttles: int = 0
    failures: int = 0
    warnings: int = 0
    quarantined: int = 0
    slots_missed: int = 0
    #: Files downloaded into the media store: post images (profile pictures are counted apart).
    media_stored: int = 0
    #: Profile pictures downloaded into the media store (a known URL is not downloaded again).
    avatars_stored: int = 0
    per_account: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Pending:
    snapshots: list[HashtagSnapshot] = field(default_factory=list)
    slots: list[datetime] = field(default_factory=list)
    raw: dict[str, RawEnvelope] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    done: list[tuple[str, str, float, float, int | None, float]] = field(default_factory=list)
    records: ParsedRecords = field(default_factory=ParsedRecords)
    cursors: dict[tuple[str, str], CursorRow | None] = field(default_factory=dict)
    #: The profiles of the accounts observed (an account pass's own profile, not the accounts
    #: seen in its lists), whose pictures go to the media store at the flush.
    avatars: list[Profile] = field(default_factory=list)


class Collector:
    """Collects hashtag snapshots for a watchlist until stopped (or once, or until a time)."""

    def __init__(
        self,
        *,
        watchlist: Watchlist,
        pool: AccountPool | PoolSet,
        catalog: Catalog,
        writer: LakeWriter,
        archive: RawArchive,
        clock: Clock,
        options: CollectorOptions,
        reporter: Reporter | None = None,
        stop: threading.Event | None = None,
        media_dir: Path | None = None,
    ) -> None:
        self.watchlist = watchlist
        self.pool = pool if isinstance(pool, PoolSet) else PoolSet({"instagram": pool})
        self._no_pool_reported: set[tuple[str, str]] = set()
        self.catalog = catalog
        self.writer = writer
        self.archive = archive
        self.clock = clock
        self.options = options
        self.reporter: Reporter = reporter or _NullReporter()
        self.stop = stop or threading.Event()
        self.scheduler = Scheduler(options.interval_s, jitter=options.jitter, seed=options.seed)
        self.stats = RunStats()
        self._pending = _Pending()
        self._last_flush = time.monotonic()
        self._last_watch_check = time.monotonic()
        self._once_left: set[tuple[str, str]] = set()
        self.on_acknowledged: Callable[[int], None] | None = None
        self._accounts = AccountObserver(self)
        self.media = MediaFetcher(media_dir) if (options.media and media_dir) else None
        self._tags = TagObserver(self)
        self._compacted_before: str | None = None

    # -- events -------------------------------------------------------------------------------
    def _event(
        self,
        level: EventLevel,
        kind: str,
        message: str,
        *,
        task: Task | None = None,
        account: str | None = None,
        raw_id: str | None = None,
        now_db: bool = False,
    ) -> None:
        event = Event(
            at=self.clock.now(),
            level=level,
            kind=kind,
            message=message,
            platform=task.platform if task else None,
            tag=task.tag if task else None,
            account=account,
            raw_id=raw_id,
        )
        if level == "warning":
            self.stats.warnings += 1
        self.reporter.event(event)
        if now_db:
            self.catalog.add_events([event])
        else:
            self._pending.events.append(event)

    # -- watchlist ----------------------------------------------------------------------------
    def _sync_watchlist(self, first: bool = False) -> None:
        if first:
            entries = self.watchlist.load()
        else:
            try:
                if not self.watchlist.reload_if_changed():
                    return
            except InputError as exc:
                self._event("error", "watchlist_invalid", f"{exc}; keeping the previous list")
                return
            entries = self.watchlist.entries
        for entry in entries:
            self.catalog.ensure_schedule(entry.platform, entry.tag, self.options.interval_s)
        last = {(s.platform, s.tag): s.last_slot for s in self.catalog.schedules()}
        keys = [(e.platform, e.tag) for e in entries]
        added, removed = self.scheduler.sync(keys, last, self.clock.time())
        if first and self.options.once:
            self._once_left = set(keys)
        if not first and (added or removed):
            self._event(
                "info",
                "watchlist_reloaded",
                f"watchlist changed: +{len(added)} -{len(removed)} "
                f"({', '.join('#' + t for _, t in added) or 'none added'})",
            )

    # -- one request ---------------------------------------------------------------------------
    def _archive(
        self,
        response: Response | None,
        error: PlatformError | None,
        account: Account,
        task: Task,
        now: float | None = None,
    ) -> str | None:
        """Buffer the raw answer; ``now`` is the collection time the parser is given too, so a
        reparse of the envelope reproduces the same ``collected_at``."""
        body = response.body if response is not None else (error.body if error else None)
        if body is None:
            return None
        status = response.status if response is not None else (error.status if error else 0)
        url = response.url if response is not None else (error.url if error else "") or ""
        params = dict(response.params) if response is not None else {"tag_name": task.tag}
        # What the request was for, so `tagpulse reparse` can rebuild the same rows (a
        # snapshot's id is its schedule slot) without the schedule.
        params["_watch"] = task.tag
        params["_slot"] = str(int(task.slot))
        if task.user_id is not None:
            params["_user_id"] = task.user_id
        raw_id = content_hash(body)
        if raw_id not in self._pending.raw:
            self._pending.raw[raw_id] = RawEnvelope(
                platform=task.platform,
                endpoint=response.endpoint if response is not None else self.options.endpoint,
                url=url,
                params=dict(params),
                status=status or 0,
                account=account.alias,
                collected_at=utc_from_epoch(now) if now is not None else self.clock.now(),
                body=body,
                content_hash=raw_id,
            )
        return raw_id

    def _observe(self, task: Task, account: Account) -> None:
        self.stats.requests += 1
        self.stats.per_account[account.alias] = self.stats.per_account.get(account.alias, 0) + 1
        if task.platform != "instagram":
            self._tags.observe(task, account)
            return
        if task.tag.startswith("@"):
            self._accounts.observe(task, account)
            return
        if task.tag.startswith("p/"):
            self._accounts.observe_post(task, account)
            return
        try:
            response = account.client.hashtag(task.tag, self.options.endpoint)
        except PlatformError as error:
            self._archive(None, error, account, task)
            self._failed(task, account, error)
            return
        now = self.clock.time()
        collected = utc_from_epoch(now)
        raw_id = self._archive(response, None, account, task, now)
        try:
            parsed = parse_hashtag(
                response.body,
                tag=task.tag,
                collected_at=collected,
                account=account.alias,
                raw_id=raw_id,
                posts=self.options.tag_posts,
            )
        except PayloadError as error:
            self.quarantine(task, account, response, raw_id, error, now)
            return
        self.succeeded(account, now, raw_id)
        self.payload_warnings(task, account, parsed.warnings, raw_id)
        snapshot = parsed.snapshot
        self._pending.snapshots.append(snapshot)
        self._pending.slots.append(utc_from_epoch(task.slot))
        # The tag's top and recent posts are posts too: a tracked tag builds a post history.
        self._pending.records.posts += parsed.posts
        self._pending.records.comments += parsed.comments
        self._pending.records.edges += parsed.edges
        self.slot_done(task, now, snapshot.post_count)
        self.reporter.snapshot(snapshot, parsed.warnings)

    # -- pieces shared by every kind of observation -------------------------------------------
    def quarantine(
        self,
        task: Task,
        account: Account,
        response: Response,
        raw_id: str | None,
        error: PayloadError,
        now: float,
    ) -> None:
        self.stats.quarantined += 1
        self.catalog.quarantine(
            source=f"{task.platform}:{response.endpoint}",
            reason=str(error),
            at=utc_from_epoch(now),
            raw_id=raw_id,
            location=response.url,
        )
        self._event(
            "warning",
            "quarantined",
            f"{_label(task)}: answer quarantined: {error}",
            task=task,
            account=account.alias,
            raw_id=raw_id,
        )
        self._retry(task, now)

    def succeeded(self, account: Account, now: float, raw_id: str | None) -> None:
        if raw_id is not None and raw_id in self._pending.raw:
            # Parsed, so valid JSON: the archive can embed it as it is.
            self._pending.raw[raw_id].body_is_json = True
        if account.breaker.failures:
            self._event(
                "info",
                "breaker_closed",
                f"account {account.alias} is serving again",
                account=account.alias,
            )
        account.breaker.succeed()
        self._persist_account(account, now)

    def payload_warnings(
        self, task: Task, account: Account, warnings: list[str], raw_id: str | None
    ) -> None:
        for warning in warnings:
            self._event(
                "warning",
                "payload_warning",
                f"{_label(task)}: {warning}",
                task=task,
                account=account.alias,
                raw_id=raw_id,
            )

    def slot_done(self, task: Task, now: float, count: int | None) -> None:
        """The slot's observation is complete: acknowledge it at the next flush."""
        nxt = self.scheduler.done(task, now)
        self._pending.done.append(
            (task.platform, task.tag, task.slot, now, count, nxt.due if nxt else float("nan"))
        )
        self.stats.snapshots += 1
        self._once_left.discard(task.key)

    def _persist_account(self, account: Account, now: float) -> None:
        b = account.breaker
        state = "ok" if b.cooldown_until is None else "cooling"
        self.catalog.set_account_state(
            account.alias, state, b.cooldown_until, b.failures, b.last_error, now
        )

    def _failed(self, task: Task, account: Account, error: PlatformError) -> None:
        now = self.clock.time()
        if isinstance(error, NotFound) and task.tag.startswith("@"):
            # A deleted (or never existing) account is an observation, not a failure.
            self._event(
                "info",
                "account_not_found",
                f"{_label(task)}: {error}",
                task=task,
                account=account.alias,
            )
            self._accounts.not_found(task, error)
            self.slot_done(task, now, None)
            return
        if isinstance(error, NotFound):
            self._event(
                "warning",
                "not_found",
                f"{_label(task)}: {error}",
                task=task,
                account=account.alias,
            )
            self.stats.failures += 1
            self.scheduler.done(task, now)
            self._once_left.discard(task.key)
            return
        if trips_breaker(error):
            self.stats.throttles += 1
            length = account.breaker.trip(error, now)
            self._persist_account(account, now)
            self._event(
                "warning",
                "breaker_open",
                f"account {account.alias} cooling for {length / 60:.0f} min after "
                f"{type(error).__name__}: {error}",
                task=task,
                account=account.alias,
                now_db=True,
            )
        else:
            self.stats.failures += 1
            self._event(
                "warning",
                "request_failed",
                f"{_label(task)}: {error}",
                task=task,
                account=account.alias,
            )
        self._retry(task, now)

    def _retry(self, task: Task, now: float) -> None:
        if task.attempts + 1 >= self.options.max_attempts:
            self.stats.slots_missed += 1
            self._event(
                "warning",
                "slot_missed",
                f"{_label(task)}: gave up on this slot after {task.attempts + 1} attempts",
                task=task,
            )
            self.scheduler.done(task, now)
            self._once_left.discard(task.key)
            return
        _, same_slot = self.scheduler.retry(task, now, self.options.retry_delay_s)
        if not same_slot:
            self.stats.slots_missed += 1
            self._event(
                "warning",
                "slot_missed",
                f"{_label(task)}: slot at {utc_from_epoch(task.slot):%Y-%m-%d %H:%M} missed",
                task=task,
            )
            self._once_left.discard(task.key)

    # -- flushing ------------------------------------------------------------------------------
    def flush(self) -> int:
        """Write buffers to the lake and acknowledge them in the catalog."""
        pending = self._pending
        if not (
            pending.snapshots
            or pending.raw
            or pending.events
            or pending.done
            or pending.records.count()
            or pending.cursors
        ):
            self._last_flush = time.monotonic()
            return 0
        if pending.raw:
            known = self.catalog.known_raw(list(pending.raw))
            fresh = [env for h, env in pending.raw.items() if h not in known]
            written = self.archive.write(fresh)
            self.catalog.index_raw(
                [
                    (
                        h,
                        str(path),
                        pending.raw[h].platform,
                        pending.raw[h].endpoint,
                        pending.raw[h].collected_at.timestamp(),
                    )
                    for h, path in written.items()
                ]
            )
        if pending.snapshots:
            self.writer.append_snapshots(pending.snapshots, pending.slots)
            today = pending.slots[-1].strftime("%Y-%m-%d")
            if self._compacted_before is not None and today > self._compacted_before:
                # A day is complete: merge its many small files (and any older leftovers).
                self.writer.compact(before_date=today)
            self._compacted_before = today
        if pending.records.count():
            self.writer.append_records(pending.records)
            if self.media is not None:
                self._fetch_media(pending.records.posts, pending.avatars)
        if pending.cursors:
            self.catalog.save_cursors(
                [(p, k, row) for (p, k), row in pending.cursors.items()], self.clock.now()
            )
        self.catalog.add_events(pending.events)
        self.catalog.acknowledge(pending.done)
        count = len(pending.done)
        self.stats.acknowledged += count
        self._pending = _Pending()
        self._last_flush = time.monotonic()
        self.reporter.flushed(count)
        if self.on_acknowledged is not None:
            self.on_acknowledged(count)
        return count

    def _fetch_media(self, posts: list[Post], profiles: list[Profile]) -> None:
        assert self.media is not None
        # Profile pictures first: one per account pass, so a long backlog of post images can
        # not starve them out of the per-flush budget.
        wants = wanted_avatars(profiles) + wanted_images(posts)
        outcome = self.media.fetch(wants, self.clock.time(), self.clock.now)
        self.stats.media_stored += outcome.stored - outcome.avatars_stored
        self.stats.avatars_stored += outcome.avatars_stored
        for url, reason in outcome.failed:
            self._event("warning", "media_failed", f"image {url}: {reason}", now_db=True)
        if outcome.deferred:
            self._event(
                "info",
                "media_deferred",
                f"{outcome.deferred} images left for a later pass",
                now_db=True,
            )

    def _should_flush(self) -> bool:
        p = self._pending
        if len(p.snapshots) + len(p.done) >= self.options.flush_every:
            return True
        return bool(p.snapshots or p.events or p.done) and (
            time.monotonic() - self._last_flush >= self.options.flush_wall_s
        )

    # -- the loop ------------------------------------------------------------------------------
    def _finished(self) -> bool:
        if self.stop.is_set():
            return True
        if self.options.once and not self._once_left:
            return True
        return self.options.until is not None and self.clock.time() >= self.options.until

    def _sleep(self, seconds: float, reason: str) -> None:
        if self.options.until is not None:
            seconds = min(seconds, max(0.0, self.options.until - self.clock.time()))
        wall_cap = self.options.max_wall_sleep_s * self.clock.speed
        self.reporter.sleeping(seconds, reason)
        self.clock.sleep(min(seconds, wall_cap), self.stop)

    def run(self) -> RunStats:
        """Collect until stopped; always flushes before returning."""
        self.writer.warm_up()
        self._restore_accounts()
        self._sync_watchlist(first=True)
        announced_cooling = False
        try:
            while not self._finished():
                if time.monotonic() - self._last_watch_check >= self.options.watch_check_wall_s:
                    self._last_watch_check = time.monotonic()
                    self._sync_watchlist()
                if self._should_flush():
                    self.flush()
                task = self.scheduler.peek()
                now = self.clock.time()
                if task is None:
                    self.flush()
                    self._sleep(self.options.interval_s, "watchlist is empty")
                    continue
                if task.due > now:
                    self.flush()
                    self._sleep(task.due - now, f"next: #{task.tag}")
                    continue
                if self._denied(task):
                    continue
                pool = self.pool.for_platform(task.platform)
                if pool is None:
                    self._no_pool(task, now)
                    continue
                account, wait = pool.acquire(now)
                if account is None and len({p for p, _ in self.scheduler.active}) > 1:
                    # Another platform's accounts may be free: this task waits, not the others.
                    self.scheduler.pop()
                    self.scheduler.defer(task, now + max(wait, 1.0))
                    continue
                if account is None:
                    if pool.all_cooling(now) and not announced_cooling:
                        announced_cooling = True
                        self._event(
                            "warning",
                            "all_cooling",
                            f"all accounts are cooling down; sleeping {wait / 60:.1f} min "
                            "until the first is usable",
                            now_db=True,
                        )
                    self.flush()
                    self._sleep(wait, "no account available")
                    continue
                announced_cooling = False
                popped = self.scheduler.pop()
                assert popped is task
                self._observe(task, account)
        finally:
            self.flush()
            if self.media is not None:
                self.media.close()
        return self.stats

    def _denied(self, task: Task) -> bool:
        """A forgotten account (``tagpulse forget``) is never asked for again: its entry leaves
        this run with one ``denied`` event (naming it by its salted hash only), no request."""
        if not task.tag.startswith("@") or not self.catalog.is_denied(task.platform, task.tag):
            return False
        self.scheduler.pop()
        self._once_left.discard(task.key)
        salt = self.catalog.stored_salt()
        who = subject_ref(salt, task.platform, task.tag[1:]) if salt else "a forgotten account"
        self._event(
            "warning",
            "denied",
            f"watchlist entry {who} is on the deny list (tagpulse forget): not collected; "
            "remove it from the watchlist",
        )
        return True

    def _no_pool(self, task: Task, now: float) -> None:
        """A watchlist entry for a platform without accounts: say so once, skip its slots."""
        self.scheduler.pop()
        if task.key not in self._no_pool_reported:
            self._no_pool_reported.add(task.key)
            self._event(
                "error",
                "no_accounts",
                f"{task.platform}:{_label(task)}: no {task.platform} account in the accounts "
                "file (X needs a bearer_token); skipped",
                task=task,
                now_db=True,
            )
        self.scheduler.done(task, now)
        self._once_left.discard(task.key)

    def _restore_accounts(self) -> None:
        rows = {r.alias: r for r in self.catalog.accounts()}
        now = self.clock.time()
        for account in self.pool.accounts:
            row = rows.get(account.alias)
            if row is not None and row.cooldown_until is not None and row.cooldown_until > now:
                account.breaker.cooldown_until = row.cooldown_until
                account.breaker.failures = row.failures
                account.breaker.last_error = row.last_error
