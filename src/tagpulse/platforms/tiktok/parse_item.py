"""TikTok item and account objects -> records, and the tolerant readers every TikTok shape uses.

Pure functions: no I/O, no clock. Every reader takes what the platform sent and returns a typed
value or ``None``; a value of the wrong type also appends a warning, so a malformed field never
crashes a parse (the readers every platform shares come from :mod:`tagpulse.platforms.coerce`
and are re-exported here). Counts come as numbers (``stats``, rounded in some answers) or strings
(``statsV2``, exact); :func:`count_of` prefers the exact ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tagpulse.platforms.coerce import (
    as_list,
    as_mapping,
    bool_or_none,
    dig,
    str_or_none,
    text_or_none,
)
from tagpulse.records import Edge, MediaType, ParsedRecords, Post, Profile

__all__ = [
    "PLATFORM",
    "Ctx",
    "add_profile",
    "as_list",
    "as_mapping",
    "bool_or_none",
    "collect_item",
    "count_of",
    "dig",
    "int_or_none",
    "normalise_name",
    "parse_item",
    "parse_profile",
    "post_url",
    "str_or_none",
    "text_or_none",
    "timestamp",
]

PLATFORM = "tiktok"
_HASHTAG = re.compile(r"(?<![\w&])[#＃](\w+)")
# TikTok handles: letters, digits, '_' and '.', at most 24; an e-mail is not a mention.
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.]{1,24})(?![A-Za-z0-9_@])")


@dataclass(slots=True)
class Ctx:
    """What every record of one payload shares, where its warnings go, and the hints."""

    collected_at: datetime
    raw_id: str | None
    warnings: list[str]
    handle: str | None = None
    tag: str | None = None
    seen_via: str | None = None
    account: str | None = None


# --- tolerant readers ---------------------------------------------------------------------


def _is_digits(value: Any) -> bool:
    """A decimal number as a string ("12834"), short enough for ``int()``."""
    return isinstance(value, str) and 0 < len(value.strip()) <= 30 and value.strip().isdecimal()


def int_or_none(value: Any, what: str, warnings: list[str]) -> int | None:
    """A count: integers and digit strings (``statsV2``) accepted; negatives are ``None``."""
    if value is None:
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif _is_digits(value):
        number = int(value.strip())
    if number is None:
        warnings.append(f"{what}: expected an integer, got {type(value).__name__} {value!r:.40}")
    elif number < 0:
        warnings.append(f"{what}: negative value {number} ignored")
        number = None
    return number


def count_of(
    exact: Mapping[str, Any], rounded: Mapping[str, Any], key: str, what: str, warnings: list[str]
) -> int | None:
    """``statsV2`` (exact, strings) first, then ``stats`` (numbers, sometimes rounded)."""
    value = int_or_none(exact.get(key), what, warnings)
    return value if value is not None else int_or_none(rounded.get(key), what, warnings)


def timestamp(value: Any, what: str, warnings: list[str]) -> datetime | None:
    if _is_digits(value):
        value = int(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    warnings.append(f"{what}: missing" if value is None else f"{what}: not a Unix timestamp")
    return None


def _first_url(value: Any) -> str | None:
    """The first address of an ``imageURL``-like object (``{"urlList": [...]}``)."""
    for url in as_list(dig(value, "imageURL", "urlList")) + as_list(dig(value, "urlList")):
        if isinstance(url, str) and url:
            return url
    return None


def _unique(values: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def normalise_name(name: str | None) -> str | None:
    if name is None:
        return None
    return name.strip().lstrip("@#＃").lower() or None


def post_url(handle: str | None, post_id: str) -> str | None:
    """The web address of a post (photo posts answer at the same ``/video/`` address)."""
    return f"https://www.tiktok.com/@{handle}/video/{post_id}" if handle else None


# --- items ----------------------------------------------------------------------------------


def _author(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """The item's author object; page JSON (``SIGI_STATE``) names the author by handle and
    spreads the rest over ``authorId``, ``authorSecId``, ``nickname``..."""
    author = item.get("author")
    if isinstance(author, Mapping):
        return author
    if isinstance(author, str):
        return {
            "uniqueId": author,
            "id": item.get("authorId"),
            "secUid": item.get("authorSecId"),
            "nickname": item.get("nickname"),
            "avatarThumb": item.get("avatarThumb"),
        }
    return {}


def _tag_names(item: Mapping[str, Any], caption: str | None) -> list[str]:
    names = [c.get("title") for c in as_list(item.get("challenges")) if isinstance(c, Mapping)]
    names += [
        t.get("hashtagName") for t in as_list(item.get("textExtra")) if isinstance(t, Mapping)
    ]
    if "challenges" not in item and "textExtra" not in item:
        names += _HASHTAG.findall(caption or "")
    return _unique(n.strip().lstrip("#").lower() for n in names if isinstance(n, str))


def _mentions(item: Mapping[str, Any], caption: str | None) -> list[tuple[str, str | None]]:
    """(handle, user id) of each mention: ``textExtra`` entries with a ``userUniqueId``, or the
    caption's ``@handles`` when the item has no ``textExtra``."""
    found: dict[str, str | None] = {}
    if "textExtra" in item:
        for entry in as_list(item.get("textExtra")):
            handle = normalise_name(str_or_none(as_mapping(entry).get("userUniqueId")))
            if handle:
                found.setdefault(handle, str_or_none(as_mapping(entry).get("userId")) or None)
    else:
        for handle in _MENTION.findall(caption or ""):
            found.setdefault(handle.rstrip(".").lower(), None)
    return [(handle, user_id) for handle, user_id in found.items() if handle]


def _media(item: Mapping[str, Any], what: str, warnings: list[str]) -> tuple[MediaType, list[str]]:
    video = item.get("video")
    if video is not None and not isinstance(video, Mapping):
        warnings.append(f"{what} video: expected an object, got {type(video).__name__}")
    cover = str_or_none(as_mapping(video).get("cover")) or str_or_none(
        as_mapping(video).get("originCover")
    )
    image_post = item.get("imagePost")
    if isinstance(image_post, Mapping):
        images = [_first_url(image) for image in as_list(image_post.get("images"))]
        cover = cover or _first_url(image_post.get("cover"))
        return "carousel", _unique(iter([cover or "", *(url or "" for url in images)]))
    if image_post is not None:
        warnings.append(f"{what} imagePost: expected an object, got {type(image_post).__name__}")
    if not cover:
        warnings.append(f"{what}: no cover image")
    return "video", [cover] if cover else []


def parse_item(
    item: Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None,
    seen_via: str | None,
    warnings: list[str],
) -> Post | None:
    """One item object (as in ``itemList``, ``itemStruct``, ``ItemModule`` or a Zeeschuimer
    capture's ``data``) as a :class:`Post`; ``None`` + warning when it has no id."""
    post_id = str_or_none(item.get("id"))
    if not post_id:
        warnings.append(f"item without id skipped (keys {sorted(map(str, item))[:6]})")
        return None
    what = f"item {post_id}"
    author = _author(item)
    handle = str_or_none(author.get("uniqueId"))
    if not handle:
        warnings.append(f"{what}: author handle missing")
    exact, rounded = as_mapping(item.get("statsV2")), as_mapping(item.get("stats"))
    if not exact and not rounded:
        warnings.append(f"{what}: no stats (stats/statsV2 missing)")
    caption = text_or_none(item.get("desc"), f"{what} desc", warnings)
    media_type, media_urls = _media(item, what, warnings)
    extra: dict[str, Any] = {}
    collects = count_of(exact, rounded, "collectCount", f"{what} collectCount", warnings)
    duration = int_or_none(dig(item, "video", "duration"), f"{what} duration", warnings)
    music = as_mapping(item.get("music"))
    for key, value in (
        ("collect_count", collects),
        ("duration", duration),
        ("music_id", str_or_none(music.get("id"))),
        ("music_title", str_or_none(music.get("title"))),
        ("is_ad", bool_or_none(item.get("isAd"), f"{what} isAd", warnings)),
        ("location_created", str_or_none(item.get("locationCreated"))),
        ("author_sec_uid", str_or_none(author.get("secUid"))),
    ):
        if value is not None and value != "":
            extra[key] = value
    if media_type == "carousel":
        extra["image_count"] = len(as_list(dig(item, "imagePost", "images")))
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        collected_at=collected_at,
        raw_id=raw_id,
        url=post_url(handle, post_id),
        owner_id=str_or_none(author.get("id")) or None,
        owner_handle=handle,
        taken_at=timestamp(item.get("createTime"), f"{what} createTime", warnings),
        caption=caption,
        hashtags=_tag_names(item, caption),
        mentions=[handle for handle, _ in _mentions(item, caption)],
        media_type=media_type,
        media_urls=media_urls,
        likes=count_of(exact, rounded, "diggCount", f"{what} diggCount", warnings),
        comments=count_of(exact, rounded, "commentCount", f"{what} commentCount", warnings),
        views=count_of(exact, rounded, "playCount", f"{what} playCount", warnings),
        shares=count_of(exact, rounded, "shareCount", f"{what} shareCount", warnings),
        location=str_or_none(dig(item, "poi", "name")) or None,
        language=str_or_none(item.get("textLanguage")) or None,
        seen_via=seen_via,
        extra=extra,
    )


def parse_profile(
    user: Mapping[str, Any],
    exact: Mapping[str, Any],
    rounded: Mapping[str, Any],
    ctx: Ctx,
) -> Profile | None:
    """An account from a user object and its stats (``userInfo`` or an item's author)."""
    warnings = ctx.warnings
    handle = str_or_none(user.get("uniqueId"))
    user_id = str_or_none(user.get("id")) or None
    if not handle:
        warnings.append(f"user {user_id or '?'} without uniqueId skipped")
        return None
    what = f"profile {handle}"
    private = bool_or_none(user.get("privateAccount"), f"{what} privateAccount", warnings)
    if private is None:
        private = bool_or_none(user.get("secret"), f"{what} secret", warnings)
    extra: dict[str, Any] = {}
    hearts = count_of(exact, rounded, "heartCount", f"{what} heartCount", warnings)
    if hearts is None:
        hearts = count_of(exact, rounded, "heart", f"{what} heart", warnings)
    for key, value in (
        ("heart_count", hearts),
        ("digg_count", count_of(exact, rounded, "diggCount", f"{what} diggCount", warnings)),
        ("friend_count", count_of(exact, rounded, "friendCount", f"{what} friendCount", warnings)),
        ("sec_uid", str_or_none(user.get("secUid"))),
        ("region", str_or_none(user.get("region"))),
    ):
        if value is not None and value != "":
            extra[key] = value
    commerce = as_mapping(user.get("commerceUserInfo"))
    return Profile(
        platform=PLATFORM,
        user_id=user_id,
        handle=handle,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        name=text_or_none(user.get("nickname"), f"{what} nickname", warnings),
        bio=text_or_none(user.get("signature"), f"{what} signature", warnings),
        followers=count_of(exact, rounded, "followerCount", f"{what} followerCount", warnings),
        following=count_of(exact, rounded, "followingCount", f"{what} followingCount", warnings),
        posts_count=count_of(exact, rounded, "videoCount", f"{what} videoCount", warnings),
        is_private=private,
        is_verified=bool_or_none(user.get("verified"), f"{what} verified", warnings),
        is_business=bool_or_none(commerce.get("commerceUser"), f"{what} commerceUser", warnings),
        category=str_or_none(commerce.get("category")) or None,
        external_url=str_or_none(dig(user, "bioLink", "link")) or None,
        profile_pic_url=str_or_none(user.get("avatarLarger"))
        or str_or_none(user.get("avatarMedium"))
        or str_or_none(user.get("avatarThumb"))
        or None,
        state="private" if private else "ok",
        extra=extra,
    )


def add_profile(out: ParsedRecords, profile: Profile | None) -> None:
    """Add an account once per payload (a page lists the same author many times)."""
    if profile is None:
        return
    key = profile.user_id or profile.handle.lower()
    if all((p.user_id or p.handle.lower()) != key for p in out.profiles):
        out.profiles.append(profile)


def collect_item(out: ParsedRecords, ctx: Ctx, item: Any, seen_via: str | None) -> None:
    """An item's post, its author and a ``mentioned`` edge per mention."""
    if not isinstance(item, Mapping):
        ctx.warnings.append(f"item is a {type(item).__name__}, not an object: skipped")
        return
    post = parse_item(
        item,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        seen_via=seen_via,
        warnings=ctx.warnings,
    )
    if post is None:
        return
    out.posts.append(post)
    exact = as_mapping(item.get("authorStatsV2"))
    add_profile(out, parse_profile(_author(item), exact, as_mapping(item.get("authorStats")), ctx))
    owner = post.owner_id or (f"@{post.owner_handle.lower()}" if post.owner_handle else None)
    mentions = _mentions(item, post.caption)
    if owner is None:
        if mentions:
            ctx.warnings.append(f"item {post.post_id}: owner unknown, mentions not linked")
        return
    for handle, user_id in mentions:
        dst = user_id or f"@{handle}"
        if dst == owner or handle == (post.owner_handle or "").lower():
            continue
        out.edges.append(
            Edge(
                platform=PLATFORM,
                src=owner,
                dst=dst,
                kind="mentioned",
                seen_at=ctx.collected_at,
                raw_id=ctx.raw_id,
                src_handle=post.owner_handle,
                dst_handle=handle,
                post_id=post.post_id,
            )
        )
