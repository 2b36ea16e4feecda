"""`tagpulse import zeeschuimer`: recorded Instagram items in Zeeschuimer envelopes, X items,
broken lines; counts taken from the fixture file (see tests/fixtures/zeeschuimer/build.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tests.imports.conftest import FIXTURES, import_json

FILE = FIXTURES / "zeeschuimer" / "zeeschuimer-composed.ndjson"
NAME = FILE.name


def test_import_counts_records_and_quarantine(home: Path) -> None:
    summary = import_json("zeeschuimer", FILE, home)
    # 26 lines: 1 blank; lines 1-19 good items (12 reels, 3 media items, 1 with hidden likes,
    # 1 graphql node, 2 tweets); 20 tombstone, 21 truncated, 22 linkedin, 24 no data; 25 = line 1;
    # 26 a TikTok item.
    assert summary["items"] == 25
    assert summary["imported"] == 20
    assert summary["quarantined"] == 4
    assert summary["already_known"] == 1
    assert summary["records"]["posts"] == 20
    # The X author, observed once per tweet (Instagram items carry no profile counts).
    assert summary["records"]["profiles"] == 2
    # @mentions in captions: lines 4, 6, 8, 9, 10, 12, 14 one each, line 17 four; the tweet one;
    # the TikTok item's @example.sailor.
    assert summary["records"]["edges"] == 13

    q = LakeQuery(home / "lake")
    posts = {r["post_id"]: r for r in q.rows("SELECT * FROM posts")}
    assert len(posts) == 20
    clip = posts["7371022873834241101"]
    # statsV2's exact string counts win over the rounded stats (48200, 1200000).
    assert clip["platform"] == "tiktok" and clip["likes"] == 48_213 and clip["views"] == 1_203_377
    assert clip["hashtags"] == ["harbourlights", "sunrise"]
    by_code = {r["shortcode"]: r for r in posts.values() if r["shortcode"]}
    assert by_code["CAnqPB-Jzcj"]["likes"] == 820_750
    assert by_code["CAnqPB-Jzcj"]["media_type"] == "carousel"
    assert by_code["CPv3UqsBFvg"]["views"] == 401_421
    assert by_code["CPv3UqsBFvg"]["media_type"] == "reel"
    assert posts["1"]["likes"] is None  # like_and_view_counts_disabled
    assert by_code["B7eUksNFA-K"]["likes"] == 695_047
    tweet = posts["1449433343214153728"]
    assert tweet["platform"] == "x" and tweet["likes"] == 7 and tweet["hashtags"] == ["dogs"]
    assert tweet["taken_at"] == datetime(2021, 10, 16, 18, 30, tzinfo=UTC)
    assert tweet["shares"] == 2 and tweet["views"] == 1234
    assert posts["1449433343214153729"]["caption"] is None  # no legacy block: kept, no text
    assert {r["seen_via"] for r in posts.values()} == {"import:zeeschuimer"}

    catalog = Catalog(home / "catalog.sqlite")
    rows = catalog.quarantined()
    catalog.close()
    where = {r[4]: r[2] for r in rows}
    assert set(where) == {f"{NAME}:{n}" for n in (20, 21, 22, 24)}
    assert "tombstone" in where[f"{NAME}:20"]
    assert "not JSON" in where[f"{NAME}:21"]
    assert "linkedin.com" in where[f"{NAME}:22"]
    assert "no timestamp" in where[f"{NAME}:24"] or "data" in where[f"{NAME}:24"]
    # The broken bytes are kept, nothing the user gave is lost.
    assert len(list((home / "lake" / "quarantine" / "import-zeeschuimer").iterdir())) == 4


def test_reimport_adds_nothing(home: Path) -> None:
    import_json("zeeschuimer", FILE, home)
    q = LakeQuery(home / "lake")
    before = q.rows("SELECT count(*) AS n FROM posts_all")[0]["n"]
    again = import_json("zeeschuimer", FILE, home)
    assert again["imported"] == 0 and again["already_known"] == 21
    assert q.rows("SELECT count(*) AS n FROM posts_all")[0]["n"] == before
    catalog = Catalog(home / "catalog.sqlite")
    assert len(catalog.quarantined()) == 4
    catalog.close()
    raw_files = list((home / "lake" / "raw").rglob("*.ndjson.zst"))
    assert raw_files and all(f.stat().st_size > 0 for f in raw_files)
