"""parse_payload on answers that hold no data, and on mutilated copies of every recorded shape:
it returns records or raises a PayloadError, never anything else."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagpulse.errors import PayloadError
from tagpulse.platforms.instagram.exceptions import UnknownShape
from tagpulse.platforms.instagram.parse import parse_payload
from tagpulse.records import Comment, Edge, HashtagSnapshot, ParsedRecords, Post, Profile

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FIXTURES = Path(__file__).parents[2] / "fixtures" / "instagram_web"

# Every data shape, smallest recordings first where several show the same shape.
SHAPES = [
    "profile.json",
    "profile-alternative.json",
    "profile-id.json",
    "profile-id-invalid.json",
    "scraper-flattened-composed.json",
    "legacy/aff3f36/instagram_feed.json",
    "legacy/0957d62/instagram_feed.json",
    "legacy/9e84e68/user_feed.json",
    "legacy/9e84e68/medias_feed.json",
    "legacy/ee1987f/pgrimaud.json",
    "tagged-medias.json",
    "igtv.json",
    "media-2.json",
    "grid-composed.json",
    "media-comments.json",
    "comment-post.json",
    "followers-feed-2.json",
    "followings-feed-2.json",
    "stories.json",
    "live.json",
    "hashtag-2.json",
    "web_info-composed.json",
    "location-medias.json",
    "reels.json",
]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((FIXTURES / "login-error.json").read_bytes(), "login answer"),
        ((FIXTURES / "checkpoint/challenge.json").read_bytes(), "checkpoint"),
        ((FIXTURES / "checkpoint/send-email.json").read_bytes(), "checkpoint"),
        ((FIXTURES / "login-generic-errors.json").read_bytes(), "generic_request_error"),
        ((FIXTURES / "medias-error.json").read_bytes(), "not valid JSON"),
        (
            b'{"message": "Please wait a few minutes before you try again.", '
            b'"require_login": true, "status": "fail"}',
            "Please wait a few minutes",
        ),
        (b'{"result": "following", "status": "ok"}', "keys \\['result', 'status'\\]"),
        (b"{}", "no known shape"),
        (b"[1, 2]", "JSON list"),
        (b'"text"', "JSON str"),
        (b"", "not valid JSON"),
        (b"<!DOCTYPE html><html>login</html>", "not valid JSON"),
    ],
)
def test_answers_without_data_raise_unknown_shape(body: bytes, reason: str) -> None:
    with pytest.raises(UnknownShape, match=reason) as caught:
        parse_payload(body, collected_at=NOW, endpoint="web_profile_info")
    assert isinstance(caught.value, PayloadError)
    if body.startswith(b"{") and body != b"{}" and b"error}" not in body:
        assert "(endpoint web_profile_info)" in str(caught.value)


@pytest.mark.parametrize("name", SHAPES)
def test_every_shape_parses_from_bytes_str_and_mapping(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    from_bytes = parse_payload(body, collected_at=NOW, hint_handle="someone")
    from_str = parse_payload(body.decode(), collected_at=NOW, hint_handle="someone")
    from_doc = parse_payload(orjson.loads(body), collected_at=NOW, hint_handle="someone")
    assert from_bytes == from_str == from_doc
    assert from_bytes.count() > 0


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
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    # builds, not just: each draw must be a fresh object, since mutations nest junk in junk.
    st.builds(lambda: {"count": "12"}),
    st.builds(lambda: {"edges": [{"node": None}]}),
)


def _check(records: ParsedRecords) -> None:
    assert isinstance(records, ParsedRecords)
    assert all(isinstance(s, HashtagSnapshot) for s in records.snapshots)
    for profile in records.profiles:
        assert isinstance(profile, Profile) and isinstance(profile.handle, str)
        assert profile.followers is None or isinstance(profile.followers, int)
    for post in records.posts:
        assert isinstance(post, Post) and isinstance(post.post_id, str) and post.post_id
        assert post.likes is None or isinstance(post.likes, int)
        assert post.taken_at is None or post.taken_at.tzinfo is UTC
        assert all(isinstance(url, str) for url in post.media_urls)
    assert all(isinstance(c, Comment) and isinstance(c.comment_id, str) for c in records.comments)
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
                "hint_handle": st.sampled_from(["robertdowneyjr", "@Other", ""]),
                "hint_tag": st.sampled_from(["paris", "#JLo", ""]),
                "hint_user_id": st.just("1518284433"),
                "hint_shortcode": st.sampled_from(["B7eUksNFA-K", "!!", ""]),
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
