"""Caption entities and the tolerant field readers shared by the Instagram parsers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tagpulse.platforms.instagram.parse_common import (
    count_of,
    extract_hashtags,
    extract_mentions,
    int_or_none,
    next_cursor,
    ts,
)


@pytest.mark.parametrize(
    ("caption", "tags"),
    [
        ("#Paris #paris #PARIS", ["paris"]),
        ("#sweet #16 #rg17", ["sweet", "16", "rg17"]),
        ("Tokyo #東京 #日本", ["東京", "日本"]),
        ("नमस्ते #नमस्ते भारत", ["नमस्ते"]),  # vowel signs are combining marks
        ("#กรุงเทพ ฯ", ["กรุงเทพ"]),
        ("#Café,#Über!", ["café", "über"]),
        ("#مرحبا and #привет", ["مرحبا", "привет"]),
        ("＃全角 tag", ["全角"]),
        ("no tags &#39; here a#b # #", []),
        ("emoji #love❤️ #fun🎉", ["love", "fun"]),
        ("#snake_case_tag.", ["snake_case_tag"]),
        (None, []),
    ],
)
def test_hashtags(caption: str | None, tags: list[str]) -> None:
    assert extract_hashtags(caption) == tags


@pytest.mark.parametrize(
    ("caption", "handles"),
    [
        ("thanks @Nike and @nike.", ["nike"]),
        ("🖤@nbcworldofdance #BTS", ["nbcworldofdance"]),
        ("(🎥 @jimmy_rich )", ["jimmy_rich"]),
        ("mail me at someone@example.com", []),
        ("@a.b.c_d @x", ["a.b.c_d", "x"]),
        ("@ alone, @@double", []),
        ("", []),
    ],
)
def test_mentions(caption: str, handles: list[str]) -> None:
    assert extract_mentions(caption) == handles


def test_int_readers_warn_on_wrong_types() -> None:
    warnings: list[str] = []
    assert int_or_none("12", "x", warnings) == 12
    assert int_or_none(3.0, "x", warnings) == 3
    assert warnings == []
    assert int_or_none(True, "x", warnings) is None
    assert int_or_none("12x", "x", warnings) is None
    assert int_or_none(1.5, "x", warnings) is None
    assert len(warnings) == 3
    assert count_of({"count": 7}, "c", warnings) == 7
    assert count_of(7, "c", warnings) == 7
    assert count_of({"edges": []}, "c", warnings) is None


def test_timestamps() -> None:
    assert ts(1523805813) == datetime(2018, 4, 15, 15, 23, 33, tzinfo=UTC)
    assert ts("1523805813") == ts(1523805813)
    assert ts(True) is None and ts("soon") is None and ts(10**20) is None


def test_next_cursor_needs_a_next_page() -> None:
    assert next_cursor({"page_info": {"has_next_page": True, "end_cursor": "abc"}}) == "abc"
    assert next_cursor({"page_info": {"has_next_page": False, "end_cursor": "abc"}}) is None
    assert next_cursor({"page_info": {"has_next_page": True, "end_cursor": ""}}) is None
    assert next_cursor("junk") is None
