"""Typed records shared by all platforms. Parsers produce them; the lake stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "Comment",
    "Edge",
    "EdgeKind",
    "Event",
    "EventLevel",
    "HashtagSnapshot",
    "MediaFile",
    "MediaType",
    "ParsedRecords",
    "Post",
    "PostRef",
    "Profile",
    "ProfileState",
    "RawEnvelope",
    "TagCount",
]

MediaType = Literal["image", "video", "carousel", "reel", "unknown"]
EventLevel = Literal["info", "warning", "error"]
#: ``reposted``: a retweet/repost of dst's post; ``quoted``: a quote post of dst's post.
EdgeKind = Literal["follows", "liked", "commented", "mentioned", "tagged", "reposted", "quoted"]
#: ``ok``: a public profile; ``private``: exists, posts hidden; ``not_found``: deleted or never
#: existed; ``renamed``: the handle asked for now belongs to another id (or answers with another).
ProfileState = Literal["ok", "private", "not_found", "renamed"]


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
    #: Set by whoever has already decoded ``body`` as JSON: the archive may then embed it as
    #: JSON (no re-encoding as a string), which is most of the cost of archiving large answers.
    body_is_json: bool = False


@dataclass(slots=True)
class Profile:
    """One observation of an account."""

    platform: str
    user_id: str | None
    handle: str
    collected_at: datetime
    raw_id: str | None
    name: str | None = None
    bio: str | None = None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    is_private: bool | None = None
    is_verified: bool | None = None
    is_business: bool | None = None
    category: str | None = None
    external_url: str | None = None
    profile_pic_url: str | None = None
    state: ProfileState = "ok"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Post:
    """One observation of a post: its counts as they were at ``collected_at``.

    ``seen_via`` says where it was found (``tag:paris:top``, ``tag:paris:recent``,
    ``profile:nike``, ``media``, ``search:#nike``, ``import:zeeschuimer``), so a tracked tag builds
    a post history.
    """

    platform: str
    post_id: str
    collected_at: datetime
    raw_id: str | None
    shortcode: str | None = None
    url: str | None = None
    owner_id: str | None = None
    owner_handle: str | None = None
    taken_at: datetime | None = None
    caption: str | None = None
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    media_type: MediaType = "unknown"
    media_urls: list[str] = field(default_factory=list)
    likes: int | None = None
    comments: int | None = None
    views: int | None = None
    shares: int | None = None
    comments_disabled: bool | None = None
    location: str | None = None
    language: str | None = None
    seen_via: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Comment:
    platform: str
    comment_id: str
    post_id: str | None
    collected_at: datetime
    raw_id: str | None
    owner_id: str | None = None
    owner_handle: str | None = None
    text: str | None = None
    created_at: datetime | None = None
    likes: int | None = None
    parent_id: str | None = None


@dataclass(slots=True)
class Edge:
    """A relation seen at ``seen_at``: ``src`` follows/liked/commented/mentioned/tagged ``dst``.

    ``src``/``dst`` are platform user ids where known, else handles (``@handle``); for ``liked``
    and ``commented`` the dst is the post's author and ``post_id`` names the post.
    """

    platform: str
    src: str
    dst: str
    kind: EdgeKind
    seen_at: datetime
    raw_id: str | None
    weight: float = 1.0
    src_handle: str | None = None
    dst_handle: str | None = None
    post_id: str | None = None


@dataclass(slots=True)
class TagCount:
    """A count of posts in a time bucket (X's recent counts): a popularity series in itself."""

    platform: str
    tag: str
    bucket_start: datetime
    bucket_end: datetime
    count: int
    collected_at: datetime
    raw_id: str | None


@dataclass(slots=True)
class MediaFile:
    """An image in the content-addressed media store."""

    sha256: str
    mime: str
    size: int
    width: int | None
    height: int | None
    platform: str
    post_id: str | None
    url: str | None
    fetched_at: datetime


@dataclass(slots=True)
class ParsedRecords:
    """Everything one payload yielded, and what was wrong with it."""

    snapshots: list[HashtagSnapshot] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    tag_counts: list[TagCount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Where a paginated listing continues (``None`` when it ended or was not paginated).
    next_cursor: str | None = None

    def extend(self, other: ParsedRecords) -> None:
        self.snapshots += other.snapshots
        self.profiles += other.profiles
        self.posts += other.posts
        self.comments += other.comments
        self.edges += other.edges
        self.tag_counts += other.tag_counts
        self.warnings += other.warnings

    def count(self) -> int:
        return (
            len(self.snapshots)
            + len(self.profiles)
            + len(self.posts)
            + len(self.comments)
            + len(self.edges)
            + len(self.tag_counts)
        )
