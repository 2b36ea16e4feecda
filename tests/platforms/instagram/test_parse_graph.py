"""The Graph API parser on every recorded and composed answer (exact facts), on error and
unknown bodies, and on mutilated copies of each: records or a PayloadError, nothing else."""

from __future__ import annotations

import contextlib
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
from tagpulse.platforms.instagram.graph_api import GraphUsage
from tagpulse.platforms.instagram.parse_graph import (
    parse_business_discovery,
    parse_graph_payload,
    parse_graph_time,
    parse_hashtag_media,
    parse_hashtag_search,
)
from tagpulse.records import Edge, ParsedRecords, Post, Profile

NOW = datetime(2026, 11, 1, tzinfo=UTC)
GRAPH = Path(__file__).parents[2] / "fixtures" / "instagram_graph"


def _body(name: str) -> bytes:
    return (GRAPH / name).read_bytes()


def test_hashtag_search_gives_the_id() -> None:
    assert parse_hashtag_search(_body("hashtag_search.json")) == "17843421130029320"
    assert parse_hashtag_search(b'{"data": []}') is None
    assert parse_hashtag_search({"data": [{"name": "x"}, {"id": 17843}]}) == "17843"
    with pytest.raises(UnknownShape, match="without a data list"):
        parse_hashtag_search(b'{"id": "1"}')


def test_recent_media_page_one_recorded() -> None:
    out = parse_hashtag_media(
        _body("hashtag_recent_medias_p1.json"), tag="love", edge="recent", collected_at=NOW
    )
    assert [p.post_id for p in out.posts] == [
        "18088158883149835",
        "17842849828991925",
        "17859234943725739",
        "17846072587933764",
        "17892931315460101",
    ]
    first = out.posts[0]
    assert (first.likes, first.comments, first.media_type) == (804, 8, "image")
    assert first.seen_via == "graph:tag:love:recent"
    assert first.owner_id is None and first.owner_handle is None  # not given for hashtag media
    assert first.taken_at is None and first.url is None and first.shortcode is None
    assert [p.likes for p in out.posts] == [804, 1430, 448, 502, 165]
    assert [p.comments for p in out.posts] == [8, 44, 6, 57, 12]
    assert out.next_cursor == "after"  # paging.next is there
    assert "post 18088158883149835 timestamp: missing" in out.warnings
    assert not out.snapshots  # the Graph API gives no post count: no snapshot is invented
    assert not out.profiles and not out.edges


def test_recent_media_last_page_and_top_media_fields_recorded() -> None:
    last = parse_hashtag_media(
        _body("hashtag_recent_medias_p2.json"), tag="love", edge="recent", collected_at=NOW
    )
    assert len(last.posts) == 5 and last.next_cursor is None
    assert (last.posts[-1].post_id, last.posts[-1].likes, last.posts[-1].comments) == (
        "18042160858239311",
        210,
        4,
    )
    top = parse_hashtag_media(
        _body("hashtag_top_medias_fields_p2.json"), tag="love", edge="top", collected_at=NOW
    )
    assert [(p.post_id, p.likes, p.comments) for p in top.posts[:2]] == [
        ("17863800889667054", 1047, 41),
        ("17847193954922857", 123, 4),
    ]
    assert {p.seen_via for p in top.posts} == {"graph:tag:love:top"}
    assert top.next_cursor is None


def test_top_media_composed_every_field() -> None:
    out = parse_hashtag_media(
        _body("top_media-composed.json"), tag="paris", edge="top", collected_at=NOW, raw_id="r1"
    )
    image, carousel, reel, hidden = out.posts
    assert image.post_id == "17991422104512336"
    assert image.url == "https://www.instagram.com/p/C9xQm2FoT4a/"
    assert image.shortcode == "C9xQm2FoT4a"
    assert image.taken_at == datetime(2024, 7, 21, 19, 42, 10, tzinfo=UTC)
    assert image.hashtags == ["paris", "sunset", "travel"]
    assert image.mentions == ["lea.dubois"]
    assert (image.likes, image.comments, image.media_type) == (2316, 48, "image")
    assert image.media_urls == [
        "https://scontent.cdninstagram.com/v/t51.29350-15/451234567_1_n.jpg"
    ]
    assert image.raw_id == "r1" and image.collected_at == NOW
    assert carousel.media_type == "carousel"
    assert carousel.hashtags == ["paris", "montmartre"]
    assert len(carousel.media_urls) == 2 and carousel.media_urls[1].endswith("451200002_3_n.jpg")
    assert carousel.extra["children_ids"] == ["18003512770431287", "17879264351092644"]
    assert reel.media_type == "reel" and reel.shortcode == "C9uA8rTIxYd"
    assert reel.extra["media_product_type"] == "REELS"
    assert hidden.likes is None and hidden.comments == 3
    assert "post 17868125940117733 like_count: absent (hidden by the owner, or not requested)" in (
        out.warnings
    )
    assert out.next_cursor == "QVFIUlRfQWJjZAEZDekFoNjc5T2xZAaV9kNjRsUGtyTWxTRVFiUUJCZAlZAY"
    assert not out.edges  # no owner: mentions cannot be linked


def test_business_discovery_profile_recorded() -> None:
    out = parse_business_discovery(
        _body("discovery_user_default.json"), collected_at=NOW, hint_handle="Facebook"
    )
    (profile,) = out.profiles
    assert profile == Profile(
        platform="instagram",
        user_id="17841400455970028",
        handle="facebook",
        collected_at=NOW,
        raw_id=None,
        name="Facebook",
        bio="Let's find more that brings us together.",
        followers=3502538,
        following=9,
        posts_count=360,
        is_business=True,
        external_url="http://www.facebook.com/",
        profile_pic_url=profile.profile_pic_url,
        extra={"ig_id": "1807199"},
    )
    assert profile.profile_pic_url is not None
    assert profile.profile_pic_url.startswith("https://scontent.xx.fbcdn.net/v/t51.2885-15/")
    assert not out.posts and out.next_cursor is None and out.warnings == []

    fields = parse_business_discovery(_body("discovery_user_fields.json"), collected_at=NOW)
    assert (fields.profiles[0].followers, fields.profiles[0].posts_count) == (3502538, None)


def test_business_discovery_media_pages_recorded() -> None:
    one = parse_business_discovery(
        _body("discovery_medias_p1.json"), collected_at=NOW, hint_handle="facebook"
    )
    assert not one.profiles  # a media page alone says nothing of the account
    first, second = one.posts
    assert first.post_id == "17885103395504675"
    assert first.owner_id == "17841407673135339"
    assert first.owner_handle == "facebook"
    assert first.seen_via == "graph:profile:facebook"
    assert first.shortcode == "CSr71Gzlqo4"
    assert first.taken_at == datetime(2021, 8, 17, 19, 0, 42, tzinfo=UTC)
    assert (first.likes, first.comments, first.media_type) == (87, 11, "image")
    assert first.media_urls[0].startswith("https://scontent-nrt1-1.cdninstagram.com/")
    assert second.taken_at == datetime(2021, 8, 16, 17, 35, 10, tzinfo=UTC)
    assert one.next_cursor == "after"
    two = parse_business_discovery(_body("discovery_medias_p2.json"), collected_at=NOW)
    video = two.posts[1]
    assert (video.post_id, video.media_type, video.likes, video.comments) == (
        "18165241603086291",
        "video",
        86,
        5,
    )
    assert video.caption is not None and "\u201cBoz\u201d" in video.caption
    assert video.owner_handle is None and video.seen_via == "graph:profile"


def test_business_discovery_mentions_become_edges() -> None:
    doc = {
        "business_discovery": {
            "id": "17841400000000001",
            "username": "brand",
            "followers_count": 10,
            "media": {
                "data": [{"id": "1", "caption": "with @friend.one and @brand #launch"}],
                "paging": {"cursors": {"after": "c1"}},
            },
        },
        "id": "17841499000000001",
    }
    out = parse_business_discovery(doc, collected_at=NOW)
    assert out.edges == [
        Edge(
            platform="instagram",
            src="17841400000000001",
            dst="@friend.one",
            kind="mentioned",
            seen_at=NOW,
            raw_id=None,
            src_handle="brand",
            dst_handle="friend.one",
            post_id="1",
        )
    ]
    assert out.posts[0].hashtags == ["launch"] and out.next_cursor == "c1"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_body("error.json"), "error: code 100: \\(#100\\) Pages Public Content Access"),
        (b'{"error": {"code": 190, "error_subcode": 463}}', "code 190/463"),
        (b'{"id": "17841406338772941"}', "no known shape"),
        (b"[1]", "JSON list"),
        (b"", "not valid JSON"),
        (b"<html>", "not valid JSON"),
    ],
)
def test_error_and_unknown_bodies_raise_unknown_shape(body: bytes, reason: str) -> None:
    with pytest.raises(UnknownShape, match=reason) as caught:
        parse_graph_payload(body, collected_at=NOW, endpoint="graph/top_media")
    assert isinstance(caught.value, PayloadError)


def test_parse_graph_payload_dispatches_on_shape_and_endpoint() -> None:
    search = parse_graph_payload(
        _body("hashtag_search.json"), collected_at=NOW, endpoint="graph/ig_hashtag_search"
    )
    assert search.count() == 0
    recent = parse_graph_payload(
        _body("hashtag_recent_medias_p2.json"),
        collected_at=NOW,
        endpoint="graph/recent_media",
        hint_tag="#Love",
    )
    assert {p.seen_via for p in recent.posts} == {"graph:tag:love:recent"}
    guessed = parse_graph_payload(_body("hashtag_recent_medias_p2.json"), collected_at=NOW)
    assert {p.seen_via for p in guessed.posts} == {"graph:tag:?:top"}
    assert guessed.warnings[0].startswith("graph media listing without hint_tag")
    profile = parse_graph_payload(_body("discovery_user_default.json"), collected_at=NOW)
    assert profile.profiles[0].handle == "facebook"


def test_graph_times() -> None:
    warnings: list[str] = []
    assert parse_graph_time("2021-08-17T19:00:42+0000", "t", warnings) == datetime(
        2021, 8, 17, 19, 0, 42, tzinfo=UTC
    )
    assert parse_graph_time("2021-08-17T21:00:42+02:00", "t", warnings) == datetime(
        2021, 8, 17, 19, 0, 42, tzinfo=UTC
    )
    assert parse_graph_time("2021-08-17T19:00:42Z", "t", warnings) is not None
    assert warnings == []
    assert parse_graph_time("2021-08-17T19:00:42", "t", warnings) is not None
    assert parse_graph_time(1629226842, "t", warnings) is None
    assert parse_graph_time("yesterday", "t", warnings) is None
    assert warnings == [
        "t: no time zone in '2021-08-17T19:00:42', read as UTC",
        "t: expected an ISO 8601 string, got int",
        "t: not an ISO 8601 time ('yesterday')",
    ]


def test_usage_headers_recorded() -> None:
    recorded = orjson.loads(_body("headers.json"))
    headers = {name: orjson.dumps(value).decode() for name, value in recorded.items()}
    usage = GraphUsage.from_headers(headers)
    assert usage.percent == 29 and not usage.exhausted and usage.regain_after_s is None
    assert usage.business["17841400455970028"][0]["type"] == "instagram"
    app = GraphUsage.from_headers({"X-App-Usage": '{"call_count":100,"total_time":7}'})
    assert app.exhausted and app.percent == 100 and app.app == {"call_count": 100, "total_time": 7}
    assert not GraphUsage.from_headers({"x-app-usage": "not json"}).present


# -- fuzz ------------------------------------------------------------------------------------

SHAPES = {
    "hashtag_search.json": "graph/ig_hashtag_search",
    "hashtag_recent_medias_p1.json": "graph/recent_media",
    "hashtag_top_medias_fields_p2.json": "graph/top_media",
    "top_media-composed.json": "graph/top_media",
    "discovery_user_default.json": "graph/business_discovery",
    "discovery_medias_p1.json": "graph/business_discovery",
    "discovery_medias_p2.json": "graph/business_discovery",
}


@cache
def _original(name: str) -> Any:
    return orjson.loads(_body(name))


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


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["2021-13-45T99:00:00+0000", "REELS", "CAROUSEL_ALBUM", "-3", "12"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(lambda: {"data": [None, {"id": 5}]}),
    st.builds(lambda: {"cursors": {"after": 7}, "next": ["x"]}),
    st.builds(lambda: {"error": {"code": "4"}}),
)


def _check(records: ParsedRecords) -> None:
    assert isinstance(records, ParsedRecords) and not records.snapshots
    for profile in records.profiles:
        assert isinstance(profile, Profile) and isinstance(profile.handle, str) and profile.handle
        assert profile.followers is None or isinstance(profile.followers, int)
    for post in records.posts:
        assert isinstance(post, Post) and isinstance(post.post_id, str) and post.post_id
        assert post.likes is None or (isinstance(post.likes, int) and post.likes >= 0)
        assert post.taken_at is None or post.taken_at.tzinfo is UTC
        assert all(isinstance(url, str) for url in post.media_urls)
        assert post.caption is None or isinstance(post.caption, str)
    assert all(isinstance(e, Edge) and e.src and e.dst for e in records.edges)
    assert all(isinstance(w, str) for w in records.warnings)
    assert records.next_cursor is None or isinstance(records.next_cursor, str)


@settings(max_examples=250, deadline=None)
@given(name=st.sampled_from(sorted(SHAPES)), data=st.data())
def test_mutilated_payloads_never_crash(name: str, data: st.DataObject) -> None:
    """Drop keys, change types, truncate the JSON: records or a PayloadError, nothing else."""
    doc = copy.deepcopy(_original(name))
    paths = _paths(doc)
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
    endpoint = data.draw(st.sampled_from([SHAPES[name], None]), label="endpoint")
    hints = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "hint_tag": st.sampled_from(["paris", "#Love", ""]),
                "hint_handle": st.sampled_from(["facebook", "@Other", ""]),
            },
        ),
        label="hints",
    )
    try:
        records = parse_graph_payload(
            payload, collected_at=NOW, raw_id="r", endpoint=endpoint, **hints
        )
    except PayloadError:
        return
    _check(records)
    if isinstance(payload, dict):
        with contextlib.suppress(PayloadError):
            found = parse_hashtag_search(payload)
            assert found is None or isinstance(found, str)
