"""Observing a hashtag or an account on TikTok and X: one request each, through the same pool
machinery as Instagram.

Accounts: X's ``users/by`` lookup and TikTok's user detail → a :class:`Profile` snapshot (no
post pagination on these platforms yet).

* TikTok: the challenge detail answer → a :class:`HashtagSnapshot` (``post_count`` = the
  challenge's video count; its view count in ``extra``).
* X: the API v2 recent counts of ``#tag`` per hour → :class:`TagCount` rows (X's own popularity
  series; the last 7 days each time, so a bucket is seen many times and the latest observation
  of a bucket is the most complete). X has no total post count of a tag, so no snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from tagpulse.errors import InputError, PayloadError, PlatformError
from tagpulse.platforms.instagram.client import Response
from tagpulse.platforms.instagram.exceptions import HashtagQuotaExceeded
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.tiktok.parse import parse_payload as tiktok_parse
from tagpulse.records import ParsedRecords

if TYPE_CHECKING:
    from datetime import datetime

    from tagpulse.collect.accounts import Account
    from tagpulse.collect.runner import Collector
    from tagpulse.collect.schedule import Task

__all__ = ["TagObserver"]

_Parse = Callable[[bytes, "datetime", "str | None"], ParsedRecords]


def _x(task: Task, client: Any) -> tuple[Any, _Parse]:
    from tagpulse.platforms.x.parse import parse_response

    query = f"#{task.tag}"

    def parse(body: bytes, at: datetime, raw_id: str | None) -> ParsedRecords:
        return parse_response(body, collected_at=at, raw_id=raw_id, query=query)

    return client.recent_counts(query, granularity="hour"), parse


def _as_response(endpoint: str, answer: httpx.Response) -> Response:
    """TikTok's client hands back the httpx answer; the collector archives a :class:`Response`.
    Only the public query parameters are kept (never cookies)."""
    return Response(
        endpoint=endpoint,
        url=str(answer.url.copy_with(query=None)),
        params=dict(answer.url.params),
        status=answer.status_code,
        body=answer.content,
        headers=dict(answer.headers),
    )


def _tiktok(task: Task, client: Any) -> tuple[Any, _Parse]:
    def parse(body: bytes, at: datetime, raw_id: str | None) -> ParsedRecords:
        return tiktok_parse(
            body, collected_at=at, raw_id=raw_id, hint_tag=task.tag, seen_via=f"tag:{task.tag}"
        )

    return _as_response("challenge/detail", client.challenge_detail(task.tag)), parse


def _x_user(task: Task, client: Any) -> tuple[Any, _Parse]:
    from tagpulse.platforms.x.parse import parse_response

    def parse(body: bytes, at: datetime, raw_id: str | None) -> ParsedRecords:
        return parse_response(body, collected_at=at, raw_id=raw_id)

    return client.users_by([task.tag.removeprefix("@")]), parse


def _tiktok_user(task: Task, client: Any) -> tuple[Any, _Parse]:
    handle = task.tag.removeprefix("@")

    def parse(body: bytes, at: datetime, raw_id: str | None) -> ParsedRecords:
        return tiktok_parse(
            body, collected_at=at, raw_id=raw_id, hint_handle=handle, seen_via=f"profile:{handle}"
        )

    return _as_response("user/detail", client.user_detail(handle)), parse


def _graph_tag(task: Task, client: Any) -> tuple[Any, _Parse]:
    from tagpulse.platforms.instagram.parse_graph import parse_hashtag_media

    def parse(body: bytes, at: datetime, raw_id: str | None) -> ParsedRecords:
        return parse_hashtag_media(body, tag=task.tag, edge="recent", collected_at=at,
                                   raw_id=raw_id)  # fmt: skip

    # The last 24 hours' posts of the tag: the Graph API has no count of a hashtag.
    return client.recent_media(task.tag), parse


def _graph_account(task: Task, client: Any) -> tuple[Any, _Parse]:
    from tagpulse.platforms.instagram.parse_graph import parse_business_discovery

    handle = task.tag.removeprefix("@")

    def parse(body: bytes, at: datetime, raw_id: str | None) -> ParsedRecords:
        return parse_business_discovery(body, collected_at=at, raw_id=raw_id, hint_handle=handle)

    return client.business_discovery(handle), parse


_REQUESTS: dict[tuple[str, bool], Callable[[Task, Any], tuple[Any, _Parse]]] = {
    ("ig-graph", False): _graph_tag,
    ("ig-graph", True): _graph_account,
    ("x", False): _x,
    ("tiktok", False): _tiktok,
    ("x", True): _x_user,
    ("tiktok", True): _tiktok_user,
}


class TagObserver:
    """The TikTok and X half of hashtag observation (Instagram's is in the collector)."""

    def __init__(self, collector: Collector) -> None:
        self.c = collector
        self._refused: set[tuple[str, str]] = set()

    def observe(self, task: Task, account: Account) -> None:
        c = self.c
        try:
            request = _REQUESTS[(task.platform, task.tag.startswith("@"))]
            response, parse = request(task, account.client)
        except HashtagQuotaExceeded as error:
            # Not the account's fault: the platform's 30-hashtags-a-week rule. Skip this slot
            # (no request was sent), keep the account serving the other entries.
            c._event("warning", "hashtag_quota", f"#{task.tag}: {error}", task=task,
                     account=account.alias, now_db=True)  # fmt: skip
            c.scheduler.done(task, c.clock.time())
            c._once_left.discard(task.key)
            return
        except PlatformError as error:
            c._archive(None, error, account, task)
            c._failed(task, account, error)
            return
        except InputError as error:
            self._refuse(task, account, error)
            return
        now = c.clock.time()
        raw_id = c._archive(response, None, account, task, now)
        try:
            parsed = parse(response.body, utc_from_epoch(now), raw_id)
        except PayloadError as error:
            c.quarantine(task, account, response, raw_id, error, now)
            return
        c.succeeded(account, now, raw_id)
        c.payload_warnings(task, account, parsed.warnings, raw_id)
        count: int | None = None
        for snapshot in parsed.snapshots:
            snapshot.account = account.alias
            c._pending.snapshots.append(snapshot)
            c._pending.slots.append(utc_from_epoch(task.slot))
            count = snapshot.post_count
            c.reporter.snapshot(snapshot, parsed.warnings)
        if parsed.tag_counts:
            count = sum(t.count for t in parsed.tag_counts)
        for profile in parsed.profiles[:1]:
            count = profile.followers
            c.reporter.profile(profile, len(parsed.posts), parsed.warnings)
            if task.tag.startswith("@"):
                c._pending.avatars.append(profile)  # an account's picture, not a tag author's
        parsed.snapshots = []
        c._pending.records.extend(parsed)
        c.slot_done(task, now, count)

    def _refuse(self, task: Task, account: Account, error: InputError) -> None:
        """The client refused the entry before sending anything (an X handle with a ``.``, a
        TikTok handle over 24 characters: valid watchlist handles, not valid there). No slot of
        it can succeed: say so once, skip its slots, and leave the account alone."""
        c = self.c
        if task.key not in self._refused:
            self._refused.add(task.key)
            c._event(
                "error",
                "invalid_entry",
                f"{task.platform}:{task.tag}: {error}; skipped (fix the watchlist entry)",
                task=task,
                account=account.alias,
                now_db=True,
            )
        c.scheduler.done(task, c.clock.time())
        c._once_left.discard(task.key)
