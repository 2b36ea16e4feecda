"""Posts from every recorded listing: user pages, tagged, igtv, reels, timeline, media info,
locations, the profile grid, the retired official API, and single items (Zeeschuimer)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tagpulse.platforms.instagram.parse import parse_graphql_post, parse_payload, parse_post_item
from tagpulse.records import ParsedRecords, Post

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FIXTURES = Path(__file__).parents[2] / "fixtures" / "instagram_web"


def load(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def parse(name: str, **hints: Any) -> ParsedRecords:
    return parse_payload((FIXTURES / name).read_bytes(), collected_at=NOW, raw_id="raw-1", **hints)


def day(post: Post) -> str:
    assert post.taken_at is not None
    assert post.taken_at.tzinfo is UTC
    return post.taken_at.date().isoformat()


def test_user_media_page() -> None:
    records = parse("medias.json")
    assert len(records.posts) == 12
    first = records.posts[0]
    assert first.post_id == "2224305748263047050"
    assert first.shortcode == "B7eUksNFA-K"
    assert first.url == "https://www.instagram.com/p/B7eUksNFA-K/"
    assert first.media_type == "video"
    assert (first.likes, first.comments, first.views) == (695_047, 1_939, 2_726_827)
    assert day(first) == "2020-01-18"
    assert (first.owner_id, first.owner_handle) == ("1518284433", "robertdowneyjr")
    assert first.seen_via == "profile:robertdowneyjr"
    assert first.hashtags == [
        "happybirthday",
        "berlin",
        "germany",
        "stubbins",
        "ladyrose",
        "press",
        "trudges",
        "sweet",
        "16",
    ]
    assert first.mentions == [
        "harrycollettactor",
        "carmellaniadoofficial",
        "dolittlemovie",
        "jimmy_rich",
    ]
    assert first.location == "The Grand"
    assert first.extra["location_id"] == "219278730"
    assert (first.extra["width"], first.extra["height"]) == (750, 421)
    assert first.comments_disabled is False
    assert first.language is None
    assert first.media_urls and first.media_urls[0].startswith("https://")
    assert records.next_cursor is not None and records.next_cursor.startswith("QVFCT1Y3cVc2")
    assert records.warnings == []


def test_user_media_page_2019() -> None:
    records = parse("legacy/ee1987f/pgrimaud.json")
    assert len(records.posts) == 12
    first = records.posts[0]
    assert (first.shortcode, first.likes, first.comments) == ("BJGquFvhNeT", 21, 3)
    assert day(first) == "2016-08-14"
    assert first.hashtags == ["baseball", "mlb", "marlins", "whitesox"]
    preview = [c for c in records.comments if c.post_id == first.post_id]
    assert [(c.owner_handle, c.text) for c in preview] == [
        ("___simona_____", "Nice!"),
        ("andrymarquez", "awesome!"),
        ("courtsidetweets", "👍"),
    ]


def test_tagged_page() -> None:
    records = parse("tagged-medias.json", hint_handle="robertdowneyjr")
    assert len(records.posts) == 10
    assert records.posts[0].shortcode == "CTAvnrfhBqh"
    assert records.posts[0].likes == 1_103_884
    assert {p.seen_via for p in records.posts} == {"profile:robertdowneyjr:tagged"}
    assert "accessibility_caption" in records.posts[0].extra
    tagged = [e for e in records.edges if e.kind == "tagged"]
    # Five of the ten are the account's own posts: the other five owners tagged it.
    assert len(tagged) == 5
    assert {e.dst for e in tagged} == {"@robertdowneyjr"}
    assert "14486580694" in {e.src for e in tagged}


def test_igtv_page() -> None:
    records = parse("igtv.json", hint_handle="noholita")
    assert len(records.posts) == 12
    first = records.posts[0]
    assert (first.shortcode, first.views, first.media_type) == ("CI5JWqkFZru", 41_758, "video")
    assert first.extra["product_type"] == "igtv"
    assert first.extra["title"].startswith("Routine Evolve Abs")
    assert (first.owner_id, first.owner_handle) == ("3171067", "noholita")
    assert first.seen_via == "profile:noholita:igtv"


def test_reels() -> None:
    records = parse("reels.json")
    assert len(records.posts) == 12
    first = records.posts[0]
    assert first.shortcode == "CPv3UqsBFvg"
    assert first.url == "https://www.instagram.com/p/CPv3UqsBFvg/"
    assert first.media_type == "reel"
    assert (first.views, first.likes, first.comments) == (401_421, 16_965, 80)
    assert first.extra["view_count"] == 100_856
    assert day(first) == "2021-06-05"
    assert (first.owner_id, first.owner_handle) == ("3171067", "noholita")
    assert first.seen_via == "profile:noholita:reels"
    assert first.comments_disabled is True  # commenting_disabled_for_viewer
    assert first.extra["is_paid_partnership"] is False
    assert {p.media_type for p in records.posts} == {"reel"}
    tag = next(e for e in records.edges if e.kind == "tagged" and e.post_id == first.post_id)
    assert (tag.src, tag.dst, tag.dst_handle) == ("3171067", "305379838", "saam_nas")
    assert all(e.src != e.dst for e in records.edges)
    assert records.next_cursor == load("reels.json")["paging_info"]["max_id"]


def test_timeline() -> None:
    records = parse("timeline.json")
    assert len(records.posts) == 12
    assert {p.seen_via for p in records.posts} == {"feed:timeline"}
    first = records.posts[0]
    assert (first.shortcode, first.media_type, first.owner_handle) == (
        "Ccqn-Uyv0Gu",
        "carousel",
        "marvelstudios",
    )
    assert len(first.media_urls) == 5
    assert (first.likes, first.comments) == (660_599, 1_092)
    types = Counter(p.media_type for p in records.posts)
    assert types == Counter({"carousel": 7, "video": 3, "image": 1, "reel": 1})
    reel = next(p for p in records.posts if p.media_type == "reel")
    assert (reel.shortcode, reel.views) == ("CN5mPCGhA9C", 19_940_175)
    assert records.next_cursor == load("timeline.json")["next_max_id"]
    assert records.warnings == []


@pytest.mark.parametrize(
    ("name", "shortcode", "media_type", "likes", "comments", "taken", "n_urls"),
    [
        ("media.json", "CAnqPB-Jzcj", "carousel", 820_750, 4_647, "2020-05-25", 3),
        ("media-2.json", "CAG3E8-A3wf", "video", 600_190, 6_741, "2020-05-13", 1),
        ("media-3.json", "B-NYjoGpQqC", "carousel", 1_246_110, 9_742, "2020-03-26", 4),
    ],
)
def test_media_info(
    name: str, shortcode: str, media_type: str, likes: int, comments: int, taken: str, n_urls: int
) -> None:
    records = parse(name)
    assert len(records.posts) == 1
    post = records.posts[0]
    assert (post.shortcode, post.media_type, post.likes, post.comments) == (
        shortcode,
        media_type,
        likes,
        comments,
    )
    assert day(post) == taken
    assert len(post.media_urls) == n_urls
    assert (post.owner_id, post.owner_handle) == ("305701719", "jlo")
    assert post.seen_via == "media"
    assert records.next_cursor is None
    assert records.warnings == []


def test_media_info_entities_and_video_views() -> None:
    carousel = parse("media.json").posts[0]
    assert carousel.hashtags == ["letsgetloud", "memorialday"]
    assert carousel.extra["product_type"] == "carousel_container"
    assert carousel.extra["carousel_media_count"] == 3
    video = parse("media-2.json")
    post = video.posts[0]
    assert post.views == 4_048_603
    assert post.hashtags == ["bts"]
    assert post.mentions == ["nbcworldofdance"]  # written "🖤@nbcworldofdance"
    kinds = Counter(e.kind for e in video.edges)
    assert kinds == Counter({"tagged": 2, "commented": 2, "mentioned": 1})
    mention = next(e for e in video.edges if e.kind == "mentioned")
    assert (mention.src, mention.dst, mention.dst_handle, mention.post_id) == (
        "305701719",
        "@nbcworldofdance",
        "nbcworldofdance",
        post.post_id,
    )


def test_hidden_likes_are_none() -> None:
    doc = load("media-2.json")
    doc["items"][0]["like_and_view_counts_disabled"] = True
    post = parse_payload(doc, collected_at=NOW).posts[0]
    assert post.likes is None and post.views is None
    assert post.comments == 6_741


def test_location_page() -> None:
    records = parse("location-medias.json")
    assert len(records.posts) == 33
    via = Counter(p.seen_via for p in records.posts)
    assert via == Counter({"location:558750588:recent": 24, "location:558750588:top": 9})
    assert {p.location for p in records.posts} == {"Little Choc Apothecary"}
    assert {p.extra["location_id"] for p in records.posts} == {"558750588"}
    assert records.posts[0].shortcode == "B0yf-idHqLr"
    assert records.next_cursor == "2404090964589992497"


def test_profile_grid_query() -> None:
    records = parse("grid-composed.json")
    assert [p.shortcode for p in records.posts] == ["CAnqPB-Jzcj"]
    post = records.posts[0]
    assert (post.likes, post.comments, post.media_type) == (820_750, 4_647, "carousel")
    assert post.seen_via == "profile:jlo"
    assert records.next_cursor == "2317006284167526179_305701719"


def test_official_api_media_recent() -> None:
    records = parse("legacy/9e84e68/medias_feed.json")
    assert len(records.posts) == 20
    first = records.posts[0]
    assert first.url == "https://www.instagram.com/p/BhmJLJwhM5i/"
    assert first.shortcode == "BhmJLJwhM5i"
    assert (first.likes, first.comments) == (14, 2)
    assert first.taken_at == datetime.fromtimestamp(1523805813, tz=UTC)
    assert first.location == "Café de Paris Monte-Carlo"
    assert first.caption is None
    assert (first.owner_id, first.owner_handle) == ("184263228", "pgrimaud")
    assert records.posts[-1].media_type == "video"
    assert records.next_cursor == "1230468487398454311_184263228"
    assert all("access_token" not in (p.url or "") for p in records.posts)
    tagged = {e.dst for e in records.edges if e.kind == "tagged"}
    assert tagged == {"@iamgaelmonfils", "@getlametric"}


def test_zeeschuimer_item_and_bare_item() -> None:
    item = load("media-2.json")["items"][0]
    line = {"source_platform": "instagram.com", "timestamp_collected": 1, "data": item}
    records = parse_payload(line, collected_at=NOW)
    assert [(p.shortcode, p.seen_via) for p in records.posts] == [
        ("CAG3E8-A3wf", "import:zeeschuimer")
    ]
    bare = parse_payload(orjson.dumps(item), collected_at=NOW, seen_via="search:#bts")
    assert [(p.shortcode, p.seen_via) for p in bare.posts] == [("CAG3E8-A3wf", "search:#bts")]


def test_zeeschuimer_item_missing_fields() -> None:
    item = {"pk": "1", "code": "Bx", "media_type": 1, "product_type": "feed"}
    warnings: list[str] = []
    post = parse_post_item(item, collected_at=NOW, raw_id=None, seen_via="x", warnings=warnings)
    assert post is not None
    assert (post.post_id, post.likes, post.taken_at, post.media_type) == ("1", None, None, "image")
    assert any("taken_at: missing" in w for w in warnings)
    assert any("like_count: missing" in w for w in warnings)


def test_parse_graphql_post_directly() -> None:
    node = load("igtv.json")["data"]["user"]["edge_felix_video_timeline"]["edges"][0]["node"]
    warnings: list[str] = []
    post = parse_graphql_post(node, collected_at=NOW, raw_id="r", seen_via="v", warnings=warnings)
    assert post is not None and post.views == 41_758 and warnings == []
    assert (
        parse_graphql_post({}, collected_at=NOW, raw_id=None, seen_via=None, warnings=warnings)
        is None
    )
    assert warnings == ["graphql media node without id skipped"]


def test_wrong_types_in_a_post_become_none() -> None:
    doc = load("media-3.json")
    item = doc["items"][0]
    item["like_count"] = "lots"
    item["taken_at"] = {"t": 1}
    item["caption"] = {"text": 42}
    item["carousel_media"] = "nope"
    records = parse_payload(doc, collected_at=NOW)
    post = records.posts[0]
    assert (post.likes, post.taken_at, post.caption) == (None, None, None)
    assert post.comments == 9_742
    assert post.hashtags == []
    assert len(records.warnings) == 3


def test_negative_counts_are_none_with_warning() -> None:
    doc = load("media-2.json")
    doc["items"][0]["like_count"] = -1
    records = parse_payload(doc, collected_at=NOW)
    assert records.posts[0].likes is None
    assert any("negative" in w for w in records.warnings)
