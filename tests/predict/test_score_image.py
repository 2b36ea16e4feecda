"""`predict score --image --caption` on a post not yet made: the image's faces, smiles and
labels and the caption's sentiment and language, as `tagpulse enrich` would compute them."""

from __future__ import annotations

import math
from pathlib import Path

import orjson
import pytest
from PIL import Image
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.config import Settings
from tagpulse.predict.hypothetical import caption_facts
from tests.enrich.vision_fixtures import install_cache, onnx_cache, photo
from tests.predict.lakes import build_planted_lake

__all__ = ["onnx_cache"]  # fixture used here

pytest.importorskip("lightgbm")
pytest.importorskip("cv2")
pytest.importorskip("retinaface")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("image") / "home"
    build_planted_lake(home, accounts=20, per_account=10)
    result = CliRunner().invoke(app, ["predict", "train", "--folds", "2", "--home", str(home)])
    assert result.exit_code == 0, result.output
    return home


def test_caption_facts_are_the_text_enrichments() -> None:
    pytest.importorskip("vaderSentiment")
    happy = caption_facts("What a wonderful, happy day at the beach with my best friends!")
    assert happy.language == "en" and happy.sentiment is not None and happy.sentiment > 0.5
    sad = caption_facts("This is the worst, saddest and most awful day of my life.")
    assert sad.sentiment is not None and sad.sentiment < -0.5 and sad.missing is None


@pytest.mark.slow
def test_score_image_and_caption_of_a_post_not_yet_made(
    trained: Path, onnx_cache: Path, tmp_path: Path
) -> None:
    install_cache(onnx_cache, Settings(home=trained))
    image = tmp_path / "astronaut.jpg"
    Image.fromarray(photo("astronaut")).save(image, "JPEG", quality=92)
    base = ["predict", "score", "--account", "acct4", "--at", "2026-11-25 18:00", "--json"]
    home = ["--home", str(trained)]
    caption = ["--caption", "What a wonderful, happy day! #space #nasa"]
    runner = CliRunner()
    result = runner.invoke(app, [*base, *caption, "--image", str(image), *home])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["faces"] >= 1 and doc["smiles"] >= 1
    assert math.isfinite(doc["ratio"]) and doc["ratio"] > 0
    assert doc["expected_likes"] == pytest.approx(doc["ratio"] * doc["account_mean_likes"])
    assert doc["likes_low"] <= doc["expected_likes"] <= doc["likes_high"]
    assert doc["labels"] and doc["caption language"] == "en" and doc["caption sentiment"] > 0
    # The image reaches the model: without it the faces are unknown and the score differs.
    plain = orjson.loads(runner.invoke(app, [*base, *caption, *home]).output)
    assert "faces" not in plain and plain["ratio"] != doc["ratio"]


def test_a_missing_image_is_a_clear_error(trained: Path, tmp_path: Path) -> None:
    args = ["predict", "score", "--account", "acct4", "--at", "2026-11-25 18:00"]
    result = CliRunner().invoke(
        app, [*args, "--image", str(tmp_path / "none.jpg"), "--home", str(trained)]
    )
    assert result.exit_code == 2 and "no such image file" in result.output
