"""The X parser on stream lines, tweet lookups (media, geo, cashtags), users and error bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from tagpulse.errors import PayloadError
from tagpulse.platforms.x.exceptions import ApiError, UnknownShape
from tagpulse.platforms.x.parse import parse_response, parse_twarc2_line
from tagpulse.records import ParsedRecords
from tests.platforms.x.conftest import twarc2_lines

NOW = datetime(2026, 11, 1, tzinfo=UTC)
STREAM_RULE = "1377649934414049282"


def test_stream_seven_good_lines_then_a_truncated_one() -> None:
    lines = twarc2_lines("streaming_output_with_error.jsonl")
    assert len(lines) == 8
    good: list[ParsedRecords] = []
    errors: list[PayloadError] = []
    for number, line in enumerate(lines, 1):
        try:
            good.append(parse_twarc2_line(line, line_number=number))
        except PayloadError as exc:
            errors.append(exc)
    assert len(good) == 7
    (error,) = errors
    assert isinstance(error, UnknownShape)
    assert error.line == 8
    assert "not valid JSON" in error.reason and "44 bytes" in error.reason
    assert str(error).startswith("line 8: ")
    streamed = [r.posts[0] for r in good]
    assert [p.post_id for p in streamed] == [
        "1377650090978992134",
        "1377650093109743620",
        "1377650277642338305",
        "1377650387579248643",
        "1377650459033280516",
        "1377650500687044618",
        "1377650529766154240",
    ]
    assert {p.seen_via for p in streamed} == {f"stream:{STREAM_RULE}"}
    assert all(p.extra["matching_rules"] == [{"id": STREAM_RULE, "tag": None}] for p in streamed)
    assert [p.location for p in streamed] == [
        "Malawi",
        "Bournemouth, England",
        "Huntsville, AL",
        "Wandsworth, London",
        "Denver, CO",
        "Chicago, IL",
        "Greensboro, NC",
    ]
    assert [p.media_type for p in streamed] == ["image", "unknown", "unknown", "image"] + [
        "unknown"
    ] * 3
    assert streamed[0].media_urls == ["https://pbs.twimg.com/media/Ex5ldKwXEAEnEnI.jpg"]
    assert streamed[3].hashtags == ["dogsoftwitter", "dogs"]
    assert streamed[2].extra["coordinates"] == [-86.58216981, 34.75192228]
    assert good[0].posts[0].collected_at == datetime(2021, 4, 1, 15, 52, 42, tzinfo=UTC)
    assert all(r.warnings == [] for r in good)


def test_stream_quote_and_reply_edges() -> None:
    lines = twarc2_lines("streaming_output_with_error.jsonl")
    quote = parse_twarc2_line(lines[0])
    # The quoted tweet is included (author Manie_DS): a "quoted" edge to its author.
    assert [(e.kind, e.src, e.dst, e.dst_handle, e.post_id) for e in quote.edges] == [
        ("quoted", "4602771083", "41783881", "Manie_DS", "1377640162566496258")
    ]
    assert quote.posts[0].extra["quote_of"] == "1377640162566496258"
    # This 2021 answer gives mentions without ids: the id comes from includes.users.
    reply = parse_twarc2_line(lines[1])
    assert sorted((e.kind, e.dst, e.post_id) for e in reply.edges) == [
        ("commented", "601852746", "1377266697850257410"),
        ("mentioned", "601852746", "1377650093109743620"),
    ]


def test_media_tweet_video() -> None:
    # Counted from media_tweet.jsonl with a short json script: 1 tweet (also in includes.tweets),
    # 1 video with 4 variants (3 MP4, best 2,176,000 b/s at 1280x720), video view_count 19,059,
    # public_metrics retweets 13, replies 3, likes 93, quotes 7, no impression_count.
    (line,) = twarc2_lines("media_tweet.jsonl")
    records = parse_twarc2_line(line)
    (post,) = records.posts
    assert post.post_id == "1558553189766631429"
    assert post.owner_handle == "IgorBrigadir"
    assert post.url == "https://x.com/IgorBrigadir/status/1558553189766631429"
    assert post.media_type == "video"
    assert post.media_urls == [
        "https://pbs.twimg.com/ext_tw_video_thumb/1558552952549277696/pu/img/7VaQu-AvReI8RHkv.jpg"
    ]
    assert post.extra["video_urls"] == [
        "https://video.twimg.com/ext_tw_video/1558552952549277696/pu/vid/1280x720/WiZrNZKT2lMzK5zA.mp4?tag=12"
    ]
    assert post.extra["video_views"] == 19_059
    assert (post.likes, post.comments, post.shares, post.views) == (93, 3, 20, None)
    assert (post.extra["retweet_count"], post.extra["quote_count"]) == (13, 7)
    assert post.taken_at == datetime(2022, 8, 13, 20, 36, 51, tzinfo=UTC)
    assert post.seen_via is None
    assert [p.handle for p in records.profiles] == ["IgorBrigadir"]
    assert records.warnings == []


def test_geo_tweets() -> None:
    # Counted from geo_tweets.jsonl: line 1 has 13 hashtags (harrypotter twice: 12 distinct) and
    # exact coordinates but no place; line 2 is a reply with place "Berlin, Germany", two
    # mentions (j2bryson, Twitter), and the replied-to tweet (by j2bryson, mentioning Twitter)
    # in includes.
    first, second = (parse_twarc2_line(line) for line in twarc2_lines("geo_tweets.jsonl"))
    (post,) = first.posts
    assert post.language == "pl"
    assert len(post.hashtags) == 12 and post.hashtags.count("harrypotter") == 1
    assert "zostańwdomu" in post.hashtags
    assert post.extra["coordinates"] == [42.77810097, 88.01785747]
    assert post.location is None
    reply, replied = second.posts
    assert reply.location == "Berlin, Germany"
    assert reply.extra["place_id"] == "3078869807f9dd36"
    assert reply.mentions == ["j2bryson", "Twitter"]
    assert replied.seen_via == "referenced" and replied.hashtags == ["tweepy"]
    assert sorted((e.kind, e.src, e.dst) for e in second.edges) == [
        ("commented", "495430242", "2919151"),
        ("mentioned", "2919151", "783214"),
        ("mentioned", "495430242", "2919151"),
        ("mentioned", "495430242", "783214"),
    ]
    assert len(second.profiles) == 3
    assert first.warnings == [] and second.warnings == []


def test_cashtags_and_impressions() -> None:
    # Counted from cashtags.jsonl: 11 cashtags, 4 hashtags, 1 photo, impression_count 52.
    (line,) = twarc2_lines("cashtags.jsonl")
    (post,) = parse_twarc2_line(line).posts
    assert post.extra["cashtags"] == [
        "AMD", "BTC", "TWTR", "BA", "doge", "baba", "spy", "SPX", "NIO", "ETC", "META"
    ]  # fmt: skip
    assert post.hashtags == ["business", "nft", "stockmarket", "option"]
    assert post.views == 52
    assert post.likes == 1
    assert post.media_type == "image"
    assert post.media_urls == ["https://pbs.twimg.com/media/Flux6uuaAAAq9Ap.png"]
    assert "http://go.trade-ideas.com/SHHb" in post.extra["urls"]


def test_users_lookup() -> None:
    # Counted from users.jsonl: 96 users in data (1 verified, 1 protected), 52 pinned tweets in
    # includes, 8 errors beside the data (7 pinned tweets not found / not authorised, 1 user).
    (line,) = twarc2_lines("users.jsonl")
    records = parse_twarc2_line(line)
    assert len(records.profiles) == 96
    first = records.profiles[0]
    assert (first.handle, first.user_id) == ("DoDirty78", "119369819")
    assert (first.followers, first.following, first.posts_count) == (580, 518, 55_186)
    assert first.bio == "Love is the highest form of understanding"
    assert first.extra["location"] == "NC"
    assert first.extra["pinned_tweet_id"] == "1434874170039545862"
    assert sum(p.is_verified is True for p in records.profiles) == 1
    assert sum(p.is_private is True for p in records.profiles) == 1
    assert max(p.followers or 0 for p in records.profiles) == 33_751
    assert {p.state for p in records.profiles} == {"ok"}
    assert len(records.posts) == 52
    assert {p.seen_via for p in records.posts} == {"referenced"}
    assert len(records.warnings) == 8
    assert records.warnings[3] == (
        "API error beside data: Not Found Error: Could not find user with ids: [93071130]."
    )


NOT_FOUND = {
    "value": "nosuchhandle",
    "detail": "Could not find user with usernames: [nosuchhandle].",
    "title": "Not Found Error",
    "resource_type": "user",
    "parameter": "usernames",
    "resource_id": "nosuchhandle",
    "type": "https://api.twitter.com/2/problems/resource-not-found",
}


def test_users_by_handle_not_found() -> None:
    # users/by?usernames= where no handle exists: errors only, each naming its resource.
    records = parse_response({"errors": [NOT_FOUND]}, collected_at=NOW, raw_id="r")
    (gone,) = records.profiles
    assert (gone.handle, gone.user_id, gone.state) == ("nosuchhandle", None, "not_found")
    assert records.warnings == [
        "API error beside data: Not Found Error: Could not find user with usernames: "
        "[nosuchhandle]."
    ]
    # ... and beside a handle that exists.
    (line,) = twarc2_lines("users.jsonl")
    user = orjson.loads(line)["data"][0]
    mixed = parse_response({"data": [user], "errors": [NOT_FOUND]}, collected_at=NOW)
    assert [(p.handle, p.state) for p in mixed.profiles] == [("DoDirty78", "ok")]
    single = parse_response({"data": user}, collected_at=NOW)
    assert [p.handle for p in single.profiles] == ["DoDirty78"]


@pytest.mark.parametrize(
    ("body", "title", "detail"),
    [
        (
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            "Unauthorized",
            "Unauthorized",
        ),
        (
            {
                "errors": [
                    {
                        "parameters": {"query": ["#"]},
                        "message": "There were errors processing your request: Invalid query",
                    }
                ],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
            "Invalid Request",
            "One or more parameters to your request was invalid.",
        ),
        (
            {
                "errors": [
                    {
                        "title": "operational-disconnect",
                        "disconnect_type": "UpstreamOperationalDisconnect",
                        "detail": "This stream has been disconnected upstream for operational "
                        "reasons.",
                        "type": "https://api.twitter.com/2/problems/operational-disconnect",
                    }
                ]
            },
            "operational-disconnect",
            "This stream has been disconnected upstream for operational reasons.",
        ),
    ],
)
def test_error_bodies_raise_with_the_detail(
    body: dict[str, object], title: str, detail: str
) -> None:
    with pytest.raises(ApiError) as caught:
        parse_response(orjson.dumps(body), collected_at=NOW)
    assert isinstance(caught.value, PayloadError)
    assert caught.value.title == title
    assert caught.value.detail == detail
    assert detail in str(caught.value)
    line = orjson.dumps({**body, "__twarc": {"retrieved_at": "2021-01-01T00:00:00+00:00"}})
    with pytest.raises(ApiError) as in_file:
        parse_twarc2_line(line, line_number=3)
    assert in_file.value.line == 3 and str(in_file.value).startswith("line 3: ")


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", b"{error}\n", b"[1, 2]", b'"text"', b"null", b'{"unrelated": true}'],
)
def test_unusable_lines_raise_with_a_reason(body: bytes) -> None:
    with pytest.raises(UnknownShape) as caught:
        parse_twarc2_line(body)
    assert caught.value.reason


def test_twarc_line_without_retrieved_at() -> None:
    (line,) = twarc2_lines("cashtags.jsonl")
    doc = orjson.loads(line)
    del doc["__twarc"]["retrieved_at"]
    with pytest.raises(UnknownShape, match="retrieved_at"):
        parse_twarc2_line(orjson.dumps(doc))
    records = parse_twarc2_line(orjson.dumps(doc), collected_at=NOW)
    assert records.posts[0].collected_at == NOW
    assert records.warnings[0] == "__twarc.retrieved_at: missing"


def test_empty_search_page() -> None:
    records = parse_response({"meta": {"result_count": 0}}, collected_at=NOW, query="#quiet")
    assert records.count() == 0 and records.warnings == [] and records.next_cursor is None


def test_wrong_types_become_none_and_warnings() -> None:
    (line,) = twarc2_lines("media_tweet.jsonl")
    doc = orjson.loads(line)
    tweet = doc["data"][0]
    tweet["created_at"] = 12
    tweet["public_metrics"]["like_count"] = "many"
    tweet["lang"] = ["en"]
    doc["includes"]["users"][0]["public_metrics"] = "lots"
    doc["includes"]["tweets"] = []
    records = parse_twarc2_line(orjson.dumps(doc))
    (post,) = records.posts
    assert post.taken_at is None and post.likes is None and post.language is None
    assert post.comments == 3
    assert records.profiles[0].followers is None
    assert records.warnings == [
        "tweet 1558553189766631429 like_count: expected an integer, got str 'many'",
        "tweet 1558553189766631429 created_at: expected an ISO 8601 time, got int 12",
        "tweet 1558553189766631429 lang: expected a string, got list ['en']",
        "user 495430242 public_metrics: expected an object, got str 'lots'",
    ]
