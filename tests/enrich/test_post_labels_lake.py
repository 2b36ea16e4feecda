"""`post_labels` is a lake table like the others: views, export, reparse keeps it, forget
erases the account's rows (and the deny list keeps them out of later runs); and on a real
collection from the sandbox, every stored picture is labelled once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.collect.media import MediaStore
from tagpulse.config import Settings
from tagpulse.enrich.images import MODEL_VERSION, VisionModels, enrich_images
from tagpulse.imports.reparse import reparse_lake
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.export import EXPORT_TABLES
from tagpulse.lake.forget import forget_account
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import SCHEMAS, LakeWriter
from tagpulse.platforms.sandbox.photos import photo_subject
from tagpulse.records import ParsedRecords, Post, Profile
from tests.collect import conftest as collect_conftest
from tests.collect.conftest import Rig
from tests.enrich.vision_fixtures import CATS, onnx_cache, store_photo, vision_models

__all__ = ["make_rig", "onnx_cache", "vision_models"]  # fixtures used here

make_rig = collect_conftest.make_rig
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def two_accounts(home: Path) -> Settings:
    settings = Settings(home=home)
    LakeWriter(settings.lake_dir).append_records(
        ParsedRecords(
            profiles=[
                Profile("instagram", "111", "victim", T0, "sha256:p1"),
                Profile("instagram", "222", "keeper", T0, "sha256:p2"),
            ],
            posts=[
                Post("instagram", "v1", T0, "sha256:a", owner_id="111", owner_handle="victim"),
                Post("instagram", "v2", T0, "sha256:a", owner_id="111", owner_handle="victim"),
                Post("instagram", "k1", T0, "sha256:b", owner_id="222", owner_handle="keeper"),
            ],
        )
    )
    with MediaStore(settings.media_dir) as store:
        store_photo(store, "chelsea", "instagram", "v1", T0)
        store_photo(store, "coffee", "instagram", "v2", T0)
        store_photo(store, "rocket", "instagram", "k1", T0)
    return settings


def labelled_posts(settings: Settings) -> list[str]:
    rows = LakeQuery(settings.lake_dir).rows("SELECT post_id FROM post_labels_all ORDER BY 1")
    return [r["post_id"] for r in rows]


def test_registered_beside_the_entity_tables() -> None:
    assert "post_labels" in SCHEMAS and "post_labels" in EXPORT_TABLES


def test_forget_drops_the_accounts_labels(tmp_path: Path, vision_models: VisionModels) -> None:
    settings = two_accounts(tmp_path / "home")
    enrich_images(settings, models=vision_models)
    assert labelled_posts(settings) == ["k1", "v1", "v2"]
    catalog = Catalog(settings.catalog_path)
    # Without the media store: its links stay, so a later run would find the pictures again.
    summary = forget_account(settings.lake_dir, catalog, "instagram", "victim", media=None)
    catalog.close()
    assert summary.rows_removed["post_labels"] == 2
    assert summary.rows_redacted.get("post_labels", 0) == 0
    kept = LakeQuery(settings.lake_dir).rows("SELECT post_id, model FROM post_labels")
    assert kept == [{"post_id": "k1", "model": MODEL_VERSION}]  # not "...-[forgotten]"
    # The deny list keeps them out: the pictures are labelled again, and dropped at the write.
    again = enrich_images(settings, models=vision_models)
    assert (again.already, again.labelled) == (1, 2) and labelled_posts(settings) == ["k1"]


def test_forget_with_the_media_store(tmp_path: Path, vision_models: VisionModels) -> None:
    settings = two_accounts(tmp_path / "home")
    enrich_images(settings, models=vision_models)
    catalog = Catalog(settings.catalog_path)
    with MediaStore(settings.media_dir) as store:
        forget_account(settings.lake_dir, catalog, "instagram", "@VICTIM", media=store)
    catalog.close()
    assert labelled_posts(settings) == ["k1"]
    after = enrich_images(settings, models=vision_models)
    assert (after.stored, after.already, after.labelled) == (1, 1, 0)


def test_export_and_reparse_keep_it(tmp_path: Path, vision_models: VisionModels) -> None:
    settings = two_accounts(tmp_path / "home")
    enrich_images(settings, models=vision_models)
    out = tmp_path / "labels.jsonl"
    runner = CliRunner()
    done = runner.invoke(
        app,
        ["export", "post_labels", "--format", "jsonl", "--out", str(out),
         "--home", str(settings.home)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    docs = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(docs) == 3 and {d["model"] for d in docs} == {MODEL_VERSION}
    cat = next(d for d in docs if d["post_id"] == "v1")
    assert cat["top_label"] in CATS and len(cat["labels"]) == 5 and cat["platform"] == "instagram"
    csv_out = tmp_path / "labels.csv"
    done = runner.invoke(
        app,
        ["export", "post_labels", "--format", "csv", "--out", str(csv_out),
         "--home", str(settings.home)],
    )  # fmt: skip
    assert done.exit_code == 0 and csv_out.read_text().count("\n") == 4

    before = LakeQuery(settings.lake_dir).rows("SELECT * FROM post_labels ORDER BY row_id")
    summary = reparse_lake(settings.lake_dir)
    assert summary.swapped
    after = LakeQuery(settings.lake_dir).rows("SELECT * FROM post_labels ORDER BY row_id")
    assert after == before and len(after) == 3


def test_view_keeps_one_row_per_image(tmp_path: Path, vision_models: VisionModels) -> None:
    settings = two_accounts(tmp_path / "home")
    enrich_images(settings, models=vision_models)
    files = list((settings.lake_dir / "tables" / "post_labels").rglob("*.parquet"))
    # A crash after the write and before anything else: the same batch written twice.
    for f in files:
        table = pq.read_table(f)
        (f.parent / f"part-again-{f.name}").write_bytes(f.read_bytes())
        assert table.num_rows
    query = LakeQuery(settings.lake_dir)
    assert query.rows("SELECT count(*) AS n FROM post_labels_all")[0]["n"] == 6
    assert query.rows("SELECT count(*) AS n FROM post_labels")[0]["n"] == 3
    assert enrich_images(settings, models=vision_models).labelled == 0


#: ImageNet classes the label model gives the sandbox's photos (measured on crops at 135 px).
SUBJECT_LABELS = {
    "chelsea": {"Egyptian cat", "tiger cat", "tabby", "lynx"},
    "coffee": {"espresso", "cup", "consomme", "eggnog", "coffee mug"},
    "camera": {"tripod", "binoculars", "reflex camera"},
}


@pytest.mark.slow
def test_a_sandbox_collection_is_labelled(
    make_rig: Callable[..., Rig], vision_models: VisionModels
) -> None:
    """Accounts collected over loopback with their pictures: every stored picture gets one
    row, the post's owner and time come from the lake, and the labels match the real photo the
    sandbox showed (its truth: :func:`photo_subject`)."""
    rig = make_rig("nike\n")
    handles = rig.tags_file.parent / "accounts.txt"
    social = rig.world.social
    t = rig.clock.time()
    public = [
        a for a in social.accounts
        if social.resolve(a.username, t)[1] == "active" and not a.is_private
    ][:2]  # fmt: skip
    handles.write_text("".join(f"{a.username}\n" for a in public))
    rig.handles_file = handles
    rig.collector(once=True, max_posts=12).run()
    with MediaStore(rig.settings.media_dir) as store:
        stored = store.linked_files()
    assert len(stored) >= 12
    summary = enrich_images(rig.settings, batch_size=8, models=vision_models)
    assert summary.failed == 0 and summary.labelled + summary.reused == len(stored)
    rows = LakeQuery(rig.settings.lake_dir).rows(
        "SELECT l.post_id, l.owner_id, l.taken_at, l.faces, l.top_label, l.labels, "
        "l.media_index, p.owner_id AS truth "
        "FROM post_labels l JOIN (SELECT DISTINCT post_id, owner_id FROM posts) p USING (post_id)"
    )
    assert len(rows) == len(stored)
    owners = {str(a.pk) for a in public}
    assert all(r["owner_id"] == r["truth"] and r["owner_id"] in owners for r in rows)
    assert all(r["taken_at"] is not None and r["top_label"] for r in rows)
    # Single pictures (a carousel's children have their own keys): the top-5 names the subject.
    checked = 0
    for r in rows:
        post = social.post(int(r["post_id"]))
        assert post is not None
        if post.kind == "carousel":
            continue
        subject = photo_subject(rig.world.seed, post.owner, r["post_id"])
        names = {x["label"] for x in r["labels"]}
        if subject in SUBJECT_LABELS:
            checked += 1
            assert names & SUBJECT_LABELS[subject], (subject, names)
        if subject in {"chelsea", "coffee", "rocket"}:
            assert r["faces"] == 0, (subject, r["faces"])
    assert checked >= 3
    assert enrich_images(rig.settings, models=vision_models).already == len(stored)


def test_stale_lake_without_posts_still_labels(tmp_path: Path, vision_models: VisionModels) -> None:
    settings = Settings(home=tmp_path / "home")
    with MediaStore(settings.media_dir) as store:
        store_photo(store, "chelsea", "instagram", "lonely", T0 - timedelta(days=3))
    summary = enrich_images(settings, models=vision_models)
    assert summary.labelled == 1 and labelled_posts(settings) == ["lonely"]
