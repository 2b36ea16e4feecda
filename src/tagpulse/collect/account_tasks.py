"""Observing an account: its profile, its posts, who follows it, comments — resumable.

A pass over ``@handle`` goes through stages, one request per page, each request through the
same account pool, token buckets and breakers as any other:

1. ``posts``: the profile (which carries the 12 newest posts), then pages of the user's feed
   while the pass wants more (``max_posts``, ``posts_since``) and the platform has more;
2. ``followers`` then ``following`` (``followers`` > 0; needs a logged-in session): pages of the
   follow lists → ``follows`` edges, up to ``followers`` accounts each;
3. ``details``: for the newest posts read in this pass, up to ``comment_pages`` comments pages
   (newest first) of each of ``comments_posts`` of them (→ comments and ``commented`` edges)
   and the likers of each of ``likers_posts`` of them (→ ``liked`` edges; where the session
   may see them).

After each page the stage and cursor are checkpointed in the catalog (at the flush that writes
the page's records), so a collector killed mid-pass resumes at the next page after a restart.
With media on, the pass's profile picture is fetched into the media store at the flush (once
per distinct URL; see :mod:`tagpulse.collect.media_fetch`), beside its posts' images.
Private and deleted accounts are recorded as such (a :class:`Profile` with ``state``), not as
errors; a private account's lists and comments are not asked for.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tagpulse.errors import PayloadError, PlatformError
from tagpulse.lake.catalog import CursorRow
from tagpulse.platforms.instagram.parse import parse_payload
from tagpulse.platforms.instagram.parse_common import shortcode_to_media_id
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.records import ParsedRecords, Profile

if TYPE_CHECKING:
    from tagpulse.collect.accounts import Account
    from tagpulse.collect.runner import Collector
    from tagpulse.collect.schedule import Task
    from tagpulse.platforms.instagram.client import InstagramClient, Response

__all__ = ["AccountObserver"]

_LIST_PAGE = 24
# A details item is "<c|l><FS><shortcode>[<FS><cursor><FS><page>]"; items are stored one a line
# (comment cursors are JSON text, commas included).
_FIELD_SEP = "\x1f"
_TODO_SEP = "\n"


def _detail(item: str) -> tuple[str, str, str | None, int]:
    """(kind, shortcode, comments cursor, comments page number) of a details item."""
    parts = item.split(_FIELD_SEP)
    if len(parts) >= 4:
        return parts[0], parts[1], parts[2] or None, int(parts[3])
    return parts[0], parts[1], None, 0


class AccountObserver:
    """The account half of the Instagram collector (the hashtag half is in the collector)."""

    def __init__(self, collector: Collector) -> None:
        self.c = collector
        #: Each pass's follower count, from its profile page until the pass is acknowledged.
        self._followers: dict[tuple[str, str], int | None] = {}

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
            stage=stored.stage,
            cursor=stored.cursor or None,
            user_id=stored.user_id,
            posts=stored.posts,
            page=stored.pages,
            todo=tuple(stored.cursor.split(_TODO_SEP)) if stored.stage == "details" else (),
        )

    def _request(self, task: Task, account: Account) -> Response:
        client: InstagramClient = account.client
        handle = task.tag.removeprefix("@")
        if task.stage in ("followers", "following"):
            assert task.user_id is not None
            if task.stage == "followers":
                return client.follow_list("followers", task.user_id, task.cursor, _LIST_PAGE)
            return client.follow_list("following", task.user_id, task.cursor, _LIST_PAGE)
        if task.stage == "details":
            kind, shortcode, after, _ = _detail(task.todo[0])
            if kind == "l":
                media_id = shortcode_to_media_id(shortcode) or shortcode
                return client.likers(media_id)
            return client.comments(shortcode, after)
        if task.cursor is None or task.user_id is None:
            return client.profile(handle)
        return client.user_feed(task.user_id, task.cursor)

    def observe(self, task: Task, account: Account) -> None:
        c = self.c
        task = self._resume(task)
        handle = task.tag.removeprefix("@")
        try:
            response = self._request(task, account)
        except PlatformError as error:
            c._archive(None, error, account, task)
            c._failed(task, account, error)
            return
        now = c.clock.time()
        raw_id = c._archive(response, None, account, task, now)
        try:
            parsed = parse_payload(
                response.body,
                collected_at=utc_from_epoch(now),
                raw_id=raw_id,
                endpoint=response.endpoint,
                seen_via=f"profile:{handle}" if task.stage == "posts" else None,
                hint_handle=handle if task.stage != "details" else None,
                hint_user_id=task.user_id,
                hint_shortcode=_detail(task.todo[0])[1] if task.stage == "details" else None,
                account=account.alias,
            )
        except PayloadError as error:
            c.quarantine(task, account, response, raw_id, error, now)
            return
        c.succeeded(account, now, raw_id)
        c.payload_warnings(task, account, parsed.warnings, raw_id)
        c._pending.records.extend(parsed)
        if task.stage == "posts":
            self._posts_page(task, parsed, handle, now)
        elif task.stage == "details":
            kind, shortcode, _, page = _detail(task.todo[0])
            rest = task.todo[1:]
            if kind == "c" and parsed.next_cursor and page + 1 < c.options.comment_pages:
                # The same post's next (older) comments page first.
                rest = (_FIELD_SEP.join(("c", shortcode, parsed.next_cursor, str(page + 1))),
                        *rest)  # fmt: skip
            self._next(task, now, "details", None, task.posts, todo=rest)
        else:
            seen = task.posts + sum(1 for e in parsed.edges if e.kind == "follows")
            if parsed.next_cursor is not None and seen < c.options.followers:
                self._next(task, now, task.stage, parsed.next_cursor, seen)
            elif task.stage == "followers":
                self._next(task, now, "following", None, 0)
            else:
                self._after_lists(task, now)

    # -- stages --------------------------------------------------------------------------------
    def _posts_page(self, task: Task, parsed: ParsedRecords, handle: str, now: float) -> None:
        c = self.c
        profile = next((p for p in parsed.profiles if p.handle.lower() == handle), None)
        if profile is None and task.page == 0 and parsed.profiles:
            profile = parsed.profiles[0]  # renamed: the answer names the new handle
        posts = task.posts + len(parsed.posts)
        user_id = task.user_id or (profile.user_id if profile else None)
        if profile is not None:
            c.reporter.profile(profile, posts, parsed.warnings)
            self._followers[task.key] = profile.followers
            c._pending.avatars.append(profile)  # its picture goes to the media store
        closed = profile is not None and profile.state in ("private", "not_found")
        oldest = min((p.taken_at for p in parsed.posts if p.taken_at), default=None)
        since = c.options.posts_since
        # The pass's newest shortcodes, kept until the details stage needs them.
        newest = tuple(p.shortcode for p in parsed.posts if p.shortcode)
        wanted = max(c.options.comments_posts, c.options.likers_posts)
        todo = (task.todo + newest)[:wanted] if not closed else ()
        task = replace(task, user_id=user_id, todo=todo)
        more = (
            not closed
            and parsed.next_cursor is not None
            and user_id is not None
            and posts < c.options.max_posts
            and (since is None or oldest is None or oldest.timestamp() >= since)
        )
        if more:
            self._next(task, now, "posts", parsed.next_cursor, posts)
        elif closed or user_id is None:
            self._finish(task, now)
        elif c.options.followers > 0:
            self._next(task, now, "followers", None, 0)
        else:
            self._after_lists(task, now)

    def _after_lists(self, task: Task, now: float) -> None:
        options = self.c.options
        details = tuple(f"c{_FIELD_SEP}{sc}" for sc in task.todo[: options.comments_posts]) + (
            tuple(f"l{_FIELD_SEP}{sc}" for sc in task.todo[: options.likers_posts])
        )
        if details:
            self._next(task, now, "details", None, task.posts, todo=details)
        else:
            self._finish(task, now)

    def _next(
        self,
        task: Task,
        now: float,
        stage: str,
        cursor: str | None,
        count: int,
        *,
        todo: tuple[str, ...] | None = None,
    ) -> None:
        """Queue the pass's next page and checkpoint where it stands."""
        c = self.c
        remaining = task.todo if todo is None else todo
        if stage == "details" and not remaining:
            self._finish(task, now)
            return
        checkpoint = _TODO_SEP.join(remaining) if stage == "details" else (cursor or "")
        c._pending.cursors[(task.platform, task.tag)] = CursorRow(
            task.platform,
            task.tag,
            stage,
            checkpoint,
            task.user_id,
            count,
            task.page + 1,
            task.slot,
        )
        c.scheduler.next_page(task, cursor, task.user_id, count, stage=stage, todo=remaining)

    def _finish(self, task: Task, now: float) -> None:
        c = self.c
        key = (task.platform, task.tag)
        if task.page > 0 or key in c._pending.cursors:
            c._pending.cursors[key] = None
        c.slot_done(task, now, self._followers.pop(task.key, None))

    def observe_post(self, task: Task, account: Account) -> None:
        """A watched single post (``p/<shortcode>``): its counts now, one request."""
        c = self.c
        shortcode = task.tag.removeprefix("p/")
        media_id = shortcode_to_media_id(shortcode) or shortcode
        try:
            client: InstagramClient = account.client
            response = client.media_info(media_id)
        except PlatformError as error:
            c._archive(None, error, account, task)
            c._failed(task, account, error)
            return
        now = c.clock.time()
        raw_id = c._archive(response, None, account, task, now)
        try:
            parsed = parse_payload(
                response.body, collected_at=utc_from_epoch(now), raw_id=raw_id,
                endpoint=response.endpoint, seen_via="media", hint_shortcode=shortcode,
                account=account.alias,
            )  # fmt: skip
        except PayloadError as error:
            c.quarantine(task, account, response, raw_id, error, now)
            return
        c.succeeded(account, now, raw_id)
        c.payload_warnings(task, account, parsed.warnings, raw_id)
        c._pending.records.extend(parsed)
        post = next((p for p in parsed.posts if p.shortcode == shortcode), None)
        c.slot_done(task, now, post.likes if post else None)

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
