"""``tagpulse forget <platform>:<handle>``: erase an account from the lake, and keep it erased.

In order:

1. **Who**: the handle's user ids, from every table that pairs a handle with an id (profiles,
   posts, comments, edges, a hashtag's top posts), then the other handles of those ids (former
   names), to a fixed point; then the account's post ids.
2. **Deny list first** (catalog): from this moment every writer (collector, import, reparse)
   drops the account's rows and refuses answers that mention it, and the collector no longer
   asks for it. A forget that dies half-way is simply run again.
3. **Tables**: every Parquet file holding a matching row is rewritten without it (new file
   renamed into place, then the old one removed: readers see one or the other, and de-duplicate
   the instant both are there). Dropped: rows about the account (its profiles, its posts,
   comments by it or on its posts, edges from or to it, its entries among a hashtag's top posts).
   Kept with the mention replaced by ``[forgotten]``: other rows that name it (a caption, a bio).
   Tables tagpulse does not know (derived ones) lose every row with a column naming it.
4. **Raw archive**: every answer *of that platform* that contains the handle or an id anywhere
   (body, URL, request) is dropped whole, not only the answers about the account (its profile,
   its feed). Editing an answer would mean understanding every shape of every platform, and a
   missed field would keep the data; dropping is certain. The cost is other accounts' answers
   that merely mention it (a hashtag page with one of its posts): their rows stay in the tables
   (``tagpulse reparse`` carries rows without an archived answer over), but they can no longer
   be re-parsed. The summary says how many answers went; ``--dry-run`` says it first. A handle
   that is also a common word or a hashtag matches more answers than the account's.
5. **Media**: the account's post images, unless another post shares the file.
6. **Catalog**: the raw index entries of dropped answers, the account's schedule, cursors,
   events and quarantine entries (and quarantined files that mention it).
7. **Audit log**: who, when, what counts, naming the account only by its salted hash.

While a collector runs: the deny list goes in first, so its next flush already drops the
account; files written while steps 3 and 4 ran are checked a second time. One reparse or forget
at a time per lake; compactions wait. ``dry_run`` counts all of it and writes nothing (not even
the lake's salt).
"""

from __future__ import annotations

import getpass
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow.parquet as pq

from tagpulse.errors import InputError
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.catalog_privacy import DenyKind, pseudonym, subject_ref
from tagpulse.lake.maintenance import compaction_locks, maintenance_lock
from tagpulse.lake.privacy import Denied, deny_table
from tagpulse.lake.pseudonymise import is_pseudonym
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import raw_files, rewrite_raw_file
from tagpulse.lake.tables import SCHEMAS, write_part

__all__ = ["ForgetSummary", "MediaEraser", "current_actor", "forget_account", "parse_account"]

#: Rewritten first: the account's posts decide which comments and edges go with them.
_ORDER = ("profiles", "posts", "hashtag_snapshots")


class MediaEraser(Protocol):
    """What forget needs of the media store (:class:`~tagpulse.collect.media.MediaStore`)."""

    def forget_post(self, platform: str, post_id: str, *, dry_run: bool = False) -> int: ...

    def forget_pictures(
        self, platform: str, urls: Iterable[str], *, dry_run: bool = False
    ) -> int: ...


@dataclass(slots=True)
class ForgetSummary:
    platform: str
    subject: str
    dry_run: bool
    handles: int = 0
    user_ids: int = 0
    posts: int = 0
    rows_removed: dict[str, int] = field(default_factory=dict)
    rows_redacted: dict[str, int] = field(default_factory=dict)
    table_files_rewritten: int = 0
    raw_answers_dropped: int = 0
    raw_files_rewritten: int = 0
    media_files_removed: int = 0
    catalog_rows_removed: dict[str, int] = field(default_factory=dict)
    quarantine_files_removed: int = 0
    deny_entries_added: int = 0
    audit_id: int | None = None

    def counts(self) -> dict[str, Any]:
        """What the audit log keeps: numbers, never the account."""
        doc = asdict(self)
        for key in ("platform", "subject", "audit_id"):
            doc.pop(key)
        return doc


def parse_account(text: str) -> tuple[str, str]:
    """``instagram:handle`` (or ``instagram:@handle``) → (platform, handle)."""
    platform, sep, handle = text.partition(":")
    handle = handle.strip().lstrip("@").lower()
    platform = platform.strip().lower()
    if not sep or not platform or not handle:
        raise InputError(
            f"expected PLATFORM:HANDLE, e.g. instagram:some.account; got {text!r}", field="ACCOUNT"
        )
    if any(c.isspace() or c in ",'\"" for c in handle):
        raise InputError(f"not a handle: {handle!r}", field="ACCOUNT")
    return platform, handle


def current_actor() -> str:
    """Who runs the command, for the audit log (the OS user; ``TAGPULSE_ACTOR`` overrides)."""
    try:
        return os.environ.get("TAGPULSE_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _marks(values: list[str]) -> str:
    return ",".join("?" for _ in values) or "NULL"


def _picture_urls(query: LakeQuery, platform: str, handles: set[str], ids: set[str]) -> list[str]:
    """Every profile picture URL the lake holds for the account (by handle or user id)."""
    if not query.has_data("profiles") or not (handles or ids):
        return []
    hs, us = sorted(handles), sorted(ids)
    rows = query.rows(
        "SELECT DISTINCT profile_pic_url AS v FROM profiles_all WHERE platform = ? AND "
        f"profile_pic_url IS NOT NULL AND (lower(handle) IN ({_marks(hs)}) "
        f"OR user_id IN ({_marks(us)}))",
        [platform, *hs, *us],
    )
    return sorted(str(r["v"]) for r in rows)


def _resolve(
    query: LakeQuery, platform: str, names: set[str]
) -> tuple[set[str], set[str], set[str]]:
    """The account's handles (former names included), user ids and post ids."""
    handles, ids = set(names), set[str]()
    for _ in range(5):
        hs, us = sorted(handles), sorted(ids)
        h, u = _marks(hs), _marks(us)
        found_ids = query.rows(
            f"SELECT user_id AS v FROM profiles_all WHERE platform = ? AND lower(handle) IN ({h}) "
            f"UNION SELECT owner_id FROM posts_all WHERE platform = ? AND lower(owner_handle) "
            f"IN ({h}) "
            f"UNION SELECT owner_id FROM comments_all WHERE platform = ? AND lower(owner_handle) "
            f"IN ({h}) "
            f"UNION SELECT src FROM edges_all WHERE platform = ? AND lower(src_handle) IN ({h}) "
            f"UNION SELECT dst FROM edges_all WHERE platform = ? AND lower(dst_handle) IN ({h}) "
            "UNION SELECT u.tp.owner_id FROM hashtag_snapshots_all s, unnest(s.top_posts) "
            f"AS u(tp) WHERE s.platform = ? AND lower(u.tp.owner_handle) IN ({h})",
            [x for _ in range(6) for x in (platform, *hs)],
        )
        found_handles = query.rows(
            f"SELECT lower(handle) AS v FROM profiles_all WHERE platform = ? AND user_id IN ({u}) "
            "UNION SELECT lower(owner_handle) FROM posts_all WHERE platform = ? AND owner_id "
            f"IN ({u}) "
            "UNION SELECT lower(owner_handle) FROM comments_all WHERE platform = ? AND owner_id "
            f"IN ({u})",
            [x for _ in range(3) for x in (platform, *us)],
        )
        new_ids = {r["v"] for r in found_ids if r["v"] and not str(r["v"]).startswith("@")}
        new_handles = {r["v"] for r in found_handles if r["v"]}
        if new_ids <= ids and new_handles <= handles:
            break
        ids |= new_ids
        handles |= new_handles
    us = sorted(ids)
    hs = sorted(handles)
    post_rows = query.rows(
        f"SELECT post_id AS v FROM posts_all WHERE platform = ? AND (owner_id IN ({_marks(us)}) "
        f"OR lower(owner_handle) IN ({_marks(hs)})) "
        "UNION SELECT u.tp.post_id FROM hashtag_snapshots_all s, unnest(s.top_posts) AS u(tp) "
        f"WHERE s.platform = ? AND (u.tp.owner_id IN ({_marks(us)}) "
        f"OR lower(u.tp.owner_handle) IN ({_marks(hs)}))",
        [platform, *us, *hs, platform, *us, *hs],
    )
    posts = {r["v"] for r in post_rows if r["v"]}
    return handles, ids, posts


def _newer(paths: Iterable[Path], since: float | None) -> list[Path]:
    return sorted(p for p in paths if since is None or p.stat().st_mtime >= since)


def _table_files(table_dir: Path, platform: str) -> Iterator[Path]:
    if table_dir.name in SCHEMAS:
        yield from table_dir.glob(f"platform={platform}/**/[!.]*.parquet")
        return
    # A table tagpulse does not know may not be partitioned: all of it but other platforms'.
    for path in table_dir.rglob("[!.]*.parquet"):
        parts = [p for p in path.relative_to(table_dir).parts if p.startswith("platform=")]
        if not parts or parts[0] == f"platform={platform}":
            yield path


def _rewrite_tables(
    tables_dir: Path,
    platform: str,
    denied: Denied,
    posts: set[str],
    summary: ForgetSummary,
    since: float | None = None,
) -> None:
    if not tables_dir.is_dir():
        return
    names = sorted(
        (p.name for p in tables_dir.iterdir() if p.is_dir()),
        key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n),
    )
    for table in names:
        for path in _newer(_table_files(tables_dir / table, platform), since):
            data = pq.read_table(path, schema=SCHEMAS.get(table))
            result = deny_table(table, data, denied, posts)
            if not (result.removed or result.redacted):
                continue
            summary.rows_removed[table] = summary.rows_removed.get(table, 0) + result.removed
            summary.rows_redacted[table] = summary.rows_redacted.get(table, 0) + result.redacted
            summary.table_files_rewritten += 1
            if summary.dry_run:
                continue
            if result.data.num_rows:
                write_part(result.data, path.parent, "forget")
            path.unlink()


def _rewrite_raw(
    lake_dir: Path,
    platform: str,
    denied: Denied,
    handles: set[str],
    summary: ForgetSummary,
    since: float | None = None,
) -> list[str]:
    watch = {f"@{h}" for h in handles}

    def drop(doc: dict[str, Any]) -> bool:
        params = doc.get("params") or {}
        if params.get("_watch") in watch:
            return True  # an answer about the account: its profile, its feed, its lists
        return denied.concerns(doc["body"], doc.get("url") or "", params)

    dropped: list[str] = []
    for path in _newer(raw_files(lake_dir), since):
        if path.parent.parent.name != f"platform={platform}":
            continue  # the same handle on another platform is someone else
        gone = rewrite_raw_file(path, drop, dry_run=summary.dry_run)
        if gone:
            summary.raw_files_rewritten += 1
            dropped += gone
    summary.raw_answers_dropped += len(dropped)
    return dropped


def _quarantined_files(lake_dir: Path, denied: Denied, dry_run: bool) -> int:
    root = lake_dir / "quarantine"
    removed = 0
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_file() and denied.raw_matcher.binary.search(path.read_bytes()):
            removed += 1
            if not dry_run:
                path.unlink()
    return removed


def forget_account(
    lake_dir: Path,
    catalog: Catalog,
    platform: str,
    handle: str,
    *,
    media: MediaEraser | None = None,
    actor: str | None = None,
    dry_run: bool = False,
    now: Callable[[], datetime] | None = None,
) -> ForgetSummary:
    """Erase ``platform``:``handle`` from the lake (see the module doc); ``dry_run`` only counts."""
    clock = now or (lambda: datetime.now(UTC))
    handle = handle.lower().lstrip("@")
    # A dry run writes nothing, not even the salt: its subject is then only for display.
    salt = catalog.stored_salt() or (secrets.token_bytes(32) if dry_run else catalog.privacy_salt())
    summary = ForgetSummary(platform, subject_ref(salt, platform, handle), dry_run)
    with maintenance_lock(lake_dir, "tagpulse forget"), compaction_locks(lake_dir / "tables"):
        # Rows written while the lake was pseudonymised name the account by its pseudonyms.
        alias = pseudonym(salt, platform, handle, "handle")
        handles, ids, posts = _resolve(LakeQuery(lake_dir), platform, {handle, alias})
        handles.discard(alias)
        # Its profile pictures' URLs, read before the rewrite removes its profiles.
        pictures = _picture_urls(LakeQuery(lake_dir), platform, handles, ids)
        summary.handles, summary.user_ids, summary.posts = len(handles), len(ids), len(posts)
        if not dry_run:
            entries: list[tuple[DenyKind, str]] = [("handle", h) for h in sorted(handles)]
            entries += [("id", i) for i in sorted(ids)] + [("post", p) for p in sorted(posts)]
            summary.deny_entries_added = catalog.deny(platform, entries, at=clock())
        aliases = {pseudonym(salt, platform, h, "handle") for h in handles}
        aliases |= {pseudonym(salt, platform, i, "id") for i in ids if not is_pseudonym(i)}
        table_denied = Denied(frozenset(handles | aliases), frozenset(ids), frozenset(posts))
        all_posts = set(posts)  # grows with the posts the rewrite finds (in a top-posts list)
        real = frozenset(i for i in ids if not is_pseudonym(i))
        raw_denied = Denied(frozenset(handles), real, frozenset())
        dropped: list[str] = []
        since: float | None = None
        # Twice: a collector flushing as the deny list went in may have written with the old
        # policy; the second pass reads only the files written since the first began.
        for _ in range(1 if dry_run else 2):
            started = time.time() - 1.0  # margin for coarse file-system clocks
            _rewrite_tables(lake_dir / "tables", platform, table_denied, all_posts, summary, since)
            dropped += _rewrite_raw(lake_dir, platform, raw_denied, handles, summary, since)
            since = started
        if media is not None:
            for post_id in sorted(all_posts):
                summary.media_files_removed += media.forget_post(platform, post_id, dry_run=dry_run)
            summary.media_files_removed += media.forget_pictures(
                platform, pictures, dry_run=dry_run
            )
        summary.quarantine_files_removed = _quarantined_files(lake_dir, raw_denied, dry_run)
        if not dry_run:
            summary.catalog_rows_removed = catalog.forget_catalog_rows(
                platform, sorted(handles), dropped, raw_denied.raw_matcher.search
            )
            summary.audit_id = catalog.add_audit(
                "forget",
                subject=summary.subject,
                actor=actor or current_actor(),
                details={"platform": platform, **summary.counts()},
                at=clock(),
            )
    return summary
