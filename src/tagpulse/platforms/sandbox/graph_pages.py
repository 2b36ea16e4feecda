"""Requests and pages of the sandbox's Graph API: ``fields`` parsing, cursors, and the pages of
hashtag media and business discovery media, built from the social world. Pure: no I/O, no state.

Cursors are opaque (base64url without padding) and resume exactly: ``recent`` and ``media``
carry the last media id served (ids grow with time, so the next page holds smaller ones), ``top``
the offset in the ranking (likes as of the request).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from tagpulse.platforms.sandbox.payloads_graph import (
    HASHTAG_MEDIA_FIELDS_ALLOWED,
    PROFILE_MEDIA_FIELDS_ALLOWED,
    Field,
    graph_error,
    graph_media,
)
from tagpulse.platforms.sandbox.social import SocialPost, SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount

__all__ = [
    "GRAPH_FAULTS",
    "SECRET_PARAMS",
    "BadGraphRequest",
    "HashtagPageSpec",
    "check_fields",
    "hashtag_page",
    "media_page",
    "page_limit",
    "parse_fields",
    "tagged_posts",
]

SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CHILD_FIELDS = frozenset({"id", "media_url", "media_type", "permalink", "timestamp"})

GRAPH_FAULTS: dict[str, tuple[int, dict[str, Any]]] = {
    "user_limit": (400, graph_error("(#17) User request limit reached", 17, transient=True)),
    "page_limit": (400, graph_error("(#32) Page request limit reached", 32, transient=True)),
    "api_limit": (
        400,
        graph_error("(#613) Calls to this api have exceeded the rate limit.", 613, transient=True),
    ),
    "buc_limit": (
        400,
        graph_error(
            "(#80002) There have been too many calls to this Instagram account. Wait a bit and "
            "try again.",
            80002,
            subcode=2446079,
            transient=True,
        ),
    ),
    "service": (
        500,
        graph_error(
            "An unexpected error has occurred. Please retry your request later.", 2, transient=True
        ),
    ),
}
"""Scriptable error answers: HTTP status and body (see ``GraphSandbox.script_errors``)."""


class BadGraphRequest(ValueError):
    """A request the Graph API answers with ``(#100)``: the message is the answer's."""


def parse_fields(spec: str) -> tuple[Field, ...]:
    """A ``fields`` parameter (``a,b.mod(x).mod2(y){c,d}``) as :class:`Field` trees."""
    text = spec.replace(" ", "")
    pos = 0

    def expect(char: str) -> None:
        nonlocal pos
        if pos >= len(text) or text[pos] != char:
            raise BadGraphRequest(f"(#100) fields: expected {char!r} at {pos} in {spec[:80]!r}")
        pos += 1

    def name() -> str:
        nonlocal pos
        match = _NAME.match(text, pos)
        if match is None:
            raise BadGraphRequest(f"(#100) fields: expected a name at {pos} in {spec[:80]!r}")
        pos = match.end()
        return match.group(0)

    def item() -> Field:
        nonlocal pos
        key = name()
        modifiers: list[tuple[str, str]] = []
        while pos < len(text) and text[pos] == ".":
            pos += 1
            modifier = name()
            expect("(")
            end = text.find(")", pos)
            if end < 0:
                raise BadGraphRequest(f"(#100) fields: unclosed '(' in {spec[:80]!r}")
            modifiers.append((modifier, text[pos:end]))
            pos = end + 1
        children = None
        if pos < len(text) and text[pos] == "{":
            pos += 1
            children = items()
            expect("}")
        return Field(key, tuple(modifiers), children)

    def items() -> tuple[Field, ...]:
        nonlocal pos
        found = [item()]
        while pos < len(text) and text[pos] == ",":
            pos += 1
            found.append(item())
        return tuple(found)

    result = items()
    if pos != len(text):
        raise BadGraphRequest(f"(#100) fields: unexpected {text[pos]!r} at {pos}")
    return result


def check_fields(fields: Sequence[Field], allowed: frozenset[str], node: str) -> None:
    """Refuse a field the node does not have, as the API does."""
    for item in fields:
        if item.name not in allowed:
            raise BadGraphRequest(
                f"(#100) Tried accessing nonexisting field ({item.name}) on node type ({node})"
            )
        if item.name == "children":
            check_fields(item.children or (), _CHILD_FIELDS, "IGMedia children")


def page_limit(raw: str | None, default: int) -> int:
    """A ``limit`` parameter: 1 to 50 (more is served as 50)."""
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BadGraphRequest(f"(#100) limit must be a positive integer, got {raw[:20]!r}")
    return min(50, int(raw))


def _encode(*parts: object) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, parts)).encode()).decode().rstrip("=")


def _decode(cursor: str, kind: str, owner: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if len(fields) != 3 or fields[0] != kind or fields[1] != owner:
            raise ValueError(cursor)
        return int(fields[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadGraphRequest(
            f"(#100) The after cursor {cursor[:40]!r} is not valid here"
        ) from None


def tagged_posts(world: SocialWorld, tag: str, t: float, since: float) -> list[SocialPost]:
    """The public posts carrying ``#tag`` taken in ``(since, t]``, newest first."""
    found: list[SocialPost] = []
    for account in world.accounts:
        if account.is_private or account.deleted(t):
            continue
        for post in world.iter_posts(account, t):
            if post.taken_at <= since:
                break
            if tag in post.hashtags:
                found.append(post)
    found.sort(key=lambda post: -post.pk)
    return found


@dataclass(frozen=True, slots=True)
class HashtagPageSpec:
    """What a hashtag media request asks for, and the windows it is served from."""

    tag: str
    hashtag_id: str
    edge: str  # top_media or recent_media
    fields: tuple[Field, ...]
    limit: int
    after: str | None
    recent_window_s: float
    top_window_s: float
    top_total: int


def hashtag_page(
    world: SocialWorld,
    spec: HashtagPageSpec,
    now: float,
    base: str,
    next_url: str,
    query: dict[str, list[str]],
) -> dict[str, Any]:
    """A page of ``top_media`` / ``recent_media``; ``next_url`` is the edge's address (its
    ``next`` link adds the request's parameters, never the token)."""
    check_fields(spec.fields, HASHTAG_MEDIA_FIELDS_ALLOWED, "IGMedia (hashtag media)")
    limit, after = spec.limit, spec.after
    if spec.edge == "recent_media":
        posts = tagged_posts(world, spec.tag, now, now - spec.recent_window_s)
        if after:
            before = _decode(after, "recent", spec.hashtag_id)
            posts = [post for post in posts if post.pk < before]
        page, more = posts[:limit], len(posts) > limit
        cursor = _encode("recent", spec.hashtag_id, page[-1].pk) if page else None
    else:
        ranked = sorted(
            tagged_posts(world, spec.tag, now, now - spec.top_window_s),
            key=lambda post: (-world.like_count(post, now), -post.pk),
        )[: spec.top_total]
        offset = _decode(after, "top", spec.hashtag_id) if after else 0
        page = ranked[offset : offset + limit]
        more = offset + limit < len(ranked)
        cursor = _encode("top", spec.hashtag_id, offset + limit) if page else None
    body: dict[str, Any] = {"data": [graph_media(world, p, now, base, spec.fields) for p in page]}
    if cursor is not None:
        paging: dict[str, Any] = {"cursors": {"after": cursor}}
        if more:
            params = [
                (key, value)
                for key, values in query.items()
                if key not in SECRET_PARAMS and key != "after"
                for value in values
            ]
            paging["next"] = f"{next_url}?{urlencode([*params, ('after', cursor)])}"
        body["paging"] = paging
    return body


def media_page(
    world: SocialWorld,
    account: SocialAccount,
    wanted: Field,
    default_limit: int,
    now: float,
    base: str,
) -> dict[str, Any]:
    """The ``media`` edge of business discovery (``media.after(c).limit(n){fields}``), newest
    first; ``after`` only when more follow."""
    fields = wanted.children or (Field("id"),)
    check_fields(fields, PROFILE_MEDIA_FIELDS_ALLOWED, "IGMedia")
    limit = page_limit(wanted.modifier("limit"), default_limit)
    after = wanted.modifier("after")
    owner = str(account.pk)
    before = _decode(after, "media", owner) if after else None
    posts = list(islice(world.iter_posts(account, now, before), limit + 1))
    page, more = posts[:limit], len(posts) > limit
    media: dict[str, Any] = {"data": [graph_media(world, p, now, base, fields) for p in page]}
    if page:
        cursors = {"before": _encode("media", owner, page[0].pk + 1)}
        if more:
            cursors["after"] = _encode("media", owner, page[-1].pk)
        media["paging"] = {"cursors": cursors}
    return media
