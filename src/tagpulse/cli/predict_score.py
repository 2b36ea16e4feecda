"""`tagpulse predict score` and `predict best-time`: use the model `predict train` saved."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.best_time import WEEKDAYS, best_time
from tagpulse.predict.heatmap import write_heatmap
from tagpulse.predict.hypothetical import caption_facts, image_facts
from tagpulse.predict.scoring import (
    Score,
    account_history,
    hypothetical_row,
    load_model,
    post_score,
)

__all__ = ["best_time_command", "register", "score"]

ProtocolOption = Annotated[
    str, typer.Option("--protocol", help="Which trained model: grouped (default) or study")
]
PlatformOption = Annotated[str | None, typer.Option("--platform", help="The account's platform")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
CaptionOption = Annotated[
    str | None, typer.Option("--caption", help="Caption of the post not yet made")
]
ModelOption = Annotated[
    str, typer.Option("--model", help="Which trained model: gbm (default), mlp, cnn or mixed")
]
VideoOption = Annotated[bool, typer.Option("--video", help="The post not yet made is a video")]
VersionOption = Annotated[
    int | None, typer.Option("--version", help="This registered version (default: the latest)")
]


def _parse_at(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(f"{value!r} is not a time like '2026-11-25 18:00'", field="--at") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _print_score(what: str, score: Score, extra: dict[str, Any]) -> None:
    table = Table(title=f"Predicted likes of {what}")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("likes ratio (1.0 = the account's average post)", f"{score.ratio:.3f}")
    table.add_row("account mean likes", f"{score.account_mean_likes:,.1f}")
    table.add_row("expected likes", f"{score.expected_likes:,.0f}")
    doc = score.as_dict()
    if score.coverage is not None:
        low, high = doc["ratio_low"], doc["ratio_high"]
        table.add_row(f"{score.coverage:.0%} interval, ratio", f"{low:.3f} – {high:.3f}")
        table.add_row(
            f"{score.coverage:.0%} interval, likes",
            f"{doc['likes_low']:,.0f} – {doc['likes_high']:,.0f}",
        )
    for key, value in extra.items():
        table.add_row(key, str(value))
    console.print(table)
    if score.coverage is None:
        console.print("no interval: the model card has none; run `tagpulse predict train` again")


@friendly_errors
def score(
    post: Annotated[
        str | None, typer.Option("--post", help="An existing post: PLATFORM:POST_ID")
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="A post not yet made by this account (handle)")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When it would be published, UTC: '2026-11-25 18:00'")
    ] = None,
    caption: CaptionOption = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Image of the post not yet made (vision extra)")
    ] = None,
    video: VideoOption = False,
    model_name: ModelOption = "gbm",
    protocol: ProtocolOption = "grouped",
    version: VersionOption = None,
    platform: PlatformOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Predicted likes ratio and expected likes, with an interval, of a post (made or not)."""
    if (post is None) == (account is None):
        raise InputError("give either --post PLATFORM:POST_ID or --account HANDLE --at TIME",
                         field="--post")  # fmt: skip
    if post is not None and (caption or image is not None or video or at is not None):
        raise InputError(
            "--caption, --image, --video and --at describe a post not yet made: use them with "
            "--account, not with --post (an existing post's own caption and picture are used)",
            field="--post",
        )
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    model = load_model(settings.home, protocol, model_name, version=version, catalog=catalog)
    query = LakeQuery(settings.lake)
    extra: dict[str, Any]
    if post is not None:
        result, row = post_score(query, model, post, settings.media_dir)
        truth = float(row["likes"])
        extra = {"post": post, "taken_at": row["taken_at"].isoformat(), "likes seen": truth,
                 "ratio seen": truth / result.account_mean_likes}  # fmt: skip
        what = f"post {post}"
    else:
        assert account is not None
        if at is None:
            raise InputError("--account needs --at, e.g. --at '2026-11-25 18:00'", field="--at")
        moment = _parse_at(at)
        history = account_history(query, account, model.protocol, platform)
        row = hypothetical_row(history, moment, caption, video=video)
        extra = {"account": f"{history.platform}:{history.owner_id}", "at": moment.isoformat()}
        if caption:
            text = caption_facts(caption)
            row |= text.row()
            extra |= {"caption language": text.language, "caption sentiment": text.sentiment}
            if text.missing:
                extra["caption note"] = f"sentiment and language unknown: {text.missing}"
        if image is not None:
            seen = image_facts(image, settings)
            row |= seen.row()
            extra |= {"faces": seen.faces, "smiles": seen.smiles,
                      "labels": ", ".join(name for name, _ in seen.labels)}  # fmt: skip
        X = model.features([model.row_vector(row, history.mean_likes, history.mean_comments)])
        result = model.score(float(model.predict(X)[0]), history.mean_likes)
        what = f"a post by {account} at {moment:%Y-%m-%d %H:%M} UTC"
    if as_json:
        doc = result.as_dict() | extra | {"model": str(model.path), "version": model.version}
        console.print_json(orjson.dumps(doc).decode())
        return
    _print_score(what, result, extra)


@friendly_errors
def best_time_command(
    account: Annotated[str, typer.Option("--account", help="The account (handle)")],
    caption: CaptionOption = None,
    video: VideoOption = False,
    top: Annotated[int, typer.Option("--top", help="Best slots listed")] = 5,
    out: Annotated[Path | None, typer.Option("--out", help="Heatmap file: .html or .png")] = None,
    model_name: ModelOption = "gbm",
    protocol: ProtocolOption = "grouped",
    version: VersionOption = None,
    platform: PlatformOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The best weekday × hour (UTC) to post, by predicted likes ratio, and its heatmap."""
    if top < 1:
        raise InputError("--top must be at least 1", field="--top")
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    model = load_model(settings.home, protocol, model_name, version=version, catalog=catalog)
    history = account_history(LakeQuery(settings.lake), account, model.protocol, platform)
    grid = best_time(model, history, caption, video=video)
    doc = grid.as_dict(top) | {"account": f"{history.platform}:{history.owner_id}"}
    if out is not None:
        title = f"Predicted likes ratio of a post by {account}, by weekday and hour (UTC)"
        write_heatmap(grid.ratio, list(WEEKDAYS), out, title=title, data=doc)
    if as_json:
        console.print_json(orjson.dumps(doc | {"out": str(out) if out else None}).decode())
        return
    table = Table(title=f"Best times to post for {account} (UTC, week of {grid.week_of:%Y-%m-%d})")
    for col in ("weekday", "hour", "ratio", "expected likes"):
        table.add_column(col, justify="left" if col == "weekday" else "right")
    for d, h, r in grid.slots(top):
        table.add_row(WEEKDAYS[d], f"{h:02d}:00", f"{r:.3f}", f"{r * grid.account_mean_likes:,.0f}")
    console.print(table)
    console.print(f"best hour over the week: {doc['best_hour']:02d}:00 UTC")
    if out is not None:
        console.print(f"heatmap: {out}")


def register(app: typer.Typer) -> None:
    app.command(name="score")(score)
    app.command(name="best-time")(best_time_command)
