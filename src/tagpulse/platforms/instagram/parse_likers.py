"""Who liked a post: ``api/v1/media/<pk>/likers/`` → ``liked`` edges. Pure: no I/O.

The answer is ``{"users": [{"pk", "username", "full_name", "is_private", "is_verified",
"profile_pic_url"}...], "user_count": N, "status": "ok"}`` (the most recent likers, at most
about a thousand). The post is named by the request, not the answer, so the caller passes it
(``hint_shortcode``: its shortcode, or its numeric media id) and its owner (``hint_user_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagpulse.platforms.instagram.parse_common import (
    Ctx,
    Hints,
    shortcode_to_media_id,
    str_or_none,
)
from tagpulse.records import Edge, ParsedRecords

__all__ = ["collect_likers_payload", "is_likers_payload"]

PLATFORM = "instagram"


def is_likers_payload(doc: Mapping[str, Any]) -> bool:
    return isinstance(doc.get("users"), list) and "user_count" in doc


def collect_likers_payload(doc: Mapping[str, Any], ctx: Ctx, hints: Hints) -> ParsedRecords:
    out = ParsedRecords()
    # The post: its shortcode, or its media id itself (all digits; as a reparse knows it).
    code = hints.shortcode
    post_id = (code if code.isdigit() else shortcode_to_media_id(code)) if code else None
    owner = hints.user_id or (f"@{hints.handle}" if hints.handle else None)
    if post_id is None or owner is None:
        ctx.warnings.append(
            "likers of an unnamed post: pass hint_shortcode and hint_user_id to link them"
        )
        return out
    for user in doc["users"]:
        if not isinstance(user, Mapping):
            ctx.warnings.append("liker that is not an object skipped")
            continue
        liker_id = str_or_none(user.get("pk")) or str_or_none(user.get("id"))
        handle = str_or_none(user.get("username"))
        src = liker_id or (f"@{handle.lower()}" if handle else None)
        if src is None:
            ctx.warnings.append("liker without pk or username skipped")
            continue
        if src == owner:
            continue
        out.edges.append(
            Edge(
                platform=PLATFORM,
                src=src,
                dst=owner,
                kind="liked",
                seen_at=ctx.collected_at,
                raw_id=ctx.raw_id,
                src_handle=handle,
                dst_handle=hints.handle,
                post_id=post_id,
            )
        )
    return out
