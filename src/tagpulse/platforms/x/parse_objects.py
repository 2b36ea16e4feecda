"""X API v2 objects -> records: a tweet (with what it references), a user. No I/O, no clock.

:mod:`tagpulse.platforms.x.parse` finds these objects in an answer and documents the choices made
here (media types, retweets, edge kinds). Every reader of a field goes through the ``as_*``
helpers: a missing or wrong-typed field becomes ``None`` plus a warning, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tagpulse.platforms.coerce import as_list, dig
from tagpulse.platforms.coerce import as_mapping as as_map
from tagpulse.records import Edge, EdgeKind, MediaType, Post, Profile

__all__ = [
    "PLATFORM",
    "Includes",
    "as_int",
    "as_list",
    "as_map",
    "as_str",
    "as_time",
    "parse_tweet",
    "parse_user",
    "post_url",
]

PLATFORM = "x"

_MEDIA_TYPES: dict[str, MediaType] = {"photo": "image", "video": "video", "animated_gif": "video"}
_STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(\w+)/status/(\d+)")
_METRICS = (
    "like_count",
    "reply_count",
    "retweet_count",
    "quote_count",
    "impression_count",
    "bookmark_count",
)


def post_url(post_id: str, handle: str | None) -> str:
    """The web address of a tweet (``/i/status/<id>`` works when the handle is unknown)."""
    return f"https://x.com/{handle or 'i'}/status/{post_id}"


# -- values --------------------------------------------------------------------------------------


def _got(value: Any) -> str:
    return f"got {type(value).__name__} {value!r:.40}"


def as_str(value: Any, what: str, warnings: list[str], *, required: bool = False) -> str | None:
    """A string (an integer id is accepted as its digits)."""
    if value is None:
        if required:
            warnings.append(f"{what}: missing")
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    warnings.append(f"{what}: expected a string, {_got(value)}")
    return None


def as_int(value: Any, what: str, warnings: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        warnings.append(f"{what}: expected an integer, got a boolean")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    warnings.append(f"{what}: expected an integer, {_got(value)}")
    return None


def _bool(value: Any, what: str, warnings: list[str]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    warnings.append(f"{what}: expected a boolean, {_got(value)}")
    return None


def as_time(
    value: Any, what: str, warnings: list[str], *, required: bool = False
) -> datetime | None:
    """An ISO 8601 time (``2021-09-22T16:37:29.000Z``) in UTC; a naive one is taken as UTC."""
    if value is None:
        if required:
            warnings.append(f"{what}: missing")
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
    warnings.append(f"{what}: expected an ISO 8601 time, {_got(value)}")
    return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _texts(entities: Mapping[str, Any], name: str, key: str) -> list[str]:
    """``entities[name][*][key]`` where it is a non-empty string."""
    return [
        value
        for item in as_list(entities.get(name))
        if isinstance(value := as_map(item).get(key), str) and value
    ]


# -- includes ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Includes:
    """One answer's ``includes`` indexed by id, and what its records are stamped with."""

    collected_at: datetime
    raw_id: str | None
    warnings: list[str] = field(default_factory=list)
    users: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    tweets: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    media: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    places: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    polls: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    _ids: dict[str, str] | None = field(default=None, init=False, repr=False)

    def index(self, includes: Any) -> None:
        if includes is None:
            return
        if not isinstance(includes, Mapping):
            self.warnings.append(f"includes: expected an object, got {type(includes).__name__}")
            return
        for name, key, target in (
            ("users", "id", self.users),
            ("tweets", "id", self.tweets),
            ("media", "media_key", self.media),
            ("places", "id", self.places),
            ("polls", "id", self.polls),
        ):
            value = includes.get(name)
            if value is not None and not isinstance(value, list):
                self.warnings.append(f"includes.{name}: expected a list, {_got(value)}")
            for item in as_list(value):
                if not isinstance(item, Mapping):
                    self.warnings.append(f"includes.{name}: an item is not an object")
                    continue
                ident = as_str(item.get(key), f"includes.{name} {key}", self.warnings)
                if ident is not None:
                    target.setdefault(ident, item)

    def user_id(self, handle: str) -> str | None:
        """The id of an included user by handle (older answers give mentions without ids)."""
        if self._ids is None:
            self._ids = {}
            for ident, user in self.users.items():
                username = user.get("username")
                if isinstance(username, str):
                    self._ids.setdefault(username.lower(), ident)
        return self._ids.get(handle.lower())

    def handle(self, user_id: str | None) -> str | None:
        username = as_map(self.users.get(user_id)).get("username") if user_id else None
        return username if isinstance(username, str) else None


# -- users ---------------------------------------------------------------------------------------


def parse_user(user: Mapping[str, Any], ctx: Includes) -> Profile | None:
    """A user object as a :class:`Profile` (None, with a warning, when it has no username)."""
    w = ctx.warnings
    user_id = as_str(user.get("id"), "user id", w, required=True)
    what = f"user {user_id}"
    handle = as_str(user.get("username"), f"{what} username", w, required=True)
    if not handle:
        w.append(f"{what}: skipped (no username)")
        return None
    raw_metrics = user.get("public_metrics")
    if raw_metrics is not None and not isinstance(raw_metrics, Mapping):
        w.append(f"{what} public_metrics: expected an object, {_got(raw_metrics)}")
    metrics = as_map(raw_metrics)
    # "url" is a t.co link; entities.url.urls[0].expanded_url is where it leads.
    links = _texts(as_map(dig(user, "entities", "url")), "urls", "expanded_url")
    url = links[0] if links else as_str(user.get("url"), f"{what} url", w)
    extra: dict[str, Any] = {}
    for key in ("location", "created_at", "pinned_tweet_id", "verified_type"):
        value = as_str(user.get(key), f"{what} {key}", w)
        if value:
            extra[key] = value
    for key in ("listed_count", "like_count", "media_count"):
        count = as_int(metrics.get(key), f"{what} {key}", w)
        if count is not None:
            extra[key] = count
    if isinstance(user.get("withheld"), Mapping):
        extra["withheld"] = dict(user["withheld"])
    return Profile(
        platform=PLATFORM,
        user_id=user_id,
        handle=handle,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        name=as_str(user.get("name"), f"{what} name", w),
        bio=as_str(user.get("description"), f"{what} description", w),
        followers=as_int(metrics.get("followers_count"), f"{what} followers_count", w),
        following=as_int(metrics.get("following_count"), f"{what} following_count", w),
        posts_count=as_int(metrics.get("tweet_count"), f"{what} tweet_count", w),
        is_private=_bool(user.get("protected"), f"{what} protected", w),
        is_verified=_bool(user.get("verified"), f"{what} verified", w),
        external_url=url or None,
        profile_pic_url=as_str(user.get("profile_image_url"), f"{what} profile_image_url", w),
        extra=extra,
    )


# -- tweets --------------------------------------------------------------------------------------


def _references(tweet: Mapping[str, Any], what: str, w: list[str]) -> list[tuple[str, str]]:
    """``(type, id)`` of each referenced tweet: retweeted, quoted, replied_to."""
    raw = tweet.get("referenced_tweets")
    if raw is not None and not isinstance(raw, list):
        w.append(f"{what} referenced_tweets: expected a list, {_got(raw)}")
    refs: list[tuple[str, str]] = []
    for ref in as_list(raw):
        kind = as_str(as_map(ref).get("type"), f"{what} referenced_tweets type", w)
        ref_id = as_str(as_map(ref).get("id"), f"{what} referenced_tweets id", w)
        if kind and ref_id:
            refs.append((kind, ref_id))
    return refs


def _mentions(entities: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """``(username, user id or None)`` of each mention."""
    found: list[tuple[str, str | None]] = []
    for item in as_list(entities.get("mentions")):
        username, ident = as_map(item).get("username"), as_map(item).get("id")
        if isinstance(username, str) and username:
            found.append((username, ident if isinstance(ident, str) else None))
    return found


def _text(tweet: Mapping[str, Any]) -> str | None:
    """The full text: a long post's ``note_tweet.text``, else ``text``."""
    note = dig(tweet, "note_tweet", "text")
    text = note if isinstance(note, str) else tweet.get("text")
    return text if isinstance(text, str) else None


@dataclass(slots=True)
class _Media:
    media_type: MediaType = "unknown"
    urls: list[str] = field(default_factory=list)
    video_urls: list[str] = field(default_factory=list)
    video_views: int | None = None
    keys: list[str] = field(default_factory=list)


def _media(tweet: Mapping[str, Any], ctx: Includes) -> _Media:
    out = _Media()
    keys = as_list(dig(tweet, "attachments", "media_keys"))
    out.keys = [key for key in keys if isinstance(key, str)]
    found = [ctx.media[key] for key in out.keys if key in ctx.media]
    for item in found:
        kind = item.get("type")
        image = item.get("url") if kind == "photo" else item.get("preview_image_url")
        if isinstance(image, str) and image:
            out.urls.append(image)
        mp4 = [
            v
            for v in as_list(item.get("variants"))
            if isinstance(v, Mapping)
            and v.get("content_type") == "video/mp4"
            and isinstance(v.get("url"), str)
        ]
        if mp4:
            best = max(mp4, key=lambda v: as_int(v.get("bit_rate"), "bit_rate", []) or 0)
            out.video_urls.append(best["url"])
        views = as_int(dig(item, "public_metrics", "view_count"), "view_count", [])
        if views is not None:
            out.video_views = (out.video_views or 0) + views
    if len(found) == 1:
        kind = found[0].get("type")
        out.media_type = _MEDIA_TYPES.get(kind, "unknown") if isinstance(kind, str) else "unknown"
    elif len(found) > 1:
        out.media_type = "carousel"
    return out


def _metrics(tweet: Mapping[str, Any], what: str, w: list[str]) -> dict[str, int | None]:
    raw = tweet.get("public_metrics")
    if raw is None:
        w.append(f"{what} public_metrics: missing")
    elif not isinstance(raw, Mapping):
        w.append(f"{what} public_metrics: expected an object, {_got(raw)}")
    metrics = as_map(raw)
    return {key: as_int(metrics.get(key), f"{what} {key}", w) for key in _METRICS}


@dataclass(slots=True)
class _Content:
    """What a tweet shows: for a retweet, its original's text, tags, mentions and media."""

    caption: str | None
    hashtags: list[str]
    mentions: list[tuple[str, str | None]]
    media: _Media
    entities: Mapping[str, Any]


def _content(
    tweet: Mapping[str, Any], original: Mapping[str, Any] | None, what: str, ctx: Includes
) -> _Content:
    raw_entities = tweet.get("entities")
    if raw_entities is not None and not isinstance(raw_entities, Mapping):
        ctx.warnings.append(f"{what} entities: expected an object, {_got(raw_entities)}")
    entities = as_map(raw_entities)
    if tweet.get("text") is None:
        ctx.warnings.append(f"{what} text: missing")
    elif not isinstance(tweet.get("text"), str):
        ctx.warnings.append(f"{what} text: expected a string, {_got(tweet.get('text'))}")
    out = _Content(
        caption=_text(tweet),
        hashtags=[tag.lower() for tag in _texts(entities, "hashtags", "tag")],
        mentions=_mentions(entities),
        media=_media(tweet, ctx),
        entities=entities,
    )
    if original is not None:
        out.caption = _text(original) or out.caption
        original_entities = as_map(original.get("entities"))
        out.hashtags += [tag.lower() for tag in _texts(original_entities, "hashtags", "tag")]
        out.mentions += _mentions(original_entities)
        if not out.media.keys:
            out.media = _media(original, ctx)
    return out


def _extra(
    tweet: Mapping[str, Any],
    refs: list[tuple[str, str]],
    content: _Content,
    metrics: dict[str, int | None],
    what: str,
    ctx: Includes,
) -> dict[str, Any]:
    w = ctx.warnings
    extra: dict[str, Any] = {
        key: metrics[key]
        for key in ("retweet_count", "quote_count", "bookmark_count")
        if metrics[key] is not None
    }
    for kind, key in (
        ("retweeted", "retweet_of"),
        ("quoted", "quote_of"),
        ("replied_to", "reply_to"),
    ):
        ref_id = next((rid for k, rid in refs if k == kind), None)
        if ref_id is not None:
            extra[key] = ref_id
    for key in ("conversation_id", "in_reply_to_user_id", "source", "reply_settings"):
        value = as_str(tweet.get(key), f"{what} {key}", w)
        if value:
            extra[key] = value
    sensitive = _bool(tweet.get("possibly_sensitive"), f"{what} possibly_sensitive", w)
    if sensitive is not None:
        extra["possibly_sensitive"] = sensitive
    for key, values in (
        ("cashtags", _unique(_texts(content.entities, "cashtags", "tag"))),
        ("urls", _unique(_texts(content.entities, "urls", "expanded_url"))),
        ("media_keys", content.media.keys),
        ("video_urls", content.media.video_urls),
    ):
        if values:
            extra[key] = values
    if content.media.video_views is not None:
        extra["video_views"] = content.media.video_views
    if isinstance(tweet.get("withheld"), Mapping):
        extra["withheld"] = dict(tweet["withheld"])
    poll_ids = as_list(dig(tweet, "attachments", "poll_ids"))
    polls = [ctx.polls[p] for p in poll_ids if isinstance(p, str) and p in ctx.polls]
    if polls:
        extra["poll"] = {"id": polls[0].get("id"), "options": as_list(polls[0].get("options"))}
    rules = [
        {"id": as_str(rule.get("id"), f"{what} rule id", w), "tag": rule.get("tag")}
        for rule in as_list(tweet.get("matching_rules"))
        if isinstance(rule, Mapping)
    ]
    if rules:
        extra["matching_rules"] = rules
    place_id = as_str(dig(tweet, "geo", "place_id"), f"{what} geo.place_id", w)
    if place_id is not None:
        extra["place_id"] = place_id
    coordinates = dig(tweet, "geo", "coordinates", "coordinates")
    if isinstance(coordinates, list) and len(coordinates) == 2:
        extra["coordinates"] = coordinates
    return extra


def parse_tweet(
    tweet: Mapping[str, Any], ctx: Includes, seen_via: str | None
) -> tuple[Post, list[Edge]] | None:
    """A tweet object as a :class:`Post` and the edges it shows (None when it has no id)."""
    w = ctx.warnings
    post_id = as_str(tweet.get("id"), "tweet id", w, required=True)
    if not post_id:
        w.append("tweet without id skipped")
        return None
    what = f"tweet {post_id}"
    author_id = as_str(tweet.get("author_id"), f"{what} author_id", w, required=True)
    handle = ctx.handle(author_id)
    refs = _references(tweet, what, w)
    retweet_of = next((rid for kind, rid in refs if kind == "retweeted"), None)
    content = _content(tweet, ctx.tweets.get(retweet_of) if retweet_of else None, what, ctx)
    metrics = _metrics(tweet, what, w)
    retweets, quotes = metrics["retweet_count"], metrics["quote_count"]
    shares = None
    # A retweet's retweet_count is its original's, echoed: not a share of the retweet.
    if retweet_of is None and (retweets is not None or quotes is not None):
        shares = (retweets or 0) + (quotes or 0)
    extra = _extra(tweet, refs, content, metrics, what, ctx)
    rules = extra.get("matching_rules")
    if seen_via is None and rules:
        rule_tag = rules[0]["tag"]
        seen_via = f"stream:{rule_tag if isinstance(rule_tag, str) else rules[0]['id']}"
    location = None
    if "place_id" in extra:
        place = as_map(ctx.places.get(extra["place_id"]))
        location = as_str(place.get("full_name"), f"{what} place full_name", w)
    post = Post(
        platform=PLATFORM,
        post_id=post_id,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        url=post_url(post_id, handle),
        owner_id=author_id,
        owner_handle=handle,
        taken_at=as_time(tweet.get("created_at"), f"{what} created_at", w, required=True),
        caption=content.caption,
        hashtags=_unique(content.hashtags),
        mentions=_unique([username for username, _ in content.mentions]),
        media_type=content.media.media_type,
        media_urls=content.media.urls,
        likes=metrics["like_count"],
        comments=metrics["reply_count"],
        views=metrics["impression_count"],
        shares=shares,
        language=as_str(tweet.get("lang"), f"{what} lang", w),
        location=location,
        seen_via=seen_via,
        extra=extra,
    )
    # A retweet's text is its original's: the mentions in it are not the retweeter's.
    mentions = content.mentions if retweet_of is None else []
    return post, _edges(tweet, post, refs, mentions, ctx)


# -- edges ---------------------------------------------------------------------------------------


#: How a referenced tweet relates its author: a retweet reposts, a quote quotes, a reply comments.
_REFERENCE_EDGES: dict[str, EdgeKind] = {"retweeted": "reposted", "quoted": "quoted"}


def _ref_author(
    tweet: Mapping[str, Any], kind: str, ref_id: str, ctx: Includes
) -> tuple[str | None, str | None]:
    """The author (id, else ``@handle``) and handle of a tweet that ``tweet`` references."""
    author = as_map(ctx.tweets.get(ref_id)).get("author_id")
    if isinstance(author, str):
        return author, ctx.handle(author)
    entities = as_map(tweet.get("entities"))
    if kind == "replied_to":
        reply_to = tweet.get("in_reply_to_user_id")
        if isinstance(reply_to, str):
            return reply_to, ctx.handle(reply_to)
    elif kind == "retweeted":
        # The "RT @author:" prefix names the original's author.
        text = tweet.get("text")
        for username, ident in _mentions(entities):
            if isinstance(text, str) and text.startswith(f"RT @{username}:"):
                return ident or ctx.user_id(username) or f"@{username}", username
    elif kind == "quoted":
        # A quote carries the quoted tweet's address among its links.
        for link in _texts(entities, "urls", "expanded_url"):
            match = _STATUS_URL.match(link)
            if match and match.group(2) == ref_id:
                return ctx.user_id(match.group(1)) or f"@{match.group(1)}", match.group(1)
    return None, None


def _edges(
    tweet: Mapping[str, Any],
    post: Post,
    refs: list[tuple[str, str]],
    mentions: list[tuple[str, str | None]],
    ctx: Includes,
) -> list[Edge]:
    src = post.owner_id
    if src is None:
        return []
    own_handle = (post.owner_handle or "").lower()
    wanted: dict[tuple[EdgeKind, str, str], str | None] = {}

    def add(kind: EdgeKind, dst: str, post_id: str, dst_handle: str | None) -> None:
        if dst != src and not (own_handle and (dst_handle or "").lower() == own_handle):
            wanted.setdefault((kind, dst, post_id), dst_handle)

    for kind, ref_id in refs:
        dst, dst_handle = _ref_author(tweet, kind, ref_id, ctx)
        if dst is None:
            # One level of references is expanded: an included tweet's own references are not.
            if post.seen_via != "referenced":
                ctx.warnings.append(f"{post.post_id}: no edge to {kind} {ref_id} (author unknown)")
            continue
        edge_kind: EdgeKind = _REFERENCE_EDGES.get(kind, "commented")
        add(edge_kind, dst, ref_id, dst_handle)
    for username, ident in mentions:
        add("mentioned", ident or ctx.user_id(username) or f"@{username}", post.post_id, username)
    return [
        Edge(
            platform=PLATFORM,
            src=src,
            dst=dst,
            kind=kind,
            seen_at=ctx.collected_at,
            raw_id=ctx.raw_id,
            src_handle=post.owner_handle,
            dst_handle=dst_handle,
            post_id=post_id,
        )
        for (kind, dst, post_id), dst_handle in wanted.items()
    ]
