"""Instagram posts and comments -> :class:`Post`, :class:`Comment` and :class:`Edge` records.

Item shapes:

* api/v1 media items: ``media.json`` items, web_info sections, ``clips/user`` ``items[].media``,
  ``feed/timeline`` ``feed_items[].media_or_ad``, the profile grid's xdt connection nodes and
  Zeeschuimer's Instagram ``data`` objects (``pk``, ``code``, ``taken_at``, ``like_count``...).
* graphql nodes: ``edge_owner_to_timeline_media``, hashtag and location edges, igtv, tagged
  (``id``, ``shortcode``, ``taken_at_timestamp``, ``edge_liked_by``...), and the pre-graphql
  ``media.nodes[]`` of 2017 (``code``, ``date``, ``likes.count``).
* the retired official API v1 ``media/recent`` items (``link``, ``created_time``, ``likes``).

Pure functions: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tagpulse.platforms.instagram.parse_common import (
    PLATFORM,
    Ctx,
    Hints,
    add_comments,
    add_post_edges,
    as_list,
    as_mapping,
    bool_or_none,
    count_of,
    dig,
    edge_nodes,
    extract_hashtags,
    extract_mentions,
    first_present,
    next_cursor,
    post_url,
    put_scalar,
    shortcode_to_media_id,
    str_or_none,
    text_or_none,
    timestamp,
    user_key,
)
from tagpulse.records import MediaType, ParsedRecords, Post

__all__ = [
    "MEDIA_TYPES",
    "TYPENAMES",
    "collect_api_item",
    "collect_graphql_post",
    "collect_media_payload",
    "parse_graphql_post",
    "parse_post_item",
]

MEDIA_TYPES: dict[int, MediaType] = {1: "image", 2: "video", 8: "carousel"}
TYPENAMES: dict[str, MediaType] = {
    "GraphImage": "image",
    "GraphVideo": "video",
    "GraphSidecar": "carousel",
    "XDTGraphImage": "image",
    "XDTGraphVideo": "video",
    "XDTGraphSidecar": "carousel",
}
# Fields kept in Post.extra when present (scalars only).
_API_EXTRA = (
    "product_type",
    "accessibility_caption",
    "is_paid_partnership",
    "video_duration",
    "carousel_media_count",
    "caption_is_edited",
    "like_and_view_counts_disabled",
)
_GRAPHQL_EXTRA = (
    "product_type",
    "accessibility_caption",
    "is_paid_partnership",
    "title",
    "video_duration",
    "video_play_count",
    "video_url",
)


def _first_candidate_url(media: Mapping[str, Any]) -> str | None:
    candidates = dig(media, "image_versions2", "candidates")
    if isinstance(candidates, list) and candidates:
        first = candidates[0]
        if isinstance(first, (dict, Mapping)):
            return str_or_none(first.get("url"))
    return None


def parse_post_item(
    item: Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None,
    seen_via: str | None,
    warnings: list[str],
) -> Post | None:
    """An api/v1 media item as a :class:`Post` (``None`` + warning when it has no id)."""
    post_id = str_or_none(item.get("pk")) or str_or_none(item.get("id"))
    if not post_id:
        warnings.append("media item without pk/id skipped")
        return None
    # "id" is "<media id>_<owner id>"; the owner part is the fallback owner id.
    full_id = str_or_none(item.get("id")) or ""
    post_id = post_id.split("_", 1)[0]
    what = f"post {post_id}"
    user = as_mapping(item.get("user") or item.get("owner"))
    caption = item.get("caption")
    text = text_or_none(
        caption.get("text") if isinstance(caption, Mapping) else caption,
        f"{what} caption",
        warnings,
    )
    owner_id = (
        str_or_none(user.get("pk"))
        or str_or_none(user.get("id"))
        or str_or_none(dig(caption, "user_id"))
        or (full_id.split("_", 1)[1] if "_" in full_id else None)
    )
    raw_type = item.get("media_type")
    media_type: MediaType = (
        MEDIA_TYPES.get(raw_type, "unknown")
        if isinstance(raw_type, int) and not isinstance(raw_type, bool)
        else "unknown"
    )
    if raw_type is not None and media_type == "unknown":
        warnings.append(f"{what} media_type: unknown value {raw_type!r:.20}")
    product_type = item.get("product_type")
    if product_type == "clips":
        media_type = "reel"
    children = [
        child for child in as_list(item.get("carousel_media")) if isinstance(child, (dict, Mapping))
    ]
    urls = (_first_candidate_url(media) for media in children or [item])
    media_urls = [url for url in urls if url]
    hidden = item.get("like_and_view_counts_disabled") is True
    likes = views = None
    if not hidden:
        if item.get("like_count") is None:
            warnings.append(f"{what} like_count: missing")
        likes = count_of(item.get("like_count"), f"{what} like_count", warnings)
        for key in ("play_count", "view_count", "video_view_count"):
            if item.get(key) is not None:
                views = count_of(item.get(key), f"{what} {key}", warnings)
                break
    comments_disabled = bool_or_none(
        item.get("comments_disabled"), f"{what} comments_disabled", warnings
    )
    if comments_disabled is None:
        comments_disabled = bool_or_none(
            item.get("commenting_disabled_for_viewer"),
            f"{what} commenting_disabled_for_viewer",
            warnings,
        )
    location = as_mapping(item.get("location"))
    shortcode = str_or_none(item.get("code")) or str_or_none(item.get("shortcode"))
    extra: dict[str, Any] = {}
    for key in _API_EXTRA:
        value = item.get(key)
        if value is not None:  # what put_scalar would skip, without the call
            put_scalar(extra, key, value)
    put_scalar(extra, "location_id", str_or_none(first_present(location, "pk", "id")))
    put_scalar(extra, "width", item.get("original_width"))
    put_scalar(extra, "height", item.get("original_height"))
    if views is not None and item.get("play_count") is not None:
        put_scalar(extra, "view_count", item.get("view_count"))
    videos = as_list(item.get("video_versions"))
    if videos and isinstance(videos[0], Mapping):
        put_scalar(extra, "video_url", videos[0].get("url"))
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        collected_at=collected_at,
        raw_id=raw_id,
        shortcode=shortcode,
        url=post_url(shortcode),
        owner_id=owner_id,
        owner_handle=str_or_none(user.get("username")),
        taken_at=timestamp(item.get("taken_at"), f"{what} taken_at", warnings),
        caption=text,
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
        media_type=media_type,
        media_urls=media_urls,
        likes=likes,
        comments=count_of(item.get("comment_count"), f"{what} comment_count", warnings),
        views=views,
        comments_disabled=comments_disabled,
        location=str_or_none(location.get("name")),
        seen_via=seen_via,
        extra=extra,
    )


def _graphql_caption(node: Mapping[str, Any], what: str, warnings: list[str]) -> str | None:
    if "edge_media_to_caption" not in node:
        # The 2017 shape carries the caption as a plain string.
        return text_or_none(node.get("caption"), f"{what} caption", warnings)
    for caption_node in edge_nodes(node.get("edge_media_to_caption")):
        return text_or_none(caption_node.get("text"), f"{what} caption", warnings)
    return None


def parse_graphql_post(
    node: Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None,
    seen_via: str | None,
    warnings: list[str],
    owner_id: str | None = None,
    owner_handle: str | None = None,
) -> Post | None:
    """A graphql media node (or a 2017 ``media.nodes[]`` one) as a :class:`Post`.

    ``owner_id``/``owner_handle`` fill in an owner the node leaves out (a profile's own posts).
    """
    post_id = str_or_none(node.get("id"))
    if not post_id:
        warnings.append("graphql media node without id skipped")
        return None
    what = f"post {post_id}"
    owner = as_mapping(node.get("owner"))
    text = _graphql_caption(node, what, warnings)
    typename = node.get("__typename")
    media_type: MediaType = (
        TYPENAMES.get(typename, "unknown") if isinstance(typename, str) else "unknown"
    )
    if media_type == "unknown" and isinstance(node.get("is_video"), bool):
        media_type = "video" if node["is_video"] else "image"
    if node.get("product_type") == "clips":
        media_type = "reel"
    media_urls: list[str] = []
    for child in edge_nodes(node.get("edge_sidecar_to_children")):
        url = str_or_none(child.get("display_url"))
        if url:
            media_urls.append(url)
    if not media_urls:
        url = str_or_none(node.get("display_url")) or str_or_none(node.get("display_src"))
        if url:
            media_urls.append(url)
    hidden = node.get("like_and_view_counts_disabled") is True
    likes = views = None
    if not hidden:
        keys = ("edge_liked_by", "edge_media_preview_like", "likes")
        if all(node.get(key) is None for key in keys):
            warnings.append(f"{what} likes: missing")
        for key in keys:
            likes = count_of(node.get(key), f"{what} likes", warnings)
            if likes is not None:
                break
        views = count_of(node.get("video_view_count"), f"{what} video_view_count", warnings)
    raw_comments = first_present(
        node, "edge_media_to_comment", "edge_media_to_parent_comment", "comments"
    )
    shortcode = str_or_none(node.get("shortcode")) or str_or_none(node.get("code"))
    location = as_mapping(node.get("location"))
    dimensions = as_mapping(node.get("dimensions"))
    extra: dict[str, Any] = {}
    put_scalar(extra, "typename", typename)
    for key in _GRAPHQL_EXTRA:
        put_scalar(extra, key, node.get(key))
    put_scalar(extra, "location_id", str_or_none(location.get("id")))
    put_scalar(extra, "width", dimensions.get("width"))
    put_scalar(extra, "height", dimensions.get("height"))
    node_owner_id = str_or_none(owner.get("id"))
    node_owner_handle = str_or_none(owner.get("username"))
    # A listing of the user's own posts: its nodes carry the owner's id at most.
    if node_owner_handle is None and (owner_id is None or node_owner_id in (None, owner_id)):
        node_owner_handle = owner_handle
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        collected_at=collected_at,
        raw_id=raw_id,
        shortcode=shortcode,
        url=post_url(shortcode),
        owner_id=node_owner_id or owner_id,
        owner_handle=node_owner_handle,
        taken_at=timestamp(
            first_present(node, "taken_at_timestamp", "date"), f"{what} taken_at", warnings
        ),
        caption=text,
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
        media_type=media_type,
        media_urls=media_urls,
        likes=likes,
        comments=count_of(raw_comments, f"{what} comments", warnings),
        views=views,
        comments_disabled=bool_or_none(
            node.get("comments_disabled"), f"{what} comments_disabled", warnings
        ),
        location=str_or_none(location.get("name")),
        seen_via=seen_via,
        extra=extra,
    )


def collect_api_item(
    out: ParsedRecords,
    ctx: Ctx,
    item: Mapping[str, Any],
    seen_via: str | None,
    *,
    owner_id: str | None = None,
    owner_handle: str | None = None,
) -> Post | None:
    """An api/v1 item with everything it holds: the post, preview comments, mentions, tags.
    ``owner_id``/``owner_handle`` fill in an owner the item leaves out."""
    post = parse_post_item(
        item,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        seen_via=seen_via,
        warnings=ctx.warnings,
    )
    if post is None:
        return None
    if post.owner_id is None and post.owner_handle is None:
        post.owner_id, post.owner_handle = owner_id, owner_handle
    out.posts.append(post)
    tagged = [dig(tag, "user") for tag in as_list(dig(item, "usertags", "in"))]
    add_post_edges(out, ctx, post, tagged)
    previews = as_list(item.get("preview_comments")) + as_list(item.get("comments"))
    add_comments(
        out,
        ctx,
        post.post_id,
        previews,
        owner=user_key(post.owner_id, post.owner_handle),
        owner_handle=post.owner_handle,
    )
    return post


def collect_graphql_post(
    out: ParsedRecords,
    ctx: Ctx,
    node: Mapping[str, Any],
    seen_via: str | None,
    *,
    owner_id: str | None = None,
    owner_handle: str | None = None,
) -> Post | None:
    """A graphql node with everything it holds: the post, preview comments, mentions, tags."""
    post = parse_graphql_post(
        node,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        seen_via=seen_via,
        warnings=ctx.warnings,
        owner_id=owner_id,
        owner_handle=owner_handle,
    )
    if post is None:
        return None
    out.posts.append(post)
    tagged = [dig(tag, "user") for tag in edge_nodes(node.get("edge_media_to_tagged_user"))]
    add_post_edges(out, ctx, post, tagged)
    comments = node.get("edge_media_to_parent_comment") or node.get("edge_media_to_comment")
    add_comments(
        out,
        ctx,
        post.post_id,
        list(edge_nodes(comments)),
        owner=user_key(post.owner_id, post.owner_handle),
        owner_handle=post.owner_handle,
    )
    return post


def _collect_items(out: ParsedRecords, ctx: Ctx, doc: Mapping[str, Any], hints: Hints) -> None:
    """``{"items": [...]}``: media info (api/v1 items) or ``clips/user`` (``items[].media``)."""
    entries = [entry for entry in as_list(doc.get("items")) if isinstance(entry, Mapping)]
    wrapped = any(isinstance(entry.get("media"), Mapping) for entry in entries)
    medias = [
        entry["media"] if wrapped else entry
        for entry in entries
        if not wrapped or isinstance(entry.get("media"), Mapping)
    ]
    seen_via = hints.seen_via or "media"
    if wrapped and hints.seen_via is None:
        handle = hints.handle or (
            str_or_none(dig(medias[0], "user", "username")) if medias else None
        )
        seen_via = f"profile:{handle}:reels" if handle else "reels"
    for media in medias:
        collect_api_item(out, ctx, media, seen_via)
    paging = as_mapping(doc.get("paging_info"))
    if paging.get("more_available") is True:
        out.next_cursor = str_or_none(paging.get("max_id"))
    elif doc.get("more_available") is True:
        out.next_cursor = str_or_none(doc.get("next_max_id"))


def _collect_shortcode_media(
    out: ParsedRecords, ctx: Ctx, page: Mapping[str, Any], hints: Hints
) -> None:
    """``shortcode_media``: a whole post (post page) or only its comments (comments query)."""
    comments = page.get("edge_media_to_parent_comment") or page.get("edge_media_to_comment")
    out.next_cursor = next_cursor(comments)
    if any(key in page for key in ("__typename", "display_url", "taken_at_timestamp")):
        collect_graphql_post(out, ctx, page, hints.seen_via or "media")
        return
    shortcode = str_or_none(page.get("shortcode")) or hints.shortcode
    post_id = str_or_none(page.get("id"))
    if post_id is None and shortcode:
        post_id = shortcode_to_media_id(shortcode)
    if post_id is None:
        ctx.warnings.append("comments of an unnamed post: pass hint_shortcode to link them")
    if not isinstance(comments, Mapping):
        ctx.warnings.append("shortcode_media without edge_media_to_comment: no comments")
    owner = as_mapping(page.get("owner"))
    owner_handle = str_or_none(owner.get("username"))
    add_comments(
        out,
        ctx,
        post_id,
        list(edge_nodes(comments)),
        owner=user_key(str_or_none(owner.get("id")), owner_handle),
        owner_handle=owner_handle,
    )


def collect_media_payload(doc: Mapping[str, Any], ctx: Ctx, hints: Hints) -> ParsedRecords | None:
    """The records of a post-shaped answer, or ``None`` when ``doc`` is not one."""
    out = ParsedRecords()
    data = doc.get("data")
    grid = dig(data, "xdt_api__v1__feed__user_timeline_graphql_connection")
    page = dig(data, "shortcode_media") or dig(doc, "graphql", "shortcode_media")
    if isinstance(grid, Mapping):
        nodes = list(edge_nodes(grid))
        handle = hints.handle or (str_or_none(dig(nodes[0], "user", "username")) if nodes else None)
        seen_via = hints.seen_via or (f"profile:{handle}" if handle else "profile")
        for node in nodes:
            collect_api_item(out, ctx, node, seen_via)
        out.next_cursor = next_cursor(grid)
    elif isinstance(page, Mapping):
        _collect_shortcode_media(out, ctx, page, hints)
    elif isinstance(doc.get("items"), list):
        _collect_items(out, ctx, doc, hints)
    elif isinstance(doc.get("feed_items"), list):
        # Suggestions and end-of-feed markers carry no media_or_ad: nothing to keep.
        for entry in doc["feed_items"]:
            media = dig(entry, "media_or_ad")
            if isinstance(media, Mapping):
                collect_api_item(out, ctx, media, hints.seen_via or "feed:timeline")
        if doc.get("more_available") is True:
            out.next_cursor = str_or_none(doc.get("next_max_id"))
    elif isinstance(doc.get("source_platform"), str) and isinstance(data, Mapping):
        if "instagram" not in doc["source_platform"]:
            return None
        collect_api_item(out, ctx, data, hints.seen_via or "import:zeeschuimer")
    elif isinstance(doc.get("from"), Mapping) and "text" in doc:
        # The answer to posting a comment: the comment itself.
        post_id = shortcode_to_media_id(hints.shortcode) if hints.shortcode else None
        add_comments(out, ctx, post_id, [doc])
    elif "taken_at" in doc and ("pk" in doc or "code" in doc):
        collect_api_item(out, ctx, doc, hints.seen_via or "media")
    else:
        return None
    return out
