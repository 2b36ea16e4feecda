"""Item lists, single items (Zeeschuimer, item detail) and page JSON -> posts, profiles, edges."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from tagpulse.platforms.tiktok.parse import parse_item, parse_payload
from tests.platforms.tiktok.conftest import FIXTURES, NOW, fixture_bytes, fixture_doc

TAG_LIST = "challenge-item-list-composed.json"
USER_LIST = "post-item-list-composed.json"
VIDEO_ID = "7371022873834241101"  # itemList[0].id: the video
PHOTO_ID = "7370808125215673099"  # itemList[1].id: the photo post
AD_ID = "7370593376678248430"  # itemList[2].id: the ad
BAKER_ID = "6800000000000000101"  # itemList[0].author.id (example.baker)


def test_challenge_item_list_posts() -> None:
    records = parse_payload(fixture_bytes(TAG_LIST), collected_at=NOW, raw_id="r", hint_tag="#x")
    assert records.warnings == []
    assert [p.post_id for p in records.posts] == [VIDEO_ID, PHOTO_ID, AD_ID]
    assert records.next_cursor == "30"  # "cursor": "30" with "hasMore": true
    video, photo, ad = records.posts
    assert all(p.platform == "tiktok" and p.seen_via == "tag:x" for p in records.posts)
    assert all(p.raw_id == "r" and p.collected_at == NOW for p in records.posts)

    assert video.url == f"https://www.tiktok.com/@example.baker/video/{VIDEO_ID}"
    assert (video.owner_id, video.owner_handle) == (BAKER_ID, "example.baker")
    assert video.taken_at == datetime.fromtimestamp(1716200000, tz=UTC)  # createTime
    assert (
        video.caption == "First light over the harbour #harbourlights #sunrise with @example.sailor"
    )
    assert video.hashtags == ["harbourlights", "sunrise"]  # challenges[].title / textExtra
    assert video.mentions == ["example.sailor"]  # textExtra[2].userUniqueId
    assert video.media_type == "video"
    assert video.media_urls == [
        "https://p16-sign-va.tiktokcdn.com/obj/tos-maliva-p-0068/composed-cover-a~tplv-dmt-logom.jpeg"
    ]  # video.cover
    # statsV2 (exact strings) win over the rounded stats (48200, 1200000):
    assert (video.likes, video.comments, video.shares, video.views) == (48213, 604, 1310, 1203377)
    assert video.location == "Harbour Steps" and video.language == "en"  # poi.name, textLanguage
    assert video.extra == {
        "collect_count": 2210,  # statsV2.collectCount
        "duration": 23,  # video.duration
        "music_id": "7370000000000000001",
        "music_title": "original sound - example.baker",
        "is_ad": False,
        "location_created": "GB",
        "author_sec_uid": "MS4wLjABAAAA-composed-example-baker",
    }

    assert photo.media_type == "carousel"  # imagePost present
    assert photo.hashtags == ["harbourlights", "photomode"]  # textExtra spells "HarbourLights"
    assert len(photo.media_urls) == 4  # the cover, then imagePost.images[0..2]
    assert photo.media_urls[1].endswith("composed-photo-1~tplv-photomode-image.jpeg")
    assert photo.extra["image_count"] == 3
    assert (photo.likes, photo.views) == (3020, 51842)  # statsV2

    assert ad.extra["is_ad"] is True
    assert ad.hashtags == ["harbourlights", "ad"]  # textExtra only: no challenges key
    # counts only as statsV2 strings:
    assert (ad.likes, ad.comments, ad.shares, ad.views) == (912, 33, 15, 208114)
    assert ad.extra["collect_count"] == 48


def test_challenge_item_list_authors_and_mentions() -> None:
    records = parse_payload(fixture_bytes(TAG_LIST), collected_at=NOW)
    assert [p.handle for p in records.profiles] == [
        "example.baker",
        "example.traveller",
        "example.lanterns",
    ]
    baker, traveller, brand = records.profiles
    assert baker.user_id == BAKER_ID and baker.name == "Example Baker"
    # authorStatsV2 (exact) over authorStats (rounded 15200 / 402000):
    assert (baker.followers, baker.following, baker.posts_count) == (15234, 311, 187)
    assert baker.extra["heart_count"] == 402117
    assert baker.bio == "Bread at dawn 🍞\nHarbour town"  # author.signature
    assert (traveller.followers, traveller.posts_count) == (880, 64)  # authorStats only
    assert brand.is_verified is True and brand.is_private is False and brand.state == "ok"
    assert [(e.src, e.dst, e.kind, e.dst_handle, e.post_id) for e in records.edges] == [
        (BAKER_ID, "6800000000000000202", "mentioned", "example.sailor", VIDEO_ID),
        ("6800000000000000404", BAKER_ID, "mentioned", "example.baker", AD_ID),
    ]  # textExtra entries with userUniqueId carry the userId too


def test_user_item_list_dedupes_its_author_and_ends() -> None:
    records = parse_payload(
        fixture_bytes(USER_LIST), collected_at=NOW, hint_handle="@Example.Baker"
    )
    assert [p.post_id for p in records.posts] == [VIDEO_ID, "7369734383425359117"]
    assert [p.handle for p in records.profiles] == ["example.baker"]  # two items, one author
    assert all(p.seen_via == "profile:example.baker" for p in records.posts)
    assert records.next_cursor is None  # "hasMore": false
    rye = records.posts[1]
    assert rye.hashtags == [] and rye.mentions == []  # "textExtra": [], no challenges
    assert (rye.likes, rye.views) == (910, 20431)  # statsV2


def test_an_empty_page_has_no_item_list_key() -> None:
    records = parse_payload(fixture_bytes("post-item-list-empty-composed.json"), collected_at=NOW)
    assert records.count() == 0 and records.next_cursor is None and records.warnings == []


def test_explicit_seen_via_wins() -> None:
    records = parse_payload(fixture_bytes(USER_LIST), collected_at=NOW, seen_via="import:test")
    assert {p.seen_via for p in records.posts} == {"import:test"}


def test_has_more_without_a_cursor_is_a_warning() -> None:
    doc = fixture_doc(USER_LIST)
    doc["hasMore"] = True
    del doc["cursor"]
    records = parse_payload(doc, collected_at=NOW)
    assert records.next_cursor is None
    assert "hasMore is true but the answer has no cursor" in records.warnings


def test_parse_item_reads_one_zeeschuimer_item() -> None:
    item = fixture_doc(TAG_LIST)["itemList"][1]
    warnings: list[str] = []
    post = parse_item(
        item, collected_at=NOW, raw_id="z1", seen_via="import:zeeschuimer", warnings=warnings
    )
    assert post is not None and warnings == []
    assert (post.post_id, post.media_type, post.seen_via) == (
        PHOTO_ID,
        "carousel",
        "import:zeeschuimer",
    )
    # Zeeschuimer's data is one item object: parse_payload takes it whole as well.
    records = parse_payload(item, collected_at=NOW, raw_id="z1", seen_via="import:zeeschuimer")
    assert records.posts == [post]
    assert [p.handle for p in records.profiles] == ["example.traveller"]


def test_parse_item_without_an_id_is_none_and_a_warning() -> None:
    warnings: list[str] = []
    post = parse_item(
        {"desc": "x"}, collected_at=NOW, raw_id=None, seen_via=None, warnings=warnings
    )
    assert post is None and warnings == ["item without id skipped (keys ['desc'])"]


def test_an_item_without_text_extra_falls_back_to_the_caption() -> None:
    item = {
        "id": "1",
        "desc": "Tide's out #LowTide #lowtide with @Example.Sailor, mail me@example.org",
        "author": {"id": "9", "uniqueId": "example.baker"},
        "createTime": "1716200000",
        "stats": {"diggCount": 1},
    }
    records = parse_payload(item, collected_at=NOW)
    [post] = records.posts
    assert post.hashtags == ["lowtide"]
    assert post.mentions == ["example.sailor"]
    assert post.taken_at == datetime.fromtimestamp(1716200000, tz=UTC)  # a digit string
    assert [(e.src, e.dst) for e in records.edges] == [("9", "@example.sailor")]
    assert "item 1: no cover image" in records.warnings


def test_wrong_typed_fields_are_none_and_warnings() -> None:
    item = fixture_doc(TAG_LIST)["itemList"][0]
    item["statsV2"]["diggCount"] = "lots"
    item["stats"]["diggCount"] = None
    item["createTime"] = "yesterday"
    item["desc"] = 42
    item["video"] = "none"
    item["isAd"] = "no"
    records = parse_payload(item, collected_at=NOW)
    [post] = records.posts
    assert post.likes is None and post.taken_at is None and post.caption is None
    assert post.media_urls == [] and "is_ad" not in post.extra
    assert post.hashtags == ["harbourlights", "sunrise"]  # still from challenges/textExtra
    assert {
        f"item {VIDEO_ID} diggCount: expected an integer, got str 'lots'",
        f"item {VIDEO_ID} createTime: not a Unix timestamp",
        f"item {VIDEO_ID} desc: expected a string, got int",
        f"item {VIDEO_ID} video: expected an object, got str",
        f"item {VIDEO_ID} isAd: expected a boolean, got str 'no'",
    } <= set(records.warnings)


def test_video_detail_page_json() -> None:
    records = parse_payload(fixture_bytes("video-detail-universal-composed.json"), collected_at=NOW)
    [post] = records.posts
    assert post.post_id == VIDEO_ID and post.seen_via == "media"
    assert post.likes == 48213  # itemInfo.itemStruct.statsV2.diggCount
    assert [p.handle for p in records.profiles] == ["example.baker"]
    assert len(records.edges) == 1


def test_sigi_state_items_name_their_author_by_handle() -> None:
    records = parse_payload(
        fixture_bytes("sigi-state-composed.json"), collected_at=NOW, hint_handle="example.baker"
    )
    assert [p.post_id for p in records.posts] == ["7369734383425359117", VIDEO_ID]  # ItemModule
    assert all(p.owner_id == BAKER_ID for p in records.posts)  # authorId beside author
    assert all(p.owner_handle == "example.baker" for p in records.posts)
    assert records.posts[1].taken_at == datetime.fromtimestamp(1716200000, tz=UTC)  # "1716200000"
    assert records.posts[1].likes == 48200  # stats only (the page has no statsV2)
    [baker] = records.profiles  # UserModule.users and the items' authors: one account
    assert baker.followers == 15200  # UserModule.stats["example.baker"].followerCount
    assert records.next_cursor == "1715900000000"  # ItemList["user-post"].cursor
    assert records.warnings == []


def test_every_item_id_encodes_its_creation_time() -> None:
    """The composed ids follow TikTok's scheme, so the fixtures stay self-consistent."""
    for name in (TAG_LIST, USER_LIST):
        for item in orjson.loads((FIXTURES / name).read_bytes())["itemList"]:
            assert int(item["id"]) >> 32 == item["createTime"]


@pytest.mark.parametrize("name", [TAG_LIST, USER_LIST, "sigi-state-composed.json"])
def test_bytes_str_and_mapping_give_the_same_records(name: str) -> None:
    body = fixture_bytes(name)
    from_bytes = parse_payload(body, collected_at=NOW, raw_id="r")
    assert from_bytes == parse_payload(body.decode(), collected_at=NOW, raw_id="r")
    assert from_bytes == parse_payload(orjson.loads(body), collected_at=NOW, raw_id="r")
