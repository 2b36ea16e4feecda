"""Zeeschuimer NDJSON exports: one captured item a line, Instagram, TikTok or X.

Each line is an envelope: ``id``, ``item_id``, ``timestamp_collected`` (ms), ``last_updated``,
``source_platform`` (``instagram.com``, ``tiktok.com``, ``twitter.com``/``x.com``),
``source_platform_url``, ``source_url``, ``user_agent``, ``data`` (the platform's own item as the
page received it). The whole line is archived as the raw answer; ``data`` goes to the platform's
item parser. Items lacking fields other items have are kept with what they have; a line that is
not JSON, has no ``data``, or comes from a platform tagpulse does not read is quarantined.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from tagpulse.errors import PayloadError
from tagpulse.imports.base import ImportItem, LineParser, envelope
from tagpulse.imports.lines import count_lines
from tagpulse.lake.raw import content_hash
from tagpulse.records import Edge, ParsedRecords, Post, RawEnvelope

__all__ = ["PLATFORMS", "ZeeschuimerImporter", "parse_zeeschuimer_line"]

#: ``source_platform`` → tagpulse platform.
PLATFORMS: dict[str, str] = {
    "instagram.com": "instagram",
    "tiktok.com": "tiktok",
    "twitter.com": "x",
    "x.com": "x",
}
SEEN_VIA = "import:zeeschuimer"


def _collected_at(doc: Mapping[str, Any]) -> datetime | None:
    for key in ("timestamp_collected", "last_updated"):
        value = doc.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            # Milliseconds since the epoch (seconds in very old exports).
            seconds = value / 1000 if value > 1e11 else value
            try:
                return datetime.fromtimestamp(seconds, tz=UTC)
            except (OverflowError, OSError, ValueError):
                return None
    return None


def _mention_edges(parsed: ParsedRecords, raw_id: str | None, at: datetime) -> None:
    for post in parsed.posts:
        src = post.owner_id or (f"@{post.owner_handle}" if post.owner_handle else None)
        if src is None or parsed.edges:
            continue
        for handle in post.mentions:
            parsed.edges.append(
                Edge(
                    post.platform,
                    src,
                    f"@{handle}",
                    "mentioned",
                    at,
                    raw_id,
                    src_handle=post.owner_handle,
                    dst_handle=handle,
                    post_id=post.post_id,
                )
            )


class _ItemParser(Protocol):
    def __call__(
        self,
        item: Mapping[str, Any],
        /,
        *,
        collected_at: datetime,
        raw_id: str | None,
        seen_via: str | None,
        warnings: list[str],
    ) -> Post | None: ...


@functools.cache
def _instagram_parsers() -> tuple[_ItemParser, _ItemParser]:
    # Imported when first needed, once (an import statement per item costs a few µs).
    from tagpulse.platforms.instagram.parse import parse_graphql_post, parse_post_item

    return parse_graphql_post, parse_post_item


def _parse_doc(doc: Mapping[str, Any], env: RawEnvelope) -> ParsedRecords:
    data = doc.get("data")
    if not isinstance(data, (dict, Mapping)):
        raise PayloadError("Zeeschuimer item without a 'data' object")
    at, raw_id = env.collected_at, env.content_hash
    parsed = ParsedRecords()
    if env.platform == "instagram":
        parse_graphql_post, parse_post_item = _instagram_parsers()
        is_graphql = "shortcode" in data or str(data.get("__typename", "")).startswith("Graph")
        parse_one = parse_graphql_post if is_graphql else parse_post_item
        post = parse_one(
            data, collected_at=at, raw_id=raw_id, seen_via=SEEN_VIA, warnings=parsed.warnings
        )
        if post is None:
            raise PayloadError("Instagram item without an id: " + "; ".join(parsed.warnings))
        parsed.posts.append(post)
    elif env.platform == "tiktok":
        from tagpulse.platforms.tiktok.parse import parse_item

        tiktok_post = parse_item(
            data, collected_at=at, raw_id=raw_id, seen_via=SEEN_VIA, warnings=parsed.warnings
        )
        if tiktok_post is None:
            raise PayloadError("TikTok item without an id: " + "; ".join(parsed.warnings))
        parsed.posts.append(tiktok_post)
    else:
        from tagpulse.platforms.x.parse_web import parse_web_tweet

        parsed = parse_web_tweet(data, collected_at=at, raw_id=raw_id, seen_via=SEEN_VIA)
    _mention_edges(parsed, raw_id, at)
    return parsed


def parse_zeeschuimer_line(env: RawEnvelope) -> ParsedRecords:
    """Parse an archived Zeeschuimer line again (``tagpulse reparse``)."""
    try:
        doc = orjson.loads(env.body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise PayloadError("a Zeeschuimer line must be a JSON object")
    return _parse_doc(doc, env)


def _read_line(body: bytes, raw_id: str) -> tuple[Mapping[str, Any], RawEnvelope]:
    """A line's document and envelope; PayloadError (the reason) when it is not an item."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"not JSON ({exc})") from None
    if not isinstance(doc, Mapping):
        raise PayloadError("line is not a JSON object")
    source = doc.get("source_platform")
    platform = (
        PLATFORMS.get(source.lower().removeprefix("www.")) if isinstance(source, str) else None
    )
    if platform is None:
        known = ", ".join(sorted(PLATFORMS))
        raise PayloadError(f"source_platform {source!r} is not read by tagpulse (known: {known})")
    at = _collected_at(doc)
    if at is None:
        raise PayloadError("no timestamp_collected")
    item_id = doc.get("item_id")
    source_url = doc.get("source_url")
    env = envelope(
        platform=platform,
        endpoint="import:zeeschuimer",
        body=body,
        body_is_json=True,
        collected_at=at,
        url=source_url if isinstance(source_url, str) else "",
        params={"item_id": str(item_id)} if item_id is not None else {},
        raw_id=raw_id,
    )
    return doc, env


def _parse_line(body: bytes, raw_id: str) -> tuple[RawEnvelope, ParsedRecords]:
    doc, env = _read_line(body, raw_id)
    return env, _parse_doc(doc, env)


class ZeeschuimerImporter:
    name = "zeeschuimer"
    worker_modules = ("tagpulse.platforms.instagram.parse", "tagpulse.platforms.x.parse_web")

    def size(self, path: Path) -> int | None:
        return count_lines(path)

    def line_parser(self, path: Path) -> LineParser:
        return _parse_line

    def items(self, path: Path) -> Iterator[ImportItem]:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                body = line.rstrip(b"\r\n")
                if not body.strip():
                    continue
                location = f"{path.name}:{number}"
                try:
                    doc, env = _read_line(body, content_hash(body))
                except PayloadError as exc:
                    yield ImportItem(location, error=str(exc), broken=body)
                    continue
                yield ImportItem(location, envelope=env, parse=functools.partial(_parse_doc, doc))
