"""The lake's privacy policy at write time: deny list and pseudonymisation, in every writer."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.catalog_privacy import pseudonym, subject_ref
from tagpulse.lake.privacy import Matcher, load_policy
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import RawArchive, content_hash, raw_files, read_raw_file
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import (
    Comment,
    Edge,
    HashtagSnapshot,
    ParsedRecords,
    Post,
    PostRef,
    Profile,
    RawEnvelope,
)

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
ANON = re.compile(r"anon_[0-9a-f]{16}")


def home(tmp_path: Path) -> tuple[Path, Catalog]:
    return tmp_path / "lake", Catalog(tmp_path / "catalog.sqlite")


def records() -> ParsedRecords:
    """A verified star, a fan who comments and mentions, and the fan's post."""
    return ParsedRecords(
        profiles=[
            Profile("instagram", "1", "star", AT, "sha256:a", is_verified=True),
            Profile(
                "instagram", "2", "fan.one", AT, "sha256:a", bio="I love @star, @pal_x and @zed."
            ),
        ],
        posts=[
            Post("instagram", "p1", AT, "sha256:a", owner_id="1", owner_handle="star"),
            Post(
                "instagram",
                "p2",
                AT,
                "sha256:a",
                owner_id="2",
                owner_handle="fan.one",
                caption="with @pal_x",
                mentions=["pal_x"],
                seen_via="profile:fan.one",
            ),
        ],
        comments=[
            Comment(
                "instagram",
                "c1",
                "p1",
                AT,
                "sha256:a",
                owner_id="2",
                owner_handle="fan.one",
                text="@star hi",
            ),
            Comment("instagram", "c2", "p2", AT, "sha256:a", owner_id="3", owner_handle="pal_x"),
        ],
        edges=[
            Edge(
                "instagram",
                "2",
                "1",
                "commented",
                AT,
                "sha256:a",
                src_handle="fan.one",
                dst_handle="star",
                post_id="p1",
            ),
            Edge(
                "instagram",
                "2",
                "@pal_x",
                "mentioned",
                AT,
                "sha256:a",
                src_handle="fan.one",
                dst_handle="pal_x",
                post_id="p2",
            ),
        ],
    )


def test_matcher_finds_whole_handles_and_ids() -> None:
    m = Matcher(["anna.b"], ["123"])
    assert m.search("hi @anna.b.") and m.search('"username":"ANNA.B"') and m.search("x/anna.b/")
    assert not m.search("joanna.b") and not m.search("anna.bc") and not m.search("anna.b_2")
    assert m.search("3998_123") and m.search('"pk":123,') and not m.search("41234")
    assert m.redact("by @anna.b, id 123") == "by @[forgotten], id [forgotten]"
    assert Matcher([], []).empty and not Matcher([], []).search("anything")


def test_pseudonyms_are_stable_per_lake_and_platform() -> None:
    a = pseudonym(b"s" * 32, "instagram", "Fan.One", "handle")
    assert a == pseudonym(b"s" * 32, "instagram", "fan.one", "handle") and ANON.fullmatch(a)
    assert a != pseudonym(b"t" * 32, "instagram", "fan.one", "handle")
    assert a != pseudonym(b"s" * 32, "x", "fan.one", "handle")
    assert a != pseudonym(b"s" * 32, "instagram", "fan.one", "id")
    assert subject_ref(b"s" * 32, "instagram", "fan.one") == "forgotten:" + a.removeprefix("anon_")


def test_no_catalog_no_policy(tmp_path: Path) -> None:
    assert load_policy(tmp_path / "lake") is None
    LakeWriter(tmp_path / "lake").append_records(records())
    assert not (tmp_path / "catalog.sqlite").exists()  # reading the policy creates nothing
    catalog = Catalog(tmp_path / "catalog.sqlite")
    assert load_policy(tmp_path / "lake") is None  # a catalog with nothing to apply
    catalog.close()


def test_denied_accounts_are_dropped_at_write_time(tmp_path: Path) -> None:
    lake, catalog = home(tmp_path)
    catalog.deny("instagram", [("handle", "Star"), ("id", "1")], at=AT)
    writer = LakeWriter(lake)
    parsed = records()
    ref = PostRef("p1", None, "1", "star", None, 5, 1, "image", "mine", None)
    other = PostRef("p2", None, "2", "fan.one", None, 5, 1, "image", "cc @star", None)
    parsed.snapshots = [HashtagSnapshot("instagram", "paris", 10, [ref, other], [], AT, None, "r")]
    writer.append_records(parsed)
    q = LakeQuery(lake)
    assert [r["handle"] for r in q.rows("SELECT handle FROM profiles")] == ["fan.one"]
    assert [r["post_id"] for r in q.rows("SELECT post_id FROM posts")] == ["p2"]
    # c1 is on the star's post (dropped with it); c2 is another's comment on another's post.
    assert [r["comment_id"] for r in q.rows("SELECT comment_id FROM comments")] == ["c2"]
    assert [r["dst"] for r in q.rows("SELECT dst FROM edges")] == ["@pal_x"]
    bio = q.rows("SELECT bio FROM profiles")[0]["bio"]
    assert bio == "I love @[forgotten], @pal_x and @zed."
    [snap] = q.rows("SELECT top_posts FROM hashtag_snapshots")
    assert [(p["post_id"], p["caption"]) for p in snap["top_posts"]] == [("p2", "cc @[forgotten]")]
    # Other platforms are other people.
    writer.append_records(ParsedRecords(profiles=[Profile("x", "1", "star", AT, "sha256:b")]))
    assert q.rows("SELECT platform FROM profiles WHERE handle = 'star'") == [{"platform": "x"}]

    archive = RawArchive(lake)

    def env(body: bytes, platform: str = "instagram") -> RawEnvelope:
        return RawEnvelope(platform, "e", "", {}, 200, None, AT, body, content_hash(body))

    written = archive.write(
        [env(b'{"username":"star"}'), env(b'{"username":"stars"}'), env(b'{"u":"star"}', "x")]
    )
    assert len(written) == 2
    bodies = [d["body"] for f in raw_files(lake) for d in read_raw_file(f)]
    assert sorted(bodies) == [b'{"u":"star"}', b'{"username":"stars"}']
    catalog.close()


def test_pseudonymised_writes(tmp_path: Path) -> None:
    lake, catalog = home(tmp_path)
    catalog.enable_pseudonymise(actor="t")
    catalog.ensure_schedule("instagram", "@pal_x", 60)  # on the watchlist: a public figure
    salt = catalog.stored_salt()
    assert salt is not None
    LakeWriter(lake).append_records(records())
    q = LakeQuery(lake)
    fan = pseudonym(salt, "instagram", "fan.one", "handle")
    fan_id = pseudonym(salt, "instagram", "2", "id")
    profiles = {r["user_id"]: r for r in q.rows("SELECT * FROM profiles")}
    assert profiles["1"]["handle"] == "star"  # verified: kept
    assert profiles[fan_id]["handle"] == fan
    zed = pseudonym(salt, "instagram", "zed", "handle")
    assert profiles[fan_id]["bio"] == f"I love @star, @pal_x and @{zed}."
    assert profiles[fan_id]["row_id"].startswith(f"instagram:{fan_id}:sha256:a@")
    posts = {r["post_id"]: r for r in q.rows("SELECT * FROM posts")}
    assert posts["p1"]["owner_handle"] == "star" and posts["p1"]["owner_id"] == "1"
    assert posts["p2"]["owner_handle"] == fan and posts["p2"]["seen_via"] == f"profile:{fan}"
    assert posts["p2"]["mentions"] == ["pal_x"] and posts["p2"]["caption"] == "with @pal_x"
    comments = {r["comment_id"]: r for r in q.rows("SELECT * FROM comments")}
    assert comments["c1"]["owner_handle"] == fan and comments["c1"]["text"] == "@star hi"
    assert comments["c2"]["owner_handle"] == "pal_x"
    assert comments["c2"]["owner_id"] == "3"  # learned: the id of a watched handle
    edges = q.rows("SELECT src, dst, src_handle, row_id FROM edges ORDER BY kind")
    assert [e["src"] for e in edges] == [fan_id, fan_id]
    assert all("fan.one" not in e["row_id"] and ":2:" not in e["row_id"] for e in edges)
    # The same input gives the same pseudonym in a later write.
    LakeWriter(lake).append_records(
        ParsedRecords(posts=[Post("instagram", "p9", AT, "sha256:z", owner_handle="Fan.One")])
    )
    assert q.rows("SELECT owner_handle FROM posts WHERE post_id = 'p9'") == [{"owner_handle": fan}]
    stored = b"".join(p.read_bytes() for p in lake.rglob("*.parquet"))
    assert salt.hex().encode() not in stored and b"fan.one" not in stored
    assert all(pq.read_table(p).num_rows for p in lake.rglob("*.parquet"))
    catalog.close()


def test_a_writer_reads_a_new_deny_entry_at_its_next_write(tmp_path: Path) -> None:
    lake, catalog = home(tmp_path)
    writer = LakeWriter(lake)
    writer.append_records(ParsedRecords(posts=[Post("instagram", "a", AT, "r1", owner_id="9")]))
    catalog.deny("instagram", [("id", "9")], at=AT)
    writer.append_records(ParsedRecords(posts=[Post("instagram", "b", AT, "r2", owner_id="9")]))
    assert LakeQuery(lake).rows("SELECT post_id FROM posts") == [{"post_id": "a"}]
    catalog.close()


@pytest.mark.parametrize("text", ["instagram", "instagram:", ":x", "instagram:a b"])
def test_bad_accounts_are_refused(text: str) -> None:
    from tagpulse.errors import InputError
    from tagpulse.lake.forget import parse_account

    with pytest.raises(InputError):
        parse_account(text)
    assert parse_account(" Instagram:@Some.One ") == ("instagram", "some.one")
