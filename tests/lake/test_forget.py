"""`tagpulse forget` after a real collection (sandbox over loopback) and an import: nothing of
the account is left in the tables, the raw archive, the media store or the raw index; everyone
else's data is intact; the erasure is audited; a later collection stores nothing of it."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import zstandard

from tagpulse.collect.media import MediaStore
from tagpulse.imports.base import run_import
from tagpulse.imports.zeeschuimer import ZeeschuimerImporter
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.forget import forget_account
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import raw_files
from tagpulse.lake.tables import SCHEMAS
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tests.collect import conftest as collect_conftest
from tests.collect.conftest import Rig

make_rig = collect_conftest.make_rig  # the sandbox rig fixture, shared with tests/collect

FIXTURES = Path(__file__).parent.parent / "fixtures"


def token(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9._]){re.escape(text)}(?![A-Za-z0-9_])", re.IGNORECASE)


def lake_text(lake_dir: Path) -> dict[str, str]:
    """Every stored row of every table (duplicates included) as JSON text, per table."""
    query = LakeQuery(lake_dir)
    return {
        t: orjson.dumps(query.rows(f"SELECT * FROM {t}_all"), default=str).decode() for t in SCHEMAS
    }


def raw_text(lake_dir: Path) -> str:
    return "\n".join(
        zstandard.ZstdDecompressor().stream_reader(f.open("rb")).read().decode("utf-8", "replace")
        for f in raw_files(lake_dir)
    )


def about(query: LakeQuery, table: str, ids: list[str], handle: str, posts: list[str]) -> int:
    """Rows about the account, counted independently of forget's own matching."""
    i = ",".join(f"'{x}'" for x in ids) or "NULL"
    p = ",".join(f"'{x}'" for x in posts) or "NULL"
    h = f"'{handle}'"
    where = {
        "profiles": f"user_id IN ({i}) OR lower(handle) = {h}",
        "posts": f"owner_id IN ({i}) OR lower(owner_handle) = {h}",
        "comments": f"owner_id IN ({i}) OR lower(owner_handle) = {h} OR post_id IN ({p})",
        "edges": f"src IN ({i}) OR dst IN ({i}) OR src = '@' || {h} OR dst = '@' || {h} "
        f"OR lower(src_handle) = {h} OR lower(dst_handle) = {h} OR post_id IN ({p})",
    }.get(table)
    if where is None:
        return 0
    return int(query.rows(f"SELECT count(*) AS n FROM {table} WHERE {where}")[0]["n"])


def setup(make_rig: Callable[..., Rig]) -> tuple[Rig, SocialAccount, SocialAccount]:
    rig = make_rig("paris\nnike\n")
    social = rig.world.social
    t = rig.clock.time()
    live = [a for a in social.accounts if social.resolve(a.username, t)[1] == "active"]
    public = sorted(
        (a for a in live if not a.is_private and a.old_username is None),
        key=lambda a: -social.post_count(a, t),
    )
    names = [a.username for a in social.accounts]
    # Handles that are no part of another handle, so a plain text search is a fair test.
    victim, other = [a for a in public if sum(a.username in n for n in names) == 1][:2]
    handles = rig.tags_file.parent / "accounts.txt"
    handles.write_text(f"{victim.username}\n{other.username}\n")
    rig.handles_file = handles
    rig.collector(once=True, max_posts=24, comments_posts=2, followers=30).run()
    catalog = Catalog(rig.settings.catalog_path)
    run_import(
        ZeeschuimerImporter(),
        FIXTURES / "zeeschuimer" / "zeeschuimer-composed.ndjson",
        lake_dir=rig.settings.lake_dir,
        catalog=catalog,
    )
    catalog.close()
    return rig, victim, other


def rows_of(query: LakeQuery, handle: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "profiles": query.rows("SELECT * FROM profiles WHERE handle = ? ORDER BY row_id", [handle]),
        "posts": query.rows("SELECT * FROM posts WHERE owner_handle = ? ORDER BY row_id", [handle]),
    }


def test_forget_removes_the_account_everywhere(make_rig: Callable[..., Rig]) -> None:
    rig, victim, other = setup(make_rig)
    lake, handle, vid = rig.settings.lake_dir, victim.username, str(victim.pk)
    query = LakeQuery(lake)
    posts = [
        r["post_id"]
        for r in query.rows("SELECT DISTINCT post_id FROM posts_all WHERE owner_id = ?", [vid])
    ]
    assert posts and token(handle).search(raw_text(lake))
    counts = {t: query.rows(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in SCHEMAS}
    gone = {t: about(query, t, [vid], handle, posts) for t in SCHEMAS}
    assert gone["profiles"] and gone["posts"] and gone["edges"]
    others_before = rows_of(query, other.username)
    store = MediaStore(rig.settings.media_dir)
    media_before = store.stats()
    assert any(store.for_post("instagram", p) for p in posts)
    other_posts = [r["post_id"] for r in others_before["posts"]]
    other_media = {p: store.for_post("instagram", p) for p in other_posts}
    assert any(other_media.values())
    # Both accounts' profile pictures were stored by the collection.
    pics = {
        r["user_id"]: r["profile_pic_url"]
        for r in query.rows("SELECT DISTINCT user_id, profile_pic_url FROM profiles_all "
                            "WHERE state = 'ok' AND profile_pic_url IS NOT NULL")
    }  # fmt: skip
    vpic, opic = pics[vid], pics[str(other.pk)]
    assert store.known_url(vpic) is not None and store.known_url(opic) is not None

    catalog = Catalog(rig.settings.catalog_path)
    dry = forget_account(lake, catalog, "instagram", handle, media=store, dry_run=True)
    assert dry.raw_answers_dropped > 0 and catalog.denied() == {}
    assert lake_text(lake) and token(handle).search(raw_text(lake))  # nothing changed yet

    summary = forget_account(
        lake, catalog, "instagram", "@" + handle.upper(), media=store, actor="test-runner"
    )
    assert summary.user_ids >= 1 and summary.posts >= len(posts)
    assert summary.raw_answers_dropped == dry.raw_answers_dropped
    assert summary.media_files_removed > 0

    # Nothing of the account: tables (every stored row), raw archive, media, index, catalog.
    for table, text in lake_text(lake).items():
        assert not token(handle).search(text), table
        assert not token(vid).search(text), table
    raw = raw_text(lake)
    assert handle not in raw.lower() and vid not in raw
    for post_id in posts:
        assert store.for_post("instagram", post_id) == []
    stats = store.stats()
    assert stats.files == media_before.files - summary.media_files_removed
    on_disk = {p.stem for p in rig.settings.media_dir.glob("??/*") if p.is_file()}
    assert len(on_disk) == stats.files
    with sqlite3.connect(rig.settings.catalog_path) as db:
        indexed = db.execute("SELECT content_hash, path FROM raw_index").fetchall()
        events = db.execute("SELECT message, tag FROM events").fetchall()
    hashes = set()
    for f in raw_files(lake):
        hashes |= {
            orjson.loads(line)["content_hash"]
            for line in zstandard.ZstdDecompressor().stream_reader(f.open("rb")).read().splitlines()
            if line.strip()
        }
    assert {h for h, _ in indexed} == hashes  # dropped answers left the index, the rest stayed
    assert all(Path(p).is_file() for _, p in indexed)
    assert not any(token(handle).search(f"{m} {t}") for m, t in events)

    # Everyone else: the same rows, minus exactly the account's.
    after = {t: query.rows(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in SCHEMAS}
    for table in SCHEMAS:
        assert after[table] == counts[table] - gone[table], table
        assert summary.rows_removed.get(table, 0) >= gone[table]
    assert rows_of(query, other.username) == others_before
    for post_id, files in other_media.items():
        assert store.for_post("instagram", post_id) == files
    assert store.known_url(vpic) is None and store.known_url(opic) is not None

    # Audited, by salted hash only; denied from now on.
    [entry] = [e for e in catalog.audit_entries() if e.action == "forget"]
    assert entry.actor == "test-runner" and entry.subject == summary.subject
    assert entry.details["raw_answers_dropped"] == summary.raw_answers_dropped
    assert handle not in orjson.dumps(entry.details).decode() + (entry.subject or "")
    assert catalog.is_denied("instagram", handle)
    catalog.close()

    # A later pass with the handle still on the watchlist: no request, nothing stored.
    log_mark = len(rig.server.request_log())
    stats_later = rig.collector(once=True, max_posts=24).run()
    assert stats_later.snapshots >= 3
    asked = [r.path for r in rig.server.request_log()[log_mark:]]
    assert not any(handle in p or vid in p for p in asked)
    catalog = Catalog(rig.settings.catalog_path)
    denied = catalog.events(kind="denied")
    catalog.close()
    assert len(denied) == 1 and summary.subject in denied[0].message
    assert handle not in denied[0].message
    for table, text in lake_text(lake).items():
        assert not token(handle).search(text) and not token(vid).search(text), table
    assert handle not in raw_text(lake).lower()
    store.close()


def test_forget_of_an_unknown_account_only_denies_it(tmp_path: Path) -> None:
    lake = tmp_path / "home" / "lake"
    catalog = Catalog(tmp_path / "home" / "catalog.sqlite")
    summary = forget_account(lake, catalog, "instagram", "nobody.here", actor="t")
    assert summary.raw_answers_dropped == 0 and summary.deny_entries_added == 1
    assert catalog.is_denied("instagram", "@Nobody.Here")
    assert not catalog.is_denied("x", "nobody.here")
    catalog.close()
