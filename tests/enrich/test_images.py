"""`enrich_images` over a real lake and a real media store holding real photos: labels, faces,
carousels, shared files, broken files; incremental, resumable, and a new model version."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tagpulse.collect.media import MediaStore
from tagpulse.config import Settings
from tagpulse.enrich import images as images_module
from tagpulse.enrich.images import MODEL_VERSION, VisionModels, enrich_images
from tagpulse.errors import MissingExtra
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import ParsedRecords, Post
from tests.enrich.vision_fixtures import (
    CATS,
    install_cache,
    onnx_cache,
    store_photo,
    vision_models,
)

__all__ = ["onnx_cache", "vision_models"]  # fixtures used here

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(200)


class Stop(Exception):
    """Stands for a crash between two batches."""


def build(home: Path) -> tuple[Settings, dict[str, str]]:
    """Posts in the lake, their pictures in the media store (shas by name)."""
    settings = Settings(home=home)
    posts = [
        Post("instagram", "cat1", T0, "r1", owner_id="u1", taken_at=T0 - timedelta(days=1)),
        Post("instagram", "carousel", T0, "r2", owner_id="u2", taken_at=T0 - timedelta(hours=5)),
        Post("instagram", "repost", T0, "r3", owner_id="u3", taken_at=T0),
        Post("instagram", "broken", T0, "r4", owner_id="u1", taken_at=T0),
    ]
    # A later observation of cat1 without its owner: the owner comes from the one that says.
    posts.append(Post("instagram", "cat1", T0 + timedelta(hours=1), "r5", likes=5))
    LakeWriter(settings.lake_dir).append_records(ParsedRecords(posts=posts))
    shas: dict[str, str] = {}
    with MediaStore(settings.media_dir) as store:
        shas["chelsea"] = store_photo(store, "chelsea", "instagram", "cat1", T0)
        store.store_bytes(
            VIDEO, platform="instagram", post_id="carousel", url="https://cdn.example/v.mp4",
            fetched_at=T0,
        )  # fmt: skip
        shas["coffee"] = store_photo(store, "coffee", "instagram", "carousel", T0)
        shas["astronaut"] = store_photo(store, "astronaut", "instagram", "carousel", T0)
        # The same picture posted again by someone else: one file, two posts.
        assert store_photo(store, "coffee", "instagram", "repost", T0) == shas["coffee"]
        shas["rocket"] = store_photo(store, "rocket", "instagram", "broken", T0)
        # A post the lake never saw (an import of files only): labelled all the same.
        shas["camera"] = store_photo(store, "camera", "tiktok", "orphan", T0)
        broken = store.lookup(shas["rocket"])
    # The disk lost it: same size, garbage inside.
    broken.write_bytes(b"\xff\xd8\xff\xe0" + bytes(broken.stat().st_size - 4))
    return settings, shas


def rows(settings: Settings) -> list[dict[str, object]]:
    return LakeQuery(settings.lake_dir).rows(
        "SELECT * FROM post_labels ORDER BY platform, post_id, media_index"
    )


def test_labels_faces_and_rows(tmp_path: Path, vision_models: VisionModels) -> None:
    settings, shas = build(tmp_path / "home")
    summary = enrich_images(settings, batch_size=4, models=vision_models)
    assert (summary.stored, summary.not_images, summary.already) == (6, 1, 0)
    # Five files through the models (one of them broken), the shared one copied once.
    assert (summary.labelled, summary.failed, summary.reused) == (4, 1, 1)
    assert summary.errors and shas["rocket"] in summary.errors[0]
    by_key = {(r["post_id"], r["media_sha256"]): r for r in rows(settings)}
    assert len(by_key) == 6
    cat = by_key[("cat1", shas["chelsea"])]
    assert cat["top_label"] in CATS and cat["owner_id"] == "u1"
    assert cat["taken_at"] == T0 - timedelta(days=1)
    assert cat["model"] == MODEL_VERSION and cat["faces"] == 0 and cat["error"] is None
    labels = cat["labels"]
    assert isinstance(labels, list) and len(labels) == 5 and labels[0]["label"] == cat["top_label"]
    # The carousel: the video is its first file, so the pictures are its files 1 and 2.
    coffee = by_key[("carousel", shas["coffee"])]
    astronaut = by_key[("carousel", shas["astronaut"])]
    assert (coffee["media_index"], astronaut["media_index"]) == (1, 2)
    assert coffee["top_label"] == "espresso" and coffee["owner_id"] == "u2"
    assert (astronaut["faces"], astronaut["smiles"]) == (1, 1)
    repost = by_key[("repost", shas["coffee"])]
    assert repost["labels"] == coffee["labels"] and repost["owner_id"] == "u3"
    broken = by_key[("broken", shas["rocket"])]
    assert broken["error"] and broken["top_label"] is None and broken["faces"] is None
    orphan = by_key[("orphan", shas["camera"])]
    assert orphan["owner_id"] is None and orphan["top_label"]
    # Partitioned like the other tables: platform, then the day it was enriched.
    files = sorted(
        (settings.lake_dir / "tables" / "post_labels").glob("platform=*/date=*/*.parquet")
    )
    assert {f.parent.parent.name for f in files} == {"platform=instagram", "platform=tiktok"}


def test_incremental_and_resumable(
    tmp_path: Path, vision_models: VisionModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = build(tmp_path / "home")
    seen: list[tuple[int, int]] = []

    def crash_after_first(done: int, total: int) -> None:
        seen.append((done, total))
        raise Stop

    with pytest.raises(Stop):
        enrich_images(settings, batch_size=2, progress=crash_after_first, models=vision_models)
    assert seen == [(2, 6)]
    assert len(rows(settings)) == 2  # the finished batch is in the lake

    done: list[tuple[int, int]] = []
    second = enrich_images(
        settings, batch_size=2, progress=lambda d, t: done.append((d, t)), models=vision_models
    )
    assert second.already == 2 and done == [(2, 4), (4, 4)]
    assert second.labelled + second.failed + second.reused == 4
    stored = LakeQuery(settings.lake_dir).rows(
        "SELECT count(*) AS n, count(DISTINCT row_id) AS ids FROM post_labels_all"
    )[0]
    assert stored == {"n": 6, "ids": 6}  # every image once, nothing twice

    # Nothing left: no model is even loaded.
    def no_load(*_: object, **__: object) -> VisionModels:
        raise AssertionError("models loaded with nothing to do")

    monkeypatch.setattr(VisionModels, "load", no_load)
    third = enrich_images(settings)
    assert (third.already, third.labelled, third.batches) == (6, 0, 0)


def test_limit_leaves_the_rest_for_later(tmp_path: Path, vision_models: VisionModels) -> None:
    settings, _ = build(tmp_path / "home")
    first = enrich_images(settings, limit=3, models=vision_models)
    assert first.remaining == 3 and len(rows(settings)) == 3
    second = enrich_images(settings, limit=10, models=vision_models)
    assert (second.already, second.remaining) == (3, 0) and len(rows(settings)) == 6


def test_a_new_model_version_labels_again_beside_the_old(
    tmp_path: Path, vision_models: VisionModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = build(tmp_path / "home")
    enrich_images(settings, models=vision_models)
    monkeypatch.setattr(images_module, "MODEL_VERSION", "efficientnet-lite0-v2+test")
    again = enrich_images(settings, models=vision_models)
    assert again.already == 0 and again.labelled == 4
    models = LakeQuery(settings.lake_dir).rows(
        "SELECT model, count(*) AS n FROM post_labels GROUP BY model ORDER BY model"
    )
    assert [m["n"] for m in models] == [6, 6]


def test_models_load_from_the_homes_cache(
    tmp_path: Path, onnx_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = build(tmp_path / "home")
    install_cache(onnx_cache, settings)
    # Served from the cache: neither torch nor an export is needed.
    monkeypatch.setitem(sys.modules, "torch", None)
    summary = enrich_images(settings, limit=2, threads=1)
    # In order: the broken picture first, then the carousel's coffee.
    assert (summary.failed, summary.labelled) == (1, 1) and summary.images_per_s


def test_without_media_nothing_happens(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    summary = enrich_images(settings)
    assert summary.stored == 0 and not settings.media_dir.exists()


def test_without_the_extra_a_clear_message(
    tmp_path: Path, onnx_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = build(tmp_path / "home")
    install_cache(onnx_cache, settings)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtra, match=r"pip install 'tagpulse\[vision\]'"):
        enrich_images(settings)


def test_batch_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        enrich_images(Settings(home=tmp_path), batch_size=0)


def test_cli_enrich_images_step(tmp_path: Path, onnx_cache: Path) -> None:
    import orjson
    from typer.testing import CliRunner

    from tagpulse.cli.app import app

    settings, _ = build(tmp_path / "home")
    install_cache(onnx_cache, settings)
    home = ["--home", str(settings.home)]
    result = CliRunner().invoke(app, ["enrich", "--no-text", "--json", *home])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert list(doc) == ["images"]
    # Five stored pictures (the video is not one): four labelled, one broken.
    assert doc["images"]["enriched"] == 6 and doc["images"]["failed"] == 1
    assert len(rows(settings)) == 6
    again = orjson.loads(CliRunner().invoke(app, ["enrich", "--no-text", "--json", *home]).stdout)
    assert again["images"]["enriched"] == 0
