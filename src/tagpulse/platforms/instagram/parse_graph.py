"""Instagram Graph API answers -> records. Pure functions: no I/O, no clock.

Shapes (Graph API v19+, the same in the sandbox):

* ``GET /ig_hashtag_search?user_id=&q=`` -> ``{"data": [{"id": "<hashtag id>"}]}``
  (:func:`parse_hashtag_search`: the id, no records).
* ``GET /<hashtag id>/top_media`` and ``/recent_media`` -> ``{"data": [<IG Media>], "paging":
  {"cursors": {"after"}, "next"}}`` (:func:`parse_hashtag_media`). The API returns no owner for
  hashtag media (documented: ``username`` cannot be requested), so the posts have none; nor any
  post count for the hashtag, so no :class:`~tagpulse.records.HashtagSnapshot` is made.
* ``GET /<ig user id>?fields=business_discovery.username(<handle>){...}`` ->
  ``{"business_discovery": {<IG User fields>, "media": {"data": [...], "paging": ...}}, "id"}``
  (:func:`parse_business_discovery`: a :class:`Profile` and its posts, owner set).

An IG Media object: ``id``, ``caption``, ``media_type`` (``IMAGE``, ``VIDEO``,
``CAROUSEL_ALBUM``; ``media_product_type`` ``REELS`` marks a reel), ``comments_count``,
``like_count`` (absent when the owner hides it), ``permalink``, ``timestamp``
(``2021-08-17T19:00:42+0000``), ``media_url``, ``children.data[].media_url``.

Ids are the Graph API's (a media id like ``17885103395504675``, an IG user id like
``17841400455970028``), not the web's ``pk``; the shortcode read from the permalink is the key
both share. A missing or wrong-typed field is ``None`` plus a warning; an error answer or a body
in no known shape raises :class:`~tagpulse.platforms.instagram.exceptions.UnknownShape`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from tagpulse.platforms.instagram.exceptions import UnknownShape
from tagpulse.platforms.instagram.parse_common import (
    PLATFORM,
    Ctx,
    add_post_edges,
    as_list,
    as_mapping,
    count_of,
    dig,
    extract_hashtags,
    extract_mentions,
    load_json,
    put_scalar,
    str_or_none,
    text_or_none,
)
from tagpulse.records import MediaType, ParsedRecords, Post, Profile, ProfileState

__all__ = [
    "GRAPH_MEDIA_TYPES",
    "HashtagEdge",
    "graph_error_summary",
    "parse_business_discovery",
    "parse_graph_media",
    "parse_graph_payload",
    "parse_graph_time",
    "parse_hashtag_media",
    "parse_hashtag_search",
]

HashtagEdge = Literal["top", "recent"]

GRAPH_MEDIA_TYPES: dict[str, MediaType] = {
    "IMAGE": "image",
    "VIDEO": "video",
    "CAROUSEL_ALBUM": "carousel",
    "REELS": "reel",
}
_PERMALINK = re.compile(r"instagram\.com/(p|reels?|tv)/([A-Za-z0-9_-]{5,64})")
_MEDIA_EXTRA = ("ig_id", "media_product_type", "thumbnail_url", "shortcode", "is_shared_to_feed")
_PROFILE_EXTRA = ("ig_id",)
_PROFILE_KEYS = (
    "username",
    "name",
    "biography",
    "website",
    "profile_picture_url",
    "followers_count",
    "follows_count",
    "media_count",
)
_EDGES: dict[str, HashtagEdge] = {
    "top_media": "top",
    "graph/top_media": "top",
    "recent_media": "recent",
    "graph/recent_media": "recent",
}


def _document(payload: bytes | str | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    doc = load_json(payload) if isinstance(payload, bytes | str) else payload
    if not isinstance(doc, Mapping):
        raise UnknownShape(f"graph {what} answer is a JSON {type(doc).__name__}, not an object")
    if "error" in doc:
        raise UnknownShape(f"graph {what} answer is an error: {graph_error_summary(doc)}")
    return doc


def graph_error_summary(doc: Mapping[str, Any]) -> str:
    """``code/subcode: message`` of a Graph error body (for messages; never raises)."""
    error = as_mapping(doc.get("error"))
    code = str_or_none(error.get("code")) or "?"
    subcode = str_or_none(error.get("error_subcode"))
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    detail = error.get("error_user_msg") if isinstance(error.get("error_user_msg"), str) else ""
    where = f"{code}/{subcode}" if subcode else code
    text = f"code {where}: {message}"
    if detail and detail != message:
        text += f" ({detail})"
    return text[:300]


def parse_graph_time(value: Any, what: str, warnings: list[str]) -> datetime | None:
    """The Graph API's ISO 8601 time (``2021-08-17T19:00:42+0000``) as an aware UTC datetime."""
    if value is None:
        warnings.append(f"{what}: missing")
        return None
    if not isinstance(value, str):
        warnings.append(f"{what}: expected an ISO 8601 string, got {type(value).__name__}")
        return None
    text = value.strip()
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", None):
        try:
            if pattern is None:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                when = datetime.strptime(text, pattern)
        except (ValueError, OverflowError):
            continue
        if when.tzinfo is None:
            warnings.append(f"{what}: no time zone in {value!r:.40}, read as UTC")
            when = when.replace(tzinfo=UTC)
        try:
            return when.astimezone(UTC)
        except (ValueError, OverflowError):
            break
    warnings.append(f"{what}: not an ISO 8601 time ({value!r:.40})")
    return None


def _media_type(item: Mapping[str, Any], what: str, warnings: list[str]) -> MediaType:
    raw = item.get("media_type")
    media_type: MediaType = "unknown"
    if raw is None:
        warnings.append(f"{what} media_type: missing")
    elif isinstance(raw, str) and raw.upper() in GRAPH_MEDIA_TYPES:
        media_type = GRAPH_MEDIA_TYPES[raw.upper()]
    else:
        warnings.append(f"{what} media_type: unknown value {raw!r:.30}")
    product = item.get("media_product_type")
    permalink = item.get("permalink")
    if (isinstance(product, str) and product.upper() == "REELS") or (
        media_type == "video" and isinstance(permalink, str) and "/reel/" in permalink
    ):
        media_type = "reel"
    return media_type


def _media_urls(item: Mapping[str, Any]) -> list[str]:
    children = dig(item, "children", "data")
    urls = [str_or_none(dig(child, "media_url")) for child in as_list(children)]
    found = [url for url in urls if url]
    if not found:
        url = str_or_none(item.get("media_url"))
        if url:
            found.append(url)
    return found


def parse_graph_media(
    item: Mapping[str, Any],
    *,
    ctx: Ctx,
    seen_via: str | None,
    owner_id: str | None = None,
    owner_handle: str | None = None,
) -> Post | None:
    """One IG Media object as a :class:`Post` (``None`` + warning when it has no id).

    ``owner_id``/``owner_handle`` are the account the listing belongs to (business discovery);
    a media object's own ``username``/``owner.id`` win when present."""
    warnings = ctx.warnings
    post_id = str_or_none(item.get("id"))
    if not post_id:
        warnings.append("graph media object without id skipped")
        return None
    what = f"post {post_id}"
    caption = text_or_none(item.get("caption"), f"{what} caption", warnings)
    permalink = text_or_none(item.get("permalink"), f"{what} permalink", warnings)
    match = _PERMALINK.search(permalink or "")
    likes = None
    if "like_count" in item:
        likes = count_of(item.get("like_count"), f"{what} like_count", warnings)
    else:
        warnings.append(f"{what} like_count: absent (hidden by the owner, or not requested)")
    if "comments_count" not in item:
        warnings.append(f"{what} comments_count: missing")
    comments_disabled = None
    enabled = item.get("is_comment_enabled")
    if isinstance(enabled, bool):
        comments_disabled = not enabled
    extra: dict[str, Any] = {}
    for key in _MEDIA_EXTRA:
        put_scalar(extra, key, item.get(key))
    children = [str_or_none(dig(child, "id")) for child in as_list(dig(item, "children", "data"))]
    if any(children):
        extra["children_ids"] = [child for child in children if child]
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        shortcode=match.group(2) if match else None,
        url=permalink,
        owner_id=str_or_none(dig(item, "owner", "id")) or owner_id,
        owner_handle=str_or_none(item.get("username")) or owner_handle,
        taken_at=parse_graph_time(item.get("timestamp"), f"{what} timestamp", warnings),
        caption=caption,
        hashtags=extract_hashtags(caption),
        mentions=extract_mentions(caption),
        media_type=_media_type(item, what, warnings),
        media_urls=_media_urls(item),
        likes=likes,
        comments=count_of(item.get("comments_count"), f"{what} comments_count", warnings),
        comments_disabled=comments_disabled,
        seen_via=seen_via,
        extra=extra,
    )


def _listing(connection: Any, what: str, warnings: list[str]) -> list[Mapping[str, Any]]:
    data = dig(connection, "data")
    if data is None:
        warnings.append(f"{what}: no data list")
        return []
    if not isinstance(data, list):
        warnings.append(f"{what}: data is a {type(data).__name__}, not a list")
        return []
    items = [item for item in data if isinstance(item, Mapping)]
    if len(items) < len(data):
        warnings.append(f"{what}: {len(data) - len(items)} entries that are not objects skipped")
    return items


def _after(connection: Any, *, need_next: bool) -> str | None:
    """The ``paging.cursors.after`` cursor, when there is a next page.

    Top-level edges say so with ``paging.next``; a nested edge (business discovery's media)
    never carries ``next``, so there the cursor of a non-empty page is the way on."""
    paging = dig(connection, "paging")
    after = str_or_none(dig(paging, "cursors", "after"))
    if not after:
        return None
    if need_next and not isinstance(dig(paging, "next"), str):
        return None
    return after


def parse_hashtag_search(payload: bytes | str | Mapping[str, Any]) -> str | None:
    """The hashtag id of an ``ig_hashtag_search`` answer (``None`` when it found none)."""
    doc = _document(payload, "ig_hashtag_search")
    data = doc.get("data")
    if not isinstance(data, list):
        raise UnknownShape(
            f"ig_hashtag_search answer without a data list; keys {sorted(map(str, doc))[:8]}"
        )
    for entry in data:
        hashtag_id = str_or_none(dig(entry, "id"))
        if hashtag_id:
            return hashtag_id
    return None


def parse_hashtag_media(
    payload: bytes | str | Mapping[str, Any],
    *,
    tag: str,
    edge: HashtagEdge,
    collected_at: datetime,
    raw_id: str | None = None,
) -> ParsedRecords:
    """A ``top_media``/``recent_media`` page: its posts (``seen_via``
    ``graph:tag:<tag>:top|recent``, owner unknown) and ``next_cursor``."""
    doc = _document(payload, f"{edge}_media")
    if not isinstance(doc.get("data"), list):
        raise UnknownShape(
            f"graph {edge}_media answer without a data list; keys {sorted(map(str, doc))[:8]}"
        )
    ctx = Ctx(collected_at, raw_id, [])
    out = ParsedRecords()
    via = f"graph:tag:{tag}:{edge}"
    for item in _listing(doc, f"{edge}_media", ctx.warnings):
        post = parse_graph_media(item, ctx=ctx, seen_via=via)
        if post is not None:
            out.posts.append(post)
    out.next_cursor = _after(doc, need_next=True)
    out.warnings = list(dict.fromkeys(ctx.warnings))
    return out


def parse_business_discovery(
    payload: bytes | str | Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None = None,
    hint_handle: str | None = None,
    seen_via: str | None = None,
) -> ParsedRecords:
    """A business discovery answer: the account's :class:`Profile` (``is_business`` True) and
    its posts (owner set, ``seen_via`` ``graph:profile:<handle>``), ``next_cursor`` where its
    media continue. ``hint_handle`` is the username asked for."""
    doc = _document(payload, "business_discovery")
    found = doc.get("business_discovery")
    if not isinstance(found, Mapping):
        raise UnknownShape(
            f"graph answer without a business_discovery object; keys {sorted(map(str, doc))[:8]}"
        )
    ctx = Ctx(collected_at, raw_id, [])
    warnings = ctx.warnings
    out = ParsedRecords()
    asked = hint_handle.strip().lstrip("@").lower() if hint_handle else None
    handle = str_or_none(found.get("username"))
    # A page of media asked for alone (``{media.after(...)}``) says nothing of the account.
    has_profile = any(key in found for key in _PROFILE_KEYS)
    if not handle and asked:
        handle = asked
        if has_profile:
            warnings.append(f"business_discovery: no username in the answer, using {asked!r}")
    user_id = str_or_none(found.get("id"))
    if handle and has_profile:
        what = f"profile {handle}"
        state: ProfileState = "ok"
        extra: dict[str, Any] = {}
        if asked and handle.lower() != asked:
            state = "renamed"
            extra["asked_handle"] = asked
        for key in _PROFILE_EXTRA:
            put_scalar(extra, key, str_or_none(found.get(key)))
        out.profiles.append(
            Profile(
                platform=PLATFORM,
                user_id=user_id,
                handle=handle,
                collected_at=collected_at,
                raw_id=raw_id,
                name=text_or_none(found.get("name"), f"{what} name", warnings),
                bio=text_or_none(found.get("biography"), f"{what} biography", warnings),
                followers=count_of(found.get("followers_count"), f"{what} followers", warnings),
                following=count_of(found.get("follows_count"), f"{what} follows", warnings),
                posts_count=count_of(found.get("media_count"), f"{what} media_count", warnings),
                is_business=True,
                external_url=text_or_none(found.get("website"), f"{what} website", warnings),
                profile_pic_url=text_or_none(
                    found.get("profile_picture_url"), f"{what} profile_picture_url", warnings
                ),
                state=state,
                extra=extra,
            )
        )
    elif has_profile:
        warnings.append(f"business_discovery {user_id or '?'} without username: no profile")
    media = found.get("media")
    if media is not None:
        via = seen_via or (f"graph:profile:{handle}" if handle else "graph:profile")
        for item in _listing(media, "business_discovery media", warnings):
            post = parse_graph_media(
                item, ctx=ctx, seen_via=via, owner_id=user_id, owner_handle=handle
            )
            if post is not None:
                out.posts.append(post)
                add_post_edges(out, ctx, post, [])
        if out.posts:
            out.next_cursor = _after(media, need_next=False)
    out.warnings = list(dict.fromkeys(warnings))
    return out


def parse_graph_payload(
    payload: bytes | str | Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None = None,
    endpoint: str | None = None,
    hint_tag: str | None = None,
    hint_handle: str | None = None,
) -> ParsedRecords:
    """Every record of any known Graph API answer (for re-parsing the raw archive).

    ``endpoint`` (``graph/top_media``, ``graph/recent_media``, ``graph/ig_hashtag_search``,
    ``graph/business_discovery``) and ``hint_tag`` say what a bare ``data`` list is; without
    them hashtag media get ``seen_via`` ``graph:tag:?:top`` and a warning."""
    doc = _document(payload, endpoint or "api")
    if "business_discovery" in doc:
        return parse_business_discovery(
            doc, collected_at=collected_at, raw_id=raw_id, hint_handle=hint_handle
        )
    if isinstance(doc.get("data"), list):
        if endpoint in ("ig_hashtag_search", "graph/ig_hashtag_search"):
            return ParsedRecords()
        edge = _EDGES.get(endpoint or "")
        tag = (hint_tag or "").strip().lstrip("#").lower()
        out = parse_hashtag_media(
            doc, tag=tag or "?", edge=edge or "top", collected_at=collected_at, raw_id=raw_id
        )
        if not tag or edge is None:
            out.warnings.insert(
                0, "graph media listing without hint_tag/endpoint: seen_via guessed"
            )
        return out
    raise UnknownShape(
        f"graph answer{f' (endpoint {endpoint})' if endpoint else ''} in no known shape: "
        f"expected business_discovery or a data list; keys {sorted(map(str, doc))[:8]}"
    )
