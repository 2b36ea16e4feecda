"""`tagpulse reparse` over a real collection (sandbox over loopback) plus two imports: the same
rows when nothing changed, the new value when a parser changed, nothing touched by a dry run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tagpulse.imports.base import run_import
from tagpulse.imports.reparse import reparse_lake
from tagpulse.imports.twarc2 import Twarc2Importer
from tagpulse.imports.zeeschuimer import ZeeschuimerImporter
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import SCHEMAS, id_column
from tagpulse.records import ParsedRecords
from tests.collect import conftest as collect_conftest
from tests.collect.conftest import Rig

make_rig = collect_conftest.make_rig  # the sandbox rig fixture, shared with tests/collect

FIXTURES = Path(__file__).parent.parent / "fixtures"


def collected(make_rig: Callable[..., Rig]) -> Rig:
    """Tags and accounts (public, private, deleted) collected once, then two imports."""
    rig = make_rig("paris\nnike\n")
    social = rig.world.social
    t = rig.clock.time()
    live = [a for a in social.accounts if social.resolve(a.username, t)[1] == "active"]
    busy = max((a for a in live if not a.is_private), key=lambda a: social.post_count(a, t))
    private = next(a for a in live if a.is_private)
    deleted = next(a for a in social.accounts if a.deleted_at is not None and a.deleted(t))
    handles = rig.tags_file.parent / "accounts.txt"
    handles.write_text(f"{busy.username}\n{private.username}\n{deleted.username}\n")
    rig.handles_file = handles
    stats = rig.collector(once=True, max_posts=24, comments_posts=2, followers=30).run()
    assert stats.snapshots == 5
    catalog = Catalog(rig.settings.catalog_path)
    for importer, path in (
        (ZeeschuimerImporter(), FIXTURES / "zeeschuimer" / "zeeschuimer-composed.ndjson"),
        (Twarc2Importer(), FIXTURES / "twarc2" / "counts.jsonl"),
    ):
        summary = run_import(importer, path, lake_dir=rig.settings.lake_dir, catalog=catalog)
        assert summary.imported > 0
    catalog.close()
    return rig


def table_rows(lake_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table as readers see it (one row per id), every column, ordered by id."""
    query = LakeQuery(lake_dir)
    return {t: query.rows(f"SELECT * FROM {t} ORDER BY {id_column(t)}") for t in SCHEMAS}


def test_reparse_gives_the_same_rows(make_rig: Callable[..., Rig]) -> None:
    rig = collected(make_rig)
    lake = rig.settings.lake_dir
    before = table_rows(lake)
    for table in ("hashtag_snapshots", "profiles", "posts", "comments", "edges", "tag_counts"):
        assert before[table], f"the fixture run wrote no {table}"
    # A deleted account's `not_found` profile has no answer behind it: carried over as it was.
    assert any(r["state"] == "not_found" and r["raw_id"] is None for r in before["profiles"])

    catalog = Catalog(rig.settings.catalog_path)
    summary = reparse_lake(lake, catalog=catalog)
    catalog.close()
    assert summary.swapped and not summary.failed
    assert summary.parsed > 0 and summary.envelopes >= summary.parsed
    assert summary.carried == {"profiles": 1}
    assert summary.rows_before == summary.rows_after
    after = table_rows(lake)
    for table in SCHEMAS:
        assert after[table] == before[table], table
    assert not (lake / "tables.new").exists()
    assert not list(lake.glob("tables.old-*"))


def test_a_parser_change_shows_up(
    make_rig: Callable[..., Rig], monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = collected(make_rig)
    lake = rig.settings.lake_dir
    before = table_rows(lake)
    from tagpulse.platforms.instagram import parse as instagram_parse

    original = instagram_parse.parse_hashtag

    def improved(*args: Any, **kwargs: Any) -> instagram_parse.HashtagParse:
        result = original(*args, **kwargs)
        result.snapshot.extra["parser"] = "v2"
        for post in result.posts:
            post.extra["parser"] = "v2"
        return result

    monkeypatch.setattr(instagram_parse, "parse_hashtag", improved)
    summary = reparse_lake(lake)
    assert summary.swapped
    after = table_rows(lake)
    snapshots = after["hashtag_snapshots"]
    assert snapshots and all('"parser":"v2"' in (r["extra"] or "") for r in snapshots)
    tag_posts = [r for r in after["posts"] if (r["seen_via"] or "").startswith("tag:")]
    assert tag_posts and all('"parser":"v2"' in (r["extra"] or "") for r in tag_posts)
    # Only the changed field moved: ids, counts and every other table are as they were.
    assert [r["snapshot_id"] for r in snapshots] == [
        r["snapshot_id"] for r in before["hashtag_snapshots"]
    ]
    strip = [{k: v for k, v in r.items() if k != "extra"} for r in snapshots]
    assert strip == [
        {k: v for k, v in r.items() if k != "extra"} for r in before["hashtag_snapshots"]
    ]
    for table in ("profiles", "comments", "edges", "tag_counts"):
        assert after[table] == before[table], table


def test_dry_run_changes_nothing(
    make_rig: Callable[..., Rig], monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = collected(make_rig)
    lake = rig.settings.lake_dir
    files = sorted(p.relative_to(lake) for p in (lake / "tables").rglob("*.parquet"))
    before = table_rows(lake)
    from tagpulse.platforms.instagram import parse as instagram_parse

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise instagram_parse.UnknownShape("a parser regression")

    monkeypatch.setattr(instagram_parse, "parse_hashtag", broken)
    catalog = Catalog(rig.settings.catalog_path)
    quarantined = len(catalog.quarantined())
    summary = reparse_lake(lake, catalog=catalog, dry_run=True)
    assert summary.dry_run and not summary.swapped
    # Failures are reported (not fatal) and their old rows would be kept as they were.
    assert sum(summary.failed.values()) == 2
    assert summary.carried["hashtag_snapshots"] == summary.rows_before["hashtag_snapshots"]
    assert summary.rows_after == summary.rows_before
    assert len(catalog.quarantined()) == quarantined  # a dry run quarantines nothing
    catalog.close()
    assert sorted(p.relative_to(lake) for p in (lake / "tables").rglob("*.parquet")) == files
    assert table_rows(lake) == before
    assert not (lake / "tables.new").exists()


def test_a_failed_parse_is_quarantined_and_its_rows_kept(
    make_rig: Callable[..., Rig], monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = collected(make_rig)
    lake = rig.settings.lake_dir
    before = table_rows(lake)
    from tagpulse.platforms.instagram import parse as instagram_parse

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise instagram_parse.UnknownShape("a parser regression")

    monkeypatch.setattr(instagram_parse, "parse_hashtag", broken)
    catalog = Catalog(rig.settings.catalog_path)
    summary = reparse_lake(lake, catalog=catalog)
    reasons = [r for r in catalog.quarantined() if r[1].startswith("reparse:instagram:")]
    catalog.close()
    assert summary.swapped and sum(summary.failed.values()) == 2 and len(reasons) == 2
    assert table_rows(lake) == before


def test_readers_see_whole_tables_during_a_reparse(make_rig: Callable[..., Rig]) -> None:
    rig = collected(make_rig)
    lake = rig.settings.lake_dir
    sql = "SELECT count(*) AS n FROM posts"
    want = LakeQuery(lake).rows(sql)[0]["n"]
    stop = threading.Event()
    seen: list[int] = []
    errors: list[Exception] = []

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(LakeQuery(lake).rows(sql)[0]["n"])
            except Exception as exc:  # any failure is the test's finding
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(4):
            assert reparse_lake(lake).swapped
    finally:
        stop.set()
        reader.join()
    assert errors == [] and len(seen) > 4
    assert set(seen) == {want}  # never an empty or half lake


def test_an_answer_identical_at_two_slots_keeps_both_snapshots(tmp_path: Path) -> None:
    """The archive stores a body once; the second slot's snapshot has no envelope of its own."""
    from tagpulse.lake.raw import RawArchive, content_hash
    from tagpulse.lake.tables import LakeWriter
    from tagpulse.platforms.instagram.parse import parse_hashtag
    from tagpulse.records import RawEnvelope

    lake = tmp_path / "lake"
    body = (FIXTURES / "instagram_web" / "web_info-composed.json").read_bytes()
    raw_id = content_hash(body)
    slots = [datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 1, 12, 30, tzinfo=UTC)]
    params = {"tag_name": "paris", "_watch": "paris", "_slot": str(int(slots[0].timestamp()))}
    env = RawEnvelope("instagram", "tags/web_info", "", params, 200, "a", slots[0], body, raw_id)
    RawArchive(lake).write([env])
    writer = LakeWriter(lake)
    for slot in slots:
        parsed = parse_hashtag(body, tag="paris", collected_at=slot, account="a", raw_id=raw_id)
        writer.append_snapshots([parsed.snapshot], [slot])
        writer.append_records(
            ParsedRecords(posts=parsed.posts, comments=parsed.comments, edges=parsed.edges)
        )
    before = table_rows(lake)
    assert len(before["hashtag_snapshots"]) == 2
    summary = reparse_lake(lake)
    # The second slot's snapshot, and the rows of its observation (its posts, comments, edges
    # seen at 12:30), are carried over: nothing in the archive rebuilds them.
    second = {"posts": len(parsed.posts), "comments": len(parsed.comments),
              "edges": len(parsed.edges)}  # fmt: skip
    want = {"hashtag_snapshots": 1} | {k: v for k, v in second.items() if v}
    assert summary.parsed == 1 and summary.carried == want
    assert table_rows(lake) == before
