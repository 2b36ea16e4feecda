"""User detail answers, pages, and every error answer (statusCode other than 0)."""

from __future__ import annotations

import orjson
import pytest

from tagpulse.errors import CheckpointRequired, NotFound, PayloadError
from tagpulse.platforms.tiktok.exceptions import (
    AccountNotFound,
    ApiError,
    ContentPrivate,
    ContentUnavailable,
    UnknownShape,
    VerifyRequired,
)
from tagpulse.platforms.tiktok.parse import parse_payload
from tests.platforms.tiktok.conftest import NOW, fixture_bytes, fixture_doc

DETAIL = "user-detail-composed.json"


def test_user_detail_profile() -> None:
    records = parse_payload(fixture_bytes(DETAIL), collected_at=NOW, raw_id="u1")
    assert records.warnings == [] and records.posts == []
    [profile] = records.profiles
    assert (profile.platform, profile.user_id, profile.handle) == (
        "tiktok",
        "6800000000000000101",  # userInfo.user.id
        "example.baker",
    )
    assert profile.name == "Example Baker"  # nickname
    assert profile.bio == "Bread at dawn 🍞\nHarbour town"  # signature
    assert profile.followers == 15234  # userInfo.statsV2.followerCount "15234" (stats: 15200)
    assert profile.following == 311  # statsV2.followingCount
    assert profile.posts_count == 187  # statsV2.videoCount
    assert (profile.is_verified, profile.is_private, profile.is_business) == (False, False, False)
    assert profile.external_url == "example.org/bakery"  # bioLink.link
    assert profile.profile_pic_url is not None and "1080x1080" in profile.profile_pic_url
    assert profile.state == "ok" and profile.raw_id == "u1"
    assert profile.extra == {
        "heart_count": 402117,  # statsV2.heartCount
        "digg_count": 5120,
        "friend_count": 88,
        "sec_uid": "MS4wLjABAAAA-composed-example-baker",
        "region": "GB",
    }


def test_private_account() -> None:
    body = fixture_bytes("user-detail-private-composed.json")
    [profile] = parse_payload(body, collected_at=NOW, hint_handle="example.quiet").profiles
    assert profile.handle == "example.quiet"
    assert profile.is_private is True and profile.state == "private"  # privateAccount: true
    assert (profile.followers, profile.posts_count) == (57, 9)  # statsV2


def test_another_handle_in_the_answer_is_a_rename() -> None:
    records = parse_payload(fixture_bytes(DETAIL), collected_at=NOW, hint_handle="old.name")
    [profile] = records.profiles
    assert profile.state == "renamed" and profile.extra["asked_handle"] == "old.name"
    assert records.warnings == ["asked for @old.name, the answer is @example.baker"]


def test_user_page_html_holds_the_same_profile() -> None:
    page = parse_payload(fixture_bytes("user-page-composed.html"), collected_at=NOW, raw_id="u1")
    api = parse_payload(fixture_bytes(DETAIL), collected_at=NOW, raw_id="u1")
    assert page.profiles == api.profiles and page.warnings == []


def test_user_not_found_with_a_hint_is_a_not_found_profile() -> None:
    body = fixture_bytes("user-detail-not-found-composed.json")
    records = parse_payload(body, collected_at=NOW, raw_id="n1", hint_handle="@Gone.Away")
    [profile] = records.profiles
    assert (profile.handle, profile.state, profile.user_id) == ("gone.away", "not_found", None)
    assert profile.extra == {"status_code": 10202}  # the file's statusCode
    assert records.warnings == ["@gone.away: statusCode 10202 (not found)"]


def test_user_not_found_without_a_hint_raises() -> None:
    body = fixture_bytes("user-detail-not-found-composed.json")
    with pytest.raises(AccountNotFound, match="statusCode 10202") as caught:
        parse_payload(body, collected_at=NOW)
    assert isinstance(caught.value, NotFound) and isinstance(caught.value, PayloadError)
    assert caught.value.status_code == 10202


@pytest.mark.parametrize(("code", "state"), [(10201, "not_found"), (10221, "not_found"),
                                             (10216, "private"), (10222, "private")])  # fmt: skip
def test_account_error_codes_with_a_hint(code: int, state: str) -> None:
    doc = {"statusCode": code, "statusMsg": "", "userInfo": {}}
    [profile] = parse_payload(doc, collected_at=NOW, hint_handle="someone").profiles
    assert profile.state == state
    assert profile.is_private is (True if state == "private" else None)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (10201, AccountNotFound),
        (10221, AccountNotFound),
        (10216, ContentPrivate),
        (10222, ContentPrivate),
        (10204, ContentUnavailable),
        (10217, ContentUnavailable),
        (10101, ApiError),
    ],
)
def test_error_codes_without_a_hint_raise(code: int, error: type[ApiError]) -> None:
    doc = {"statusCode": str(code), "statusMsg": "said so"}
    with pytest.raises(error, match=f"statusCode {code} \\(said so\\)") as caught:
        parse_payload(orjson.dumps(doc), collected_at=NOW)
    assert type(caught.value) is error and caught.value.status_msg == "said so"


def test_a_video_error_with_a_handle_hint_still_raises() -> None:
    """Only account answers become profile states; a blocked video is an error either way."""
    doc = {"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": 10204, "statusMsg": ""}}}
    with pytest.raises(ContentUnavailable):
        parse_payload(doc, collected_at=NOW, hint_handle="someone")


@pytest.mark.parametrize("name", ["captcha-composed.json", "verify-page-composed.html"])
def test_the_captcha_wall_is_a_checkpoint(name: str) -> None:
    with pytest.raises(VerifyRequired, match="captcha") as caught:
        parse_payload(fixture_bytes(name), collected_at=NOW, hint_handle="example.baker")
    assert isinstance(caught.value, CheckpointRequired)
    assert isinstance(caught.value, PayloadError)


def test_an_empty_user_info_with_status_zero() -> None:
    doc = {"statusCode": 0, "userInfo": {}}
    [profile] = parse_payload(doc, collected_at=NOW, hint_handle="someone").profiles
    assert profile.state == "not_found"
    with pytest.raises(UnknownShape, match="userInfo without a user object"):
        parse_payload(doc, collected_at=NOW)


def test_stats_only_as_strings() -> None:
    doc = fixture_doc(DETAIL)
    del doc["userInfo"]["stats"]
    [profile] = parse_payload(doc, collected_at=NOW).profiles
    assert (profile.followers, profile.extra["heart_count"]) == (15234, 402117)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not valid JSON"),
        (b"{broken", "not valid JSON"),
        (b"[1, 2]", "JSON list"),
        (b'"text"', "JSON str"),
        (b"{}", "no known shape.*keys \\[\\]"),
        (b'{"foo": 1, "bar": {}}', "keys \\['bar', 'foo'\\]"),
        (b"<!DOCTYPE html><html><body>hello</body></html>", "HTML page without"),
        (b'{"__DEFAULT_SCOPE__": {"webapp.app-context": {}}}', "scope keys \\['webapp.app-"),
        (b'{"challengeInfo": [1]}', "challengeInfo is a list"),
        (b'{"itemInfo": {"itemStruct": null}}', "itemInfo without an itemStruct"),
    ],
)
def test_unknown_shapes_raise_naming_what_was_seen(body: bytes, reason: str) -> None:
    with pytest.raises(UnknownShape, match=reason) as caught:
        parse_payload(body, collected_at=NOW)
    assert isinstance(caught.value, PayloadError)
