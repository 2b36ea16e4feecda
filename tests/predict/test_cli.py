"""`tagpulse predict evaluate` and `train` on the planted lake."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tests.predict.lakes import PLANTED, build_planted_lake

pytest.importorskip("lightgbm")


@pytest.fixture
def planted_home(home: Path) -> Path:
    build_planted_lake(home, accounts=30, per_account=14)
    return home


def test_evaluate_json_beats_the_baselines(planted_home: Path) -> None:
    result = CliRunner().invoke(app, ["predict", "evaluate", "--json", "--folds", "4"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["posts"] == 30 * 14 and doc["accounts"] == 30 and doc["split"] == "grouped"
    metrics = doc["metrics"]
    assert set(metrics) == {"account mean", "median", "gbm"}
    assert metrics["gbm"]["rmse"] < min(metrics["account mean"]["rmse"], metrics["median"]["rmse"])


def test_evaluate_table_and_study_protocol(planted_home: Path) -> None:
    result = CliRunner().invoke(
        app, ["predict", "evaluate", "--protocol", "study", "--split", "random", "--seed", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "study protocol: 330 posts of 30 accounts" in result.output  # 11 per account
    assert "gbm beats both baselines" in result.output


def test_train_saves_the_model_and_its_card(planted_home: Path) -> None:
    result = CliRunner().invoke(app, ["predict", "train", "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    model = planted_home / "models" / "gbm-grouped.txt"
    assert Path(doc["path"]) == model and model.read_text().startswith("tree")
    meta = orjson.loads(model.with_suffix(".json").read_bytes())
    assert meta["metrics"] == doc["metrics"] and meta["features"]["faces"].startswith("post_labels")
    assert meta["importance"][0]["feature"] in PLANTED


def test_bad_options_and_empty_lake_are_clear(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["predict", "evaluate", "--model", "rnn"])
    assert result.exit_code == 2 and "--model" in result.output
    result = runner.invoke(app, ["predict", "train"])
    assert result.exit_code == 2 and "two or more posts" in result.output


@pytest.mark.slow
def test_all_models_beside_the_baselines_and_the_mlp_saved_as_onnx(planted_home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["predict", "train", "--model", "all", "--folds", "3", "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert set(doc["metrics"]) == {"account mean", "median", "gbm", "mlp", "cnn", "mixed"}
    assert set(doc["models"]) == {"gbm", "mlp", "cnn", "mixed"}
    mlp = doc["metrics"]["mlp"]
    assert mlp["rmse"] < min(
        doc["metrics"]["account mean"]["rmse"], doc["metrics"]["median"]["rmse"]
    )
    onnx = planted_home / "models" / "mlp-grouped.onnx"
    assert Path(doc["models"]["mlp"]["path"]) == onnx and onnx.read_bytes()[:2] != b"tr"
    card = orjson.loads(onnx.with_suffix(".json").read_bytes())
    prep = card["preprocessing"]
    assert prep["features"] == list(card["features"]) and "sentiment" in prep["indicators"]
    assert card["interval"]["low"] < 0 < card["interval"]["high"]
    assert (planted_home / "models" / "gbm-grouped.txt").is_file()
    scores = {}
    for model in ("gbm", "mlp"):
        result = runner.invoke(
            app, ["predict", "score", "--post", "instagram:u0p5", "--model", model, "--json"]
        )
        assert result.exit_code == 0, result.output
        out = orjson.loads(result.output)
        assert out["model"].endswith(f"{model}-grouped" + (".onnx" if model == "mlp" else ".txt"))
        scores[model] = out["ratio"]
    assert scores["gbm"] != scores["mlp"] and all(0.2 < r < 3 for r in scores.values())
    result = runner.invoke(app, ["predict", "best-time", "--account", "acct0", "--model", "mlp"])
    assert result.exit_code == 0, result.output
    assert "best hour over the week" in result.output


def test_score_with_an_untrained_model_names_the_command(planted_home: Path) -> None:
    result = CliRunner().invoke(
        app, ["predict", "score", "--post", "instagram:u0p5", "--model", "mlp"]
    )
    assert result.exit_code == 2 and "predict train --model mlp" in result.output
