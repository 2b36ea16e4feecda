"""Zeeschuimer NDJSON exports: one captured item a line, Instagram, TikTok or X.

Each line is an envelope: ``id``, ``item_id``, ``timestamp_collected`` (ms), ``last_updated``,
``source_platform`` (``instagram.com``, ``tiktok.com``, ``twitter.com``/``x.com``),
``source_platform_url``, ``source_url``, ``user_agent``, ``data`` (the platform's own item as the
page received it). The whole line is archived as the raw answer; ``data`` goes to the platform's
item parser. Items lacking fields other items have are kept with what they have; a line that is
not JSON, has no ``data``, or comes from a platform tagpulse does not read is quarantined.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tagpulse.errors import PayloadError
from tagpulse.imports.base import ImportItem, envelope
from tagpulse.records import Edge, ParsedRecords, RawEnvelope

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
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
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


def _parse_doc(doc: Mapping[str, Any], env: RawEnvelope) -> ParsedRecords:
    data = doc.get("data")
    if not isinstance(data, Mapping):
        raise PayloadError("Zeeschuimer item without a 'data' object")
    at, raw_id = env.collected_at, env.content_hash
    parsed = ParsedRecords()
    if env.platform == "instagram":
        from tagpulse.platforms.instagram.parse import parse_graphql_post, parse_post_item

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


class ZeeschuimerImporter:
    name = "zeeschuimer"

    def size(self, path: Path) -> int | None:
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())

    def items(self, path: Path) -> Iterator[ImportItem]:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                body = line.rstrip(b"\r\n")
                if not body.strip():
                    continue
                yield self._item(body, f"{path.name}:{number}")

    def _item(self, body: bytes, location: str) -> ImportItem:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return ImportItem(location, error=f"not JSON ({exc})", broken=body)
        if not isinstance(doc, Mapping):
            return ImportItem(location, error="line is not a JSON object", broken=body)
        source = doc.get("source_platform")
        platform = (
            PLATFORMS.get(source.lower().removeprefix("www.")) if isinstance(source, str) else None
        )
        if platform is None:
            known = ", ".join(sorted(PLATFORMS))
            return ImportItem(
                location,
                error=f"source_platform {source!r} is not read by tagpulse (known: {known})",
                broken=body,
            )
        at = _collected_at(doc)
        if at is None:
            return ImportItem(location, error="no timestamp_collected", broken=body)
        item_id = doc.get("item_id")
        env = envelope(
            platform=platform,
            endpoint="import:zeeschuimer",
            body=body,
            body_is_json=True,
            collected_at=at,
            url=doc["source_url"] if isinstance(doc.get("source_url"), str) else "",
            params={"item_id": str(item_id)} if item_id is not None else {},
        )
        return ImportItem(location, envelope=env, parse=lambda e: _parse_doc(doc, e))
