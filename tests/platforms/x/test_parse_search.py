"""The X parser on recorded search answers: search/recent (#brexit), search/all, timelines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from tagpulse.platforms.x.parse import parse_response, parse_twarc2_line, post_url
from tagpulse.records import ParsedRecords
from tests.platforms.x.conftest import twarc2_lines

BREXIT_FIRST_ID = "1440716895355764743"
BREXIT_NEXT_TOKEN = "b26v89c19zqg8o3fpds60ssjif02fq74br3502of8hmrh"


@pytest.fixture(scope="module")
def brexit() -> ParsedRecords:
    (line,) = twarc2_lines("brexit.jsonl")
    return parse_twarc2_line(line, raw_id="raw-brexit")


def test_brexit_search_page_counts(brexit: ParsedRecords) -> None:
    found = [p for p in brexit.posts if p.seen_via == "search:#brexit"]
    assert len(found) == 100
    assert found[0].post_id == BREXIT_FIRST_ID
    assert len({p.owner_id for p in found}) == 98
    assert Counter(
        k for p in found for k in ("retweet_of", "quote_of", "reply_to") if k in p.extra
    ) == {
        "retweet_of": 67,
        "quote_of": 11,
        "reply_to": 10,
    }
    # includes: 177 users -> 177 profiles; 59 tweets, 4 of them also in data -> 55 more posts.
    assert len(brexit.profiles) == 177
    assert len(brexit.posts) == 155
    assert sum(p.seen_via == "referenced" for p in brexit.posts) == 55
    assert len({p.post_id for p in brexit.posts}) == 155
    assert brexit.next_cursor == BREXIT_NEXT_TOKEN
    assert brexit.warnings == []


def test_brexit_times(brexit: ParsedRecords) -> None:
    found = [p for p in brexit.posts if p.seen_via == "search:#brexit"]
    taken = [p.taken_at for p in found]
    assert all(t is not None for t in taken)
    assert min(t for t in taken if t) == datetime(2021, 9, 22, 16, 25, 51, tzinfo=UTC)
    assert max(t for t in taken if t) == datetime(2021, 9, 22, 16, 37, 29, tzinfo=UTC)
    collected = datetime(2021, 9, 22, 16, 38, 9, tzinfo=UTC)
    assert {p.collected_at for p in brexit.posts} == {collected}
    assert {p.collected_at for p in brexit.profiles} == {collected}
    assert {e.seen_at for e in brexit.edges} == {collected}
    assert {p.raw_id for p in brexit.posts} == {"raw-brexit"}


def test_brexit_hashtag_in_every_post_found(brexit: ParsedRecords) -> None:
    # The fixture fact: 59 of the 100 tweets carry #brexit in their own entities.hashtags. The
    # other 41 are retweets whose truncated "RT @…" text cut the tag off; the search matched
    # their original's full text, which a retweet post shows (caption and hashtags), so every
    # post found by "#brexit" carries it.
    (line,) = twarc2_lines("brexit.jsonl")
    raw = orjson.loads(line)["data"]
    own = sum(
        any(h["tag"].lower() == "brexit" for h in t.get("entities", {}).get("hashtags", []))
        for t in raw
    )
    assert own == 59
    found = [p for p in brexit.posts if p.seen_via == "search:#brexit"]
    assert sum("brexit" in p.hashtags for p in found) == 100
    assert all(h == h.lower() and not h.startswith("#") for p in found for h in p.hashtags)


def test_brexit_first_post(brexit: ParsedRecords) -> None:
    post = brexit.posts[0]
    assert post.platform == "x"
    assert post.url == "https://x.com/WarmongerHodges/status/1440716895355764743"
    assert post.owner_id == "4203239195" and post.owner_handle == "WarmongerHodges"
    assert post.hashtags == ["peoplesvote", "brexit"]
    assert post.caption is not None and post.caption.startswith("The same Labour MPs")
    assert (post.likes, post.comments, post.shares, post.views) == (0, 0, 0, None)
    assert post.extra["retweet_count"] == 0 and post.extra["quote_count"] == 0
    assert post.language == "en"
    assert post.media_type == "unknown" and post.media_urls == []
    assert post.extra["source"] == "Twitter Web App"


def test_brexit_retweet_shows_its_original(brexit: ParsedRecords) -> None:
    by_id = {p.post_id: p for p in brexit.posts}
    retweet = next(p for p in brexit.posts if p.extra.get("retweet_of") == "1440713161355583489")
    original = by_id["1440713161355583489"]
    assert original.seen_via == "referenced"
    assert original.owner_handle == "carolJhedges"
    assert retweet.caption == original.caption
    assert retweet.caption is not None and not retweet.caption.startswith("RT @")
    assert "borisjohnson" in retweet.hashtags
    # X echoes the original's retweet_count on a retweet: kept in extra, not counted as shares.
    assert retweet.shares is None
    assert retweet.extra["retweet_count"] == original.extra["retweet_count"]
    edges = [e for e in brexit.edges if e.src == retweet.owner_id and e.post_id == original.post_id]
    assert [(e.kind, e.dst, e.dst_handle) for e in edges] == [
        ("reposted", "711945679", "carolJhedges")
    ]
    # No "mentioned" edge for the automatic "RT @carolJhedges" prefix.
    assert not [e for e in brexit.edges if e.kind == "mentioned" and e.post_id == retweet.post_id]


def test_brexit_reply_edge_and_gif(brexit: ParsedRecords) -> None:
    reply = next(p for p in brexit.posts if p.post_id == "1440716745577140229")
    assert reply.owner_handle == "calin_a"
    assert reply.extra["reply_to"] == "1440621713281093641"
    assert reply.mentions == ["AndrewKnight226"]
    commented = [e for e in brexit.edges if e.kind == "commented" and e.src == reply.owner_id]
    assert [(e.dst, e.dst_handle, e.post_id) for e in commented] == [
        ("1717521084", "AndrewKnight226", "1440621713281093641")
    ]
    mentioned = [e for e in brexit.edges if e.kind == "mentioned" and e.post_id == reply.post_id]
    assert [(e.src, e.dst) for e in mentioned] == [("870028999", "1717521084")]
    # Its one attachment is an animated_gif: a video; the fetchable image is its preview.
    assert reply.media_type == "video"
    assert reply.media_urls == ["https://pbs.twimg.com/tweet_video_thumb/E_50PPpUYAIE3uX.jpg"]
    assert reply.extra["media_keys"] == ["16_1440716736051830786"]


def test_brexit_edges(brexit: ParsedRecords) -> None:
    # Counted from the parse and checked by hand against the file: one "reposted" per retweet
    # (67, none of them a self-retweet); quotes and replies: 11 quotes + 10 replies in data, less
    # 1 reply to oneself, plus 19 from the included tweets = 39, of which 24 quotes ("quoted")
    # and 15 replies ("commented"); "mentioned": 59 mentions outside retweets.
    assert Counter(e.kind for e in brexit.edges) == {
        "reposted": 67,
        "quoted": 24,
        "commented": 15,
        "mentioned": 59,
    }
    assert all(e.src != e.dst for e in brexit.edges)
    assert all(e.platform == "x" and e.raw_id == "raw-brexit" for e in brexit.edges)
    liked = [e for e in brexit.edges if e.kind == "reposted"]
    by_id = {p.post_id: p for p in brexit.posts}
    assert all(e.post_id in by_id and by_id[e.post_id].owner_id == e.dst for e in liked)


def test_brexit_media_poll_and_profiles(brexit: ParsedRecords) -> None:
    # includes.media resolves 8 of the 24 distinct media keys the tweets name.
    assert Counter(p.media_type for p in brexit.posts) == {
        "unknown": 146,
        "image": 5,
        "video": 2,
        "carousel": 2,
    }
    poll = next(p.extra["poll"] for p in brexit.posts if "poll" in p.extra)
    assert [o["votes"] for o in poll["options"]] == [60, 185, 24]
    profile = brexit.profiles[0]
    assert profile.handle == "WarmongerHodges" and profile.user_id == "4203239195"
    assert (profile.followers, profile.following, profile.posts_count) == (34920, 3552, 108443)
    assert profile.is_verified is False and profile.is_private is False
    assert profile.bio is not None and "#VoteNIP" in profile.bio
    assert profile.extra["listed_count"] == 142
    assert profile.external_url is None


def test_parse_response_on_the_body_alone() -> None:
    (line,) = twarc2_lines("brexit.jsonl")
    doc = orjson.loads(line)
    del doc["__twarc"]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for payload in (orjson.dumps(doc), orjson.dumps(doc).decode(), doc):
        records = parse_response(payload, collected_at=at, query="#brexit")
        assert len(records.posts) == 155
        assert records.posts[0].collected_at == at
    no_query = parse_response(doc, collected_at=at)
    assert {p.seen_via for p in no_query.posts} == {None, "referenced"}


def test_search_all_retweet() -> None:
    (line,) = twarc2_lines("two_tweets.jsonl")
    records = parse_twarc2_line(line)
    # tweets/search/all?query=(#POIUYTREWQ): one retweet and its original, two users.
    assert [p.seen_via for p in records.posts] == ["search:(#POIUYTREWQ)", "referenced"]
    retweet, original = records.posts
    assert retweet.post_id == "1394735776701816833"
    assert retweet.extra["retweet_of"] == original.post_id == "1391677057810288641"
    assert retweet.hashtags == ["poiuytrewq"]
    assert retweet.language == "und"
    assert [(e.kind, e.dst, e.post_id) for e in records.edges] == [
        ("reposted", original.owner_id, original.post_id)
    ]
    assert len(records.profiles) == 2
    assert records.warnings == []


def test_timeline_and_withheld() -> None:
    lines = twarc2_lines("withheld.jsonl")
    first = parse_twarc2_line(lines[0])
    (post,) = first.posts
    assert post.post_id == "1388424788171841537"
    assert post.extra["withheld"] == {"copyright": False, "country_codes": ["IN"]}
    assert first.profiles[0].extra["withheld"] == {"country_codes": ["IN"]}
    # Line 4: a user timeline (users/2351222345/tweets) page with an error beside its data.
    timeline = parse_twarc2_line(lines[3], line_number=4)
    assert sum(p.seen_via is None for p in timeline.posts) == 100
    assert timeline.next_cursor == "7140dibdnow9c7btw3t3bne6afapt2a6nif3ncl044raq"
    assert timeline.warnings[0] == (
        "API error beside data: Not Found Error: "
        "Could not find tweet with referenced_tweets.id: [1252320537600299008]."
    )
    # Line 5: search/all for "reliance", 112 tweets, 11 withheld in India.
    search = parse_twarc2_line(lines[4])
    found = [p for p in search.posts if p.seen_via == "search:reliance"]
    assert len(found) == 112
    assert sum("withheld" in p.extra for p in found) == 11
    assert (
        sum(
            w.startswith("API error beside data: Forbidden: User has been suspended")
            for w in search.warnings
        )
        == 3
    )


def test_post_url_without_handle() -> None:
    assert post_url("1", None) == "https://x.com/i/status/1"
    assert post_url("1", "jack") == "https://x.com/jack/status/1"


def test_retweet_finds_its_original_in_data_too() -> None:
    (line,) = twarc2_lines("two_tweets.jsonl")
    doc = orjson.loads(line)
    doc["data"].append(doc["includes"].pop("tweets")[0])
    records = parse_twarc2_line(orjson.dumps(doc))
    retweet, original = records.posts
    assert original.seen_via == retweet.seen_via == "search:(#POIUYTREWQ)"
    assert retweet.caption == original.caption
    assert [(e.kind, e.dst) for e in records.edges] == [("reposted", original.owner_id)]
