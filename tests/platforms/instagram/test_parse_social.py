"""Comments and the social graph: comment pages, followers/followings, suggestions, edges."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tagpulse.platforms.instagram.parse import parse_payload
from tagpulse.platforms.instagram.parse_common import shortcode_to_media_id
from tagpulse.records import ParsedRecords

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FIXTURES = Path(__file__).parents[2] / "fixtures" / "instagram_web"


def load(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def parse(name: str, **hints: Any) -> ParsedRecords:
    return parse_payload((FIXTURES / name).read_bytes(), collected_at=NOW, raw_id="raw-1", **hints)


@pytest.mark.parametrize(
    ("name", "first_handle"),
    [("media-comments.json", "myself_walker"), ("media-comments-2.json", "kikesitoozzz")],
)
def test_comment_pages(name: str, first_handle: str) -> None:
    records = parse(name, hint_shortcode="B7eUksNFA-K")
    assert load(name)["data"]["shortcode_media"]["edge_media_to_comment"]["count"] == 45
    assert len(records.comments) == 12
    assert records.comments[0].owner_handle == first_handle
    assert {c.post_id for c in records.comments} == {"2224305748263047050"}
    assert all(c.created_at is not None and c.created_at.tzinfo is UTC for c in records.comments)
    assert (
        records.next_cursor
        == (
            load(name)["data"]["shortcode_media"]["edge_media_to_comment"]["page_info"][
                "end_cursor"
            ]
        )
    )
    # The page does not say whose post it is: no "commented" edge can be drawn.
    assert records.edges == []
    assert records.warnings == []


def test_first_comment_fields() -> None:
    comment = parse("media-comments.json").comments[0]
    assert (comment.comment_id, comment.text) == ("17969014687354566", "Good themw")
    assert (comment.owner_id, comment.owner_handle) == ("26965138089", "myself_walker")
    assert comment.created_at == datetime.fromtimestamp(1607919868, tz=UTC)
    assert comment.raw_id == "raw-1" and comment.parent_id is None


def test_comment_page_without_hint_warns() -> None:
    records = parse("media-comments.json")
    assert len(records.comments) == 12
    assert {c.post_id for c in records.comments} == {None}
    assert any("hint_shortcode" in w for w in records.warnings)


def test_comment_page_with_owner_draws_commented_edges() -> None:
    doc = load("media-comments.json")
    doc["data"]["shortcode_media"].update(
        {"id": "2224305748263047050", "owner": {"id": "1518284433", "username": "robertdowneyjr"}}
    )
    records = parse_payload(doc, collected_at=NOW)
    assert len(records.edges) == 12
    edge = records.edges[0]
    assert (edge.kind, edge.src, edge.dst) == ("commented", "26965138089", "1518284433")
    assert (edge.src_handle, edge.dst_handle) == ("myself_walker", "robertdowneyjr")
    assert edge.post_id == "2224305748263047050"


def test_preview_comments_in_a_post_listing() -> None:
    records = parse("medias.json")
    first = records.posts[0]
    preview = [c for c in records.comments if c.post_id == first.post_id]
    assert [c.owner_handle for c in preview] == ["specksokeefe", "s.allard", "art_hipisterical"]
    commented = [e for e in records.edges if e.kind == "commented" and e.post_id == first.post_id]
    assert {e.dst for e in commented} == {"1518284433"}
    assert {e.src for e in commented} == {c.owner_id for c in preview}


def test_api_preview_comments_are_not_doubled() -> None:
    records = parse("media.json")
    # preview_comments and comments repeat the same two comments.
    assert len(records.comments) == 2
    assert records.comments[0].likes == 284
    assert records.comments[0].owner_handle == "johnrussophoto"


def test_comment_post_answer() -> None:
    records = parse("comment-post.json", hint_shortcode="CAnqPB-Jzcj")
    [comment] = records.comments
    assert (comment.comment_id, comment.owner_handle, comment.text) == (
        "18091595578284217",
        "rudigerempira",
        "Awesome!",
    )
    assert comment.post_id == "2317006284167526179"


def test_followers_page() -> None:
    records = parse("followers-feed.json", hint_handle="robertdowneyjr")
    assert load("followers-feed.json")["data"]["user"]["edge_followed_by"]["count"] == 46_650_946
    assert len(records.edges) == 24
    assert {(e.kind, e.dst, e.dst_handle) for e in records.edges} == {
        ("follows", "@robertdowneyjr", "robertdowneyjr")
    }
    first = records.edges[0]
    assert (first.src, first.src_handle) == ("41055093479", "martinasalomao0602")
    assert len(records.profiles) == 24
    profile = records.profiles[0]
    assert (profile.user_id, profile.handle, profile.name) == (
        "41055093479",
        "martinasalomao0602",
        "Martina S",
    )
    assert (profile.is_private, profile.is_verified, profile.followers) == (False, False, None)
    assert profile.extra == {"partial": True, "seen_via": "followers:robertdowneyjr"}
    assert records.next_cursor is not None
    assert records.warnings == []


def test_followers_second_page_with_user_id() -> None:
    records = parse("followers-feed-2.json", hint_user_id="1518284433")
    assert load("followers-feed-2.json")["data"]["user"]["edge_followed_by"]["count"] == 46_651_177
    assert len(records.edges) == 12
    assert {e.dst for e in records.edges} == {"1518284433"}


def test_followers_without_hint_keep_profiles_and_warn() -> None:
    records = parse("followers-feed.json")
    assert records.edges == []
    assert len(records.profiles) == 24
    assert any("hint_handle" in w for w in records.warnings)


@pytest.mark.parametrize(
    ("name", "n"), [("followings-feed.json", 24), ("followings-feed-2.json", 11)]
)
def test_followings_pages(name: str, n: int) -> None:
    records = parse(name, hint_handle="robertdowneyjr")
    assert load(name)["data"]["user"]["edge_follow"]["count"] == 55
    assert len(records.edges) == n
    assert {(e.kind, e.src) for e in records.edges} == {("follows", "@robertdowneyjr")}
    assert len({e.dst for e in records.edges}) == n
    assert all(p.extra["seen_via"] == "following:robertdowneyjr" for p in records.profiles)


def test_followings_first_node() -> None:
    edge = parse("followings-feed.json", hint_handle="robertdowneyjr").edges[0]
    assert (edge.dst, edge.dst_handle) == ("3084365906", "amh4real")


def test_suggested_accounts() -> None:
    records = parse("highlights-folders.json")
    owner, *suggested = records.profiles
    assert (owner.user_id, owner.handle) == ("5670185369", "statement.paris")
    assert len(suggested) == 80
    assert suggested[0].handle == "legramme_officiel"
    assert {p.extra["seen_via"] for p in suggested} == {"chaining:statement.paris"}
    assert records.edges == []  # a suggestion is not a relation


def test_mention_edges_are_from_owner_to_handle() -> None:
    records = parse("medias.json")
    first = records.posts[0]
    mentioned = [e for e in records.edges if e.kind == "mentioned" and e.post_id == first.post_id]
    assert [e.dst for e in mentioned] == [f"@{h}" for h in first.mentions]
    assert {e.src for e in mentioned} == {"1518284433"}
    assert all(e.dst_handle == e.dst[1:] for e in mentioned)
    kinds = Counter(e.kind for e in records.edges)
    assert kinds["mentioned"] == sum(
        len(set(p.mentions) - {"robertdowneyjr"}) for p in records.posts
    )


def test_edges_carry_when_and_where() -> None:
    records = parse("reels.json")
    assert records.edges
    assert all(e.platform == "instagram" and e.seen_at == NOW for e in records.edges)
    assert all(e.raw_id == "raw-1" and e.weight == 1.0 for e in records.edges)


def test_shortcode_decodes_to_media_id() -> None:
    assert shortcode_to_media_id("B7eUksNFA-K") == "2224305748263047050"
    assert shortcode_to_media_id("CPv3UqsBFvg") == "2589531623544609760"
    assert shortcode_to_media_id("not a code") is None
    assert shortcode_to_media_id("A" * 40) is None
