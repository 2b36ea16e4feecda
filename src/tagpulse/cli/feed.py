"""`tagpulse feed HANDLE`: a personalised feed from the social graph, each item with its why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.timeline import parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.discover.blend import build_source_feed, parse_weights
from tagpulse.discover.feed import build_feed
from tagpulse.discover.graph_store import GraphStore
from tagpulse.lake.query import LakeQuery

__all__ = ["feed"]


@friendly_errors
def feed(
    handle: Annotated[str, typer.Argument(help="The user: @handle, handle or account id")],
    n: Annotated[int, typer.Option("--n", help="How many posts")] = 10,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Show each post's source, reason, score and factors"),
    ] = False,
    source: Annotated[
        str,
        typer.Option("--source", help="blend, network, fof, interests, als or popular"),
    ] = "blend",
    weights: Annotated[
        str | None,
        typer.Option("--weights", help="Blend weights, e.g. network=1,als=0.2 (others default)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The blend's sampling seed")] = 0,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Rank as of this time (default: the latest post observation)"),
    ] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    home: HomeOption = None,
) -> None:
    """Recent posts (7 days) for HANDLE: by default a blend of its network (accounts it follows,
    likes or reaches in 2 hops, ranked by personalised PageRank), friends of friends, its
    hashtags, collaborative filtering (ALS) and popular posts."""
    settings = settings_for(home)
    when = parse_since(at, datetime.now(UTC), field="--at") if at else None
    query = LakeQuery(settings.lake)
    blend_weights = parse_weights(weights)
    # The graph is kept under <home>/cache/discover and grown from new edge files only (on
    # object storage too: objects' sizes and times stand in for file stamps).
    graphs = GraphStore(query, settings.home / "cache" / "discover")
    if source == "network" and weights is None:
        result = build_feed(
            query, handle, n=n, at=when, platform=platform, graph=graphs.load(platform).graph
        )
    else:
        graph = graphs.load(platform).graph
        result = build_source_feed(query, handle, n=n, at=when, platform=platform, source=source,
                                   weights=blend_weights, seed=seed, graph=graph)  # fmt: skip
    if as_json:
        console.print_json(orjson.dumps(result.to_json()).decode())
        return
    who = f"@{result.handle}" if result.handle else result.user
    table = Table(title=f"Feed for {who} as of {result.at:%Y-%m-%d %H:%M} ({result.candidates} "
                  "candidates)")  # fmt: skip
    columns = ["#", "post", "author", "taken", "why"]
    if explain:
        columns += ["source", "score", "ppr", "weight", "likes", "comments", "age h"]
    numeric = {"#", "score", "ppr", "weight", "likes", "comments", "age h"}
    for col in columns:
        table.add_column(col, justify="right" if col in numeric else "left")
    for i, item in enumerate(result.items, 1):
        row = [
            str(i),
            item.url or item.post_id,
            f"@{item.author_handle}" if item.author_handle else item.author,
            f"{item.taken_at:%Y-%m-%d %H:%M}",
            "; ".join(item.why),
        ]
        if explain:
            row += [
                item.source,
                f"{item.score:.3g}",
                f"{item.ppr:.3g}",
                f"{item.weight:g}",
                f"{item.likes:,}",
                f"{item.comments:,}",
                f"{item.age_seconds / 3600:.1f}",
            ]
        table.add_row(*row)
    console.print(table)
    if not result.items:
        console.print("no recent posts for this user from this source")
