"""`insights classes` on a hand-built lake where every number is known: posts and their
observations in `posts`, image labels in `post_labels` (as enrichment writes them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from PIL import Image
from typer.testing import CliRunner

from tagpulse.analysis.classes import image_classes
from tagpulse.analysis.panel_bars import BARS_DATA_ID
from tagpulse.cli.app import app
from tagpulse.errors import InputError
from tagpulse.lake.post_labels import POST_LABELS, PostLabel, post_labels_table
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import ParsedRecords, Post

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NEW = "efficientnet-lite0-v2+x"
OLD = "efficientnet-lite0-v1+x"


def label(
    post: str, label_: str | None, index: int = 0, *, platform: str = "instagram",
    model: str = NEW, at: datetime = T0, sha: str | None = None, error: str | None = None,
) -> PostLabel:  # fmt: skip
    labels = [] if label_ is None else [(label_, 0.9), ("other", 0.05)]
    return PostLabel(
        platform, post, "owner", sha or f"{post}-{index}".ljust(64, "0"), index, T0, model,
        labels, 0, 0, 0, error, at,
    )  # fmt: skip


def post(
    post_id: str, likes: int | None, comments: int | None, *, tags: tuple[str, ...] = ("nike",),
    taken: datetime = T0, at: datetime = T0, platform: str = "instagram",
) -> Post:  # fmt: skip
    return Post(
        platform, post_id, at, f"r-{post_id}-{at.timestamp()}", owner_id="owner", likes=likes,
        comments=comments, hashtags=list(tags), taken_at=taken,
    )  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    posts = [
        post("t1", 10, 1),
        post("t2", 20, 2),
        post("t3", 5, 0, taken=T0 - timedelta(days=10)),
        post("t3", 30, 3, taken=T0 - timedelta(days=10), at=T0 + timedelta(days=1)),  # later
        post("e1", 100, 10, tags=("puma",)),
        post("e2", None, 4),  # likes hidden: not a zero
        post("k1", 7, 7, tags=("nike", "puma")),
        post("x1", 1000, 100, platform="tiktok"),
    ]
    writer = LakeWriter(home / "lake")
    writer.append_records(ParsedRecords(posts=posts))
    labels = [
        label("t1", "tabby"),
        label("t1", "espresso", 1),  # a carousel counts in its cover's class
        label("t2", "tabby"),
        label("t3", "tabby"),
        label("e1", "espresso"),
        label("e2", None, 0, error="OSError: truncated"),  # the cover did not decode …
        label("e2", "espresso", 1),  # … so the next picture is the cover
        # The same picture labelled by an older model first: the latest labelling wins.
        label("k1", "espresso", 0, model=OLD, at=T0 - timedelta(days=1)),
        label("k1", "tank"),
        label("gone", "tabby"),  # a post the lake does not hold: no engagement to count
        label("x1", "tabby", platform="tiktok"),
    ]
    by_platform: dict[str, list[PostLabel]] = {}
    for row in labels:
        by_platform.setdefault(row.platform, []).append(row)
    for platform, rows in by_platform.items():
        writer.write_table(POST_LABELS, platform, post_labels_table(rows), "enriched_at")
    return home


def test_posts_likes_and_comments_by_class(lake: Path) -> None:
    result = image_classes(LakeQuery(lake / "lake"), platform="instagram")
    by = {c.label: c for c in result.classes}
    assert [c.label for c in result.classes] == ["tabby", "espresso", "tank"]
    tabby, espresso, tank = by["tabby"], by["espresso"], by["tank"]
    # t1, t2, t3 (its latest observation: 30 likes, 3 comments).
    assert (tabby.posts, tabby.likes, tabby.comments) == (3, 60, 6)
    assert tabby.mean_likes == pytest.approx(20.0) and tabby.mean_comments == pytest.approx(2.0)
    # e1, and e2 whose likes are hidden: the mean is over e1 alone.
    assert (espresso.posts, espresso.likes, espresso.comments) == (2, 100, 14)
    assert espresso.mean_likes == pytest.approx(100.0) and espresso.mean_comments == 7.0
    assert (tank.posts, tank.likes) == (1, 7)
    assert result.posts_labelled == 6 and result.other_posts == 0
    assert sum(c.posts_share for c in result.classes) == pytest.approx(1.0)


def test_filters(lake: Path) -> None:
    query = LakeQuery(lake / "lake")
    everywhere = image_classes(query)
    assert everywhere.posts_labelled == 7  # with the tiktok post
    assert {c.label: c.posts for c in everywhere.classes}["tabby"] == 4
    puma = image_classes(query, ["#Puma"], platform="instagram")
    assert {c.label: c.posts for c in puma.classes} == {"espresso": 1, "tank": 1}
    recent = image_classes(query, since=T0 - timedelta(days=1), platform="instagram")
    assert {c.label: c.posts for c in recent.classes}["tabby"] == 2  # t3 is 10 days old
    older = image_classes(query, until=T0 - timedelta(days=1), platform="instagram")
    assert [(c.label, c.posts) for c in older.classes] == [("tabby", 1)]
    top1 = image_classes(query, top=1, platform="instagram")
    assert [c.label for c in top1.classes] == ["tabby"] and top1.other_posts == 3
    with pytest.raises(InputError):
        image_classes(query, top=0)


def test_empty_lake(tmp_path: Path) -> None:
    result = image_classes(LakeQuery(tmp_path / "lake"))
    assert result.classes == [] and result.posts_labelled == 0


def test_cli_json_and_charts(lake: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    html_out, png_out = tmp_path / "classes.html", tmp_path / "classes.png"
    done = runner.invoke(
        app,
        ["insights", "classes", "--platform", "instagram", "--top", "2", "--json",
         "--out", str(html_out), "--home", str(lake)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    doc = orjson.loads(done.stdout)
    assert [c["label"] for c in doc["classes"]] == ["tabby", "espresso"]
    assert doc["classes"][0]["likes"] == 60 and doc["other_posts"] == 1
    page = html_out.read_text()
    data = re.search(rf'id="{BARS_DATA_ID}">(.*?)</script>', page, re.S)
    assert data is not None
    panels = orjson.loads(data.group(1))["panels"]
    assert [p["title"] for p in panels] == ["posts", "likes per post", "comments per post"]
    assert panels[0]["bars"] == [
        {"label": "tabby", "value": 3.0},
        {"label": "espresso", "value": 2.0},
    ]
    assert panels[1]["bars"][1] == {"label": "espresso", "value": 100.0}
    assert "<svg" in page and ">tabby<" in page

    done = runner.invoke(app, ["insights", "classes", "nike", "--since", "2026-11-01",
                               "--until", "2026-11-05", "--out", str(png_out),
                               "--home", str(lake)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "tabby" in done.stdout and "chart:" in done.stdout
    with Image.open(png_out) as image:
        described = orjson.loads(image.info["Description"])
    # #nike in those days: t1, t2 and the tiktok post are tabby; t3 is older.
    posts = [(b["label"], b["value"]) for b in described["panels"][0]["bars"]]
    assert posts == [("tabby", 3.0), ("espresso", 1.0), ("tank", 1.0)]


def test_cli_refuses_a_chart_it_cannot_name(lake: Path, tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["insights", "classes", "--out", str(tmp_path / "c.svg"), "--home", str(lake)]
    )
    assert done.exit_code == 2 and ".html or .png" in done.output
