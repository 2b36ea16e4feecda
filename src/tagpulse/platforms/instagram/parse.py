"""Instagram payloads -> records. Pure functions: no I/O, no clock.

:func:`parse_payload` takes any known answer and returns every record it holds. The readers of
each kind of object live beside this module: :mod:`.parse_media` (posts, post pages, comments,
locations, feeds), :mod:`.parse_user` (profiles, their listings, the follow graph, the retired
official API) and :mod:`.parse_common` (tolerant field readers, caption entities, edges).

Known hashtag shapes (:func:`parse_hashtag`):

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
from datetime import datetime
from typing import Any

from tagpulse.platforms.instagram.exceptions import UnknownShape
from tagpulse.platforms.instagram.parse_common import (
    PLATFORM,
    Ctx,
    Hints,
    as_list,
    dig,
    edge_nodes,
    int_or_none,
    load_json,
    next_cursor,
    normalise_handle,
    str_or_none,
    ts,
)
from tagpulse.platforms.instagram.parse_likers import collect_likers_payload, is_likers_payload
from tagpulse.platforms.instagram.parse_media import (
    collect_api_item,
    collect_graphql_post,
    collect_media_payload,
    parse_graphql_post,
    parse_post_item,
)
from tagpulse.platforms.instagram.parse_refs import ref_from_item, ref_from_node
from tagpulse.platforms.instagram.parse_user import collect_user_payload
from tagpulse.records import Comment, Edge, HashtagSnapshot, ParsedRecords, Post, PostRef

__all__ = [
    "HashtagParse",
    "load_json",
    "parse_graphql_post",
    "parse_hashtag",
    "parse_media_item",
    "parse_payload",
    "parse_post_item",
]

# Former private helpers of this module, kept importable under their old names.
_int_or_none = int_or_none
_dig = dig
_ts = ts
_str_or_none = str_or_none


@dataclass(slots=True)
class HashtagParse:
    """A parsed hashtag answer: the snapshot, the posts it listed, and what was wrong with it.

    ``posts`` holds the top posts (``seen_via`` ``tag:<tag>:top``) and the recent ones
    (``tag:<tag>:recent``); ``comments`` and ``edges`` what those posts carry (preview comments,
    mentions, usertags); ``next_cursor`` where the recent listing continues.
    """

    snapshot: HashtagSnapshot
    warnings: list[str] = field(default_factory=list)
    shape: str = ""
    posts: list[Post] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    next_cursor: str | None = None


def parse_media_item(item: Mapping[str, Any], warnings: list[str]) -> PostRef | None:
    """An api/v1 media item (web_info sections, media info) as a :class:`PostRef`."""
    return ref_from_item(item, warnings)


def _section_medias(block: Any) -> Iterator[Mapping[str, Any]]:
    """The api/v1 media items of a web_info ``top``/``recent`` block's sections."""
    sections = block.get("sections") if isinstance(block, Mapping) else None
    for section in as_list(sections):
        content = section.get("layout_content") if isinstance(section, Mapping) else None
        if not isinstance(content, Mapping):
            continue
        # Reels blocks nest one level deeper.
        clips = dig(content, "one_by_two_item", "clips", "items")
        for entry in as_list(content.get("medias")) + as_list(clips):
            media = entry.get("media") if isinstance(entry, Mapping) else None
            if isinstance(media, Mapping):
                yield media


def parse_hashtag(
    payload: bytes | str | Mapping[str, Any],
    *,
    tag: str,
    collected_at: datetime,
    account: str | None = None,
    raw_id: str | None = None,
    seen_via: str | None = None,
    posts: bool = True,
) -> HashtagParse:
    """Turn a hashtag answer (any known shape) into a :class:`HashtagSnapshot` and its posts.

    ``seen_via``, when given, replaces the ``tag:<tag>:top``/``tag:<tag>:recent`` of the posts.
    ``posts=False`` reads the snapshot only (its top posts as summaries), which costs a third
    of the full read: for counts-only tracking. The snapshot is the same either way.
    """
    doc = load_json(payload) if isinstance(payload, bytes | str) else payload
    if not isinstance(doc, Mapping):
        raise UnknownShape(f"hashtag payload is a JSON {type(doc).__name__}, not an object")
    warnings: list[str] = []
    ctx = Ctx(collected_at, raw_id, warnings)
    # The summaries' warnings repeat the full posts' ones; kept only when posts are not read.
    ref_warnings: list[str] = [] if posts else warnings
    out = ParsedRecords()
    top_via = seen_via or f"tag:{tag}:top"
    recent_via = seen_via or f"tag:{tag}:recent"
    top: list[PostRef] = []
    related: list[str] = []
    extra: dict[str, Any] = {}

    hashtag = dig(doc, "graphql", "hashtag")
    shape = "graphql"
    if not isinstance(hashtag, Mapping):
        hashtag = dig(doc, "data", "hashtag")
        shape = "graphql_query"
    data = doc.get("data")
    if isinstance(hashtag, Mapping):
        media = hashtag.get("edge_hashtag_to_media")
        raw_count = media.get("count") if isinstance(media, Mapping) else None
        name = hashtag.get("name")
        if "edge_hashtag_to_top_posts" not in hashtag:
            warnings.append("no top posts in payload (edge_hashtag_to_top_posts missing)")
        for node in edge_nodes(hashtag.get("edge_hashtag_to_top_posts")):
            ref = ref_from_node(node, ref_warnings)
            if ref is not None:
                top.append(ref)
            if posts:
                collect_graphql_post(out, ctx, node, top_via)
        if posts:
            for node in edge_nodes(media):
                collect_graphql_post(out, ctx, node, recent_via)
        out.next_cursor = next_cursor(media)
        for node in edge_nodes(hashtag.get("edge_hashtag_to_related_tags")):
            if isinstance(node.get("name"), str):
                related.append(node["name"].lower())
        if isinstance(hashtag.get("id"), str):
            extra["tag_id"] = hashtag["id"]
    elif isinstance(data, Mapping) and ("media_count" in data or "top" in data or "name" in data):
        shape = "web_info"
        raw_count = data.get("media_count")
        name = data.get("name")
        if "top" not in data:
            warnings.append("no top posts in payload (data.top missing)")
        for item in _section_medias(data.get("top")):
            ref = ref_from_item(item, ref_warnings)
            if ref is not None:
                top.append(ref)
            if posts:
                collect_api_item(out, ctx, item, top_via)
        if posts:
            for item in _section_medias(data.get("recent")):
                collect_api_item(out, ctx, item, recent_via)
        if dig(data, "recent", "more_available") is True:
            out.next_cursor = str_or_none(dig(data, "recent", "next_max_id"))
        if isinstance(data.get("id"), str | int):
            extra["tag_id"] = str(data["id"])
    else:
        status = doc.get("status")
        message = doc.get("message")
        raise UnknownShape(
            "hashtag payload in no known shape (expected graphql.hashtag, data.hashtag or "
            f"web_info data); keys {sorted(doc)[:8]}, status={status!r}, message={message!r}"
        )

    post_count = int_or_none(raw_count, "post count", warnings)
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
    return HashtagParse(
        snapshot=snapshot,
        warnings=warnings,
        shape=shape,
        posts=out.posts,
        comments=out.comments,
        edges=out.edges,
        next_cursor=out.next_cursor,
    )


def _location_records(location: Mapping[str, Any], ctx: Ctx, seen_via: str | None) -> ParsedRecords:
    """``explore/locations/<id>/`` (``graphql.location``): the top and recent posts of a place.

    The place's post count has no record of its own yet; it is dropped (the raw keeps it)."""
    out = ParsedRecords()
    location_id = str_or_none(location.get("id"))
    name = str_or_none(location.get("name"))
    for key, kind in (("edge_location_to_top_posts", "top"), ("edge_location_to_media", "recent")):
        via = seen_via or (f"location:{location_id}:{kind}" if location_id else None)
        for node in edge_nodes(location.get(key)):
            post = collect_graphql_post(out, ctx, node, via)
            if post is not None:
                post.location = post.location or name
                if location_id:
                    post.extra.setdefault("location_id", location_id)
    out.next_cursor = next_cursor(location.get("edge_location_to_media"))
    return out


def _hashtag_name(doc: Mapping[str, Any]) -> str | None:
    for path in (("graphql", "hashtag", "name"), ("data", "hashtag", "name"), ("data", "name")):
        name = dig(doc, *path)
        if isinstance(name, str) and name.strip().lstrip("#"):
            return name
    return None


def _is_hashtag(doc: Mapping[str, Any]) -> bool:
    data = doc.get("data")
    if isinstance(dig(doc, "graphql", "hashtag"), Mapping) or isinstance(
        dig(data, "hashtag"), Mapping
    ):
        return True
    # web_info: a data object with the tag's fields and none of an account's.
    return (
        isinstance(data, Mapping)
        and "meta" not in doc
        and not any(key in data for key in ("user", "username", "counts"))
        and any(key in data for key in ("media_count", "top", "recent", "name"))
    )


def _failure(doc: Mapping[str, Any], where: str) -> UnknownShape:
    """An error naming what the answer looks like, for answers that hold no data."""
    status = doc.get("status")
    message = doc.get("message")
    if message == "checkpoint_required" or any(
        key in doc for key in ("checkpoint_url", "challengeType")
    ):
        kind = "a checkpoint (the account must be confirmed in a browser)"
    elif doc.get("authenticated") is False or doc.get("require_login") is True:
        kind = "a login answer (the session is not logged in)"
    elif "error_type" in doc or "errors" in doc or status == "fail":
        kind = f"an error answer (error_type={doc.get('error_type')!r})"
    else:
        kind = "unrecognised"
    return UnknownShape(
        f"instagram payload{where} in no known shape: {kind}; expected data.user, "
        "data.hashtag, data.shortcode_media, data.xdt_api__v1__feed__user_timeline_graphql_"
        "connection, graphql.{user,hashtag,location,shortcode_media}, user, items, feed_items, "
        f"an api/v1 media item or a user object; keys {sorted(map(str, doc))[:10]}, "
        f"status={status!r}, message={message!r:.80}"
    )


def parse_payload(
    payload: bytes | str | Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None = None,
    endpoint: str | None = None,
    seen_via: str | None = None,
    hint_handle: str | None = None,
    hint_tag: str | None = None,
    hint_user_id: str | None = None,
    hint_shortcode: str | None = None,
    account: str | None = None,
) -> ParsedRecords:
    """Every record any known Instagram answer holds: profiles, posts, comments, edges and
    hashtag snapshots, with the payload's problems in ``warnings`` and where a paginated listing
    continues in ``next_cursor``.

    ``hint_handle``/``hint_user_id`` name the account asked for (followers pages and the
    not-found answer do not repeat it; another handle in the answer means a rename),
    ``hint_tag`` the hashtag (else the payload's name is used), ``hint_shortcode`` the post
    whose comments were asked for, ``account`` the collecting account alias (kept on hashtag
    snapshots). ``seen_via`` replaces the per-shape ``seen_via`` of the posts
    (``profile:<handle>``, ``tag:<tag>:top``, ``media``...). ``endpoint`` only names the
    request in error messages.

    Raises :class:`UnknownShape` (a :class:`~tagpulse.errors.PayloadError`) for a body that is
    not JSON or in no known shape: login pages, checkpoints, error answers.
    """
    doc = load_json(payload) if isinstance(payload, bytes | str) else payload
    where = f" (endpoint {endpoint})" if endpoint else ""
    if not isinstance(doc, Mapping):
        raise UnknownShape(
            f"instagram payload{where} is a JSON {type(doc).__name__}, expected an object"
        )
    ctx = Ctx(collected_at, raw_id, [])
    hints = Hints(normalise_handle(hint_handle), hint_user_id, hint_shortcode, seen_via)
    out: ParsedRecords | None
    location = dig(doc, "graphql", "location") or dig(doc, "data", "location")
    if isinstance(location, Mapping):
        out = _location_records(location, ctx, seen_via)
    elif _is_hashtag(doc):
        tag = (hint_tag or _hashtag_name(doc) or "").strip().lstrip("#").lower()
        if not tag:
            ctx.warnings.append("hashtag payload without a name and no hint_tag: no snapshot")
        result = parse_hashtag(
            doc,
            tag=tag or "?",
            collected_at=collected_at,
            account=account,
            raw_id=raw_id,
            seen_via=seen_via,
        )
        out = ParsedRecords(
            snapshots=[result.snapshot] if tag else [],
            posts=result.posts,
            comments=result.comments,
            edges=result.edges,
            next_cursor=result.next_cursor,
        )
        if not tag:
            for post in out.posts:
                post.seen_via = seen_via
        ctx.warnings += result.warnings
    elif is_likers_payload(doc):
        out = collect_likers_payload(doc, ctx, hints)
    else:
        # Post shapes first: a single api/v1 item has a "user" too.
        out = collect_media_payload(doc, ctx, hints) or collect_user_payload(doc, ctx, hints)
    if out is None:
        raise _failure(doc, where)
    out.warnings = list(dict.fromkeys(ctx.warnings + out.warnings))
    return out
