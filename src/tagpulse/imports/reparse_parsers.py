"""Which parser rebuilds an archived answer, and with which hints: the collector's and the
importers' calls, replayed from what the envelope recorded.

The collector archives ``_watch`` (the watchlist entry, ``tag`` or ``@handle``) and ``_slot``
(the schedule slot, which is a hashtag snapshot's identity) with every request's parameters;
the rest (a feed's user id, a follow list's user, a comment page's shortcode) is in the request
itself. An endpoint missing here is reported as skipped by ``tagpulse reparse`` and its rows
are carried over unchanged: when the collector learns a new endpoint, add it here too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import orjson

from tagpulse.errors import PayloadError
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.records import HashtagSnapshot, ParsedRecords, RawEnvelope

__all__ = ["Rebuilt", "parser_for"]


@dataclass(slots=True)
class Rebuilt:
    """An answer's records as the original run stored them: snapshots with their slots apart."""

    records: ParsedRecords = field(default_factory=ParsedRecords)
    snapshots: list[HashtagSnapshot] = field(default_factory=list)
    slots: list[datetime] = field(default_factory=list)


Reparse = Callable[[RawEnvelope], Rebuilt]

_FEED_USER = re.compile(r"/feed/user/([^/?#]+)")
_EXPLORE_TAG = re.compile(r"/explore/tags/([^/?#]+)")


def _watch(env: RawEnvelope) -> str | None:
    return env.params.get("_watch")


def _slot(env: RawEnvelope) -> datetime:
    slot = env.params.get("_slot")
    try:
        return utc_from_epoch(float(slot)) if slot is not None else env.collected_at
    except ValueError:
        return env.collected_at


def _variables(env: RawEnvelope) -> dict[str, Any]:
    try:
        doc = orjson.loads(env.params.get("variables", "{}"))
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _with_slots(parsed: ParsedRecords, env: RawEnvelope, account: str | None) -> Rebuilt:
    """The collector's tag path on TikTok and X: snapshots on their slot, the rest as records."""
    snapshots, parsed.snapshots = parsed.snapshots, []
    for snap in snapshots:
        snap.account = account
    return Rebuilt(parsed, snapshots, [_slot(env)] * len(snapshots))


# -- Instagram, as the collector asked ---------------------------------------------------------
def _instagram_hashtag(env: RawEnvelope) -> Rebuilt:
    from tagpulse.platforms.instagram.parse import parse_hashtag

    tag = _watch(env) or env.params.get("tag_name")
    if tag is None:
        found = _EXPLORE_TAG.search(env.url)
        tag = unquote(found.group(1)) if found else None
    if not tag:
        raise PayloadError("hashtag answer without its tag (no _watch, tag_name or URL)")
    result = parse_hashtag(
        env.body,
        tag=tag,
        collected_at=env.collected_at,
        account=env.account,
        raw_id=env.content_hash,
    )
    records = ParsedRecords(posts=result.posts, comments=result.comments, edges=result.edges)
    return Rebuilt(records, [result.snapshot], [_slot(env)])


def _instagram_account(env: RawEnvelope) -> Rebuilt:
    from tagpulse.platforms.instagram.parse import parse_payload

    handle = (_watch(env) or "").removeprefix("@") or env.params.get("username")
    user_id: str | None = None
    shortcode: str | None = None
    seen_via: str | None = None
    if env.endpoint == "feed/user":
        found = _FEED_USER.search(env.url)
        user_id = unquote(found.group(1)) if found else None
    if env.endpoint in ("users/web_profile_info", "feed/user"):
        seen_via = f"profile:{handle}" if handle else None
    elif env.endpoint == "graphql/comments":
        shortcode = _variables(env).get("shortcode")
        handle = None
    elif env.endpoint == "media/info":
        shortcode = (_watch(env) or "").removeprefix("p/") or None
        seen_via = "media"
        handle = None
    elif env.endpoint == "media/likers":
        found = _LIKERS.search(env.url)
        shortcode = found.group(1) if found else None  # the media id stands in for it
        user_id = env.params.get("_user_id")
        handle = None
    else:  # follow lists
        user_id = _variables(env).get("id")
    parsed = parse_payload(
        env.body,
        collected_at=env.collected_at,
        raw_id=env.content_hash,
        endpoint=env.endpoint,
        seen_via=seen_via,
        hint_handle=handle or None,
        hint_user_id=str(user_id) if user_id is not None else None,
        hint_shortcode=str(shortcode) if shortcode is not None else None,
        account=env.account,
    )
    return Rebuilt(parsed)


# -- TikTok and X, as the collector asked -------------------------------------------------------
def _tiktok(env: RawEnvelope) -> Rebuilt:
    from tagpulse.platforms.tiktok.parse import parse_payload

    watch = _watch(env) or ""
    if watch.startswith("@"):
        handle = watch[1:]
        parsed = parse_payload(
            env.body,
            collected_at=env.collected_at,
            raw_id=env.content_hash,
            hint_handle=handle,
            seen_via=f"profile:{handle}",
        )
        return Rebuilt(parsed)
    parsed = parse_payload(
        env.body,
        collected_at=env.collected_at,
        raw_id=env.content_hash,
        hint_tag=watch or None,
        seen_via=f"tag:{watch}" if watch else None,
    )
    return _with_slots(parsed, env, env.account)


def _x(env: RawEnvelope) -> Rebuilt:
    from tagpulse.platforms.x.parse import parse_response

    query = env.params.get("query") if env.endpoint == "tweets/counts/recent" else None
    parsed = parse_response(
        env.body, collected_at=env.collected_at, raw_id=env.content_hash, query=query
    )
    return _with_slots(parsed, env, env.account)


def _graph(env: RawEnvelope) -> Rebuilt:
    from tagpulse.platforms.instagram.parse_graph import parse_graph_payload

    watch = _watch(env) or ""
    parsed = parse_graph_payload(
        env.body,
        collected_at=env.collected_at,
        raw_id=env.content_hash,
        endpoint=env.endpoint,
        hint_tag=None if watch.startswith("@") else (watch or None),
        hint_handle=watch[1:] if watch.startswith("@") else None,
    )
    return Rebuilt(parsed)


# -- importers ---------------------------------------------------------------------------------
def _imported(parse: Callable[[RawEnvelope], ParsedRecords]) -> Reparse:
    def rebuild(env: RawEnvelope) -> Rebuilt:
        # As `run_import` stores them: snapshots on their collection time.
        return Rebuilt(parse(env))

    return rebuild


@functools.cache
def _importers() -> dict[str, Reparse]:
    from tagpulse.imports.instagram_files import (
        parse_instagram_envelope,
        parse_instaloader_envelope,
    )
    from tagpulse.imports.twarc2 import parse_twarc2_envelope
    from tagpulse.imports.zeeschuimer import parse_zeeschuimer_line

    return {
        "import:zeeschuimer": _imported(parse_zeeschuimer_line),
        "import:twarc2": _imported(parse_twarc2_envelope),
        "import:instaloader": _imported(parse_instaloader_envelope),
        "import:instagram-json": _imported(parse_instagram_envelope),
    }


_LIKERS = re.compile(r"/api/v1/media/(\d+)/likers/")

_COLLECTOR: dict[tuple[str, str], Reparse] = {
    ("instagram", "tags/web_info"): _instagram_hashtag,
    ("instagram", "explore/tags"): _instagram_hashtag,
    ("instagram", "users/web_profile_info"): _instagram_account,
    ("instagram", "feed/user"): _instagram_account,
    ("instagram", "graphql/followers"): _instagram_account,
    ("instagram", "graphql/following"): _instagram_account,
    ("instagram", "graphql/comments"): _instagram_account,
    ("instagram", "media/likers"): _instagram_account,
    ("instagram", "media/info"): _instagram_account,
    ("tiktok", "challenge/detail"): _tiktok,
    ("tiktok", "user/detail"): _tiktok,
    ("x", "tweets/counts/recent"): _x,
    ("x", "users/by"): _x,
    ("ig-graph", "graph/recent_media"): _graph,
    ("ig-graph", "graph/top_media"): _graph,
    ("ig-graph", "graph/business_discovery"): _graph,
}


def parser_for(platform: str, endpoint: str) -> Reparse | None:
    """How to rebuild an answer of ``endpoint`` on ``platform``; None when nothing knows."""
    if endpoint.startswith("import:"):
        return _importers().get(endpoint)
    return _COLLECTOR.get((platform, endpoint))
