"""The model registry, the model card and `predict evaluate --data` (a lake not trained on)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.lake.catalog import Catalog
from tagpulse.predict.card import calibration_bins, counts_verdict
from tagpulse.predict.evaluate import Metrics
from tests.predict.lakes import build_planted_lake

pytest.importorskip("lightgbm")

QUICK = ["--folds", "3"]
Trained = tuple[Path, dict[str, Any], dict[str, Any]]


def _metrics(rmse: float, mae: float) -> Metrics:
    return Metrics(10, rmse, mae, rmse / 4, mae / 4, 50.0, None, 0.5)


def test_catalog_versions_count_up_per_kind(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    placed: list[int] = []

    def place(version: int) -> str:
        placed.append(version)
        return f"models/registry/x-v{version}/model.txt"

    common = {"split": "grouped", "seed": 0, "metrics": {}, "features": ["hour"],
              "snapshot": {"posts": 3}, "place": place}  # fmt: skip
    a = catalog.register_model("gbm", protocol="grouped", **common)
    b = catalog.register_model("mlp", protocol="grouped", **common)
    c = catalog.register_model("gbm", protocol="study", **common)
    d = catalog.register_model("gbm", protocol="grouped", **common)
    assert [a.version, b.version, c.version, d.version] == [1, 1, 2, 3] and placed == [1, 1, 2, 3]
    assert [(m.kind, m.version) for m in catalog.registered_models()] == [
        ("gbm", 1), ("gbm", 2), ("gbm", 3), ("mlp", 1),
    ]  # fmt: skip
    assert catalog.registered_model("gbm", protocol="study") == c
    assert catalog.registered_model("gbm", protocol="grouped") == d
    assert catalog.registered_model("gbm", 1) == a and catalog.registered_model("gbm", 9) is None
    # A second connection (another process) sees the same registry.
    again = Catalog(tmp_path / "catalog.sqlite").registered_model("mlp")
    assert again is not None and again.features == ["hour"] and again.snapshot == {"posts": 3}
    assert again.created_at <= datetime.now(UTC)


def test_counts_only_where_it_beats_both_baselines() -> None:
    base = {"account mean": _metrics(0.30, 0.20), "median": _metrics(0.28, 0.21)}
    counts, line = counts_verdict("gbm", base | {"gbm": _metrics(0.25, 0.19)})
    assert counts and line.startswith("gbm counts") and "not on: MAPE %" in line
    counts, line = counts_verdict("gbm", base | {"gbm": _metrics(0.25, 0.205)})
    assert not counts and "does NOT count" in line and "MAE" in line.split("not on:")[1]


def test_calibration_bins_are_deciles_of_the_prediction() -> None:
    pred = np.arange(100, dtype=float) / 100
    truth = 2 * pred
    pred[3] = np.nan  # no out-of-fold prediction: left out
    bins = calibration_bins(truth, pred)
    assert len(bins) == 10 and sum(b.posts for b in bins) == 99
    assert [b.observed for b in bins] == pytest.approx([2 * b.predicted for b in bins])
    assert all(x.predicted < y.predicted for x, y in itertools.pairwise(bins))


@pytest.fixture(scope="module")
def trained_twice(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    home = tmp_path_factory.mktemp("registry") / "home"
    build_planted_lake(home, accounts=24, per_account=12)
    runner = CliRunner()
    card = home.parent / "cards" / "gbm-card.md"
    first = runner.invoke(app, ["predict", "train", "--json", *QUICK, "--home", str(home)])
    assert first.exit_code == 0, first.output
    args = ["predict", "train", "--json", *QUICK, "--seed", "1", "--card", str(card)]
    second = runner.invoke(app, [*args, "--home", str(home)])
    assert second.exit_code == 0, second.output
    return home, orjson.loads(first.output), orjson.loads(second.output)


def test_train_registers_increasing_versions_and_models_lists_them(
    trained_twice: Trained,
) -> None:
    home, first, second = trained_twice
    assert (first["version"], second["version"]) == (1, 2)
    result = CliRunner().invoke(app, ["predict", "models", "--json", "--home", str(home)])
    assert result.exit_code == 0, result.output
    listed = orjson.loads(result.output)
    assert [(m["kind"], m["version"], m["seed"]) for m in listed] == [("gbm", 1, 0), ("gbm", 2, 1)]
    for entry, doc in zip(listed, (first, second), strict=True):
        assert entry["metrics"] == doc["metrics"] and entry["protocol"] == "grouped"
        assert entry["features"] == list(doc["features"])
        assert any(f.startswith("label_") for f in entry["features"])  # image labels are used
        snap = entry["snapshot"]
        assert snap["posts"] == 24 * 12 and snap["accounts"] == 24 and snap["lake_files"] >= 2
        assert snap["latest_observation"].startswith("2026-") and len(snap["fingerprint"]) == 16
        # Each version keeps its own artefact, byte for byte what training saved then.
        assert (home / entry["path"]).is_file()
    assert listed[0]["path"] != listed[1]["path"]
    table = CliRunner().invoke(app, ["predict", "models", "--home", str(home)])
    assert table.exit_code == 0 and "Registered models" in table.output


def test_score_uses_the_latest_version_or_the_one_asked_for(
    trained_twice: Trained,
) -> None:
    home, _, _ = trained_twice
    runner = CliRunner()
    args = ["predict", "score", "--post", "instagram:u3p4", "--json", "--home", str(home)]
    latest = orjson.loads(runner.invoke(app, args).output)
    v1 = orjson.loads(runner.invoke(app, [*args, "--version", "1"]).output)
    assert latest["version"] == 2 and v1["version"] == 1
    assert "gbm-v1" in v1["model"] and "gbm-v2" in latest["model"]
    assert latest["ratio"] != v1["ratio"]  # another seed, another model
    missing = runner.invoke(app, [*args, "--version", "7"])
    assert missing.exit_code == 2 and "predict models" in missing.output


def test_the_card_holds_the_metrics_table_and_the_calibration_png(
    trained_twice: Trained,
) -> None:
    home, _, second = trained_twice
    md = Path(second["markdown_card"])
    assert md == home / "models" / "gbm-grouped.md"
    cards = [
        md,
        home.parent / "cards" / "gbm-card.md",
        home / "models/registry/gbm-v2/gbm-grouped.md",
    ]
    for card in cards:
        text = card.read_text()
        assert text.startswith("# Model card: gbm v2")
        assert "| model | RMSE | MAE |" in text
        for name in ("account mean", "median", "gbm"):
            assert f"| {name} | " in text
        rmse = second["metrics"]["gbm"]["rmse"]
        assert f"{rmse:.4f}" in text
        assert "gbm counts: it beats both baselines on RMSE and MAE" in text  # planted signal
        assert f"Posts: {24 * 12:,} of 24 accounts" in text
        assert "| faces | post_labels.faces" in text and "| label_dog | post_labels.labels" in text
        png = card.with_name(f"{card.stem}-calibration.png")
        assert f"]({png.name})" in text
        assert png.read_bytes().startswith(b"\x89PNG")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_evaluate_data_scores_another_lake_without_training_on_it(
    trained_twice: Trained,
    tmp_path: Path,
) -> None:
    home, _, second = trained_twice
    other = build_planted_lake(tmp_path / "other", accounts=15, per_account=10, seed=21)
    models = sorted(p for p in (home / "models").rglob("*") if p.is_file())
    before = {p: (_sha(p), p.stat().st_mtime_ns) for p in models}
    runner = CliRunner()
    args = ["predict", "evaluate", "--data", str(other.home), "--json", "--home", str(home)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    # Nothing trained or written: every model file is as it was, no new version.
    assert sorted(p for p in (home / "models").rglob("*") if p.is_file()) == models
    assert {p: (_sha(p), p.stat().st_mtime_ns) for p in models} == before
    listed = orjson.loads(runner.invoke(app, ["predict", "models", "--json", "--home",
                                              str(home)]).output)  # fmt: skip
    assert len(listed) == 2
    assert doc["version"] == 2 and doc["posts"] == 15 * 10 and doc["accounts"] == 15
    metrics = doc["metrics"]
    assert set(metrics) == {"account mean", "median", "gbm"}
    assert metrics["gbm"]["n"] == 150 and metrics["gbm"] != second["metrics"]["gbm"]
    # The planted signal carries over to accounts never seen: the model still beats both.
    assert metrics["gbm"]["rmse"] < min(metrics["account mean"]["rmse"], metrics["median"]["rmse"])
    assert metrics["account mean"]["rmse"] != second["metrics"]["account mean"]["rmse"]
    # The lake dir itself works too, and a table names the data and the verdict.
    table = runner.invoke(app, ["predict", "evaluate", "--data", str(other.home / "lake"),
                                "--version", "1", "--home", str(home)])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "gbm v1 on" in table.output and "not trained on" in table.output
    assert "gbm counts" in table.output


def test_evaluate_data_errors_are_clear(
    trained_twice: Trained,
    tmp_path: Path,
) -> None:
    home, _, _ = trained_twice
    runner = CliRunner()
    base = ["predict", "evaluate", "--home", str(home), "--data"]
    result = runner.invoke(app, [*base, str(tmp_path)])
    assert result.exit_code == 2 and "--data-format" in result.output
    result = runner.invoke(app, [*base, str(tmp_path), "--data-format", "nope"])
    assert result.exit_code == 2 and "zeeschuimer" in result.output
    result = runner.invoke(app, [*base, str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_evaluate_data_imports_a_zeeschuimer_file_into_a_temporary_lake(
    trained_twice: Trained,
) -> None:
    home, _, _ = trained_twice
    export = Path(__file__).parents[1] / "fixtures" / "zeeschuimer" / "zeeschuimer-composed.ndjson"
    lake_files = sorted((home / "lake").rglob("*"))
    args = ["predict", "evaluate", "--data", str(export), "--data-format", "zeeschuimer"]
    result = CliRunner().invoke(app, [*args, "--json", "--home", str(home)])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert (doc["posts"], doc["accounts"]) == (15, 2)  # the export's accounts with 2+ posts
    assert doc["metrics"]["account mean"]["n"] == doc["metrics"]["gbm"]["n"] == 15
    assert sorted((home / "lake").rglob("*")) == lake_files  # the home's lake is untouched
