"""A hashtag's top posts as the snapshot lists them (:class:`PostRef`): ten fields, read fast.

The snapshot's ``top_posts`` are a summary (who, when, likes, comments, picture); the full
:class:`Post` records of the same items come from :mod:`parse_media` when posts are wanted. The
summary is read directly, not derived from the full record, so a counts-only tracker (the
original Kibana use) pays for ten fields, not for the whole post — and both ways give the same
snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagpulse.platforms.instagram.parse_common import dig, int_or_none, str_or_none, ts
from tagpulse.platforms.instagram.parse_media import MEDIA_TYPES, TYPENAMES
from tagpulse.records import MediaType, PostRef

__all__ = ["ref_from_item", "ref_from_node"]


def ref_from_item(item: Mapping[str, Any], warnings: list[str]) -> PostRef | None:
    """An api/v1 media item (web_info sections) as a :class:`PostRef`."""
    post_id = str_or_none(item.get("pk")) or str_or_none(item.get("id"))
    if post_id is None:
        warnings.append("top post without pk/id skipped")
        return None
    post_id = post_id.split("_", 1)[0]
    found = item.get("user")
    user: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    caption = item.get("caption")
    text = caption.get("text") if isinstance(caption, Mapping) else None
    raw_type = item.get("media_type")
    media_type: MediaType = (
        MEDIA_TYPES.get(raw_type, "unknown")
        if isinstance(raw_type, int) and not isinstance(raw_type, bool)
        else "unknown"
    )
    if item.get("product_type") == "clips":
        media_type = "reel"
    candidates = dig(item, "image_versions2", "candidates")
    if not (isinstance(candidates, list) and candidates):
        # A carousel shows its first child's picture.
        children = item.get("carousel_media")
        first = children[0] if isinstance(children, list) and children else None
        candidates = dig(first, "image_versions2", "candidates")
    display_url = None
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], Mapping):
        display_url = str_or_none(candidates[0].get("url"))
    likes = None
    if item.get("like_and_view_counts_disabled") is not True:
        likes = int_or_none(item.get("like_count"), f"post {post_id} like_count", warnings)
    return PostRef(
        post_id=post_id,
        shortcode=str_or_none(item.get("code")),
        owner_id=str_or_none(user.get("pk")) or str_or_none(user.get("id")),
        owner_handle=str_or_none(user.get("username")),
        taken_at=ts(item.get("taken_at")),
        likes=likes,
        comments=int_or_none(item.get("comment_count"), f"post {post_id} comment_count", warnings),
        media_type=media_type,
        caption=text if isinstance(text, str) else None,
        display_url=display_url,
    )


def ref_from_node(node: Mapping[str, Any], warnings: list[str]) -> PostRef | None:
    """A graphql media node (tag pages' ``edge_hashtag_to_top_posts``) as a :class:`PostRef`."""
    post_id = str_or_none(node.get("id"))
    if post_id is None:
        warnings.append("top post without id skipped")
        return None
    likes_raw = dig(node, "edge_liked_by", "count")
    if likes_raw is None:
        likes_raw = dig(node, "edge_media_preview_like", "count")
    caption_edges = dig(node, "edge_media_to_caption", "edges")
    caption = None
    if isinstance(caption_edges, list) and caption_edges:
        text = dig(caption_edges[0], "node", "text")
        caption = text if isinstance(text, str) else None
    typename = node.get("__typename")
    media_type: MediaType = (
        TYPENAMES.get(typename, "unknown") if isinstance(typename, str) else "unknown"
    )
    if media_type == "unknown" and isinstance(node.get("is_video"), bool):
        media_type = "video" if node["is_video"] else "image"
    return PostRef(
        post_id=post_id,
        shortcode=str_or_none(node.get("shortcode")),
        owner_id=str_or_none(dig(node, "owner", "id")),
        owner_handle=str_or_none(dig(node, "owner", "username")),
        taken_at=ts(node.get("taken_at_timestamp")),
        likes=int_or_none(likes_raw, f"post {post_id} likes", warnings),
        comments=int_or_none(
            dig(node, "edge_media_to_comment", "count"), f"post {post_id} comments", warnings
        ),
        media_type=media_type,
        caption=caption,
        display_url=str_or_none(node.get("display_url")),
    )
