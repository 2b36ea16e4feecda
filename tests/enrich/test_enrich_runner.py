"""`tagpulse enrich` over a real lake: incremental (only what is missing under the current
model), resumable (a failure or a kill mid-run keeps the finished batches and the next run does
the rest, once), forget removes an account's post_text rows, export and the CLI work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.config import Settings
from tagpulse.enrich.runner import enrich_text, pending_texts
from tagpulse.enrich.text import TextModel, text_model_version
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.forget import forget_account
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import Comment, ParsedRecords, Post
from tests.enrich.labelled import ENGLISH, FRENCH, SPANISH

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 1, tzinfo=UTC)
SENTENCES = [text for text, _, _ in ENGLISH + SPANISH + FRENCH]


def build_lake(home: Path, n_posts: int, *, comments_per_post: int = 1) -> int:
    """``n_posts`` posts by two accounts (each seen twice), with comments; returns the items."""
    posts: list[Post] = []
    comments: list[Comment] = []
    for i in range(n_posts):
        owner = "1001" if i % 2 else "2002"
        taken = T0 + timedelta(hours=3 * i)
        caption = f"{SENTENCES[i % len(SENTENCES)]} #brand{i % 3}"
        for seen in (1, 2):  # two observations of each post: one caption to enrich
            posts.append(
                Post("instagram", f"p{i}", taken + timedelta(hours=seen), f"raw{i}-{seen}",
                     owner_id=owner, owner_handle="alice" if owner == "1001" else "bob",
                     taken_at=taken, caption=caption, hashtags=[f"brand{i % 3}"])
            )  # fmt: skip
        for j in range(comments_per_post):
            comments.append(
                Comment("instagram", f"c{i}-{j}", f"p{i}", taken + timedelta(hours=2), f"rc{i}",
                        owner_id="3003", owner_handle="carol",
                        text=SENTENCES[(i + j + 7) % len(SENTENCES)],
                        created_at=taken + timedelta(minutes=30))
            )  # fmt: skip
    # One post without a caption: nothing to enrich there.
    posts.append(Post("instagram", "empty", T0, "raw-empty", owner_id="2002", taken_at=T0))
    LakeWriter(home / "lake").append_records(ParsedRecords(posts=posts, comments=comments))
    return n_posts * (1 + comments_per_post)


def stored(home: Path) -> tuple[int, int]:
    """(rows stored, distinct row ids) of post_text."""
    rows = LakeQuery(home / "lake").rows(
        "SELECT count(*) AS n, count(DISTINCT row_id) AS d FROM post_text_all"
    )[0]
    return int(rows["n"]), int(rows["d"])


@pytest.fixture(scope="module")
def model() -> TextModel:
    return TextModel()


def test_incremental(tmp_path: Path, model: TextModel) -> None:
    settings = Settings(home=tmp_path)
    total = build_lake(tmp_path, 40)
    first = enrich_text(settings, limit=30, batch_size=7, model=model)
    assert (first.pending, first.enriched, first.batches) == (30, 30, 5)
    assert stored(tmp_path) == (30, 30)
    second = enrich_text(settings, batch_size=7, model=model)
    assert second.enriched == total - 30
    assert stored(tmp_path) == (total, total)
    assert enrich_text(settings, model=model).enriched == 0  # nothing new
    # New captions arrive: only they are done.
    posts = [Post("instagram", "new1", T0, "rn", owner_id="2002", taken_at=T0, caption="Nice!")]
    LakeWriter(tmp_path / "lake").append_records(ParsedRecords(posts=posts))
    assert enrich_text(settings, model=model).enriched == 1
    # A new model version redoes everything (rows keyed by model: the old ones stay).
    assert len(pending_texts(LakeQuery(tmp_path / "lake"), "text-0/older")) == total + 1
    rows = LakeQuery(tmp_path / "lake").rows(
        "SELECT kind, item_id, post_id, owner_id, model, language, sentiment, hashtags, date "
        "FROM post_text WHERE item_id IN ('p4', 'c4-0')"
    )
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["caption"]["hashtags"] == ["brand1"] and by_kind["caption"]["owner_id"] == "2002"
    assert by_kind["comment"]["post_id"] == "p4" and by_kind["comment"]["owner_id"] == "3003"
    assert {r["model"] for r in rows} == {text_model_version()}
    # Partitioned by the text's own date.
    assert str(by_kind["caption"]["date"]) == (T0 + timedelta(hours=12)).date().isoformat()


def test_resumes_after_a_failure_mid_run(tmp_path: Path, model: TextModel) -> None:
    settings = Settings(home=tmp_path)
    total = build_lake(tmp_path, 30)

    def fail(batch: int) -> None:
        if batch == 3:
            raise RuntimeError("injected failure after batch 3")

    with pytest.raises(RuntimeError, match="injected"):
        enrich_text(settings, batch_size=10, model=model, after_batch=fail)
    assert stored(tmp_path) == (30, 30)  # three finished batches kept
    resumed = enrich_text(settings, batch_size=10, model=model)
    assert resumed.pending == total - 30
    assert stored(tmp_path) == (total, total)  # nothing twice


@pytest.mark.subprocess
def test_resumes_after_a_real_kill(tmp_path: Path, model: TextModel) -> None:
    total = build_lake(tmp_path, 1500)
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tagpulse", "enrich", "--batch-size", "20", "--home", str(tmp_path),
         "--json"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    table_dir = tmp_path / "lake" / "tables" / "post_text"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(table_dir.glob("platform=*/date=*/[!.]*.parquet"))) >= 3:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the run finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    done, distinct = stored(tmp_path)
    assert 0 < done < total and done == distinct
    resumed = enrich_text(Settings(home=tmp_path), batch_size=500, model=model)
    assert resumed.pending == total - done
    assert stored(tmp_path) == (total, total)


def test_forget_removes_post_text_rows(tmp_path: Path, model: TextModel) -> None:
    settings = Settings(home=tmp_path)
    build_lake(tmp_path, 20)
    enrich_text(settings, model=model)
    query = LakeQuery(tmp_path / "lake")
    before = query.rows("SELECT owner_id, kind, post_id FROM post_text")
    alice_posts = {
        r["post_id"] for r in before if r["owner_id"] == "1001" and r["kind"] == "caption"
    }
    assert alice_posts and len(before) == 40
    summary = forget_account(
        tmp_path / "lake", Catalog(settings.catalog_path), "instagram", "alice"
    )
    assert summary.rows_removed.get("post_text") == 2 * len(alice_posts)  # captions + comments
    after = query.rows("SELECT owner_id, post_id FROM post_text_all")
    assert all(r["owner_id"] != "1001" and r["post_id"] not in alice_posts for r in after)
    assert len(after) == 40 - 2 * len(alice_posts)  # bob's posts and carol's comments on them stay


def test_cli_export_and_json(tmp_path: Path) -> None:
    build_lake(tmp_path, 6)
    runner = CliRunner()
    result = runner.invoke(
        app, ["enrich", "--limit", "5", "--batch-size", "2", "--json", "--home", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)  # the progress bar goes to stderr
    assert doc["text"]["enriched"] == 5 and doc["text"]["batches"] == 3
    assert sum(doc["text"]["languages"].values()) == 5
    result = runner.invoke(app, ["enrich", "--home", str(tmp_path)])
    assert result.exit_code == 0 and "Enrichment" in result.output, result.output
    assert runner.invoke(app, ["enrich", "--no-text", "--home", str(tmp_path)]).exit_code == 0
    out = tmp_path / "post_text.jsonl"
    result = runner.invoke(
        app,
        ["export", "post_text", "--format", "jsonl", "--out", str(out), "--home", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(lines) == 12 and {x["kind"] for x in lines} == {"caption", "comment"}
    assert all(-1 <= x["sentiment"] <= 1 for x in lines if x["sentiment"] is not None)
    bad = runner.invoke(app, ["enrich", "--batch-size", "0", "--home", str(tmp_path)])
    assert bad.exit_code == 2 and "batch size" in bad.output
