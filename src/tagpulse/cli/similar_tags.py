"""`tagpulse similar-tags TAG`: hashtags used like TAG (co-occurrence, caption embeddings)."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.discover.similar import similar_tags as find_similar
from tagpulse.lake.query import LakeQuery

__all__ = ["similar_tags"]


@friendly_errors
def similar_tags(
    tag: Annotated[str, typer.Argument(help="The hashtag, with or without #")],
    n: Annotated[int, typer.Option("--n", help="How many tags")] = 10,
    method: Annotated[
        str,
        typer.Option("--method", help="cooccurrence, embedding (MiniLM captions) or both"),
    ] = "cooccurrence",
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    home: HomeOption = None,
) -> None:
    """Tags most similar to TAG: cosine over which posts carry them, or between the mean caption
    embeddings of their posts (cached under <home>/cache), or the mean of both."""
    settings = settings_for(home)
    found = find_similar(
        LakeQuery(settings.lake), tag, n=n, method=method,
        cache_dir=settings.home / "cache", platform=platform,
    )  # fmt: skip
    if as_json:
        console.print_json(orjson.dumps([s.to_json() for s in found]).decode())
        return
    table = Table(title=f"Tags similar to #{tag.lower().lstrip('#')} ({method})")
    for col in ("#", "tag", "score", "co-occurrence", "embedding", "posts"):
        table.add_column(col, justify="left" if col == "tag" else "right")
    for i, s in enumerate(found, 1):
        table.add_row(
            str(i), f"#{s.tag}", f"{s.score:.3f}",
            "" if s.cooccurrence is None else f"{s.cooccurrence:.3f}",
            "" if s.embedding is None else f"{s.embedding:.3f}", f"{s.posts:,}",
        )  # fmt: skip
    console.print(table)
