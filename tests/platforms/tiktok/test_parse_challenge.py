"""Hashtag (challenge) detail answers -> HashtagSnapshot."""

from __future__ import annotations

import copy

import orjson
import pytest

from tagpulse.platforms.tiktok.parse import parse_payload
from tests.platforms.tiktok.conftest import NOW, fixture_bytes, fixture_doc

DETAIL = "challenge-detail-composed.json"


def test_challenge_detail_gives_one_snapshot_with_the_exact_counts() -> None:
    records = parse_payload(fixture_bytes(DETAIL), collected_at=NOW, raw_id="raw-1", account="a1")
    assert records.warnings == []
    assert records.profiles == [] and records.posts == [] and records.next_cursor is None
    [snap] = records.snapshots
    assert snap.platform == "tiktok"
    assert snap.tag == "harbourlights"  # challengeInfo.challenge.title
    assert snap.post_count == 12834  # challengeInfo.statsV2.videoCount "12834" (stats: 12800)
    assert snap.extra["view_count"] == 91342117  # challengeInfo.statsV2.viewCount "91342117"
    assert snap.extra["challenge_id"] == "1650000000000001"  # challengeInfo.challenge.id
    assert snap.extra["description"] == "Show us the lights of your harbour ✨"
    assert snap.extra["is_commerce"] is False
    assert snap.top_posts == [] and snap.related_tags == []
    assert (snap.collected_at, snap.raw_id, snap.account) == (NOW, "raw-1", "a1")


def test_hint_tag_is_normalised_and_a_mismatch_is_a_warning() -> None:
    same = parse_payload(fixture_bytes(DETAIL), collected_at=NOW, hint_tag=" #HarbourLights ")
    assert same.snapshots[0].tag == "harbourlights" and same.warnings == []
    other = parse_payload(fixture_bytes(DETAIL), collected_at=NOW, hint_tag="paris")
    assert other.snapshots[0].tag == "paris"
    assert other.warnings == ["payload is for #harbourlights, asked for #paris"]


def test_rounded_stats_are_used_when_the_exact_ones_are_missing() -> None:
    doc = fixture_doc(DETAIL)
    del doc["challengeInfo"]["statsV2"]
    [snap] = parse_payload(doc, collected_at=NOW).snapshots
    assert snap.post_count == 12800  # challengeInfo.stats.videoCount
    assert snap.extra["view_count"] == 91300000  # challengeInfo.stats.viewCount


def test_stats_nested_in_the_challenge_object_are_read_too() -> None:
    doc = fixture_doc(DETAIL)
    info = doc["challengeInfo"]
    info["challenge"]["stats"] = info.pop("stats")
    info["challenge"]["statsV2"] = info.pop("statsV2")
    assert parse_payload(doc, collected_at=NOW).snapshots[0].post_count == 12834


def test_a_missing_count_keeps_the_snapshot_with_a_warning() -> None:
    doc = fixture_doc(DETAIL)
    del doc["challengeInfo"]["stats"], doc["challengeInfo"]["statsV2"]
    records = parse_payload(doc, collected_at=NOW)
    assert records.snapshots[0].post_count is None
    assert "#harbourlights: the platform did not report a post count" in records.warnings


@pytest.mark.parametrize("junk", ["12,834", -5, True, {"n": 1}, [1], 1.5])
def test_a_malformed_count_is_none_and_a_warning(junk: object) -> None:
    doc = fixture_doc(DETAIL)
    del doc["challengeInfo"]["stats"]
    doc["challengeInfo"]["statsV2"]["videoCount"] = junk
    records = parse_payload(orjson.dumps(doc), collected_at=NOW)
    assert records.snapshots[0].post_count is None
    assert any(w.startswith("#harbourlights videoCount:") for w in records.warnings)


def test_an_empty_challenge_is_a_not_found_snapshot_when_the_tag_is_known() -> None:
    doc = {"challengeInfo": {"challenge": {}}, "statusCode": 0}
    records = parse_payload(doc, collected_at=NOW, hint_tag="nosuchtag")
    [snap] = records.snapshots
    assert snap.post_count is None and snap.extra["state"] == "not_found"
    assert any("unknown to TikTok" in w for w in records.warnings)
    without_hint = parse_payload(copy.deepcopy(doc), collected_at=NOW)
    assert without_hint.snapshots == []
    assert without_hint.warnings == [
        "challenge answer without a title and no hint_tag: no snapshot"
    ]


def test_page_data_with_a_challenge_detail_scope() -> None:
    doc = {"__DEFAULT_SCOPE__": {"webapp.challenge-detail": fixture_doc(DETAIL)}}
    assert parse_payload(doc, collected_at=NOW).snapshots[0].post_count == 12834
