"""Observing an account: its profile, then its posts page by page, resumable.

A pass over ``@handle`` asks for the profile (which carries the 12 newest posts), then, while
the pass wants more (``max_posts``, ``posts_since``) and the platform has more, one page of the
user's feed per request, each through the same account pool, token buckets and breakers as any
request. After each page the cursor is checkpointed in the catalog (at the flush that also
writes the page's records), so a collector killed mid-pass resumes at the next page after a
restart. Private and deleted accounts are recorded as such (a :class:`Profile` with ``state``),
not as errors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tagpulse.errors import PayloadError, PlatformError
from tagpulse.lake.catalog import CursorRow
from tagpulse.platforms.instagram.parse import parse_payload
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.records import Profile

if TYPE_CHECKING:
    from tagpulse.collect.accounts import Account
    from tagpulse.collect.runner import Collector
    from tagpulse.collect.schedule import Task

__all__ = ["AccountObserver"]


class AccountObserver:
    """The account half of the collector (the hashtag half is in the collector itself)."""

    def __init__(self, collector: Collector) -> None:
        self.c = collector

    def _resume(self, task: Task) -> Task:
        """A pass killed mid-way continues at its checkpointed page, whatever slot it is now."""
        key = (task.platform, task.tag)
        if task.page > 0 or key in self.c._pending.cursors:
            return task
        stored = self.c.catalog.cursor(task.platform, task.tag)
        if stored is None:
            return task
        return replace(
            task,
            cursor=stored.cursor,
            user_id=stored.user_id,
            posts=stored.posts,
            page=stored.pages,
        )

    def observe(self, task: Task, account: Account) -> None:
        c = self.c
        task = self._resume(task)
        handle = task.tag.removeprefix("@")
        try:
            if task.cursor is None or task.user_id is None:
                response = account.client.profile(handle)
            else:
                response = account.client.user_feed(task.user_id, task.cursor)
        except PlatformError as error:
            c._archive(None, error, account, task)
            c._failed(task, account, error)
            return
        now = c.clock.time()
        raw_id = c._archive(response, None, account, task)
        try:
            parsed = parse_payload(
                response.body,
                collected_at=utc_from_epoch(now),
                raw_id=raw_id,
                endpoint=response.endpoint,
                seen_via=f"profile:{handle}",
                hint_handle=handle,
                hint_user_id=task.user_id,
                account=account.alias,
            )
        except PayloadError as error:
            c.quarantine(task, account, response, raw_id, error, now)
            return
        c.succeeded(account, now, raw_id)
        c.payload_warnings(task, account, parsed.warnings, raw_id)
        c._pending.records.extend(parsed)
        profile = next((p for p in parsed.profiles if p.handle.lower() == handle), None)
        if profile is None and task.page == 0 and parsed.profiles:
            profile = parsed.profiles[0]  # renamed: the answer names the new handle
        posts = task.posts + len(parsed.posts)
        user_id = task.user_id or (profile.user_id if profile else None)
        if profile is not None:
            c.reporter.profile(profile, posts, parsed.warnings)
        closed = profile is not None and profile.state in ("private", "not_found")
        oldest = min((p.taken_at for p in parsed.posts if p.taken_at), default=None)
        since = c.options.posts_since
        more = (
            not closed
            and parsed.next_cursor is not None
            and user_id is not None
            and posts < c.options.max_posts
            and (since is None or oldest is None or oldest.timestamp() >= since)
        )
        key = (task.platform, task.tag)
        if more:
            assert parsed.next_cursor is not None
            c._pending.cursors[key] = CursorRow(
                task.platform,
                task.tag,
                parsed.next_cursor,
                user_id,
                posts,
                task.page + 1,
                task.slot,
            )
            c.scheduler.next_page(task, parsed.next_cursor, user_id, posts)
            return
        if task.page > 0 or key in c._pending.cursors:
            c._pending.cursors[key] = None
        c.slot_done(task, now, profile.followers if profile else None)

    def not_found(self, task: Task, error: PlatformError) -> None:
        """A 404 for a handle: the account is gone (or never was); record that, not an error."""
        handle = task.tag.removeprefix("@")
        self.c._pending.records.profiles.append(
            Profile(
                platform=task.platform,
                user_id=task.user_id,
                handle=handle,
                collected_at=self.c.clock.now(),
                raw_id=None,
                state="not_found",
                extra={"error": str(error)[:200]},
            )
        )
        key = (task.platform, task.tag)
        if task.page > 0 or key in self.c._pending.cursors:
            self.c._pending.cursors[key] = None
