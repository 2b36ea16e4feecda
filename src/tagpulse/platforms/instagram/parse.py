"""Instagram payloads -> records. Pure functions: no I/O, no clock.

Known hashtag shapes:

* ``api/v1/tags/web_info/?tag_name=``: ``{"data": {"name", "media_count", "top": {"sections":
  [{"layout_content": {"medias": [{"media": <api/v1 item>}]}}]}, "recent": ...}, "status": "ok"}``
* legacy ``explore/tags/<tag>/?__a=1``: ``{"graphql": {"hashtag": {...}}}`` and the graphql tag
  query ``{"data": {"hashtag": {...}}}``, with ``edge_hashtag_to_media.count`` and
  ``edge_hashtag_to_top_posts.edges[].node``.

A field that is missing or of the wrong type becomes ``None`` plus a warning; only a body that is
not JSON, or JSON in no known shape, raises :class:`~tagpulse.errors.PayloadError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from tagpulse.platforms.instagram.exceptions import UnknownShape
from tagpulse.records import HashtagSnapshot, MediaType, PostRef

__all__ = ["HashtagParse", "load_json", "parse_hashtag", "parse_media_item"]

PLATFORM = "instagram"

_MEDIA_TYPES: dict[int, MediaType] = {1: "image", 2: "video", 8: "carousel"}
_TYPENAMES: dict[str, MediaType] = {
    "GraphImage": "image",
    "GraphVideo": "video",
    "GraphSidecar": "carousel",
}


@dataclass(slots=True)
class HashtagParse:
    """A parsed hashtag answer: the snapshot and what was wrong with the payload."""

    snapshot: HashtagSnapshot
    warnings: list[str] = field(default_factory=list)
    shape: str = ""


def load_json(body: bytes | str) -> Any:
    """Decode a JSON body, raising :class:`UnknownShape` with the reason when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        preview = body[:40] if isinstance(body, bytes) else body[:40].encode()
        raise UnknownShape(f"body is not valid JSON ({exc}); starts with {preview!r}") from exc


def _int_or_none(value: Any, what: str, warnings: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        warnings.append(f"{what}: expected an integer, got a boolean")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    warnings.append(f"{what}: expected an integer, got {type(value).__name__} {value!r:.40}")
    return None


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _ts(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def parse_media_item(item: Mapping[str, Any], warnings: list[str]) -> PostRef | None:
    """An api/v1 media item (web_info sections, media info) as a :class:`PostRef`."""
    post_id = _str_or_none(item.get("pk")) or _str_or_none(item.get("id"))
    if post_id is None:
        warnings.append("top post without pk/id skipped")
        return None
    post_id = post_id.split("_", 1)[0]
    user = item.get("user") if isinstance(item.get("user"), Mapping) else {}
    assert isinstance(user, Mapping)
    caption = item.get("caption")
    caption_text = caption.get("text") if isinstance(caption, Mapping) else None
    raw_type = item.get("media_type")
    media_type: MediaType = (
        _MEDIA_TYPES.get(raw_type, "unknown") if isinstance(raw_type, int) else "unknown"
    )
    if item.get("product_type") == "clips":
        media_type = "reel"
    candidates = _dig(item, "image_versions2", "candidates")
    display_url = None
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], Mapping):
        display_url = _str_or_none(candidates[0].get("url"))
    likes = None
    if not item.get("like_and_view_counts_disabled"):
        likes = _int_or_none(item.get("like_count"), f"post {post_id} like_count", warnings)
    return PostRef(
        post_id=post_id,
        shortcode=_str_or_none(item.get("code")),
        owner_id=_str_or_none(user.get("pk")) or _str_or_none(user.get("id")),
        owner_handle=_str_or_none(user.get("username")),
        taken_at=_ts(item.get("taken_at")),
        likes=likes,
        comments=_int_or_none(item.get("comment_count"), f"post {post_id} comment_count", warnings),
        media_type=media_type,
        caption=caption_text if isinstance(caption_text, str) else None,
        display_url=display_url,
    )


def _graphql_node(node: Mapping[str, Any], warnings: list[str]) -> PostRef | None:
    post_id = _str_or_none(node.get("id"))
    if post_id is None:
        warnings.append("top post without id skipped")
        return None
    likes_raw = _dig(node, "edge_liked_by", "count")
    if likes_raw is None:
        likes_raw = _dig(node, "edge_media_preview_like", "count")
    caption_edges = _dig(node, "edge_media_to_caption", "edges")
    caption = None
    if isinstance(caption_edges, list) and caption_edges:
        text = _dig(caption_edges[0], "node", "text")
        caption = text if isinstance(text, str) else None
    typename = node.get("__typename")
    media_type: MediaType = (
        _TYPENAMES.get(typename, "unknown") if isinstance(typename, str) else ("unknown")
    )
    if media_type == "unknown" and isinstance(node.get("is_video"), bool):
        media_type = "video" if node["is_video"] else "image"
    return PostRef(
        post_id=post_id,
        shortcode=_str_or_none(node.get("shortcode")),
        owner_id=_str_or_none(_dig(node, "owner", "id")),
        owner_handle=_str_or_none(_dig(node, "owner", "username")),
        taken_at=_ts(node.get("taken_at_timestamp")),
        likes=_int_or_none(likes_raw, f"post {post_id} likes", warnings),
        comments=_int_or_none(
            _dig(node, "edge_media_to_comment", "count"), f"post {post_id} comments", warnings
        ),
        media_type=media_type,
        caption=caption,
        display_url=_str_or_none(node.get("display_url")),
    )


def _section_medias(block: Any) -> Iterator[Mapping[str, Any]]:
    sections = block.get("sections") if isinstance(block, Mapping) else None
    if not isinstance(sections, list):
        return
    for section in sections:
        content = section.get("layout_content") if isinstance(section, Mapping) else None
        if not isinstance(content, Mapping):
            continue
        medias = content.get("medias")
        if isinstance(medias, list):
            for entry in medias:
                media = entry.get("media") if isinstance(entry, Mapping) else None
                if isinstance(media, Mapping):
                    yield media
        # Reels blocks nest one level deeper.
        clips = _dig(content, "one_by_two_item", "clips", "items")
        if isinstance(clips, list):
            for entry in clips:
                media = entry.get("media") if isinstance(entry, Mapping) else None
                if isinstance(media, Mapping):
                    yield media


def _edges(obj: Any) -> list[Any]:
    edges = obj.get("edges") if isinstance(obj, Mapping) else None
    return edges if isinstance(edges, list) else []


def parse_hashtag(
    payload: bytes | str | Mapping[str, Any],
    *,
    tag: str,
    collected_at: datetime,
    account: str | None = None,
    raw_id: str | None = None,
) -> HashtagParse:
    """Turn a hashtag answer (any known shape) into a :class:`HashtagSnapshot`."""
    doc = load_json(payload) if isinstance(payload, bytes | str) else payload
    if not isinstance(doc, Mapping):
        raise UnknownShape(f"hashtag payload is a JSON {type(doc).__name__}, not an object")
    warnings: list[str] = []
    top: list[PostRef] = []
    related: list[str] = []
    extra: dict[str, Any] = {}

    hashtag = _dig(doc, "graphql", "hashtag")
    shape = "graphql"
    if not isinstance(hashtag, Mapping):
        hashtag = _dig(doc, "data", "hashtag")
        shape = "graphql_query"
    data = doc.get("data")
    if isinstance(hashtag, Mapping):
        media = hashtag.get("edge_hashtag_to_media")
        raw_count = media.get("count") if isinstance(media, Mapping) else None
        name = hashtag.get("name")
        top_edges = _edges(hashtag.get("edge_hashtag_to_top_posts"))
        if "edge_hashtag_to_top_posts" not in hashtag:
            warnings.append("no top posts in payload (edge_hashtag_to_top_posts missing)")
        for edge in top_edges:
            node = edge.get("node") if isinstance(edge, Mapping) else None
            if isinstance(node, Mapping):
                ref = _graphql_node(node, warnings)
                if ref is not None:
                    top.append(ref)
        for edge in _edges(hashtag.get("edge_hashtag_to_related_tags")):
            rel = _dig(edge, "node", "name")
            if isinstance(rel, str):
                related.append(rel.lower())
        if isinstance(hashtag.get("id"), str):
            extra["tag_id"] = hashtag["id"]
    elif isinstance(data, Mapping) and ("media_count" in data or "top" in data or "name" in data):
        shape = "web_info"
        raw_count = data.get("media_count")
        name = data.get("name")
        if "top" not in data:
            warnings.append("no top posts in payload (data.top missing)")
        for item in _section_medias(data.get("top")):
            ref = parse_media_item(item, warnings)
            if ref is not None:
                top.append(ref)
        if isinstance(data.get("id"), str | int):
            extra["tag_id"] = str(data["id"])
    else:
        status = doc.get("status")
        message = doc.get("message")
        raise UnknownShape(
            "hashtag payload in no known shape (expected graphql.hashtag, data.hashtag or "
            f"web_info data); keys {sorted(doc)[:8]}, status={status!r}, message={message!r}"
        )

    post_count = _int_or_none(raw_count, "post count", warnings)
    if raw_count is None:
        warnings.append("the platform did not report a post count")
    elif post_count is not None and post_count < 0:
        warnings.append(f"post count: negative value {post_count} ignored")
        post_count = None
    if isinstance(name, str) and name.lower() != tag:
        warnings.append(f"payload is for #{name}, asked for #{tag}")
    if not top and not any(w.startswith("no top posts") for w in warnings):
        warnings.append("no top posts in payload")
    snapshot = HashtagSnapshot(
        platform=PLATFORM,
        tag=tag,
        post_count=post_count,
        top_posts=top,
        related_tags=related,
        collected_at=collected_at,
        account=account,
        raw_id=raw_id,
        extra=extra,
    )
    return HashtagParse(snapshot=snapshot, warnings=warnings, shape=shape)
