"""Campaigns of a workspace and the insights that need more than counts: campaign reports,
influencers, sentiment, forecasts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from tagpulse.analysis.campaign import campaign_report, report_dict
from tagpulse.analysis.classes import image_classes
from tagpulse.analysis.forecast import forecast_tags
from tagpulse.analysis.influencers import rank_influencers
from tagpulse.analysis.sentiment import tag_sentiment
from tagpulse.analysis.timeline import parse_duration
from tagpulse.cli.insights_classes import classes_doc
from tagpulse.cli.insights_forecast import forecast_doc
from tagpulse.cli.insights_influencers import account_json
from tagpulse.cli.insights_sentiment import sentiment_doc
from tagpulse.errors import InputError
from tagpulse.lake.campaigns import Campaign, campaign_dict
from tagpulse.service.campaigns import WorkspaceCampaigns
from tagpulse.service.deps import WorkspaceAccess, require, store_of
from tagpulse.service.routes_data import lake_of, visible_of, when

__all__ = ["router"]

router = APIRouter(prefix="/workspaces/{workspace}")
Read = Annotated[WorkspaceAccess, Depends(require("read"))]
Write = Annotated[WorkspaceAccess, Depends(require("write"))]
TagsQuery = Annotated[list[str], Query(alias="tag", max_length=50)]


class NewCampaign(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=50)
    handles: list[str] = Field(default_factory=list, max_length=50)
    start: datetime
    end: datetime
    platform: str | None = Field(default=None, max_length=32)


def _campaigns(request: Request) -> WorkspaceCampaigns:
    return WorkspaceCampaigns(store_of(request))


def _campaign(request: Request, access: WorkspaceAccess, name: str) -> Campaign:
    try:
        return _campaigns(request).get(access.workspace, name)
    except LookupError:
        raise HTTPException(404, f"no campaign {name!r} in this workspace") from None


@router.get("/campaigns", tags=["campaigns"])
def campaigns(request: Request, access: Read) -> dict[str, Any]:
    return {"items": [campaign_dict(c) for c in _campaigns(request).all(access.workspace)]}


@router.post("/campaigns", tags=["campaigns"], status_code=201)
def create_campaign(request: Request, access: Write, body: NewCampaign) -> dict[str, Any]:
    campaign = _campaigns(request).add(
        access.workspace, name=body.name, tags=body.tags, handles=body.handles,
        start=body.start, end=body.end, platform=body.platform, user=access.principal.user,
    )  # fmt: skip
    return campaign_dict(campaign)


@router.delete("/campaigns/{name}", tags=["campaigns"], status_code=204)
def delete_campaign(request: Request, access: Write, name: str) -> None:
    if not _campaigns(request).delete(access.workspace, name):
        raise HTTPException(404, f"no campaign {name!r} in this workspace")


@router.get("/campaigns/{name}/report", tags=["campaigns"])
def campaign_insight(
    request: Request, access: Read, name: str, top: Annotated[int, Query(ge=1, le=50)] = 5
) -> dict[str, Any]:
    """Before vs during vs after, the uplift test and the counterfactual."""
    campaign = _campaign(request, access, name)
    # Tags may have left the watchlist since: report only what the workspace still sees.
    watched = {t for _, t in visible_of(request, access).pairs}
    if not all(t in watched for t in campaign.tags):
        raise HTTPException(404, "a tag of this campaign is no longer on the watchlist")
    return report_dict(campaign_report(lake_of(request), campaign, top=top))


@router.get("/insights/influencers", tags=["insights"])
def influencers(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
    platform: str | None = None,
    top: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Accounts ranked by reach, engagement, consistency and centrality, with flags."""
    picked = visible_of(request, access).pick_tags(tags, platform)
    ranked = []
    for plat, plat_tags in picked.items():
        result = rank_influencers(
            lake_of(request), plat_tags, since=when(since, "since"), until=when(until, "until"),
            platform=plat,
        )  # fmt: skip
        ranked += result.accounts
    ranked.sort(key=lambda a: -a.score)
    return {
        "accounts": [account_json(a) for a in ranked[:top]],
        "suspicious": [account_json(a) for a in ranked if a.flags],
    }


@router.get("/insights/sentiment", tags=["insights"])
def sentiment(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    interval: str = "1d",
    since: str | None = None,
    until: str | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """Sentiment around the tags over time, its shifts and the extremes."""
    picked = visible_of(request, access).pick_tags(tags, platform)
    out = []
    for plat, plat_tags in picked.items():
        report = tag_sentiment(
            lake_of(request), plat_tags, interval_s=parse_duration(interval, field="interval"),
            since=when(since, "since"), until=when(until, "until"), platform=plat,
        )  # fmt: skip
        out.append({"platform": plat, **sentiment_doc(report)})
    return {"platforms": out}


@router.get("/insights/forecast", tags=["insights"])
def forecast(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    days: Annotated[int, Query(ge=1, le=60)] = 7,
    interval: str = "1h",
    platform: str | None = None,
) -> dict[str, Any]:
    """New posts and the count for the next days, with intervals and the backtest."""
    picked = visible_of(request, access).pick_tags(tags, platform)
    interval_s = parse_duration(interval, field="interval")
    out, skipped = [], []
    for plat, plat_tags in picked.items():
        for tag in plat_tags:
            try:
                found = forecast_tags(
                    lake_of(request), [tag], days=days, interval_s=interval_s, platform=plat
                )
            except InputError as exc:  # no counts yet, or too short a history
                skipped.append({"platform": plat, "tag": tag, "reason": str(exc)})
                continue
            out += [{"platform": plat, **forecast_doc(f)} for f in found]
    return {"tags": out, "skipped": skipped}


@router.get("/insights/classes", tags=["insights"])
def classes(
    request: Request,
    access: Read,
    tags: TagsQuery = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
    platform: str | None = None,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Posts, likes and comments by the top image classes (after tagpulse enrich --images)."""
    picked = visible_of(request, access).pick_tags(tags, platform)
    out = []
    for plat, plat_tags in picked.items():
        result = image_classes(
            lake_of(request), plat_tags, since=when(since, "since"), until=when(until, "until"),
            platform=plat, top=top,
        )  # fmt: skip
        out.append({"platform": plat, **classes_doc(result)})
    return {"platforms": out}
