"""Campaign definitions in the catalog: a named set of tags and handles with a start and an end.

A campaign is what ``tagpulse insights campaign`` measures: its tags' new posts and the posts
seen for its tags or handles, before, during and after ``[start, end)``. Times are UTC; a date
without a time is midnight, and the end is exclusive (``--start 2026-11-01 --end 2026-11-08``
is seven whole days). The table lives in ``catalog.sqlite`` and is created on first use; every
write is one statement, so concurrent writers cannot leave half a campaign behind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tagpulse.errors import InputError, StorageError
from tagpulse.lake.catalog import Catalog

__all__ = [
    "Campaign",
    "CampaignStore",
    "campaign_dict",
    "iso",
    "make_campaign",
    "parse_moment",
    "split_list",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    name TEXT PRIMARY KEY,
    tags TEXT NOT NULL,
    handles TEXT NOT NULL,
    start_at REAL NOT NULL,
    end_at REAL NOT NULL,
    platform TEXT,
    created_at REAL NOT NULL
)
"""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PLATFORM = re.compile(r"[a-z][a-z0-9-]{0,31}")
_COLUMNS = "name, tags, handles, start_at, end_at, platform, created_at"


@dataclass(slots=True, frozen=True)
class Campaign:
    """A validated campaign: tags without ``#`` in lower case, handles without ``@``."""

    name: str
    tags: tuple[str, ...]
    handles: tuple[str, ...]
    start: datetime
    end: datetime
    platform: str | None = None
    created_at: datetime | None = None

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


def split_list(text: str | None) -> list[str]:
    """``"nike, #JustDoIt"`` -> ``["nike", "#JustDoIt"]``: comma- or space-separated items."""
    if not text:
        return []
    return [item for item in re.split(r"[,\s]+", text.strip()) if item]


def parse_moment(text: str, *, field: str) -> datetime:
    """An ISO date (midnight UTC) or datetime (naive = UTC) as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{text!r} is not an ISO date or datetime; write e.g. 2026-11-01 or "
            "2026-11-04T09:00 (UTC unless it carries an offset such as +01:00)",
            field=field,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _clean(items: Sequence[str], strip: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in (i.strip().lstrip(strip).lower() for i in items) if c))


def make_campaign(
    name: str,
    *,
    tags: Sequence[str],
    handles: Sequence[str] = (),
    start: datetime,
    end: datetime,
    platform: str | None = None,
    created_at: datetime | None = None,
) -> Campaign:
    """A :class:`Campaign` from user input, or an :class:`InputError` naming the bad field."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InputError(
            f"{name!r} is not a campaign name; use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            field="NAME",
        )
    clean_tags = _clean(tags, "#")
    clean_handles = _clean(handles, "@")
    for tag in clean_tags:
        if re.search(r"[\s#,]", tag):
            raise InputError(f"{tag!r} is not one hashtag", field="--tags")
    if not clean_tags and not clean_handles:
        raise InputError(
            "a campaign needs at least one tag or handle, e.g. --tags nike,justdoit",
            field="--tags",
        )
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise InputError(
            f"the end ({end:%Y-%m-%d %H:%M}) must come after the start "
            f"({start:%Y-%m-%d %H:%M}); the end is exclusive, so a one-day campaign on "
            "2026-11-01 is --start 2026-11-01 --end 2026-11-02",
            field="--end",
        )
    if platform is not None:
        platform = platform.strip().lower() or None
        if platform is not None and not _PLATFORM.fullmatch(platform):
            raise InputError(
                f"{platform!r} is not a platform name (e.g. instagram, tiktok, x)",
                field="--platform",
            )
    return Campaign(name, clean_tags, clean_handles, start, end, platform, created_at)


def campaign_dict(campaign: Campaign) -> dict[str, Any]:
    """A campaign definition as JSON-ready data."""
    return {
        "name": campaign.name,
        "tags": list(campaign.tags),
        "handles": list(campaign.handles),
        "start": iso(campaign.start),
        "end": iso(campaign.end),
        "platform": campaign.platform,
        "created_at": iso(campaign.created_at) if campaign.created_at else None,
    }


def iso(moment: datetime) -> str:
    """``2026-11-04T09:00:00Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _from_row(row: Sequence[object]) -> Campaign:
    name, tags, handles, start_at, end_at, platform, created_at = row
    return Campaign(
        str(name),
        tuple(orjson.loads(str(tags))),
        tuple(orjson.loads(str(handles))),
        datetime.fromtimestamp(float(start_at), tz=UTC),  # type: ignore[arg-type]
        datetime.fromtimestamp(float(end_at), tz=UTC),  # type: ignore[arg-type]
        None if platform is None else str(platform),
        datetime.fromtimestamp(float(created_at), tz=UTC),  # type: ignore[arg-type]
    )


class CampaignStore:
    """The ``campaigns`` table of a :class:`~tagpulse.lake.catalog.Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        catalog.query(_SCHEMA)

    def add(self, campaign: Campaign) -> Campaign:
        """Store a new campaign; an :class:`InputError` when the name is taken."""
        created = campaign.created_at or datetime.now(UTC)
        rows = self.catalog.query(
            f"INSERT INTO campaigns ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING RETURNING name",
            (
                campaign.name,
                orjson.dumps(list(campaign.tags)).decode(),
                orjson.dumps(list(campaign.handles)).decode(),
                campaign.start.timestamp(),
                campaign.end.timestamp(),
                campaign.platform,
                created.timestamp(),
            ),
        )
        if not rows:
            raise InputError(
                f"a campaign named {campaign.name!r} exists already; pick another name or "
                f"delete it first (tagpulse campaign delete {campaign.name})",
                field="NAME",
            )
        return Campaign(
            campaign.name, campaign.tags, campaign.handles, campaign.start, campaign.end,
            campaign.platform, created,
        )  # fmt: skip

    def get(self, name: str) -> Campaign:
        """The campaign called ``name``; an :class:`InputError` listing the known ones if none."""
        rows = self.catalog.query(f"SELECT {_COLUMNS} FROM campaigns WHERE name = ?", (name,))
        if not rows:
            known = ", ".join(c.name for c in self.all()) or "none yet"
            raise InputError(
                f"no campaign named {name!r} (known: {known}); create it with "
                "tagpulse campaign create",
                field="NAME",
            )
        return _from_row(rows[0])

    def all(self) -> list[Campaign]:
        rows = self.catalog.query(f"SELECT {_COLUMNS} FROM campaigns ORDER BY start_at, name")
        try:
            return [_from_row(r) for r in rows]
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise StorageError(
                f"catalog {self.catalog.path}: a row of table campaigns is damaged ({exc}); "
                "delete and re-create that campaign"
            ) from exc

    def delete(self, name: str) -> None:
        rows = self.catalog.query("DELETE FROM campaigns WHERE name = ? RETURNING name", (name,))
        if not rows:
            self.get(name)  # raises the helpful "no campaign named ..." error
