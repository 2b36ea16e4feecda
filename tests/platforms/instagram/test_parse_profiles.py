"""Profiles from every recorded account shape: web_profile_info, mobile, legacy, official API."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tagpulse.platforms.instagram.parse import parse_payload
from tagpulse.records import ParsedRecords, Profile

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FIXTURES = Path(__file__).parents[2] / "fixtures" / "instagram_web"


def load(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def parse(name: str, **hints: Any) -> ParsedRecords:
    return parse_payload((FIXTURES / name).read_bytes(), collected_at=NOW, raw_id="raw-1", **hints)


def only_profile(records: ParsedRecords) -> Profile:
    assert len(records.profiles) == 1
    return records.profiles[0]


def test_web_profile_info() -> None:
    records = parse("profile.json", hint_handle="robertdowneyjr")
    profile = only_profile(records)
    assert profile.platform == "instagram"
    assert profile.user_id == "1518284433"
    assert profile.handle == "robertdowneyjr"
    assert profile.name == "Robert Downey Jr. Official"
    assert profile.followers == 52_979_346
    assert profile.following == 5
    assert profile.posts_count == 419
    assert profile.is_verified is True
    assert profile.is_private is False
    assert profile.is_business is True
    assert profile.category == "Artist"
    assert profile.bio is not None and profile.bio.startswith("Get involved")
    assert profile.extra["igtv_count"] == 149
    assert profile.extra["business_category_name"] == "Creators & Celebrities"
    assert profile.state == "ok"
    assert profile.collected_at == NOW and profile.raw_id == "raw-1"
    assert records.posts == []  # HEAD's profile.json has its posts stripped
    assert records.warnings == []
    # "Followed by pgrimaud": the one mutual follower is an edge to the account.
    assert [(e.src, e.dst, e.kind) for e in records.edges] == [
        ("@pgrimaud", "1518284433", "follows")
    ]


def test_mobile_profile_is_an_earlier_point_of_the_same_series() -> None:
    mobile = only_profile(parse("profile-alternative.json"))
    web = only_profile(parse("profile.json"))
    assert mobile.user_id == web.user_id == "1518284433"
    assert mobile.handle == "robertdowneyjr"
    assert (mobile.followers, mobile.following, mobile.posts_count) == (50_857_062, 4, 400)
    assert mobile.followers < web.followers  # type: ignore[operator]
    assert mobile.external_url == "http://www.swau.com/RDJ"
    assert mobile.is_business is True
    assert mobile.extra["igtv_count"] == 24


def test_profile_with_embedded_posts() -> None:
    records = parse("legacy/cd4bec8/profile.json")
    profile = records.profiles[0]
    assert (profile.followers, profile.posts_count) == (52_979_346, 419)
    timeline = [p for p in records.posts if p.seen_via == "profile:robertdowneyjr"]
    assert len(timeline) == 12
    first = timeline[0]
    assert first.shortcode == "CdgUcJGFxkp"
    assert first.likes == 2_126_144
    assert first.comments == 8_856
    assert first.taken_at is not None and first.taken_at.date().isoformat() == "2022-05-13"
    assert all(p.owner_id == "1518284433" for p in timeline)
    assert all(p.owner_handle == "robertdowneyjr" for p in timeline)
    # igtv videos already in the timeline are observed once; the 8 others are kept.
    igtv = [p for p in records.posts if p.seen_via == "profile:robertdowneyjr:igtv"]
    assert len(igtv) == 8
    assert len({p.post_id for p in records.posts}) == 20
    tagged = {
        e.dst_handle for e in records.edges if e.kind == "tagged" and e.post_id == first.post_id
    }
    assert tagged == {"courteneycoxofficial", "homecourt"}


def test_legacy_graphql_profile() -> None:
    records = parse("legacy/0957d62/instagram_feed.json")
    profile = only_profile(records)
    assert (profile.handle, profile.user_id) == ("pgrimaud", "184263228")
    assert (profile.followers, profile.following, profile.posts_count) == (337, 112, 30)
    assert len(records.posts) == 12
    assert records.posts[0].shortcode == "BdFjGTPFVbG"
    assert records.posts[0].likes == 29
    assert records.next_cursor is not None


def test_pre_graphql_profile_2017() -> None:
    records = parse("legacy/aff3f36/instagram_feed.json")
    profile = only_profile(records)
    assert (profile.followers, profile.following, profile.posts_count) == (336, 110, 30)
    assert profile.external_url == "https://p.ier.re/"
    assert len(records.posts) == 12
    first = records.posts[0]
    assert (first.shortcode, first.likes, first.comments) == ("BdFjGTPFVbG", 28, 0)
    assert first.taken_at is not None and first.taken_at.date().isoformat() == "2017-12-24"
    assert first.hashtags == ["casino", "monaco"]
    assert first.owner_handle == "pgrimaud" and first.seen_via == "profile:pgrimaud"
    assert records.next_cursor is not None and records.next_cursor.startswith("AQB58AuDBw9")
    assert records.warnings == []


def test_official_api_users_self() -> None:
    profile = only_profile(parse("legacy/9e84e68/user_feed.json"))
    assert (profile.handle, profile.user_id) == ("pgrimaud", "184263228")
    assert (profile.posts_count, profile.following, profile.followers) == (33, 114, 342)
    assert profile.bio == "Gladiator retired - ESGI 14'"
    assert profile.external_url == "https://p.ier.re/"
    assert profile.is_business is False


def test_profile_by_id_lookup_has_only_id_and_handle() -> None:
    profile = only_profile(parse("profile-id.json"))
    assert (profile.user_id, profile.handle) == ("3", "kevin")
    assert profile.followers is None and profile.name is None
    assert profile.extra == {"partial": True}


def test_unknown_id_is_not_found_with_hint() -> None:
    records = parse("profile-id-invalid.json", hint_handle="@Ghost", hint_user_id="999")
    profile = only_profile(records)
    assert (profile.handle, profile.user_id, profile.state) == ("ghost", "999", "not_found")


def test_unknown_id_without_hint_is_a_warning() -> None:
    records = parse("profile-id-invalid.json")
    assert records.count() == 0
    assert any("not found" in w for w in records.warnings)


def test_private_account_without_posts() -> None:
    doc = load("profile.json")
    doc["data"]["user"]["is_private"] = True
    profile = only_profile(parse_payload(doc, collected_at=NOW, hint_handle="robertdowneyjr"))
    assert profile.state == "private"
    assert profile.followers == 52_979_346


def test_private_account_whose_posts_are_visible_is_ok() -> None:
    doc = load("legacy/cd4bec8/profile.json")
    doc["data"]["user"]["is_private"] = True
    records = parse_payload(doc, collected_at=NOW)
    assert records.profiles[0].state == "ok"


def test_renamed_account() -> None:
    profile = only_profile(parse("profile.json", hint_handle="@RDJ_Old"))
    assert profile.state == "renamed"
    assert profile.handle == "robertdowneyjr"
    assert profile.extra["asked_handle"] == "rdj_old"


def test_same_handle_in_other_case_is_not_a_rename() -> None:
    assert only_profile(parse("profile.json", hint_handle="RobertDowneyJr")).state == "ok"


def test_scraper_flattened_profile() -> None:
    records = parse("scraper-flattened-composed.json")
    profile = only_profile(records)
    assert (profile.followers, profile.following, profile.posts_count) == (52_979_346, 5, 419)
    assert profile.extra["igtv_count"] == 149
    assert [p.shortcode for p in records.posts] == ["B7eUksNFA-K", "B7cWmQcB3RE"]
    graphql_like, api_like = records.posts
    assert (graphql_like.likes, graphql_like.comments, graphql_like.views) == (
        695_047,
        1_939,
        2_726_827,
    )
    assert graphql_like.location == "The Grand"
    assert (api_like.likes, api_like.comments, api_like.views) == (664_703, 1_708, 5_144_388)
    assert api_like.media_type == "video"
    for post in records.posts:
        assert post.owner_id == "1518284433"
        assert post.owner_handle == "robertdowneyjr"
        assert post.seen_via == "profile:robertdowneyjr"
    assert records.warnings == []


@pytest.mark.parametrize("value", ["52979346", {"count": 52979346}, 52979346])
def test_follower_count_in_any_encoding(value: object) -> None:
    doc = load("scraper-flattened-composed.json")
    doc["edge_followed_by"] = value
    assert only_profile(parse_payload(doc, collected_at=NOW)).followers == 52_979_346


def test_wrong_typed_profile_fields_are_none_with_warnings() -> None:
    doc = copy.deepcopy(load("profile.json"))
    user = doc["data"]["user"]
    user["edge_followed_by"] = {"count": "many"}
    user["is_verified"] = "yes"
    user["full_name"] = ["not", "a", "name"]
    del user["edge_follow"]
    profile = only_profile(parse_payload(doc, collected_at=NOW))
    assert profile.followers is None
    assert profile.is_verified is None
    assert profile.name is None
    assert profile.following is None
    assert any("followers" in w for w in parse_payload(doc, collected_at=NOW).warnings)


def test_profile_without_username_uses_hint() -> None:
    doc = load("profile.json")
    del doc["data"]["user"]["username"]
    profile = only_profile(parse_payload(doc, collected_at=NOW, hint_handle="robertdowneyjr"))
    assert profile.handle == "robertdowneyjr" and profile.user_id == "1518284433"


def test_stories_and_live_keep_their_owners() -> None:
    stories = parse("stories.json")
    assert [(p.user_id, p.handle) for p in stories.profiles] == [("625833324", "starwars")]
    assert stories.posts == []
    assert any("story items" in w for w in stories.warnings)
    live = parse("live.json")
    assert [(p.user_id, p.handle) for p in live.profiles] == [("184263228", "pgrimaud")]
