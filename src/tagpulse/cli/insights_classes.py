"""`tagpulse insights classes`: posts, likes and comments by the class of the post's image."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.classes import ImageClasses, image_classes
from tagpulse.analysis.panel_bars import BarPanel, write_bars
from tagpulse.analysis.timeline import parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.lake.query import LakeQuery

__all__ = ["classes", "classes_doc", "register"]


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


@friendly_errors
def classes(
    tags: Annotated[
        list[str] | None, typer.Argument(help="Only posts with any of these tags (default: all)")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Posts published since, e.g. 14d, or a date")
    ] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    top: Annotated[int, typer.Option("--top", help="Image classes to list")] = 10,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Bar charts (posts, likes and comments per post): .html/.png"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    home: HomeOption = None,
) -> None:
    """Posts, likes and comments by the top image classes (labels from `enrich --images`)."""
    settings = settings_for(home)
    now = datetime.now(UTC)
    result = image_classes(
        LakeQuery(settings.lake),
        tags or [],
        since=parse_since(since, now, field="--since") if since else None,
        until=parse_since(until, now, field="--until") if until else None,
        platform=platform,
        top=top,
    )
    if out is not None:
        write_bars(
            [
                BarPanel("posts", [(c.label, float(c.posts)) for c in result.classes]),
                BarPanel("likes per post", [(c.label, c.mean_likes) for c in result.classes]),
                BarPanel("comments per post", [(c.label, c.mean_comments) for c in result.classes]),
            ],
            out,
            title=f"Top {top} image classes",
        )
    if as_json:
        console.print_json(orjson.dumps(classes_doc(result)).decode())
        return
    table = Table(
        title=f"Image classes ({result.posts_labelled} labelled posts, top {top}; "
        f"{result.other_posts} in other classes)"
    )
    for col in ("class", "posts", "share", "likes", "likes/post", "comments", "comments/post"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for c in result.classes:
        table.add_row(
            c.label, _num(c.posts), f"{c.posts_share:.1%}", _num(c.likes), _num(c.mean_likes, 1),
            _num(c.comments), _num(c.mean_comments, 1),
        )  # fmt: skip
    console.print(table)
    if not result.posts_labelled:
        console.print("no labelled images: run `tagpulse enrich --images` first")
    if out is not None:
        console.print(f"chart: {out}")


def classes_doc(result: ImageClasses) -> dict[str, Any]:
    """The JSON document (shared with the API)."""
    return {
        "posts_labelled": result.posts_labelled,
        "other_posts": result.other_posts,
        "classes": [
            {"label": c.label, "posts": c.posts, "posts_share": c.posts_share,
             "likes": c.likes, "mean_likes": c.mean_likes, "comments": c.comments,
             "mean_comments": c.mean_comments}
            for c in result.classes
        ],
    }  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add `classes` to the `tagpulse insights` sub-app."""
    app.command(name="classes")(classes)
