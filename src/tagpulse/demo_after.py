"""What the demo does after collecting: enrich the text (and the pictures, when the ``vision``
extra is installed), define the sandbox's campaign, write one report, and set up a workspace and
a login for the dashboard."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tagpulse.analysis.report import ReportScope, Section, write_report
from tagpulse.analysis.report_campaign import (
    campaign_section,
    classes_section,
    sentiment_section,
)
from tagpulse.analysis.report_sections import BASE_SECTIONS
from tagpulse.config import Settings
from tagpulse.enrich.runner import TextEnrichSummary, enrich_text
from tagpulse.errors import MissingExtra
from tagpulse.lake.campaigns import Campaign, CampaignStore, make_campaign
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, DEFAULT_START, HOUR
from tagpulse.service.campaigns import WorkspaceCampaigns
from tagpulse.service.watchlists import WatchlistStore

if TYPE_CHECKING:
    from tagpulse.enrich.images import ImageEnrichSummary

__all__ = ["DemoExtras", "DemoLogin", "after_collection"]

WORKSPACE = "demo"
USER = "demo"
#: The sandbox world's nike campaign (#justdoit): day 4, 09:00 UTC, for 36 hours.
_CAMPAIGN_START = DEFAULT_START + 3 * DAY + 9 * HOUR
_CAMPAIGN_HOURS = 36


@dataclass(slots=True, frozen=True)
class DemoLogin:
    user: str
    password: str
    workspace: str


@dataclass(slots=True, frozen=True)
class DemoExtras:
    text: TextEnrichSummary
    #: None when the ``vision`` extra is not installed (``missing`` says what to install).
    images: ImageEnrichSummary | None
    missing: str | None
    campaign: Campaign
    report: Path
    login: DemoLogin


def _campaign() -> Campaign:
    start = utc_from_epoch(_CAMPAIGN_START)
    return make_campaign(
        "justdoit", tags=["nike", "justdoit"], start=start,
        end=start + timedelta(hours=_CAMPAIGN_HOURS),
    )  # fmt: skip


def after_collection(home: Path, tags: list[str], out: Path) -> DemoExtras:
    settings = Settings(home=home, sandbox=True)
    text = enrich_text(settings)
    images, missing = _enrich_images(settings)
    campaign = _campaign()
    catalog = Catalog(settings.catalog_path)
    try:
        CampaignStore(catalog).add(campaign)
    finally:
        catalog.close()
    # The dashboard's side: a workspace watching the demo tags, its campaign, and a login.
    store = WatchlistStore(settings.catalog_path)
    password = secrets.token_urlsafe(12)
    store.create_user(USER, password, workspace=WORKSPACE, role="admin")
    for tag in dict.fromkeys([*tags, *campaign.tags]):
        store.add(WORKSPACE, tag, interval_s=900, user=USER)
    WorkspaceCampaigns(store).add(
        WORKSPACE, name=campaign.name, tags=list(campaign.tags), handles=[],
        start=campaign.start, end=campaign.end, platform=None, user=USER,
    )  # fmt: skip
    store.close()
    length = campaign.end - campaign.start
    scope = ReportScope(
        tags=["nike", "justdoit", "adidas", "puma"], since=campaign.start - 2 * length,
        until=campaign.end + 4 * length, platform=None, interval_s=6 * 3600,
        title="Campaign justdoit: #nike, #justdoit against #adidas and #puma",
        campaign=campaign.name,
    )  # fmt: skip
    report = out / "report.html"

    def with_campaign(query: LakeQuery, s: ReportScope) -> Section:
        return campaign_section(query, s, campaign)

    write_report(
        LakeQuery(settings.lake_dir), scope, report,
        [with_campaign, *BASE_SECTIONS, sentiment_section, classes_section],
    )  # fmt: skip
    return DemoExtras(text, images, missing, campaign, report, DemoLogin(USER, password, WORKSPACE))


def _enrich_images(settings: Settings) -> tuple[ImageEnrichSummary | None, str | None]:
    """Label the stored pictures, or say which extra the image insights need."""
    try:
        from tagpulse.enrich.images import enrich_images

        return enrich_images(settings), None
    except MissingExtra as exc:
        return None, str(exc)
