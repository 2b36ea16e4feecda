"""What the influencer ranking reads from the lake: the accounts that posted with the tags, their
posts (latest observation), their follower counts over time, and the interaction graph.

* **Who an account is.** Rows name accounts by platform user id where the platform gave one,
  else by ``@handle``. Handles are resolved to ids with every (handle, id) pair the lake has seen
  (profiles, post owners, edge ends; the latest pair wins after a rename), so a caption's
  ``@mention`` and a liker's id land on the same node.
* **Posts** in the period (their ``taken_at``, else when first seen, in ``[since, until)``), each
  at its latest observation (however late it was collected: a post's counts settle over days).
  Only posts carrying one of the tags make an account a candidate; every post in the period
  feeds the graph's mentions.
* **Followers**: every profile observation (jumps need the history, even outside the period);
  the ranking reads the count at the period's end (see :meth:`AccountActivity.followers_at`).
* **Graph**: one weighted directed edge per (src, dst), its weight the number of distinct
  interactions (one per kind and post) in the period — an interaction on a post belongs to the
  post's time, any other to when it was seen: the ``edges`` table's likes,
  comments, mentions, tags, reposts and quotes, plus the mentions in the posts' own records (the
  collector links caption mentions only when it saw the owner; an import may not link them at
  all). Follows are left out: they measure reach, which has its own part in the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tagpulse.analysis.timeline import utc_or_none
from tagpulse.lake.query import LakeQuery

__all__ = [
    "INTERACTION_KINDS",
    "AccountActivity",
    "FollowerObservation",
    "InfluencerData",
    "PostStats",
    "load_influencer_data",
]

INTERACTION_KINDS: tuple[str, ...] = (
    "liked",
    "commented",
    "mentioned",
    "tagged",
    "reposted",
    "quoted",
)
_VIDEO = ("video", "reel")


@dataclass(slots=True, frozen=True)
class PostStats:
    post_id: str
    at: datetime
    likes: int | None
    comments: int | None
    views: int | None
    is_video: bool


@dataclass(slots=True, frozen=True)
class FollowerObservation:
    at: datetime
    followers: int


@dataclass(slots=True)
class AccountActivity:
    """One candidate account: its tagged posts in the period and its follower history."""

    platform: str
    account: str
    handle: str | None = None
    posts: list[PostStats] = field(default_factory=list)
    followers: list[FollowerObservation] = field(default_factory=list)  # oldest first

    def followers_at(self, until: datetime | None) -> int | None:
        """The latest count observed before ``until`` (else the earliest after it)."""
        before = [o for o in self.followers if until is None or o.at < until]
        if before:
            return before[-1].followers
        return self.followers[0].followers if self.followers else None


@dataclass(slots=True)
class InfluencerData:
    accounts: dict[tuple[str, str], AccountActivity]
    #: ``(platform, src, dst) -> weight`` of the interaction graph (self-loops dropped).
    edges: dict[tuple[str, str, str], float]
    #: The earliest and latest tagged post in the period (None: no posts).
    first_post: datetime | None
    last_post: datetime | None


def _where(
    column: str, since: datetime | None, until: datetime | None, platform: str | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(since)
    if until is not None:
        clauses.append(f"{column} < ?")
        params.append(until)
    if platform:
        clauses.append("platform = ?")
        params.append(platform)
    return " AND ".join(clauses), params


class _Names:
    """Resolves ``@handle`` to the platform id seen with it, and an id to its latest handle."""

    def __init__(self, query: LakeQuery, platform: str | None) -> None:
        where, params = _where("seen", None, None, platform)
        rows = query.rows(
            "SELECT platform, lower(handle) AS handle, arg_max(id, seen) AS id, max(seen) AS seen "
            "FROM (SELECT platform, handle, user_id AS id, collected_at AS seen FROM profiles_all "
            "      UNION ALL SELECT platform, owner_handle, owner_id, collected_at FROM posts_all "
            "      UNION ALL SELECT platform, src_handle, src, seen_at FROM edges_all "
            "      UNION ALL SELECT platform, dst_handle, dst, seen_at FROM edges_all) "
            f"WHERE handle IS NOT NULL AND id IS NOT NULL AND NOT starts_with(id, '@') AND {where} "
            "GROUP BY ALL ORDER BY seen",
            params,
        )
        self.ids: dict[tuple[str, str], str] = {}
        self.handles: dict[tuple[str, str], str] = {}
        for row in rows:  # oldest first: a later pair overrides an earlier one
            self.ids[(row["platform"], row["handle"])] = row["id"]
            self.handles[(row["platform"], row["id"])] = row["handle"]

    def key(self, platform: str, raw: str) -> str:
        if raw.startswith("@"):
            handle = raw[1:].lower()
            return self.ids.get((platform, handle), "@" + handle)
        return raw

    def owner(self, platform: str, user_id: str | None, handle: str | None) -> str | None:
        if user_id:
            return user_id
        return self.key(platform, "@" + handle) if handle else None

    def handle(self, platform: str, key: str) -> str | None:
        return key[1:] if key.startswith("@") else self.handles.get((platform, key))


def _posts(
    query: LakeQuery,
    tags: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    platform: str | None,
) -> list[dict[str, Any]]:
    where, params = _where("collected_at", None, None, platform)
    tagged = "list_has_any(hashtags, ?::VARCHAR[])" if tags else "TRUE"
    outer, outer_params = _where("posted_at", since, until, None)
    return query.rows(
        "SELECT * FROM ("
        "SELECT platform, post_id, "
        "arg_max(owner_id, collected_at) FILTER (WHERE owner_id IS NOT NULL) AS owner_id, "
        "arg_max(owner_handle, collected_at) FILTER (WHERE owner_handle IS NOT NULL) "
        "  AS owner_handle, "
        "coalesce(min(taken_at), min(collected_at)) AS posted_at, "
        "arg_max(likes, collected_at) AS likes, arg_max(comments, collected_at) AS comments, "
        "arg_max(views, collected_at) AS views, arg_max(media_type, collected_at) AS media_type, "
        "arg_max(mentions, collected_at) AS mentions, "
        f"bool_or({tagged}) AS tagged "
        f"FROM posts_all WHERE {where} GROUP BY platform, post_id"
        f") WHERE {outer} ORDER BY posted_at",
        ([list(tags)] if tags else []) + params + outer_params,
    )


def load_influencer_data(
    query: LakeQuery,
    tags: Sequence[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    kinds: Sequence[str] = INTERACTION_KINDS,
) -> InfluencerData:
    """Read the candidates, their posts and follower history, and the interaction graph."""
    since, until = utc_or_none(since), utc_or_none(until)
    tags = [t.strip().lstrip("#").lower() for t in tags if t.strip().lstrip("#")]
    names = _Names(query, platform)
    accounts: dict[tuple[str, str], AccountActivity] = {}
    interactions: set[tuple[str, str, str, str, str]] = set()
    first: datetime | None = None
    last: datetime | None = None
    for row in _posts(query, tags, since, until, platform):
        plat = row["platform"]
        owner = names.owner(plat, row["owner_id"], row["owner_handle"])
        if owner is None:
            continue
        for handle in row["mentions"] or ():
            interactions.add(
                (plat, "mentioned", owner, names.key(plat, "@" + handle), row["post_id"])
            )
        if not row["tagged"]:
            continue
        at = utc_or_none(row["posted_at"])
        assert at is not None  # coalesce() of two non-null columns
        first = at if first is None or at < first else first
        last = at if last is None or at > last else last
        activity = accounts.get((plat, owner))
        if activity is None:
            activity = accounts[(plat, owner)] = AccountActivity(plat, owner)
        activity.handle = row["owner_handle"] or activity.handle
        activity.posts.append(
            PostStats(
                row["post_id"], at, row["likes"], row["comments"], row["views"],
                row["media_type"] in _VIDEO,
            )
        )  # fmt: skip
    _add_followers(query, names, accounts, platform)
    for activity in accounts.values():
        activity.handle = activity.handle or names.handle(activity.platform, activity.account)
    if kinds:
        where, params = _where("coalesce(p.posted_at, e.seen_at)", since, until, None)
        if platform:
            where += " AND e.platform = ?"
            params.append(platform)
        marks = ",".join("?" for _ in kinds)
        for row in query.rows(
            "SELECT DISTINCT e.platform, e.kind, e.src, e.dst, coalesce(e.post_id, '') AS post_id "
            "FROM edges_all e LEFT JOIN (SELECT platform, post_id, "
            "  coalesce(min(taken_at), min(collected_at)) AS posted_at FROM posts_all "
            "  GROUP BY ALL) p ON e.platform = p.platform AND e.post_id = p.post_id "
            f"WHERE e.kind IN ({marks}) AND {where}",
            [*kinds, *params],
        ):
            plat = row["platform"]
            src, dst = names.key(plat, row["src"]), names.key(plat, row["dst"])
            interactions.add((plat, row["kind"], src, dst, row["post_id"]))
    edges: dict[tuple[str, str, str], float] = {}
    for plat, _kind, src, dst, _post in interactions:
        if src != dst:
            edges[(plat, src, dst)] = edges.get((plat, src, dst), 0.0) + 1.0
    return InfluencerData(accounts, edges, first, last)


def _add_followers(
    query: LakeQuery,
    names: _Names,
    accounts: dict[tuple[str, str], AccountActivity],
    platform: str | None,
) -> None:
    where, params = _where("collected_at", None, None, platform)
    rows = query.rows(
        "SELECT DISTINCT platform, user_id, handle, collected_at, followers FROM profiles_all "
        f"WHERE followers IS NOT NULL AND {where} ORDER BY collected_at",
        params,
    )
    for row in rows:
        plat = row["platform"]
        key = names.owner(plat, row["user_id"], row["handle"])
        activity = accounts.get((plat, key)) if key is not None else None
        if activity is None:
            continue
        at = utc_or_none(row["collected_at"])
        assert at is not None
        activity.followers.append(FollowerObservation(at, int(row["followers"])))
        if row["handle"]:
            activity.handle = row["handle"]
