"""What a workspace may see of the lake: the tags and accounts on its watchlist.

SQL fragments here are built only from placeholders; values travel as parameters.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import HTTPException

from tagpulse.analysis.timeline import normalise_tag

__all__ = ["Visible", "decode_cursor", "encode_cursor", "tag_filter"]


@dataclass(slots=True, frozen=True)
class Visible:
    """A workspace's watched ``(platform, entry)`` pairs, split into tags and handles."""

    pairs: frozenset[tuple[str, str]]

    @property
    def tags(self) -> dict[str, list[str]]:
        """Platform → watched tags."""
        out: dict[str, list[str]] = {}
        for platform, entry in sorted(self.pairs):
            if not entry.startswith(("@", "p/")):
                out.setdefault(platform, []).append(entry)
        return out

    @property
    def handles(self) -> dict[str, list[str]]:
        """Platform → watched account handles (without ``@``)."""
        out: dict[str, list[str]] = {}
        for platform, entry in sorted(self.pairs):
            if entry.startswith("@"):
                out.setdefault(platform, []).append(entry[1:])
        return out

    def pick_tags(self, asked: Iterable[str], platform: str | None) -> dict[str, list[str]]:
        """Platform → the asked tags (default: every watched tag), each checked against the
        watchlist; an unwatched tag is a 404, like a tag that does not exist."""
        watched = {p: ts for p, ts in self.tags.items() if platform in (None, p)}
        wanted = [normalise_tag(t) for t in asked if normalise_tag(t)]
        if not wanted:
            return watched
        out: dict[str, list[str]] = {}
        for tag in dict.fromkeys(wanted):
            found = [p for p, ts in watched.items() if tag in ts]
            if not found:
                raise HTTPException(404, f"#{tag} is not on this workspace's watchlist")
            for p in found:
                out.setdefault(p, []).append(tag)
        return out

    def post_filter(self, platform: str | None = None) -> tuple[str, list[Any]]:
        """A WHERE clause over ``posts`` for the posts the workspace may see: carrying a
        watched tag, or by a watched account, on that platform."""
        clauses: list[str] = []
        params: list[Any] = []
        platforms = sorted(set(self.tags) | set(self.handles))
        for p in platforms:
            if platform not in (None, p):
                continue
            tags, handles = self.tags.get(p, []), self.handles.get(p, [])
            parts, values = [], []
            if tags:
                parts.append("list_has_any(hashtags, ?)")
                values.append(tags)
            if handles:
                parts.append("list_contains(?, owner_handle)")
                values.append(handles)
            clauses.append(f"(platform = ? AND ({' OR '.join(parts)}))")
            params += [p, *values]
        return ("(" + " OR ".join(clauses) + ")" if clauses else "FALSE"), params


def tag_filter(picked: dict[str, list[str]]) -> tuple[str, list[Any]]:
    """A WHERE clause over a table with ``platform`` and ``tag`` columns for platform → tags
    (``FALSE`` when there are none)."""
    clauses, params = [], []
    for platform, tags in picked.items():
        clauses.append("(platform = ? AND list_contains(?, tag))")
        params += [platform, tags]
    return "(" + (" OR ".join(clauses) or "FALSE") + ")", params


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError):
        raise HTTPException(400, "cursor is not one this API gave out") from None
    if not isinstance(values, list):
        raise HTTPException(400, "cursor is not one this API gave out")
    return values
