"""Registering a trained model: its data snapshot, its card and its versioned copy.

``predict train`` saves each model at ``<home>/models/<kind>-<protocol>.<suffix>`` with its
JSON card; :func:`register_trained` then gives it the next version of its kind in the catalog's
registry and copies the artefact, the JSON card, the markdown card and the calibration PNG to
``<home>/models/registry/<kind>-v<N>/``, which never change afterwards. Scoring loads the
latest version (or the one asked for) from there.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.catalog_models import RegisteredModel
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.storage import LakeRoot, ObjectLake
from tagpulse.predict.card import calibration_bins, card_markdown, write_calibration_png
from tagpulse.predict.evaluate import Metrics
from tagpulse.predict.features import Dataset

__all__ = [
    "calibration_path",
    "card_path",
    "data_snapshot",
    "lake_fingerprint",
    "register_trained",
    "version_dir",
]


def card_path(artefact: Path) -> Path:
    """The markdown card beside an artefact."""
    return artefact.with_suffix(".md")


def calibration_path(artefact: Path) -> Path:
    return artefact.with_name(f"{artefact.stem}-calibration.png")


def version_dir(home: Path, kind: str, version: int) -> Path:
    return home / "models" / "registry" / f"{kind}-v{version}"


def lake_fingerprint(lake_dir: LakeRoot) -> tuple[int, str]:
    """The number of Parquet files under the lake's tables (local files or objects) and a hash
    of their names and sizes: any write, compaction or deletion changes it."""
    if isinstance(lake_dir, ObjectLake):
        prefix = lake_dir.key("tables") + "/"
        sized = [
            (key.removeprefix(prefix), size)
            for key, size, _ in lake_dir.stats("tables/*/platform=*/date=*/*.parquet")
        ]
    else:
        tables = lake_dir / "tables"
        found = sorted(p for p in tables.rglob("*.parquet") if not p.name.startswith("."))
        sized = [(p.relative_to(tables).as_posix(), p.stat().st_size) for p in found]
    digest = hashlib.sha256()
    for name, size in sorted(sized):
        digest.update(f"{name}:{size}\n".encode())
    return len(sized), digest.hexdigest()[:16]


def data_snapshot(lake_dir: LakeRoot, data: Dataset) -> dict[str, Any]:
    """What the model was trained on: posts, accounts and the lake's state."""
    files, fingerprint = lake_fingerprint(lake_dir)
    query = LakeQuery(lake_dir)
    latest = None
    if query.has_data("posts"):
        rows = query.rows("SELECT max(collected_at) AS latest FROM posts_all")
        latest = rows[0]["latest"] if rows else None
    return {
        "posts": len(data.y),
        "accounts": data.accounts,
        "lake_files": files,
        "latest_observation": latest.isoformat() if latest is not None else None,
        "fingerprint": fingerprint,
    }


def register_trained(
    catalog: Catalog,
    home: Path,
    doc: dict[str, Any],
    metrics: Mapping[str, Metrics],
    data: Dataset,
    oof: npt.NDArray[np.float64],
    *,
    lake_dir: LakeRoot,
    card_out: Path | None = None,
) -> RegisteredModel:
    """Register the model ``doc`` (its JSON card, as ``predict train`` wrote it beside the
    artefact) as the next version of its kind; write its markdown card and calibration PNG
    beside the artefact, in the version's folder and (``card_out``) where asked. Updates
    ``doc`` with the version, the snapshot and the card's path."""
    artefact = Path(doc["path"])
    kind = str(doc["model"])
    bins = calibration_bins(data.y, oof)

    def write_card(target: Path) -> None:
        png = calibration_path(target)
        title = f"{kind} v{doc['version']}: predicted vs observed likes ratio (out-of-fold)"
        write_calibration_png(bins, png, title=title)
        target.write_text(card_markdown(doc, metrics, bins, png.name), encoding="utf-8")

    def place(version: int) -> str:
        folder = version_dir(home, kind, version)
        folder.mkdir(parents=True, exist_ok=True)
        doc["version"] = version
        doc["markdown_card"] = str(card_path(artefact))
        shutil.copy2(artefact, folder / artefact.name)
        for where in (artefact, folder / artefact.name):
            where.with_suffix(".json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
            write_card(card_path(where))
        return (folder / artefact.name).relative_to(home).as_posix()

    doc["snapshot"] = data_snapshot(lake_dir, data)
    entry = catalog.register_model(
        kind,
        protocol=str(doc["protocol"]),
        split=str(doc["split"]),
        seed=int(doc["seed"]),
        metrics=dict(doc["metrics"]),
        features=list(doc["features"]),
        snapshot=doc["snapshot"],
        place=place,
    )
    if card_out is not None:
        card_out.parent.mkdir(parents=True, exist_ok=True)
        write_card(card_out)
    return entry
