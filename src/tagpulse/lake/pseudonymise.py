"""Pseudonymisation at write time, for research lakes (``tagpulse forget --pseudonymise-on``).

Every handle and user id in the tables becomes ``anon_<hmac-sha256(salt, ...)[:16]>`` (see
:func:`~tagpulse.lake.catalog_privacy.pseudonym`), except those of public figures: accounts on
the watchlist and accounts seen verified. The same handle always gives the same pseudonym in one
lake (joins and counts still work) and a different one in another (the salt is per lake).

What is rewritten: the identity columns (``handle``, ``user_id``, ``owner_*``, edge ends and
their handles, a hashtag's top posts' owners), ``mentions`` lists, ``@mentions`` inside free text
(captions, bios, comments, ``extra``) and ``seen_via`` ``profile:<handle>``. Row ids that embed
an identity (profiles, edges) are recomputed from the pseudonymised values. The raw archive keeps
answers as received (``tagpulse reparse`` needs them): share the tables, not the archive.

Which accounts are verified is learned from the profiles written; a verified account seen only
through its posts before its profile was ever written is pseudonymised (the safe direction).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Literal

import pyarrow as pa

from tagpulse.lake.catalog_privacy import pseudonym
from tagpulse.lake.schemas import ENTITY_TABLES

__all__ = ["PseudonymMemory", "Pseudonymiser", "is_pseudonym"]

_MENTION = re.compile(r"(?<![A-Za-z0-9_.])@([A-Za-z0-9._]{1,30})")
_PSEUDONYM = re.compile(r"anon_[0-9a-f]{16}")
#: (id column, handle column) pairs that name the same account in one row.
_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "profiles": (("user_id", "handle"),),
    "posts": (("owner_id", "owner_handle"),),
    "comments": (("owner_id", "owner_handle"),),
    "edges": (("src", "src_handle"), ("dst", "dst_handle")),
}


def is_pseudonym(value: str) -> bool:
    return _PSEUDONYM.fullmatch(value) is not None


@dataclass(slots=True)
class PseudonymMemory:
    """Exemptions learned while a writer lives: verified accounts, and ids of exempt handles."""

    handles: dict[str, set[str]] = field(default_factory=dict)
    ids: dict[str, set[str]] = field(default_factory=dict)


class Pseudonymiser:
    def __init__(
        self, salt: bytes, watched: Mapping[str, Iterable[str]], memory: PseudonymMemory
    ) -> None:
        self.salt = salt
        self.watched = {p: frozenset(h) for p, h in watched.items()}
        self.memory = memory

    # -- exemptions ----------------------------------------------------------------------------
    def _exempt_handle(self, platform: str, handle: str) -> bool:
        h = handle.lower().lstrip("@")
        return h in self.watched.get(platform, ()) or h in self.memory.handles.get(platform, ())

    def _exempt(self, platform: str, user_id: str | None, handle: str | None) -> None:
        if handle:
            self.memory.handles.setdefault(platform, set()).add(handle.lower().lstrip("@"))
        if user_id:
            self.memory.ids.setdefault(platform, set()).add(user_id)

    def learn(self, table: str, platform: str, rows: list[dict[str, Any]]) -> None:
        """Note verified accounts, and the ids that go with exempt handles."""
        pairs = _PAIRS.get(table, ())
        for row in rows:
            if table == "profiles" and row.get("is_verified"):
                self._exempt(platform, row.get("user_id"), row.get("handle"))
            for id_col, handle_col in pairs:
                handle = row.get(handle_col)
                if isinstance(handle, str) and self._exempt_handle(platform, handle):
                    self._exempt(platform, row.get(id_col), None)
            for ref in row.get("top_posts") or ():
                handle = ref.get("owner_handle")
                if isinstance(handle, str) and self._exempt_handle(platform, handle):
                    self._exempt(platform, ref.get("owner_id"), None)

    # -- values --------------------------------------------------------------------------------
    def _value(self, platform: str, value: Any, kind: Literal["handle", "id"]) -> Any:
        if not isinstance(value, str) or not value or is_pseudonym(value):
            return value
        if kind == "handle" and self._exempt_handle(platform, value):
            return value
        if kind == "id" and value in self.memory.ids.get(platform, ()):
            return value
        return pseudonym(
            self.salt, platform, value.lstrip("@") if kind == "handle" else value, kind
        )

    def handle(self, platform: str, value: Any) -> Any:
        return self._value(platform, value, "handle")

    def user_id(self, platform: str, value: Any) -> Any:
        return self._value(platform, value, "id")

    def key(self, platform: str, value: Any) -> Any:
        """An edge end: a user id, or ``@handle`` when the id was not given."""
        if isinstance(value, str) and value.startswith("@"):
            return "@" + str(self.handle(platform, value[1:]))
        return self.user_id(platform, value)

    def text(self, platform: str, value: Any) -> Any:
        if not isinstance(value, str) or "@" not in value:
            return value

        def one(match: re.Match[str]) -> str:
            handle = match.group(1)
            stripped = handle.rstrip(".")
            return "@" + str(self.handle(platform, stripped)) + handle[len(stripped) :]

        return _MENTION.sub(one, value)

    # -- rows ----------------------------------------------------------------------------------
    def _row(self, table: str, platform: str, row: dict[str, Any]) -> dict[str, Any]:
        def put(column: str, fn: Callable[[str, Any], Any]) -> None:
            if column in row:
                row[column] = fn(platform, row[column])

        if table in ("profiles", "posts", "comments"):
            put("user_id", self.user_id)
            put("owner_id", self.user_id)
            put("handle", self.handle)
            put("owner_handle", self.handle)
            put("bio", self.text)
            put("caption", self.text)
            put("text", self.text)
        elif table == "edges":
            put("src", self.key)
            put("dst", self.key)
            put("src_handle", self.handle)
            put("dst_handle", self.handle)
        if isinstance(row.get("mentions"), list):
            row["mentions"] = [self.handle(platform, m) for m in row["mentions"]]
        via = row.get("seen_via")
        if isinstance(via, str) and via.startswith("profile:"):
            row["seen_via"] = "profile:" + str(self.handle(platform, via.removeprefix("profile:")))
        put("extra", self.text)
        if row.get("top_posts"):
            row["top_posts"] = [
                ref
                | {
                    "owner_id": self.user_id(platform, ref.get("owner_id")),
                    "owner_handle": self.handle(platform, ref.get("owner_handle")),
                    "caption": self.text(platform, ref.get("caption")),
                }
                for ref in row["top_posts"]
            ]
        if table in ("profiles", "edges"):
            # Their row ids embed the account: computed again from what is stored.
            row["row_id"] = ENTITY_TABLES[table].row_id(SimpleNamespace(platform=platform, **row))
        return row

    def table(self, table: str, platform: str, data: pa.Table) -> pa.Table:
        rows = data.to_pylist()
        self.learn(table, platform, rows)
        out = [self._row(table, platform, row) for row in rows]
        return pa.Table.from_pylist(out, schema=data.schema)
