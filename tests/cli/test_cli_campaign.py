"""`tagpulse campaign create|list|show|delete` and `tagpulse insights campaign`, end to end over
a lake with a planted +40 % campaign."""

from __future__ import annotations

import html
import re
from pathlib import Path

import orjson
import pytest
from PIL import Image
from typer.testing import CliRunner

from tagpulse.analysis.charts import CHART_DATA_ID
from tagpulse.cli.app import app
from tests.analysis.campaign_lakes import Planted, plant

runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Planted]:
    home = tmp_path_factory.mktemp("home")
    return home, plant(home / "lake", seed=11, uplift=0.40)


def run(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--home", str(home)])
    return result.exit_code, result.output


def test_round_trip(home: tuple[Path, Planted], tmp_path: Path) -> None:
    path, planted = home
    start, end = planted.start.strftime("%Y-%m-%d"), planted.end.strftime("%Y-%m-%d")
    code, out = run(path, "campaign", "create", "launch", "--tags", "#Brand,extra", "--handles",
                    "@shop", "--start", start, "--end", end, "--platform", "instagram")  # fmt: skip
    assert code == 0, out
    assert "launch" in out and "#brand" in out and "@shop" in out
    code, out = run(path, "campaign", "create", "launch", "--tags", "x", "--start", start,
                    "--end", end)  # fmt: skip
    assert code == 2 and "exists already" in out

    code, out = run(path, "campaign", "list", "--json")
    assert code == 0, out
    (listed,) = orjson.loads(out)
    assert listed["name"] == "launch" and listed["tags"] == ["brand", "extra"]
    assert listed["start"] == planted.start.isoformat().replace("+00:00", "Z")
    code, out = run(path, "campaign", "show", "launch", "--json")
    assert code == 0 and orjson.loads(out)["handles"] == ["shop"]
    code, out = run(path, "campaign", "show", "launch")
    assert code == 0 and "7 days" in out

    code, out = run(path, "insights", "campaign", "launch", "--json")
    assert code == 0, out
    doc = orjson.loads(out)
    assert [p["name"] for p in doc["periods"]] == ["before", "during", "after"]
    assert doc["periods"][1]["new_posts_by_tag"] == {
        "brand": doc["periods"][1]["new_posts"], "extra": None,
    }  # fmt: skip
    assert doc["periods"][1]["new_posts"] == pytest.approx(
        planted.actual(planted.start, planted.end), rel=0.002
    )
    assert doc["uplift"]["p_value"] < 0.01
    assert doc["uplift"]["estimate"] == pytest.approx(planted.realized_uplift, abs=0.03)
    assert doc["counterfactual"][0]["period"] == "during"
    assert doc["periods"][1]["sentiment"] is None

    code, out = run(path, "insights", "campaign", "launch")
    assert code == 0, out
    assert "Uplift during vs before" in out and "counterfactual" in out
    assert "#extra: no counts around these dates" in out

    code, out = run(path, "campaign", "delete", "launch")
    assert code == 0 and "deleted" in out
    code, out = run(path, "campaign", "show", "launch")
    assert code == 2 and "no campaign named 'launch'" in out
    code, out = run(path, "insights", "campaign", "launch")
    assert code == 2 and "no campaign named 'launch'" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--start", "2026-13-01", "--end", "2026-11-08"], "--start"),
        (["--start", "2026-11-08", "--end", "next week"], "--end"),
        (["--start", "2026-11-08", "--end", "2026-11-01"], "must come after the start"),
    ],
)
def test_bad_dates_are_refused(home: tuple[Path, Planted], args: list[str], words: str) -> None:
    code, out = run(home[0], "campaign", "create", "bad", "--tags", "brand", *args)
    assert code == 2 and words in out
    code, out = run(home[0], "campaign", "list", "--json")
    assert "bad" not in [c["name"] for c in orjson.loads(out)]


def test_ad_hoc_campaign_and_charts(home: tuple[Path, Planted], tmp_path: Path) -> None:
    path, planted = home
    adhoc = ["--tags", "brand", "--start", planted.start.isoformat(), "--end",
             planted.end.isoformat()]  # fmt: skip
    page = tmp_path / "campaign.html"
    code, out = run(path, "insights", "campaign", *adhoc, "--bucket", "12h", "--baseline", "14d",
                    "--top", "3", "--out", str(page), "--json")  # fmt: skip
    assert code == 0, out
    doc = orjson.loads(out)
    assert doc["campaign"]["name"] == "ad-hoc"
    assert doc["method"]["block_hours"] == 12
    assert doc["periods"][0]["days"] == 14
    text = page.read_text()
    data = orjson.loads(
        html.unescape(re.search(rf'id="{CHART_DATA_ID}">(.*?)</script>', text, re.S)[1])  # type: ignore[index]
    )
    assert [label for _, label in data["marks"]] == ["before", "during", "after"]
    assert data["interval_s"] == 12 * 3600
    assert len(data["series"]["new posts per day"]) == 28 + 14 + 14
    assert len(data["series"]["counterfactual"]) == 14 + 14
    assert text.count('class="mark"') == 3

    png = tmp_path / "campaign.png"
    code, out = run(path, "insights", "campaign", *adhoc, "--out", str(png))
    assert code == 0, out
    with Image.open(png) as image:
        described = orjson.loads(image.info["Description"])  # type: ignore[attr-defined]
    assert described["marks"][1] == [doc["campaign"]["start"], "during"]


def test_what_to_measure_must_be_clear(home: tuple[Path, Planted]) -> None:
    path, _ = home
    code, out = run(path, "insights", "campaign")
    assert code == 2 and "--start" in out
    code, out = run(path, "insights", "campaign", "x", "--tags", "brand")
    assert code == 2 and "not both" in out
    code, out = run(path, "insights", "campaign", "--tags", "brand", "--start", "2026-10-22",
                    "--end", "2026-10-29", "--bucket", "90m")  # fmt: skip
    assert code == 2 and "--bucket" in out
