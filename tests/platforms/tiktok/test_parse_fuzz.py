"""parse_payload on mutilated copies of every fixture shape: records or a PayloadError, never
anything else."""

from __future__ import annotations

import copy
import json
from datetime import UTC
from functools import cache
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagpulse.errors import PayloadError
from tagpulse.platforms.tiktok.parse import parse_item, parse_payload
from tagpulse.records import Edge, HashtagSnapshot, ParsedRecords, Post, Profile
from tests.platforms.tiktok.conftest import FIXTURES, NOW

SHAPES = [
    "challenge-detail-composed.json",
    "challenge-item-list-composed.json",
    "post-item-list-composed.json",
    "post-item-list-empty-composed.json",
    "user-detail-composed.json",
    "user-detail-private-composed.json",
    "user-detail-not-found-composed.json",
    "captcha-composed.json",
    "video-detail-universal-composed.json",
    "sigi-state-composed.json",
]


@pytest.mark.parametrize("name", SHAPES)
def test_every_fixture_parses_or_raises_a_payload_error(name: str) -> None:
    try:
        records = parse_payload((FIXTURES / name).read_bytes(), collected_at=NOW)
    except PayloadError:
        assert name == "captcha-composed.json" or "not-found" in name
        return
    _check(records)


@cache
def _original(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.append((*prefix, key))
            out += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj[:3]):
            out.append((*prefix, index))
            out += _paths(value, (*prefix, index))
    return out


@cache
def _paths_of(name: str) -> list[tuple[Any, ...]]:
    return _paths(_original(name))


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.sampled_from(["12834", " 7 ", "٣", "²", "1e3", "-4", "9" * 40]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    # builds, not just: each draw must be a fresh object, since mutations nest junk in junk.
    st.builds(lambda: {"statusCode": 10202}),
    st.builds(lambda: {"imageURL": {"urlList": [None, 3]}}),
    st.builds(lambda: {"uniqueId": None, "id": 5}),
)


def _check(records: ParsedRecords) -> None:
    assert isinstance(records, ParsedRecords)
    for snapshot in records.snapshots:
        assert isinstance(snapshot, HashtagSnapshot) and snapshot.tag
        assert snapshot.post_count is None or snapshot.post_count >= 0
    for profile in records.profiles:
        assert isinstance(profile, Profile) and isinstance(profile.handle, str) and profile.handle
        assert profile.followers is None or isinstance(profile.followers, int)
    for post in records.posts:
        assert isinstance(post, Post) and isinstance(post.post_id, str) and post.post_id
        for count in (post.likes, post.comments, post.shares, post.views):
            assert count is None or (isinstance(count, int) and count >= 0)
        assert post.taken_at is None or post.taken_at.tzinfo is UTC
        assert all(isinstance(url, str) and url for url in post.media_urls)
        assert all(isinstance(tag, str) and tag for tag in post.hashtags)
    assert all(isinstance(e, Edge) and e.src and e.dst for e in records.edges)
    assert all(isinstance(w, str) for w in records.warnings)
    assert records.next_cursor is None or isinstance(records.next_cursor, str)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(SHAPES), data=st.data())
def test_mutilated_payloads_never_crash(name: str, data: st.DataObject) -> None:
    """Drop keys, change types, truncate the JSON: records or a PayloadError, nothing else."""
    doc = copy.deepcopy(_original(name))
    paths = _paths_of(name)
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        path = data.draw(st.sampled_from(paths), label="path")
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent, dict) and data.draw(st.booleans(), label="drop"):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = data.draw(_JUNK, label="junk")
        except (KeyError, IndexError, TypeError):
            continue
    payload: bytes | dict[str, Any] = doc
    if data.draw(st.booleans(), label="serialise"):
        # json, not orjson: the junk holds integers beyond 64 bits and NaN.
        body = json.dumps(doc, ensure_ascii=False).encode()
        if data.draw(st.booleans(), label="truncate"):
            body = body[: data.draw(st.integers(0, len(body)), label="cut")]
        payload = body
    hints = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "hint_handle": st.sampled_from(["example.baker", "@Other", ""]),
                "hint_tag": st.sampled_from(["harbourlights", "#Other", ""]),
                "seen_via": st.just("test"),
            },
        ),
        label="hints",
    )
    try:
        records = parse_payload(payload, collected_at=NOW, raw_id="r", **hints)
    except PayloadError:
        return
    _check(records)


@settings(max_examples=100, deadline=None)
@given(item=st.dictionaries(st.sampled_from(["id", "author", "desc", "stats", "statsV2",
    "createTime", "textExtra", "challenges", "video", "imagePost", "music", "isAd", "poi"]),
    _JUNK, max_size=8))  # fmt: skip
def test_parse_item_on_junk_items_returns_a_post_or_none(item: dict[str, Any]) -> None:
    warnings: list[str] = []
    post = parse_item(item, collected_at=NOW, raw_id=None, seen_via=None, warnings=warnings)
    if post is None:
        assert warnings and warnings[-1].startswith("item without id skipped")
    else:
        _check(ParsedRecords(posts=[post], warnings=warnings))


@pytest.mark.parametrize("name", ["user-page-composed.html", "verify-page-composed.html"])
def test_truncated_pages_never_crash(name: str) -> None:
    page = (FIXTURES / name).read_bytes()
    for cut in range(0, len(page), 37):
        try:
            records = parse_payload(page[:cut], collected_at=NOW, hint_handle="example.baker")
        except PayloadError:
            continue
        _check(records)
