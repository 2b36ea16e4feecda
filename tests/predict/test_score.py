"""`predict score` and `predict best-time` on the planted lake (likes best at 19:00 UTC)."""

from __future__ import annotations

import math
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.best_time import best_time
from tagpulse.predict.evaluate import INTERVAL_COVERAGE, grouped_kfold, out_of_fold
from tagpulse.predict.features import FEATURES, build_dataset, row_features
from tagpulse.predict.gbm import GbmParams, gbm_predictor
from tagpulse.predict.scoring import (
    StoredModel,
    account_history,
    hypothetical_row,
    load_model,
    post_score,
)
from tagpulse.predict.vocabulary import with_vocabulary
from tests.predict.lakes import build_planted_lake

pytest.importorskip("lightgbm")

NEAR_19 = {18, 19, 20}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("score") / "home"
    build_planted_lake(home)  # 60 accounts × 25 posts
    result = CliRunner().invoke(app, ["predict", "train", "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture(scope="module")
def model(trained: Path) -> StoredModel:
    return load_model(trained)


def test_the_card_holds_the_cross_validated_interval(model: StoredModel) -> None:
    interval = model.card["interval"]
    assert interval["coverage"] == INTERVAL_COVERAGE
    assert interval["low"] < 0 < interval["high"]
    assert model.interval == (interval["low"], interval["high"])


def test_score_of_a_post_uses_its_training_features_and_is_near_its_cv_prediction(
    trained: Path, model: StoredModel
) -> None:
    query = LakeQuery(trained / "lake")
    data = build_dataset(query)
    # The folds `predict train` used (grouped, 5 folds, seed 0).
    oof = out_of_fold(data, gbm_predictor(GbmParams(seed=0)), grouped_kfold(data.groups, 5, 0))
    full = model.predict(with_vocabulary(data, model.vocabulary).X)
    picks = range(0, len(data.y), 23)
    diffs = []
    for i in picks:
        score, row = post_score(query, model, f"instagram:{data.post_ids[i]}")
        # Same features as in training: the full model's prediction of the training row.
        assert score.ratio == pytest.approx(full[i], abs=1e-9)
        assert str(row["post_id"]) == data.post_ids[i]
        assert score.ratio_low is not None and score.ratio_high is not None
        assert score.ratio_low <= score.ratio <= score.ratio_high
        diffs.append(abs(score.ratio - oof[i]))
    assert float(np.mean(diffs)) < 0.15
    assert float(np.mean(np.abs(full - oof))) < 0.15


def test_interval_covers_about_its_share_of_posts_of_unseen_accounts(
    model: StoredModel, tmp_path: Path
) -> None:
    other = build_planted_lake(tmp_path / "other", accounts=25, per_account=16, seed=11)
    query = LakeQuery(other.home / "lake")
    data = build_dataset(query)
    assert data.vocab == model.vocab  # the same category codes, so X is the model's input
    pred = model.predict(with_vocabulary(data, model.vocabulary).X)
    assert model.interval is not None
    low, high = model.interval
    covered = float(np.mean((data.y >= pred + low) & (data.y <= pred + high)))
    assert INTERVAL_COVERAGE - 0.12 <= covered <= INTERVAL_COVERAGE + 0.12
    # post_score scores those posts the same way.
    score, _ = post_score(query, model, f"instagram:{data.post_ids[7]}")
    assert score.ratio == pytest.approx(pred[7], abs=1e-9)


def test_best_time_ranks_19_utc_first(trained: Path, model: StoredModel) -> None:
    query = LakeQuery(trained / "lake")
    for handle in ("acct0", "acct7", "@acct21"):
        grid = best_time(model, account_history(query, handle, model.protocol))
        assert grid.ratio.shape == (7, 24)
        assert int(np.argmax(grid.hour_profile())) in NEAR_19
        assert grid.slots(1)[0][1] in NEAR_19
        # The planted factor is lowest at 07:00: the night/morning is worse than the evening.
        profile = grid.hour_profile()
        assert profile[5:10].mean() < profile[17:22].mean()


def test_a_post_not_yet_made_takes_the_caption_and_leaves_the_image_unknown(
    trained: Path, model: StoredModel
) -> None:
    history = account_history(LakeQuery(trained / "lake"), "acct3", model.protocol)
    latest = history.posts[-1]["taken_at"]
    at = latest.replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=2)
    row = hypothetical_row(history, at, "sunset #beach #sea with @ann")
    x = dict(zip(FEATURES, row_features(row, 10.0, 1.0, model.vocab), strict=True))
    assert x["hashtags"] == 2 and x["mentions"] == 1 and x["caption_length"] == 28
    assert math.isnan(x["faces"]) and math.isnan(x["sentiment"]) and math.isnan(x["top_label"])
    assert x["hour"] == 19 and x["account_mean_likes"] == 10.0
    assert x["followers"] == history.posts[-1]["followers"]
    assert x["hours_since_previous"] == pytest.approx((at - latest).total_seconds() / 3600)
    assert x["age_hours"] == pytest.approx(history.median_age().total_seconds() / 3600)


def test_unknown_account_and_bad_post_are_clear(trained: Path, model: StoredModel) -> None:
    query = LakeQuery(trained / "lake")
    with pytest.raises(InputError, match="no account @nobody"):
        account_history(query, "nobody", model.protocol)
    with pytest.raises(InputError, match="PLATFORM:POST_ID"):
        post_score(query, model, "u1p3")
    with pytest.raises(InputError, match="no post instagram:zzz"):
        post_score(query, model, "instagram:zzz")


def test_without_a_model_the_error_names_the_command(home: Path) -> None:
    build_planted_lake(home, accounts=3, per_account=4)
    runner = CliRunner()
    result = runner.invoke(app, ["predict", "score", "--post", "instagram:u1p1"])
    assert result.exit_code == 2 and "run `tagpulse predict train` first" in result.output
    args = ["predict", "best-time", "--account", "acct1", "--protocol", "study"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "`tagpulse predict train --protocol study`" in result.output


def test_cli_json_of_score_and_best_time(trained: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    home = ["--home", str(trained)]
    result = runner.invoke(app, ["predict", "score", "--post", "instagram:u2p5", "--json", *home])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["expected_likes"] == pytest.approx(doc["ratio"] * doc["account_mean_likes"])
    assert doc["likes_low"] <= doc["expected_likes"] <= doc["likes_high"]
    assert doc["coverage"] == INTERVAL_COVERAGE and doc["post"] == "instagram:u2p5"

    args = ["predict", "score", "--account", "acct2", "--at", "2026-11-25 18:00", "--json"]
    result = runner.invoke(app, [*args, "--caption", "hello #tag", "--video", *home])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["account"] == "instagram:u2" and doc["at"] == "2026-11-25T18:00:00+00:00"
    assert doc["ratio"] > 0

    out = tmp_path / "heat.html"
    args = ["predict", "best-time", "--account", "acct2", "--json", "--top", "3"]
    result = runner.invoke(app, [*args, "--out", str(out), *home])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert len(doc["best"]) == 3 and doc["best"][0]["hour"] in NEAR_19
    assert doc["best_hour"] in NEAR_19 and len(doc["ratio"]) == 7
    page = out.read_text()
    assert "<svg" in page and page.count("<rect") == 7 * 24
    embedded = page.split('id="tagpulse-heatmap-data">')[1].split("</script>")[0]
    assert orjson.loads(embedded)["ratio"] == doc["ratio"]

    png = tmp_path / "heat.png"
    result = runner.invoke(app, ["predict", "best-time", "--account", "acct2", "--out", str(png),
                                 *home])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "best hour over the week" in result.output
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cli_input_errors(trained: Path) -> None:
    runner = CliRunner()
    home = ["--home", str(trained)]
    result = runner.invoke(app, ["predict", "score", *home])
    assert result.exit_code == 2 and "either --post" in result.output
    result = runner.invoke(app, ["predict", "score", "--account", "acct1", *home])
    assert result.exit_code == 2 and "--at" in result.output
    result = runner.invoke(app, ["predict", "score", "--account", "acct1", "--at", "soon", *home])
    assert result.exit_code == 2 and "2026-11-25 18:00" in result.output
    result = runner.invoke(
        app, ["predict", "score", "--post", "instagram:u1p1", "--caption", "new words", *home]
    )
    assert result.exit_code == 2 and "not with --post" in result.output


def test_a_copied_model_scores_in_another_home(trained: Path, tmp_path: Path) -> None:
    other = tmp_path / "home2"
    build_planted_lake(other, accounts=4, per_account=5, seed=5)
    shutil.copytree(trained / "models", other / "models")
    result = CliRunner().invoke(
        app, ["predict", "score", "--post", "instagram:u0p2", "--home", str(other)]
    )
    assert result.exit_code == 0, result.output
    assert "expected likes" in result.output and "80% interval" in result.output
