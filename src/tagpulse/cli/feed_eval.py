"""`tagpulse feed-eval`: offline evaluation of the feed's sources and their blend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.timeline import parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.discover.blend import parse_weights
from tagpulse.discover.evaluate import evaluate_feed
from tagpulse.lake.query import LakeQuery

__all__ = ["feed_eval"]


@friendly_errors
def feed_eval(
    k: Annotated[int, typer.Option("--k", help="Cut-off of recall@k and NDCG@k")] = 10,
    holdout: Annotated[
        float, typer.Option("--holdout", help="Share of each user's latest likes to hide")
    ] = 0.2,
    min_likes: Annotated[
        int, typer.Option("--min-likes", help="Only users with at least this many likes")
    ] = 5,
    weights: Annotated[
        str | None,
        typer.Option("--weights", help="Blend weights, e.g. network=1,popular=0.5 (see feed)"),
    ] = None,
    tune: Annotated[
        bool,
        typer.Option("--tune", help="Tune the blend's weights on half the users, score the rest"),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="The blend's sampling seed")] = 0,
    at: Annotated[
        str | None, typer.Option("--at", help="Evaluate as of this time (default: latest)")
    ] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    home: HomeOption = None,
) -> None:
    """Hide each user's most recent likes, rebuild the feed from the rest and report recall@k
    and NDCG@k for each source and the blend; `popular` is the baseline."""
    settings = settings_for(home)
    result = evaluate_feed(
        LakeQuery(settings.lake), k=k, holdout=holdout, min_likes=min_likes,
        at=parse_since(at, datetime.now(UTC), field="--at") if at else None,
        platform=platform, weights=parse_weights(weights) if weights else None,
        seed=seed, tune=tune,
    )  # fmt: skip
    if as_json:
        console.print_json(orjson.dumps(result.to_json()).decode())
        return
    base = result.score("popular")
    table = Table(title=f"Feed evaluation as of {result.at:%Y-%m-%d %H:%M}: {result.users} users "
                  f"({result.split}), {result.hidden} hidden likes")  # fmt: skip
    for col in ("source", f"recall@{k}", f"NDCG@{k}", "vs popular"):
        table.add_column(col, justify="left" if col == "source" else "right")
    for s in result.scores:
        lift = f"{s.ndcg / base.ndcg:.2f}x" if base.ndcg else ""
        table.add_row(s.source, f"{s.recall:.3f}", f"{s.ndcg:.3f}", lift)
    console.print(table)
    shown = ", ".join(f"{name}={w:g}" for name, w in result.weights.items())
    console.print(f"blend weights: {shown}")
