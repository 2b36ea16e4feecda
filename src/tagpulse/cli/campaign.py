"""`tagpulse campaign ...`: define, list, show and delete campaigns (kept in the catalog)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.lake.campaigns import (
    Campaign,
    CampaignStore,
    campaign_dict,
    make_campaign,
    parse_moment,
    split_list,
)
from tagpulse.lake.catalog import Catalog

__all__ = ["app", "campaign_table", "open_store"]

app = typer.Typer(
    help="Campaigns: named sets of tags and handles with a start and an end, for "
    "`tagpulse insights campaign`.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The campaign's name")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@contextmanager
def open_store(home: Path | None) -> Iterator[CampaignStore]:
    catalog = Catalog(settings_for(home).catalog_path)
    try:
        yield CampaignStore(catalog)
    finally:
        catalog.close()


def _when(campaign: Campaign, which: str) -> str:
    moment = campaign.start if which == "start" else campaign.end
    return f"{moment:%Y-%m-%d %H:%M}"


def campaign_table(campaigns: list[Campaign], title: str) -> Table:
    table = Table(title=title)
    for col in ("name", "tags", "handles", "start (UTC)", "end (UTC)", "platform"):
        table.add_column(col)
    for c in campaigns:
        table.add_row(
            c.name, ", ".join("#" + t for t in c.tags) or "—",
            ", ".join("@" + h for h in c.handles) or "—", _when(c, "start"), _when(c, "end"),
            c.platform or "all",
        )  # fmt: skip
    return table


@app.command("create")
@friendly_errors
def create(
    name: NameArgument,
    start: Annotated[
        str, typer.Option("--start", help="First moment, UTC: 2026-11-01 or 2026-11-04T09:00")
    ],
    end: Annotated[str, typer.Option("--end", help="End (exclusive), same forms as --start")],
    tags: Annotated[
        str | None, typer.Option("--tags", help="Comma-separated tags, e.g. nike,justdoit")
    ] = None,
    handles: Annotated[
        str | None, typer.Option("--handles", help="Comma-separated account handles")
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Only this platform (default: all)")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Define a campaign: its tags and/or handles, start and end."""
    campaign = make_campaign(
        name,
        tags=split_list(tags),
        handles=split_list(handles),
        start=parse_moment(start, field="--start"),
        end=parse_moment(end, field="--end"),
        platform=platform,
    )
    with open_store(home) as store:
        stored = store.add(campaign)
    console.print(campaign_table([stored], f"Created campaign {stored.name}"))


@app.command("list")
@friendly_errors
def list_campaigns(as_json: JsonOption = False, home: HomeOption = None) -> None:
    """Every campaign, by start."""
    with open_store(home) as store:
        campaigns = store.all()
    if as_json:
        console.print_json(orjson.dumps([campaign_dict(c) for c in campaigns]).decode())
        return
    console.print(campaign_table(campaigns, f"Campaigns ({len(campaigns)})"))


@app.command("show")
@friendly_errors
def show(name: NameArgument, as_json: JsonOption = False, home: HomeOption = None) -> None:
    """One campaign's definition."""
    with open_store(home) as store:
        campaign = store.get(name)
    if as_json:
        console.print_json(orjson.dumps(campaign_dict(campaign)).decode())
        return
    console.print(campaign_table([campaign], f"Campaign {campaign.name}"))
    days = campaign.duration_s / 86_400
    console.print(
        f"{days:g} days; measure it with: tagpulse insights campaign {campaign.name}",
        highlight=False,
    )


@app.command("delete")
@friendly_errors
def delete(name: NameArgument, home: HomeOption = None) -> None:
    """Forget a campaign's definition (the lake is not touched)."""
    with open_store(home) as store:
        store.delete(name)
    console.print(f"deleted campaign {name}", highlight=False)
