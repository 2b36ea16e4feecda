"""Evaluating a trained model on data it was not trained on (``predict evaluate --data DIR``).

``DIR`` is a tagpulse lake (a folder with ``tables/``), a tagpulse home (with ``lake/tables/``)
or a folder or file that ``tagpulse import`` understands, imported into a temporary lake first
(the caller's home is never touched). The data is encoded exactly as the model's training data
was — the model's categorical codes, MinMax scaling (protocol ``study``) and caption-word and
label vocabulary, all from its card — and nothing is fitted on it: the model predicts, the
metrics are computed. The baselines beside it: the account mean (ratio 1.0) and the median
ratio of the model's *training* posts (from its card), both fixed before seeing this data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tagpulse.errors import InputError
from tagpulse.imports.base import run_import
from tagpulse.imports.registry import IMPORT_FORMATS, importer_for
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.evaluate import Metrics, compute_metrics
from tagpulse.predict.features import dataset_from_rows, load_post_rows
from tagpulse.predict.registry import lake_fingerprint
from tagpulse.predict.scoring import StoredModel

__all__ = ["ExternalEvaluation", "evaluate_on_lake", "lake_of"]


def lake_of(path: Path, data_format: str | None, workdir: Path) -> Path:
    """The lake directory holding ``path``'s data: itself, its ``lake/``, or a lake under
    ``workdir`` that ``path`` is imported into with the importer ``data_format``."""
    if not path.exists():
        raise InputError("no such file or directory", path=str(path), field="--data")
    if data_format is None:
        for lake in (path, path / "lake"):
            if (lake / "tables").is_dir():
                return lake
        raise InputError(
            "not a tagpulse lake (no tables/ folder in it or in its lake/): to import it, pass "
            f"--data-format with one of {', '.join(IMPORT_FORMATS)}",
            path=str(path),
            field="--data",
        )
    importer = importer_for(data_format)
    if importer is None:
        raise InputError(
            f"unknown import format {data_format!r}; use one of {', '.join(IMPORT_FORMATS)}",
            field="--data-format",
        )
    lake = workdir / "lake"
    run_import(importer, path, lake_dir=lake, catalog=Catalog(workdir / "catalog.sqlite"))
    return lake


@dataclass(slots=True)
class ExternalEvaluation:
    posts: int
    accounts: int
    lake_files: int
    fingerprint: str
    metrics: dict[str, Metrics]

    def as_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "accounts": self.accounts,
            "lake_files": self.lake_files,
            "fingerprint": self.fingerprint,
            "metrics": {name: m.as_dict() for name, m in self.metrics.items()},
        }


def evaluate_on_lake(
    model: StoredModel, kind: str, lake_dir: Path, *, platform: str | None = None
) -> ExternalEvaluation:
    """The model's metrics on every post of ``lake_dir`` (its protocol's), beside the
    baselines; nothing is fitted on that data."""
    rows = load_post_rows(LakeQuery(lake_dir), platform=platform)
    data = dataset_from_rows(
        rows, protocol=model.protocol, vocab=model.vocab, scaling=model.scaling or None
    )
    X = np.hstack([data.X, model.vocabulary.matrix(data.captions, data.labels)])
    if X.shape[1] != len(model.feature_names):
        raise InputError(
            f"the model reads {len(model.feature_names)} features, the data gives {X.shape[1]}: "
            "train it again with this version of tagpulse",
            path=str(model.path),
        )
    trained_median = model.card.get("y_median")
    median = float(np.median(data.y)) if trained_median is None else float(trained_median)
    predictions = {
        "account mean": np.ones(len(data.y)),
        "median": np.full(len(data.y), median),
        kind: model.predict(X),
    }
    metrics = {
        name: compute_metrics(data.y, pred, data.groups, data.y_range)
        for name, pred in predictions.items()
    }
    files, fingerprint = lake_fingerprint(lake_dir)
    return ExternalEvaluation(len(data.y), data.accounts, files, fingerprint, metrics)
