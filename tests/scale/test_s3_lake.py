"""The lake on a real S3 server (SeaweedFS on loopback): the same records written to a local
lake and to an S3 lake read back equal, and equal to the sandbox world's truth."""

from __future__ import annotations

import io
import random
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import (
    RawArchive,
    content_hash,
    raw_files,
    raw_objects,
    read_raw_file,
    read_raw_object,
)
from tagpulse.lake.storage import ObjectLake
from tagpulse.lake.tables import (
    HASHTAG_SNAPSHOT_SCHEMA,
    HASHTAG_SNAPSHOTS,
    LakeWriter,
    snapshots_to_table,
)
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.records import HashtagSnapshot, ParsedRecords, Post, RawEnvelope
from tests.scale.s3_server import S3Server

TAGS = ("nike", "adidas", "puma")
HOURS = 6 * 24


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7)


def _snapshots(world: World, hours: range) -> tuple[list[HashtagSnapshot], list[datetime]]:
    snaps: list[HashtagSnapshot] = []
    slots: list[datetime] = []
    for h in hours:
        t = world.start + h * HOUR
        at = utc_from_epoch(t)
        for tag in TAGS:
            snaps.append(
                HashtagSnapshot("instagram", tag, world.true_count(tag, t), [], [], at, "a", None)
            )
            slots.append(at)
    return snaps, slots


def _posts(world: World) -> list[Post]:
    social = world.social
    t = world.start + 30 * DAY
    posts: list[Post] = []
    for account in social.accounts[:12]:
        for p in social.posts_at(account, t)[:15]:
            for seen in (t - DAY, t):  # two observations of each post, a day apart
                posts.append(
                    Post("instagram", str(p.pk), utc_from_epoch(seen), "truth",
                         owner_id=str(account.pk), likes=social.like_count(p, seen),
                         comments=social.comment_count(p, seen))
                )  # fmt: skip
    return posts


def _both(tmp_path: Path, s3_server: S3Server) -> tuple[Path, ObjectLake]:
    return tmp_path / "local" / "lake", s3_server.lake(tmp_path / "s3home" / "lake")


def _feed(lake: Path | ObjectLake, world: World, batches: int = 1) -> None:
    writer = LakeWriter(lake)
    step = HOURS // batches
    for b in range(batches):
        snaps, slots = _snapshots(world, range(b * step, (b + 1) * step))
        writer.append_snapshots(snaps, slots)
    # A collector that died before acknowledging re-collects the same slots: duplicate ids.
    snaps, slots = _snapshots(world, range(10, 14))
    writer.append_snapshots(snaps, slots)
    writer.append_records(ParsedRecords(posts=_posts(world)))


def _answers(query: LakeQuery) -> dict[str, Any]:
    return {
        "timeline": query.timeline(list(TAGS), interval_s=3600),
        "daily": query.timeline(["nike"], interval_s=86400, platform="instagram"),
        "snapshots": query.rows(
            f"SELECT * EXCLUDE (top_posts) FROM {HASHTAG_SNAPSHOTS} ORDER BY snapshot_id"
        ),
        "stored": query.rows(f"SELECT count(*) AS n FROM {HASHTAG_SNAPSHOTS}_all"),
        "posts": query.rows(
            "SELECT post_id, likes, comments, collected_at, platform, date FROM posts "
            "ORDER BY post_id, collected_at"
        ),
        "summary": query.tag_summary(),
        "tags": query.tags(),
    }


def test_tables_and_timeline_equal_on_s3_and_local(
    tmp_path: Path, s3_server: S3Server, world: World
) -> None:
    local, s3 = _both(tmp_path, s3_server)
    for lake in (local, s3):
        _feed(lake, world)
    expected = _answers(LakeQuery(local))
    got = _answers(LakeQuery(s3))
    assert got == expected
    # ... and both are the world's truth: one snapshot per tag and hour, duplicates dropped.
    assert len(got["snapshots"]) == HOURS * len(TAGS)
    assert got["stored"] == [{"n": (HOURS + 4) * len(TAGS)}]
    truth = {
        (tag, utc_from_epoch(world.start + h * HOUR)): world.true_count(tag, world.start + h * HOUR)
        for h in range(HOURS)
        for tag in TAGS
    }
    assert {(p.tag, p.bucket): p.post_count for p in got["timeline"]} == truth
    assert len(got["posts"]) == 12 * 15 or len(got["posts"]) > 50
    # The objects are where the layout says, each partition a prefix of the bucket.
    keys = s3.glob("tables/hashtag_snapshots/platform=instagram/date=*/*.parquet")
    assert len(keys) == 6 + 1  # one part per day, and the re-collected slots' part
    assert LakeQuery(s3).has_data("posts") and not LakeQuery(s3).has_data("comments")


def test_compaction_on_s3_equals_local(tmp_path: Path, s3_server: S3Server, world: World) -> None:
    local, s3 = _both(tmp_path, s3_server)
    for lake in (local, s3):
        _feed(lake, world, batches=12)
    before = _answers(LakeQuery(s3))
    assert before == _answers(LakeQuery(local))
    results = [LakeWriter(lake).compact(HASHTAG_SNAPSHOTS) for lake in (local, s3)]
    assert results[0] == results[1]
    assert results[1].partitions == 6 and results[1].files_after == 6
    assert results[1].rows_before == (HOURS + 4) * len(TAGS)
    assert results[1].rows_after == HOURS * len(TAGS)
    after = _answers(LakeQuery(s3))
    assert after == _answers(LakeQuery(local))
    assert after["stored"] == [{"n": HOURS * len(TAGS)}]  # duplicates gone from storage
    assert {k: v for k, v in after.items() if k != "stored"} == {
        k: v for k, v in before.items() if k != "stored"
    }
    keys = s3.glob("tables/hashtag_snapshots/platform=*/date=*/*.parquet")
    assert len(keys) == 6 and all(k.rsplit("/", 1)[1].startswith("compact-") for k in keys)
    # Compacting again merges nothing; ``before_date`` leaves newer partitions alone.
    assert LakeWriter(s3).compact(HASHTAG_SNAPSHOTS).partitions == 0
    _feed(s3, world, batches=2)
    first_day = utc_from_epoch(world.start + DAY).strftime("%Y-%m-%d")
    assert LakeWriter(s3).compact(HASHTAG_SNAPSHOTS, before_date=first_day).partitions == 1


def _envelope(i: int, day: int) -> RawEnvelope:
    body = b'{"data":{"hashtag":{"name":"nike","count":%d}}}' % i
    if i % 3 == 0:
        body = b"\xff\xfe not utf-8 %d" % i
    return RawEnvelope(
        platform="instagram",
        endpoint="web_info",
        url="https://example.invalid/api",
        params={"tag_name": "nike"},
        status=200,
        account="a",
        collected_at=datetime(2024, 3, 1 + day, 12, i % 60, tzinfo=UTC),
        body=body,
        content_hash=content_hash(body),
        body_is_json=i % 3 != 0,
    )


def _by_hash(doc: dict[str, Any]) -> str:
    return str(doc["content_hash"])


def test_raw_archive_on_s3_reads_back_as_local(tmp_path: Path, s3_server: S3Server) -> None:
    local, s3 = _both(tmp_path, s3_server)
    envelopes = [_envelope(i, i % 2) for i in range(40)]
    local_archive, s3_archive = RawArchive(local), RawArchive(s3)
    written_local = local_archive.write(envelopes[:25]) | local_archive.write(envelopes[25:])
    written_s3 = s3_archive.write(envelopes[:25]) | s3_archive.write(envelopes[25:])
    assert set(written_s3) == set(written_local) == {e.content_hash for e in envelopes}
    prefix = s3.url + "/raw/platform=instagram/date="
    assert all(str(v).startswith(prefix) for v in written_s3.values())
    docs_local = sorted((d for f in raw_files(local) for d in read_raw_file(f)), key=_by_hash)
    docs_s3 = sorted((d for u in raw_objects(s3) for d in read_raw_object(s3, u)), key=_by_hash)
    assert docs_s3 == docs_local and len(docs_s3) == 40
    assert {d["body"] for d in docs_s3} == {e.body for e in envelopes}
    assert len(raw_objects(s3)) == len(raw_files(local)) == 4  # 2 writes x 2 days


def test_half_written_object_is_never_visible(
    tmp_path: Path, s3_server: S3Server, world: World
) -> None:
    _, s3 = _both(tmp_path, s3_server)
    snaps, slots = _snapshots(world, range(24))
    LakeWriter(s3).append_snapshots(snaps, slots)
    query = LakeQuery(s3)
    before = query.rows(f"SELECT count(*) AS n FROM {HASHTAG_SNAPSHOTS}_all")
    # A part big enough for a multipart upload (random, so incompressible), sent part by part.
    big_snaps, big_slots = _snapshots(world, range(24, 48))
    table = snapshots_to_table(big_snaps, big_slots)
    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz"
    padding = ["".join(rng.choices(letters, k=200_000)) for _ in range(table.num_rows)]
    table = table.set_column(
        table.schema.get_field_index("extra"), "extra", pa.array(padding, pa.string())
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="none")
    data = buffer.getvalue()
    assert len(data) > 12 * 2**20
    date = big_slots[0].strftime("%Y-%m-%d")
    folder = ("tables", HASHTAG_SNAPSHOTS, "platform=instagram", f"date={date}")
    key = s3.key(*folder, "part-big.parquet")
    with s3.fs.open(key, "wb", block_size=5 * 2**20) as fh:
        fh.write(data[: 6 * 2**20])
        fh.flush()  # the first part is uploaded; the object is not complete
        fh.write(data[6 * 2**20 : 11 * 2**20])
        fh.flush()
        assert not s3.fs.exists(key)
        assert not s3.glob(f"tables/{HASHTAG_SNAPSHOTS}/platform=*/date={date}/*.parquet")
        assert query.rows(f"SELECT count(*) AS n FROM {HASHTAG_SNAPSHOTS}_all") == before
        assert len(query.timeline(["nike"], interval_s=3600)) == 24
        fh.write(data[11 * 2**20 :])
    assert s3.fs.exists(key)
    assert query.rows(f"SELECT count(*) AS n FROM {HASHTAG_SNAPSHOTS}_all") == [
        {"n": before[0]["n"] + table.num_rows}
    ]
    assert table.schema.names == HASHTAG_SNAPSHOT_SCHEMA.names


def test_readers_during_writes_and_compaction_see_no_error(
    tmp_path: Path, s3_server: S3Server, world: World
) -> None:
    _, s3 = _both(tmp_path, s3_server)
    writer = LakeWriter(s3)
    snaps, slots = _snapshots(world, range(48))
    writer.append_snapshots(snaps, slots)
    errors: list[BaseException] = []
    counts: list[int] = []
    done = threading.Event()

    def read() -> None:
        query = LakeQuery(s3)
        while not done.is_set():
            try:
                counts.append(len(query.rows(f"SELECT snapshot_id FROM {HASHTAG_SNAPSHOTS}")))
            except BaseException as exc:  # any error is the failure looked for
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for start in range(48, 96, 6):
            more, more_slots = _snapshots(world, range(start, start + 6))
            writer.append_snapshots(more, more_slots)
            writer.compact(HASHTAG_SNAPSHOTS)
    finally:
        done.set()
        reader.join()
    assert errors == [], str(errors[0])[-600:]
    assert counts and all(48 * 3 <= n <= 96 * 3 for n in counts)
    assert counts == sorted(counts)  # a reader never sees rows disappear
    assert LakeQuery(s3).rows(f"SELECT count(*) AS n FROM {HASHTAG_SNAPSHOTS}") == [{"n": 96 * 3}]
