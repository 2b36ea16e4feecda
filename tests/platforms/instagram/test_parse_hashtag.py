"""The Instagram hashtag parser on recorded payloads, both shapes, and mutilated copies."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagpulse.errors import PayloadError
from tagpulse.platforms.instagram.parse import parse_hashtag, parse_payload

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PARIS_TOP_LIKES = [178, 3353, 1397, 1794, 1969, 1910, 676, 137, 181]


def load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def test_graphql_query_shape_paris(ig_fixture: Path) -> None:
    result = parse_hashtag(
        (ig_fixture / "hashtag.json").read_bytes(), tag="paris", collected_at=NOW, raw_id="r1"
    )
    snap = result.snapshot
    assert result.shape == "graphql_query"
    assert snap.post_count == 125_782_874
    assert len(snap.top_posts) == 9
    assert [p.likes for p in snap.top_posts] == PARIS_TOP_LIKES
    first = snap.top_posts[0]
    assert first.shortcode == "CKrfLPHM4a7"
    assert first.comments == 9
    assert first.owner_id == "220267553"
    assert first.media_type == "image"
    assert first.taken_at == datetime.fromtimestamp(1612031950, tz=UTC)
    assert first.caption is not None and "#paris" in first.caption
    assert snap.raw_id == "r1" and snap.platform == "instagram" and snap.tag == "paris"
    assert snap.extra["tag_id"] == "17841562894101784"
    assert result.warnings == []


def test_second_page_paris(ig_fixture: Path) -> None:
    snap = parse_hashtag(
        (ig_fixture / "hashtag-2.json").read_bytes(), tag="paris", collected_at=NOW
    ).snapshot
    assert snap.post_count == 125_783_288
    assert len(snap.top_posts) == 9


def test_legacy_explore_shape(ig_fixture: Path) -> None:
    result = parse_hashtag(
        (ig_fixture / "explore-tags-legacy-composed.json").read_bytes(),
        tag="paris",
        collected_at=NOW,
    )
    assert result.shape == "graphql"
    assert result.snapshot.post_count == 125_782_874
    assert [p.likes for p in result.snapshot.top_posts] == PARIS_TOP_LIKES


def test_web_info_shape(ig_fixture: Path) -> None:
    result = parse_hashtag(
        (ig_fixture / "web_info-composed.json").read_bytes(), tag="jlo", collected_at=NOW
    )
    snap = result.snapshot
    assert result.shape == "web_info"
    assert snap.post_count == 1_234_567
    assert [p.shortcode for p in snap.top_posts] == ["CAnqPB-Jzcj", "CAG3E8-A3wf", "B-NYjoGpQqC"]
    assert [p.likes for p in snap.top_posts] == [820_750, 600_190, 1_246_110]
    assert [p.comments for p in snap.top_posts] == [4_647, 6_741, 9_742]
    assert [p.media_type for p in snap.top_posts] == ["carousel", "video", "carousel"]
    assert all(p.owner_handle == "jlo" for p in snap.top_posts)
    assert snap.top_posts[0].taken_at is not None
    assert snap.top_posts[0].taken_at.date().isoformat() == "2020-05-25"
    assert result.warnings == []


def test_missing_count_keeps_snapshot_with_warning(ig_fixture: Path) -> None:
    doc = load(ig_fixture / "hashtag.json")
    del doc["data"]["hashtag"]["edge_hashtag_to_media"]["count"]
    result = parse_hashtag(doc, tag="paris", collected_at=NOW)
    assert result.snapshot.post_count is None
    assert len(result.snapshot.top_posts) == 9
    assert any("did not report a post count" in w for w in result.warnings)


def test_missing_count_web_info(ig_fixture: Path) -> None:
    doc = load(ig_fixture / "web_info-composed.json")
    del doc["data"]["media_count"]
    result = parse_hashtag(doc, tag="jlo", collected_at=NOW)
    assert result.snapshot.post_count is None
    assert result.warnings


def test_missing_top_posts_is_a_warning(ig_fixture: Path) -> None:
    doc = load(ig_fixture / "hashtag.json")
    del doc["data"]["hashtag"]["edge_hashtag_to_top_posts"]
    result = parse_hashtag(doc, tag="paris", collected_at=NOW)
    assert result.snapshot.post_count == 125_782_874
    assert result.snapshot.top_posts == []
    assert any("top posts" in w for w in result.warnings)


@pytest.mark.parametrize("bad", ["12x", {"n": 1}, [1], True, -5, 1.5])
def test_wrong_count_type_is_none_with_warning(ig_fixture: Path, bad: object) -> None:
    doc = load(ig_fixture / "hashtag.json")
    doc["data"]["hashtag"]["edge_hashtag_to_media"]["count"] = bad
    result = parse_hashtag(doc, tag="paris", collected_at=NOW)
    assert result.snapshot.post_count is None
    assert result.warnings


def test_numeric_string_count_is_accepted(ig_fixture: Path) -> None:
    doc = load(ig_fixture / "hashtag.json")
    doc["data"]["hashtag"]["edge_hashtag_to_media"]["count"] = "125782874"
    assert parse_hashtag(doc, tag="paris", collected_at=NOW).snapshot.post_count == 125_782_874


def test_top_post_without_id_skipped(ig_fixture: Path) -> None:
    doc = load(ig_fixture / "hashtag.json")
    del doc["data"]["hashtag"]["edge_hashtag_to_top_posts"]["edges"][0]["node"]["id"]
    doc["data"]["hashtag"]["edge_hashtag_to_top_posts"]["edges"][1]["node"]["edge_liked_by"] = 7
    result = parse_hashtag(doc, tag="paris", collected_at=NOW)
    assert len(result.snapshot.top_posts) == 8
    assert any("without id" in w for w in result.warnings)


@pytest.mark.parametrize("cut", [1, 100, 5000, 70000])
def test_truncated_json_raises_payload_error(ig_fixture: Path, cut: int) -> None:
    body = (ig_fixture / "hashtag.json").read_bytes()[:cut]
    with pytest.raises(PayloadError, match="not valid JSON"):
        parse_hashtag(body, tag="paris", collected_at=NOW)


def test_recorded_broken_body(ig_fixture: Path) -> None:
    with pytest.raises(PayloadError):
        parse_hashtag((ig_fixture / "medias-error.json").read_bytes(), tag="x", collected_at=NOW)


@pytest.mark.parametrize("name", ["login-error.json", "checkpoint/challenge.json"])
def test_error_answers_are_unknown_shapes(ig_fixture: Path, name: str) -> None:
    with pytest.raises(PayloadError, match="no known shape"):
        parse_hashtag((ig_fixture / name).read_bytes(), tag="x", collected_at=NOW)


def test_json_array_is_unknown_shape() -> None:
    with pytest.raises(PayloadError):
        parse_hashtag(b"[1, 2]", tag="x", collected_at=NOW)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            out += _paths(v, (*prefix, i))
    return out


_DOCS: dict[str, Any] = {}


def _doc(name: str) -> Any:
    if name not in _DOCS:
        _DOCS[name] = load(Path(__file__).parents[2] / "fixtures" / "instagram_web" / name)
    return copy.deepcopy(_DOCS[name])


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["hashtag.json", "web_info-composed.json"]),
    data=st.data(),
)
def test_mutilated_payloads_never_crash(name: str, data: st.DataObject) -> None:
    """Replace or delete random fields: the parser returns a snapshot or raises PayloadError."""
    doc = _doc(name)
    paths = _paths(doc)
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = data.draw(_JUNK)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        result = parse_hashtag(doc, tag="paris", collected_at=NOW)
    except PayloadError:
        return
    snap = result.snapshot
    assert snap.post_count is None or isinstance(snap.post_count, int)
    assert all(isinstance(p.post_id, str) for p in snap.top_posts)


# --- the posts a hashtag answer lists (top and recent), as full records ---


def test_hashtag_posts_top_and_recent(ig_fixture: Path) -> None:
    result = parse_hashtag(
        (ig_fixture / "hashtag.json").read_bytes(), tag="paris", collected_at=NOW, raw_id="r1"
    )
    top = [p for p in result.posts if p.seen_via == "tag:paris:top"]
    recent = [p for p in result.posts if p.seen_via == "tag:paris:recent"]
    assert len(result.posts) == 43
    assert [p.likes for p in top] == PARIS_TOP_LIKES
    assert [p.post_id for p in top] == [r.post_id for r in result.snapshot.top_posts]
    assert top[0].shortcode == "CKrfLPHM4a7"
    assert top[0].url == "https://www.instagram.com/p/CKrfLPHM4a7/"
    assert "paris" in top[0].hashtags
    assert len(recent) == 34
    assert sum(p.media_type == "video" for p in recent) == 4
    taken = sorted(p.taken_at for p in recent if p.taken_at is not None)
    assert len(taken) == 34
    assert taken[0].date().isoformat() == "2021-01-17"
    assert taken[-1].date().isoformat() == "2021-01-30"
    assert all(p.raw_id == "r1" and p.collected_at == NOW for p in result.posts)
    assert result.next_cursor is not None
    assert result.next_cursor.startswith("QVFEYy1pYW90TGt4aWF0aExLQnM4c1")
    assert result.warnings == []


def test_hashtag_second_page_posts(ig_fixture: Path) -> None:
    result = parse_hashtag(
        (ig_fixture / "hashtag-2.json").read_bytes(), tag="paris", collected_at=NOW
    )
    recent = [p for p in result.posts if p.seen_via == "tag:paris:recent"]
    assert len(recent) == 11
    assert {p.taken_at.date().isoformat() for p in recent if p.taken_at} == {"2021-01-31"}


def test_web_info_posts(ig_fixture: Path) -> None:
    result = parse_hashtag(
        (ig_fixture / "web_info-composed.json").read_bytes(), tag="jlo", collected_at=NOW
    )
    by_via = {p.seen_via: [] for p in result.posts}
    for p in result.posts:
        by_via[p.seen_via].append(p.shortcode)
    assert by_via == {
        "tag:jlo:top": ["CAnqPB-Jzcj", "CAG3E8-A3wf", "B-NYjoGpQqC"],
        "tag:jlo:recent": ["CAG3E8-A3wf"],
    }
    carousel = result.posts[0]
    assert len(carousel.media_urls) == 3
    assert result.snapshot.top_posts[0].display_url == carousel.media_urls[0]


def test_parse_payload_hashtag_uses_payload_name(ig_fixture: Path) -> None:
    records = parse_payload((ig_fixture / "hashtag.json").read_bytes(), collected_at=NOW)
    assert [s.tag for s in records.snapshots] == ["paris"]
    assert records.snapshots[0].post_count == 125_782_874
    assert len(records.posts) == 43
    assert records.next_cursor is not None
    assert records.warnings == []


def test_parse_payload_hashtag_hint_and_no_name(ig_fixture: Path) -> None:
    doc = load(ig_fixture / "web_info-composed.json")
    assert parse_payload(doc, collected_at=NOW, hint_tag="#JLo").snapshots[0].tag == "jlo"
    del doc["data"]["name"]
    records = parse_payload(doc, collected_at=NOW)
    assert records.snapshots == []
    assert len(records.posts) == 4
    assert all(p.seen_via is None for p in records.posts)
    assert any("no hint_tag" in w for w in records.warnings)


@pytest.mark.parametrize(
    "name", ["hashtag.json", "hashtag-2.json", "web_info-composed.json",
             "explore-tags-legacy-composed.json"],
)  # fmt: skip
def test_counts_only_read_gives_the_same_snapshot(ig_fixture: Path, name: str) -> None:
    body = (ig_fixture / name).read_bytes()
    full = parse_hashtag(body, tag="paris", collected_at=NOW, raw_id="r")
    lean = parse_hashtag(body, tag="paris", collected_at=NOW, raw_id="r", posts=False)
    assert lean.snapshot == full.snapshot
    assert lean.posts == [] and full.posts
    # Each summary agrees with its full post on what both carry.
    by_id = {p.post_id: p for p in full.posts}
    for ref in full.snapshot.top_posts:
        post = by_id[ref.post_id]
        assert (ref.shortcode, ref.likes, ref.comments, ref.media_type, ref.taken_at) == (
            post.shortcode, post.likes, post.comments, post.media_type, post.taken_at,
        )  # fmt: skip
        assert ref.display_url in post.media_urls or not post.media_urls
