"""Campaigns that belong to a workspace (made through the API or the dashboard).

Validated like ``tagpulse campaign create`` (:func:`tagpulse.lake.campaigns.make_campaign`), and
each tag must be on the workspace's watchlist, so a campaign report never reaches beyond what the
workspace may see. Names are unique within a workspace.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson

from tagpulse.errors import InputError
from tagpulse.lake.campaigns import Campaign, make_campaign
from tagpulse.service.watchlists import WatchlistStore

__all__ = ["WorkspaceCampaigns"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace_campaigns (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    tags TEXT NOT NULL,
    handles TEXT NOT NULL,
    start_at REAL NOT NULL,
    end_at REAL NOT NULL,
    platform TEXT,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (workspace_id, name)
);
"""


def _from_row(row: tuple[object, ...]) -> Campaign:
    name, tags, handles, start, end, platform, created = row
    return Campaign(
        str(name), tuple(orjson.loads(str(tags))), tuple(orjson.loads(str(handles))),
        datetime.fromtimestamp(float(start), UTC),  # type: ignore[arg-type]
        datetime.fromtimestamp(float(end), UTC),  # type: ignore[arg-type]
        None if platform is None else str(platform),
        datetime.fromtimestamp(float(created), UTC),  # type: ignore[arg-type]
    )  # fmt: skip


class WorkspaceCampaigns:
    def __init__(self, store: WatchlistStore) -> None:
        self.store = store
        store._conn().executescript(SCHEMA)

    def add(
        self, workspace: str, *, name: str, tags: list[str], handles: list[str], start: datetime,
        end: datetime, platform: str | None, user: str,
    ) -> Campaign:  # fmt: skip
        campaign = make_campaign(
            name, tags=tags, handles=handles, start=start, end=end, platform=platform
        )
        watched = self.store.watched(workspace)
        for tag in campaign.tags:
            if not any(t == tag for _, t in watched):
                raise InputError(f"#{tag} is not on this workspace's watchlist", field="tags")
        for handle in campaign.handles:
            if not any(t == "@" + handle for _, t in watched):
                raise InputError(f"@{handle} is not on this workspace's watchlist", field="handles")
        workspace_id = self.store._workspace_id(workspace)
        with self.store._tx() as db:
            if db.execute(
                "SELECT 1 FROM workspace_campaigns WHERE workspace_id = ? AND name = ?",
                (workspace_id, campaign.name),
            ).fetchone():
                raise InputError(f"a campaign named {campaign.name!r} exists already", field="name")
            db.execute(
                "INSERT INTO workspace_campaigns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (workspace_id, campaign.name, orjson.dumps(list(campaign.tags)).decode(),
                 orjson.dumps(list(campaign.handles)).decode(), campaign.start.timestamp(),
                 campaign.end.timestamp(), campaign.platform, user, time.time()),
            )  # fmt: skip
        return self.get(workspace, campaign.name)

    def all(self, workspace: str) -> list[Campaign]:
        rows = self.store.query(
            "SELECT c.name, c.tags, c.handles, c.start_at, c.end_at, c.platform, c.created_at "
            "FROM workspace_campaigns c JOIN workspaces w ON w.id = c.workspace_id "
            "WHERE w.name = ? ORDER BY c.start_at, c.name",
            (workspace,),
        )
        return [_from_row(r) for r in rows]

    def get(self, workspace: str, name: str) -> Campaign:
        found = [c for c in self.all(workspace) if c.name == name]
        if not found:
            raise LookupError(name)
        return found[0]

    def delete(self, workspace: str, name: str) -> bool:
        workspace_id = self.store._workspace_id(workspace)
        with self.store._tx() as db:
            cur = db.execute(
                "DELETE FROM workspace_campaigns WHERE workspace_id = ? AND name = ?",
                (workspace_id, name),
            )
        return cur.rowcount > 0
