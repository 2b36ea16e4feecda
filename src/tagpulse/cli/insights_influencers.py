"""`tagpulse insights influencers`: who matters under some tags, why, and whose audience looks
bought."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from tagpulse.analysis.bars import write_bars
from tagpulse.analysis.influencers import PARTS, InfluencerScore, rank_influencers
from tagpulse.analysis.timeline import parse_since
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.campaigns import CampaignStore
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery

__all__ = ["account_json", "register"]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def account_json(a: InfluencerScore) -> dict[str, Any]:
    """One ranked account as JSON: its measures, each part of its score, and its flags."""
    return {
        "rank": a.rank,
        "platform": a.platform,
        "account": a.account,
        "handle": a.handle,
        "posts": a.posts,
        "followers": a.followers,
        "engagement_rate": a.engagement_rate,
        "engagement_norm": a.engagement_norm,
        "engagement_z": a.engagement_z,
        "consistency": a.consistency,
        "pagerank": a.pagerank,
        "centrality": a.centrality,
        "score": a.score,
        "parts": {
            p.name: {"value": p.value, "scaled": p.scaled, "weight": p.weight, "points": p.points}
            for p in a.parts
        },
        "flags": [
            {"kind": f.kind, "reason": f.reason, "z": f.z, "at": _iso(f.at)} for f in a.flags
        ],
    }


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _engagement(a: InfluencerScore) -> str:
    if a.engagement_rate is None:
        return "—"
    text = f"{a.engagement_rate:.2%}"
    if a.engagement_norm:
        text += f" (x{a.engagement_rate / a.engagement_norm:.1f})"
    return text


_SHORT = {"low_engagement": "low engagement", "follower_jump": "follower jump"}


def influencers(
    tags: Annotated[list[str] | None, typer.Argument(help="Tags (default: any tag)")] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 14d, or a date")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", help="A stored campaign: its tags, period and platform"),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Accounts to list")] = 20,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Bar chart of the top accounts' scores by part: .html/.png"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    home: HomeOption = None,
) -> None:
    """Rank the accounts posting with the tags by reach, engagement, consistency and
    centrality; flag audiences that look bought."""
    if top < 1:
        raise InputError(f"--top {top}: list at least one account", field="--top")
    settings = settings_for(home)
    now = datetime.now(UTC)
    start = parse_since(since, now, field="--since") if since else None
    end = parse_since(until, now, field="--until") if until else None
    if campaign is not None:
        # The campaign's tags, period and platform, unless given on the command line.
        catalog = Catalog(settings.catalog_path)
        try:
            stored = CampaignStore(catalog).get(campaign)
        finally:
            catalog.close()
        tags = list(dict.fromkeys([*(tags or []), *stored.tags]))
        start, end = start or stored.start, end or stored.end
        platform = platform or stored.platform
    result = rank_influencers(
        LakeQuery(settings.lake), tags or [], since=start, until=end, platform=platform
    )
    shown = result.accounts[:top]
    if out is not None:
        write_bars(
            [
                (f"{a.rank}. {a.label}" + (" ⚠" if a.flags else ""), [p.points for p in a.parts])
                for a in shown
            ],
            list(PARTS),
            out,
            title=f"Influencers{' for #' + ', #'.join(tags) if tags else ''}: score by part",
        )
    if as_json:
        doc = {
            "tags": tags or [],
            "period": None
            if result.period is None
            else {"start": _iso(result.period[0]), "end": _iso(result.period[1])},
            "weights": result.weights,
            "graph": {"nodes": result.graph_nodes, "edges": result.graph_edges},
            "ranked": len(result.accounts),
            "accounts": [account_json(a) for a in shown],
            "suspicious": [account_json(a) for a in result.suspicious],
        }
        console.print_json(orjson.dumps(doc).decode())
        return
    weights = " + ".join(f"{result.weights[p]:.0%} {p}" for p in PARTS)
    table = Table(
        title=f"Influencers ({len(result.accounts)} accounts, top {min(top, len(shown))})",
        caption=f"score = {weights} (each part scaled 0–1 among the accounts); "
        "engagement: (likes + comments + views/20) per follower, median post "
        "(x the norm for its size); centrality: PageRank x average",
    )
    columns = ("#", "account", "posts", "followers", "engagement", "consistency", "centrality")
    for col in (*columns, "score", "= reach + engagement + consistency + centrality", "flags"):
        table.add_column(col, justify="left" if col in ("account", "flags") else "right")
    for a in shown:
        table.add_row(
            str(a.rank), a.label, str(a.posts), _num(a.followers, ",.0f"), _engagement(a),
            _num(a.consistency, ".2f"), _num(a.centrality, ".2f"), f"{a.score:.1f}",
            " + ".join(f"{p.points:.1f}" for p in a.parts),
            ", ".join(_SHORT.get(f.kind, f.kind) for f in a.flags),
        )  # fmt: skip
    console.print(table)
    if result.suspicious:
        flagged = Table(title=f"Suspicious audiences ({len(result.suspicious)} accounts)")
        for col in ("#", "account", "followers", "why"):
            flagged.add_column(col, justify="right" if col in ("#", "followers") else "left")
        for a in result.suspicious:
            why = "\n".join(f.reason for f in a.flags)
            flagged.add_row(str(a.rank), a.label, _num(a.followers, ",.0f"), why)
        console.print(flagged)
    if out is not None:
        console.print(f"chart: {out}")


def register(app: typer.Typer) -> None:
    """Add ``influencers`` to the ``insights`` sub-app."""
    app.command(name="influencers")(friendly_errors(influencers))
