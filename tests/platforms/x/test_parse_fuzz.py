"""Mutilated X answers (keys dropped, types changed, bytes cut): records or PayloadError only."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagpulse.errors import PayloadError
from tagpulse.platforms.x.parse import parse_response, parse_twarc2_line
from tagpulse.records import ParsedRecords
from tests.platforms.x.conftest import twarc2_lines

NOW = datetime(2026, 11, 1, tzinfo=UTC)

# Small answers of every shape (brexit.jsonl is cut to 12 tweets to keep examples fast).
_brexit = orjson.loads(twarc2_lines("brexit.jsonl")[0])
_brexit["data"] = _brexit["data"][:12]
SOURCES: list[Any] = [
    _brexit,
    orjson.loads(twarc2_lines("counts.jsonl")[0]),
    orjson.loads(twarc2_lines("streaming_output_with_error.jsonl")[0]),
    orjson.loads(twarc2_lines("streaming_output_with_error.jsonl")[1]),
    orjson.loads(twarc2_lines("media_tweet.jsonl")[0]),
    orjson.loads(twarc2_lines("geo_tweets.jsonl")[1]),
    orjson.loads(twarc2_lines("cashtags.jsonl")[0]),
    orjson.loads(twarc2_lines("two_tweets.jsonl")[0]),
    orjson.loads(twarc2_lines("users.jsonl")[0]),
]

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _slots(doc: Any, out: list[tuple[Any, Any]], depth: int) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in ``doc`` down to ``depth`` levels, depth first."""
    if depth == 0:
        return out
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.append((doc, key))
            _slots(value, out, depth - 1)
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out.append((doc, index))
            _slots(value, out, depth - 1)
    return out


def _check(records: ParsedRecords) -> None:
    for post in records.posts:
        assert isinstance(post.post_id, str) and post.post_id
        assert post.taken_at is None or post.taken_at.tzinfo is not None
        for count in (post.likes, post.comments, post.shares, post.views):
            assert count is None or (isinstance(count, int) and not isinstance(count, bool))
        assert all(isinstance(tag, str) for tag in post.hashtags)
        assert all(isinstance(url, str) for url in post.media_urls)
    for profile in records.profiles:
        assert isinstance(profile.handle, str) and profile.handle
    for edge in records.edges:
        assert isinstance(edge.src, str) and isinstance(edge.dst, str) and edge.src != edge.dst
    for count in records.tag_counts:
        assert isinstance(count.count, int)
    assert all(isinstance(w, str) for w in records.warnings)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutilated_answers_give_records_or_payload_error(data: st.DataObject) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(SOURCES), label="source"))
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        # Shallow slots (data, includes, a tweet, its fields) are where shapes break; deep ones
        # (an entity, a metric) are many more, so the depth is drawn first.
        slots = _slots(doc, [], data.draw(st.integers(1, 8), label="depth"))
        if not slots:
            break
        container, key = slots[data.draw(st.integers(0, len(slots) - 1), label="slot")]
        action = data.draw(st.sampled_from(["drop", "replace", "replace"]), label="action")
        if action == "drop":
            del container[key]
        else:
            container[key] = data.draw(JSON_VALUES, label="value")
    body = orjson.dumps(doc)
    if data.draw(st.booleans(), label="truncate"):
        body = body[: data.draw(st.integers(0, len(body)), label="cut")]
    try:
        _check(parse_twarc2_line(body))
    except PayloadError as exc:
        assert str(exc)
    if isinstance(doc, dict):
        body_only = {key: value for key, value in doc.items() if key != "__twarc"}
        try:
            _check(parse_response(body_only, collected_at=NOW, query="#brexit"))
        except PayloadError as exc:
            assert str(exc)


@settings(max_examples=100, deadline=None)
@given(value=JSON_VALUES)
def test_arbitrary_json_values(value: Any) -> None:
    for doc in (value, {"data": value}, {"data": [value]}, {"includes": value, "data": []}):
        try:
            _check(parse_response(orjson.dumps(doc), collected_at=NOW, query="dogs"))
        except PayloadError as exc:
            assert str(exc)
