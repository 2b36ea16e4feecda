"""The likers answer (no licensed recording exists: composed from the documented shape)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tagpulse.platforms.instagram.parse import parse_payload
from tagpulse.platforms.instagram.parse_common import shortcode_to_media_id

AT = datetime(2026, 11, 1, tzinfo=UTC)
LIKERS = {
    "users": [
        {"pk": "11", "username": "fan.one", "full_name": "Fan", "is_private": False},
        {"pk": 12, "username": "Fan_Two", "is_verified": True},
        {"username": "no_pk"},
        {"pk": "99", "username": "owner"},  # the owner liking their own post: no edge
        "junk",
        {"full_name": "nobody"},
    ],
    "user_count": 5321,
    "status": "ok",
}


def test_likers_become_liked_edges_to_the_owner() -> None:
    parsed = parse_payload(
        LIKERS, collected_at=AT, raw_id="r", hint_shortcode="CAnqPB-Jzcj", hint_user_id="99"
    )
    media_id = shortcode_to_media_id("CAnqPB-Jzcj")
    assert [(e.src, e.dst, e.kind, e.post_id, e.src_handle) for e in parsed.edges] == [
        ("11", "99", "liked", media_id, "fan.one"),
        ("12", "99", "liked", media_id, "Fan_Two"),
        ("@no_pk", "99", "liked", media_id, "no_pk"),
    ]
    assert len(parsed.warnings) == 2 and not parsed.posts
    # A media id works in place of the shortcode (a reparse knows the URL, not the code).
    again = parse_payload(LIKERS, collected_at=AT, hint_shortcode=media_id, hint_user_id="99")
    assert [e.post_id for e in again.edges] == [media_id] * 3


@pytest.mark.parametrize("hints", [{}, {"hint_shortcode": "CAnqPB-Jzcj"}, {"hint_user_id": "9"}])
def test_likers_without_the_post_and_owner_are_a_warning(hints: dict[str, str]) -> None:
    parsed = parse_payload(LIKERS, collected_at=AT, **hints)  # type: ignore[arg-type]
    assert parsed.edges == [] and any("likers of an unnamed post" in w for w in parsed.warnings)
