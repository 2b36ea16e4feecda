"""Helpers shared by the Instagram parsers: tolerant field readers and caption entities.

Every reader takes what the platform sent and returns a typed value or ``None``; a value of the
wrong type also appends a warning, so a malformed field never crashes a parse. The readers every
platform shares come from :mod:`tagpulse.platforms.coerce` and are re-exported here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tagpulse.platforms.coerce import (
    as_list,
    as_mapping,
    bool_or_none,
    dig,
    str_or_none,
    text_or_none,
)
from tagpulse.platforms.instagram.exceptions import UnknownShape
from tagpulse.records import Comment, Edge, EdgeKind, ParsedRecords, Post

__all__ = [
    "PLATFORM",
    "Ctx",
    "Hints",
    "add_comments",
    "add_post_edges",
    "as_list",
    "as_mapping",
    "bool_or_none",
    "count_of",
    "dig",
    "edge_nodes",
    "extract_hashtags",
    "extract_mentions",
    "first_present",
    "int_or_none",
    "load_json",
    "make_edge",
    "next_cursor",
    "normalise_handle",
    "parse_graphql_comment",
    "post_url",
    "put_scalar",
    "shortcode_to_media_id",
    "str_or_none",
    "text_or_none",
    "timestamp",
    "ts",
    "user_key",
]

PLATFORM = "instagram"
_SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# A tag starts after a character that cannot be part of a word (or an HTML entity's '&').
_HASHTAG_START = re.compile(r"(?<![\w&])[#\uff03]")
# Instagram handles are ASCII: letters, digits, '.', '_' (at most 30); an e-mail is not a mention.
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9._]{1,30})(?![A-Za-z0-9_@])")
_JOINERS = frozenset("\u200c\u200d")
# The common run of a tag's characters (letters, digits, _) in one regex step; the character-by-
# character rule below only continues it past marks and joiners.
_TAG_RUN = re.compile(r"[#\uff03](\w*)")


@dataclass(slots=True)
class Ctx:
    """What every record of one payload shares, and where its warnings go."""

    collected_at: datetime
    raw_id: str | None
    warnings: list[str]


@dataclass(slots=True)
class Hints:
    """What the request asked for, which some answers do not repeat: the account (handle, id),
    the post (shortcode), and an explicit ``seen_via`` for the posts found."""

    handle: str | None = None
    user_id: str | None = None
    shortcode: str | None = None
    seen_via: str | None = None


def load_json(body: bytes | str) -> Any:
    """Decode a JSON body, raising :class:`UnknownShape` with the reason when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        preview = body[:40] if isinstance(body, bytes) else body[:40].encode()
        raise UnknownShape(f"body is not valid JSON ({exc}); starts with {preview!r}") from exc


def int_or_none(value: Any, what: str, warnings: list[str]) -> int | None:
    """An integer count; numeric strings are accepted, anything else is ``None`` + warning."""
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


def count_of(value: Any, what: str, warnings: list[str]) -> int | None:
    """A count: graphql's ``{"count": n}``, or the plain ``n`` of api/v1 and of flattening
    scrapers. A negative count (what some answers put where a count is hidden) is ``None``."""
    if value.__class__ is int:  # the common case first (not bool, not a subclass)
        count: int | None = value
    else:
        if isinstance(value, Mapping):
            value = value.get("count")
        count = int_or_none(value, what, warnings)
    if count is not None and count < 0:
        warnings.append(f"{what}: negative value {count} ignored")
        return None
    return count


def ts(value: Any) -> datetime | None:
    """A Unix timestamp (number or digit string, as the retired API sent) as a UTC datetime."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def normalise_handle(handle: str | None) -> str | None:
    if handle is None:
        return None
    handle = handle.strip().lstrip("@").lower()
    return handle or None


def edge_nodes(connection: Any) -> Iterator[Mapping[str, Any]]:
    """The ``node`` objects of a graphql connection ``{"edges": [{"node": ...}]}``."""
    for edge in as_list(dig(connection, "edges")):
        node = edge.get("node") if isinstance(edge, Mapping) else None
        if isinstance(node, Mapping):
            yield node


def next_cursor(connection: Any) -> str | None:
    """The graphql ``page_info.end_cursor`` when there is a next page, else ``None``."""
    page_info = dig(connection, "page_info")
    if not isinstance(page_info, Mapping) or page_info.get("has_next_page") is not True:
        return None
    return str_or_none(page_info.get("end_cursor")) or None


def post_url(shortcode: str | None) -> str | None:
    """The canonical web address of a post (reels answer at the same ``/p/`` address)."""
    return f"https://www.instagram.com/p/{shortcode}/" if shortcode else None


def shortcode_to_media_id(shortcode: str) -> str | None:
    """The numeric media id a shortcode encodes (base 64, Instagram's alphabet); ``None`` if not
    a plain shortcode (private posts carry a longer one that does not decode)."""
    if not 1 <= len(shortcode) <= 11:
        return None
    number = 0
    for char in shortcode:
        digit = _SHORTCODE_ALPHABET.find(char)
        if digit < 0:
            return None
        number = number * 64 + digit
    return str(number)


def _tag_char(char: str) -> bool:
    # str.isalnum misses combining marks (Devanagari vowel signs, Thai tone marks), which are
    # part of words in those scripts, so a tag would be cut in the middle of a word.
    return (
        char.isalnum()
        or char == "_"
        or char in _JOINERS
        or unicodedata.category(char).startswith("M")
    )


def extract_hashtags(text: str | None) -> list[str]:
    """Hashtags of a caption in order, lower case, without ``#``, each once. Any script."""
    if not text or ("#" not in text and "\uff03" not in text):
        return []
    found: dict[str, None] = {}
    size = len(text)
    for match in _HASHTAG_START.finditer(text):
        start = match.end()
        run = _TAG_RUN.match(text, match.start())
        end = run.end() if run is not None else start
        while end < size:
            char = text[end]
            # Marks and joiners are not ASCII: the usual ASCII stop needs no category lookup.
            if char.isalnum() or char == "_" or (char >= "\x80" and _tag_char(char)):
                end += 1
            else:
                break
        tag = text[start:end].strip("\u200c\u200d").lower()
        if tag:
            found.setdefault(tag, None)
    return list(found)


def extract_mentions(text: str | None) -> list[str]:
    """Handles mentioned in a caption in order, lower case, without ``@``, each once."""
    if not text or "@" not in text:
        return []
    found: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        handle = match.group(1).rstrip(".").lower()
        if handle.strip("."):
            found.setdefault(handle, None)
    return list(found)


def timestamp(value: Any, what: str, warnings: list[str]) -> datetime | None:
    """Like :func:`ts`, with a warning when the value is missing or not a timestamp."""
    when = ts(value)
    if when is None:
        if value is None:
            warnings.append(f"{what}: missing")
        else:
            warnings.append(f"{what}: not a Unix timestamp ({type(value).__name__} {value!r:.40})")
    return when


def first_present(obj: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key that is present and not null."""
    for key in keys:
        if obj.get(key) is not None:
            return obj[key]
    return None


def parse_graphql_comment(
    node: Mapping[str, Any], *, post_id: str | None, ctx: Ctx, parent_id: str | None = None
) -> Comment | None:
    """A graphql comment node (``id``, ``text``, ``created_at``, ``owner``)."""
    comment_id = str_or_none(node.get("id")) or str_or_none(node.get("pk"))
    if not comment_id:
        ctx.warnings.append("comment without id skipped")
        return None
    what = f"comment {comment_id}"
    owner = as_mapping(node.get("owner") or node.get("user") or node.get("from"))
    likes = node.get("edge_liked_by")
    if likes is None:
        likes = node.get("comment_like_count")
    return Comment(
        platform=PLATFORM,
        comment_id=comment_id,
        post_id=post_id,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        owner_id=str_or_none(owner.get("id"))
        or str_or_none(owner.get("pk"))
        or str_or_none(node.get("user_id")),
        owner_handle=str_or_none(owner.get("username")),
        text=text_or_none(node.get("text"), f"{what} text", ctx.warnings),
        created_at=timestamp(
            first_present(node, "created_at", "created_time"), f"{what} created_at", ctx.warnings
        ),
        likes=count_of(likes, f"{what} likes", ctx.warnings),
        parent_id=parent_id,
    )


def make_edge(
    ctx: Ctx,
    kind: EdgeKind,
    src: str,
    dst: str,
    *,
    src_handle: str | None,
    dst_handle: str | None,
    post_id: str | None,
) -> Edge:
    return Edge(
        platform=PLATFORM,
        src=src,
        dst=dst,
        kind=kind,
        seen_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        src_handle=src_handle,
        dst_handle=dst_handle,
        post_id=post_id,
    )


def user_key(user_id: str | None, handle: str | None) -> str | None:
    """How an edge names an account: its id, else ``@handle`` (ids are not always given)."""
    if user_id:
        return user_id
    return f"@{handle.lower()}" if handle else None


def put_scalar(extra: dict[str, Any], key: str, value: Any) -> None:
    """Keep a scalar the records have no column for (``None``, ``""`` and containers skipped)."""
    if isinstance(value, (str, int, float)) and value != "":  # bool is an int
        extra[key] = value


def add_comments(
    out: ParsedRecords,
    ctx: Ctx,
    post_id: str | None,
    nodes: list[Any],
    *,
    owner: str | None = None,
    owner_handle: str | None = None,
) -> None:
    """Comments (and their threaded replies), plus a ``commented`` edge from each commenter to
    the post's owner (a user id, or ``@handle``) when it is known."""
    seen: set[str] = set()

    def one(node: Mapping[str, Any], parent_id: str | None) -> None:
        comment = parse_graphql_comment(node, post_id=post_id, ctx=ctx, parent_id=parent_id)
        if comment is None or comment.comment_id in seen:
            return
        seen.add(comment.comment_id)
        out.comments.append(comment)
        commenter = user_key(comment.owner_id, comment.owner_handle)
        if owner is not None and commenter is not None:
            out.edges.append(
                make_edge(
                    ctx,
                    "commented",
                    commenter,
                    owner,
                    src_handle=comment.owner_handle,
                    dst_handle=owner_handle,
                    post_id=post_id,
                )
            )
        for reply in edge_nodes(node.get("edge_threaded_comments")):
            one(reply, comment.comment_id)

    for node in nodes:
        if isinstance(node, Mapping):
            one(node, None)


def add_post_edges(out: ParsedRecords, ctx: Ctx, post: Post, tagged: list[Any]) -> None:
    """``mentioned`` edges from the caption, ``tagged`` edges from the usertags."""
    owner = user_key(post.owner_id, post.owner_handle)
    if owner is None:
        if post.mentions or tagged:
            ctx.warnings.append(f"post {post.post_id}: owner unknown, mentions/tags not linked")
        return
    own_handle = (post.owner_handle or "").lower()
    for handle in post.mentions:
        if handle == own_handle:
            continue
        out.edges.append(
            make_edge(
                ctx,
                "mentioned",
                owner,
                f"@{handle}",
                src_handle=post.owner_handle,
                dst_handle=handle,
                post_id=post.post_id,
            )
        )
    for user in tagged:
        if not isinstance(user, Mapping):
            continue
        tagged_handle = str_or_none(user.get("username"))
        user_id = str_or_none(user.get("pk")) or str_or_none(user.get("id"))
        dst = user_key(user_id, tagged_handle)
        if dst is not None and dst != owner:
            out.edges.append(
                make_edge(
                    ctx,
                    "tagged",
                    owner,
                    dst,
                    src_handle=post.owner_handle,
                    dst_handle=tagged_handle,
                    post_id=post.post_id,
                )
            )
