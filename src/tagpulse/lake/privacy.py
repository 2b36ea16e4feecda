"""What the lake must not hold: forgotten accounts (the deny list) and, when the lake is
pseudonymised, the real handles of accounts that are not public figures.

One policy for every writer: :class:`~tagpulse.lake.tables.LakeWriter` applies it to each table
it writes and :class:`~tagpulse.lake.raw.RawArchive` to each answer it archives, whoever calls
them (the collector, an import, ``tagpulse reparse``). They read it from the catalog beside the
lake (``<home>/catalog.sqlite``), read-only and at every write, so a ``tagpulse forget`` run
while a collector runs takes effect at its next flush. ``tagpulse forget`` rewrites existing
files with the same rules.

How a forgotten account is recognised: its handles and user ids as whole tokens (a handle not
inside a longer handle, an id not inside a longer number), anywhere in the text. A row that is
*about* the account (its profile, its posts, comments by it or on its posts, edges from or to
it, its entries in a hashtag's top posts) is dropped; a row that merely mentions it (another
account's caption, a bio) keeps its place with the mention replaced by ``[forgotten]``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tagpulse.errors import StorageError
from tagpulse.lake.pseudonymise import Pseudonymiser, PseudonymMemory

__all__ = [
    "REDACTED",
    "Denied",
    "DenyResult",
    "LakePolicy",
    "Matcher",
    "WriteSession",
    "catalog_beside",
    "deny_table",
    "load_policy",
    "string_leaves",
]

REDACTED = "[forgotten]"

#: Columns that name rows, not people: never rewritten (a dropped row takes them along).
_ID_COLUMNS = frozenset({"row_id", "raw_id", "snapshot_id"})
#: Per table: the columns whose value makes a row *about* an account.
_OWNER_IDS: dict[str, tuple[str, ...]] = {
    "profiles": ("user_id",),
    "posts": ("owner_id",),
    "comments": ("owner_id",),
    "edges": ("src", "dst"),
    "post_labels": ("owner_id",),
}
_OWNER_HANDLES: dict[str, tuple[str, ...]] = {
    "profiles": ("handle",),
    "posts": ("owner_handle",),
    "comments": ("owner_handle",),
    "edges": ("src", "dst", "src_handle", "dst_handle"),
    "post_labels": (),
}
_POST_COLUMNS: dict[str, tuple[str, ...]] = {
    "posts": ("post_id",),
    "comments": ("post_id",),
    "edges": ("post_id",),
    "post_labels": ("post_id",),
}
#: Tables whose rows are never about one account (a tag's counts): only redacted.
_NOBODYS = frozenset({"hashtag_snapshots", "tag_counts"})
#: Tables without free text (machine labels, model names, hashes): rows go whole or stay as
#: they are, never redacted (a post id "v1" must not turn model "...-v1" into "[forgotten]").
_NO_TEXT = frozenset({"post_labels"})


class Matcher:
    """Finds handles and ids as whole tokens, in text (``str``) or raw bodies (``bytes``)."""

    def __init__(self, handles: Iterable[str], ids: Iterable[str]) -> None:
        hs = sorted({h.lower().lstrip("@") for h in handles if h}, key=len, reverse=True)
        ns = sorted({i for i in ids if i}, key=len, reverse=True)
        parts = []
        if hs:
            alts = "|".join(re.escape(h) for h in hs)
            # A handle may contain '.', but does not end with one: "@anna." is anna's.
            parts.append(rf"(?<![A-Za-z0-9._])(?:{alts})(?![A-Za-z0-9_]|\.[A-Za-z0-9_])")
        if ns:
            alts = "|".join(re.escape(i) for i in ns)
            # Ids stand alone or joined by '_' (Instagram's <media>_<owner> post ids).
            parts.append(rf"(?<![A-Za-z0-9])(?:{alts})(?![A-Za-z0-9])")
        pattern = "|".join(parts)
        self.empty = not parts
        self.text = re.compile(pattern or r"(?!)", re.IGNORECASE)
        self.binary = re.compile((pattern or r"(?!)").encode(), re.IGNORECASE)
        #: A cheap superset for Arrow (RE2 has no look-arounds): any of the tokens as a substring.
        self.prefilter = "(?i)" + "|".join(re.escape(t) for t in [*hs, *ns]) if parts else ""

    def search(self, text: str | None) -> bool:
        return text is not None and self.text.search(text) is not None

    def redact(self, text: str) -> str:
        return self.text.sub(REDACTED, text)


@dataclass(slots=True)
class Denied:
    """One platform's forgotten accounts."""

    handles: frozenset[str]
    ids: frozenset[str]
    posts: frozenset[str]
    #: Handles, ids and post ids: for table rows.
    matcher: Matcher = field(init=False)
    #: Handles and ids: for raw answers (a post id alone does not make an answer the account's).
    raw_matcher: Matcher = field(init=False)

    def __post_init__(self) -> None:
        self.matcher = Matcher(self.handles, [*self.ids, *self.posts])
        self.raw_matcher = Matcher(self.handles, self.ids)

    def is_account(self, value: Any) -> bool:
        """Whether a value names the account: an id, a handle, or ``@handle``."""
        if not isinstance(value, str) or not value:
            return False
        return value in self.ids or value.lower().lstrip("@") in self.handles

    def concerns(self, body: bytes, url: str, params: Mapping[str, Any]) -> bool:
        """Whether a raw answer mentions the account anywhere (body, URL or request params)."""
        m = self.raw_matcher
        if m.empty:
            return False
        if m.binary.search(body) is not None or m.search(url):
            return True
        return any(m.search(str(v)) for v in params.values())


def string_leaves(column: Any) -> Iterator[Any]:
    """Every string array inside a column, through lists and structs."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        yield column
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        yield from string_leaves(pc.list_flatten(column))
    elif pa.types.is_struct(kind):
        for i in range(kind.num_fields):
            yield from string_leaves(pc.struct_field(column, [i]))


def _may_mention(data: pa.Table, pattern: str) -> bool:
    for name in data.column_names:
        if name in _ID_COLUMNS:
            continue
        for leaf in string_leaves(data[name]):
            if len(leaf) and pc.any(pc.match_substring_regex(leaf, pattern)).as_py():
                return True
    return False


def _redact_json(text: str, denied: Denied) -> str:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return denied.matcher.redact(text)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return denied.matcher.redact(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None if str(value) in denied.ids else value
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {denied.matcher.redact(str(k)): walk(v) for k, v in value.items()}
        return value

    return orjson.dumps(walk(doc)).decode()


def _redact(value: Any, denied: Denied, key: str | None = None) -> Any:
    if isinstance(value, str):
        if key == "extra":
            return _redact_json(value, denied)
        return denied.matcher.redact(value)
    if isinstance(value, list):
        return [_redact(v, denied) for v in value]
    if isinstance(value, dict):
        return {k: v if k in _ID_COLUMNS else _redact(v, denied, k) for k, v in value.items()}
    return value


def _about(table: str, row: Mapping[str, Any], denied: Denied, posts: set[str]) -> bool:
    if table in _NOBODYS:
        return False
    if table not in _OWNER_IDS:
        # A table tagpulse does not know (a derived one): any column naming the account.
        return any(
            denied.is_account(v) or v in posts
            for k, v in row.items()
            if k not in _ID_COLUMNS and isinstance(v, str)
        )
    if any(row.get(c) in denied.ids for c in _OWNER_IDS[table]):
        return True
    if any(denied.is_account(row.get(c)) for c in _OWNER_HANDLES[table]):
        return True
    return any(row.get(c) in posts for c in _POST_COLUMNS.get(table, ()))


def _owned_ref(ref: Mapping[str, Any], denied: Denied, posts: set[str]) -> bool:
    """A hashtag's top post that belongs to the account."""
    return (
        denied.is_account(ref.get("owner_id"))
        or denied.is_account(ref.get("owner_handle"))
        or ref.get("post_id") in posts
    )


@dataclass(slots=True)
class DenyResult:
    data: pa.Table
    removed: int = 0
    redacted: int = 0


def deny_table(table: str, data: pa.Table, denied: Denied, posts: set[str]) -> DenyResult:
    """``data`` without the rows about the forgotten account and with its mentions redacted.

    ``posts`` (the account's post ids, grown by this call when it drops posts) decides which
    comments and edges belong to it. Returns the same table object when nothing matched.
    """
    if denied.matcher.empty or data.num_rows == 0:
        return DenyResult(data)
    # Posts dropped earlier in this write are not in the matcher yet.
    extra = "|".join(re.escape(p) for p in sorted(posts - denied.posts))
    if not _may_mention(data, denied.matcher.prefilter + ("|" + extra if extra else "")):
        return DenyResult(data)
    kept: list[dict[str, Any]] = []
    removed = redacted = 0
    for row in data.to_pylist():
        if _about(table, row, denied, posts):
            removed += 1
            if table == "posts" and isinstance(row.get("post_id"), str):
                posts.add(row["post_id"])
            continue
        changed = False
        if table == "hashtag_snapshots" and row.get("top_posts"):
            refs = [r for r in row["top_posts"] if not _owned_ref(r, denied, posts)]
            changed = len(refs) != len(row["top_posts"])
            row["top_posts"] = refs
        clean = row if table in _NO_TEXT else _redact(row, denied)
        if changed or clean != row:
            redacted += 1
        kept.append(clean)
    if not removed and not redacted:
        return DenyResult(data)
    return DenyResult(pa.Table.from_pylist(kept, schema=data.schema), removed, redacted)


@dataclass(slots=True)
class LakePolicy:
    """The deny list per platform, and the salt when the lake is pseudonymised."""

    denied: dict[str, Denied] = field(default_factory=dict)
    salt: bytes | None = None
    #: Handles on the watchlist per platform: never pseudonymised.
    watched: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.denied and self.salt is None

    def concerns(self, platform: str, body: bytes, url: str, params: Mapping[str, Any]) -> bool:
        denied = self.denied.get(platform)
        return denied is not None and denied.concerns(body, url, params)

    def session(self, memory: PseudonymMemory) -> WriteSession:
        return WriteSession(self, memory)


class WriteSession:
    """One write's view of the policy: the posts it dropped, the exemptions it learned."""

    def __init__(self, policy: LakePolicy, memory: PseudonymMemory) -> None:
        self.policy = policy
        self.dropped_posts: dict[str, set[str]] = {}
        self.pseudonymiser = (
            Pseudonymiser(policy.salt, policy.watched, memory) if policy.salt is not None else None
        )

    def learn(self, table: str, platform: str, data: pa.Table) -> None:
        if self.pseudonymiser is not None:
            self.pseudonymiser.learn(table, platform, data.to_pylist())

    def apply(self, table: str, platform: str, data: pa.Table) -> pa.Table:
        denied = self.policy.denied.get(platform)
        if denied is not None:
            posts = self.dropped_posts.setdefault(platform, set(denied.posts))
            data = deny_table(table, data, denied, posts).data
        if self.pseudonymiser is not None and data.num_rows:
            data = self.pseudonymiser.table(table, platform, data)
        return data


def catalog_beside(lake_dir: Path) -> Path:
    """The catalog of the home a lake belongs to (``<home>/lake`` → ``<home>/catalog.sqlite``)."""
    return lake_dir.parent / "catalog.sqlite"


def load_policy(lake_dir: Path) -> LakePolicy | None:
    """The policy in force for ``lake_dir``; None when there is nothing to apply.

    Read-only: a lake without a catalog (a test's, a copied lake) has no policy, and this never
    creates one.
    """
    path = catalog_beside(lake_dir)
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the privacy policy in {path}: {exc}") from exc
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        rows = db.execute("SELECT platform, kind, value FROM deny_list").fetchall()
        salt = None
        watched: dict[str, set[str]] = {}
        if meta.get("pseudonymise") == "on":
            salt = bytes.fromhex(meta["privacy_salt"])
            for platform, tag in db.execute(
                "SELECT platform, tag FROM schedule WHERE tag LIKE '@%'"
            ).fetchall():
                watched.setdefault(platform, set()).add(tag[1:].lower())
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None  # a catalog from before the deny list: nothing is forgotten
        raise StorageError(f"cannot read the privacy policy in {path}: {exc}") from exc
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the privacy policy in {path}: {exc}") from exc
    finally:
        db.close()
    by_platform: dict[str, dict[str, set[str]]] = {}
    for platform, kind, value in rows:
        by_platform.setdefault(platform, {}).setdefault(kind, set()).add(value)
    policy = LakePolicy(
        denied={
            p: Denied(
                frozenset(k.get("handle", ())),
                frozenset(k.get("id", ())),
                frozenset(k.get("post", ())),
            )
            for p, k in by_platform.items()
        },
        salt=salt,
        watched={p: frozenset(h) for p, h in watched.items()},
    )
    return None if policy.empty else policy
