"""Typed records shared by all platforms. Parsers produce them; the lake stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "Event",
    "EventLevel",
    "HashtagSnapshot",
    "MediaType",
    "PostRef",
    "RawEnvelope",
]

MediaType = Literal["image", "video", "carousel", "reel", "unknown"]
EventLevel = Literal["info", "warning", "error"]


@dataclass(slots=True, frozen=True)
class PostRef:
    """A post as it appears in a hashtag's top posts."""

    post_id: str
    shortcode: str | None
    owner_id: str | None
    owner_handle: str | None
    taken_at: datetime | None
    likes: int | None
    comments: int | None
    media_type: MediaType
    caption: str | None
    display_url: str | None


@dataclass(slots=True)
class HashtagSnapshot:
    """One observation of a hashtag: how many posts it had, and its top posts then."""

    platform: str
    tag: str
    post_count: int | None
    top_posts: list[PostRef]
    related_tags: list[str]
    collected_at: datetime
    account: str | None
    raw_id: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Event:
    """Something the collector wants a person to know: warnings, throttles, breaker trips."""

    at: datetime
    level: EventLevel
    kind: str
    message: str
    platform: str | None = None
    tag: str | None = None
    account: str | None = None
    raw_id: str | None = None


@dataclass(slots=True)
class RawEnvelope:
    """A platform answer exactly as received, with how it was asked for (never secrets)."""

    platform: str
    endpoint: str
    url: str
    params: dict[str, str]
    status: int
    account: str | None
    collected_at: datetime
    body: bytes
    content_hash: str
