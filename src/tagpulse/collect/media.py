"""The content-addressed media store: post images kept once, by sha256, with thumbnails.

Layout under ``root`` (``<home>/media``)::

    <sha[:2]>/<sha>.<ext>          the file exactly as downloaded; ext from magic bytes
    thumbs/<sha[:2]>/<sha>.jpg     a JPEG thumbnail for the dashboard (images Pillow can read)
    index.sqlite                   files, which post links to which file, which URL gave which file

Why content addressing: the same picture is reposted, served in several sizes under several URLs
and fetched again on every collection; hashing the bytes stores it once and links it to every
post it appeared in. Files are written to a temporary name and renamed, so readers (the API,
the dashboard) never see half a file and two collectors storing the same bytes at once leave
one good file.

Nothing a server says is trusted: the type comes from magic bytes (a WebP named ``.jpg`` and
sent as ``image/jpeg`` is a WebP; the declared type is kept in the index so the lie is
visible), the size limit holds while streaming, and images are fully decoded once (truncated
files and decompression bombs are refused) before anything is written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tagpulse.collect.media_types import (
    EXTENSIONS,
    Refused,
    RejectReason,
    inspect_image,
    is_type_mismatch,
    sniff_mime,
)
from tagpulse.errors import (
    InputError,
    NotFound,
    PayloadError,
    PlatformError,
    RateLimited,
    StorageError,
    TransportError,
)
from tagpulse.platforms import http as platform_http
from tagpulse.records import MediaFile

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "MediaNotFound",
    "MediaRejected",
    "MediaStats",
    "MediaStore",
    "RejectReason",
    "TypeMismatch",
    "media_client",
    "sniff_mime",
]

log = logging.getLogger(__name__)

#: Platform images are far smaller (Instagram serves ≤ 1440 px, a few hundred KiB).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: 50 megapixels: well above any platform image, well below what exhausts memory on decode.
DEFAULT_MAX_PIXELS = 50_000_000

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_THUMB_DIR = "thumbs"
_INDEX_NAME = "index.sqlite"
_CHUNK = 64 * 1024
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    ext TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    first_fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    platform TEXT NOT NULL,
    post_id TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES files (sha256),
    url TEXT,
    declared_type TEXT,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (platform, post_id, sha256)
);
CREATE INDEX IF NOT EXISTS links_sha ON links (sha256);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES files (sha256),
    declared_type TEXT,
    fetched_at TEXT NOT NULL
);
"""


class MediaRejected(PayloadError):
    """The store refused a file: too large, of no known type, truncated, or a bomb.

    ``reason`` is a stable code the collector can turn into an event; nothing was written.
    """

    def __init__(
        self, reason: RejectReason, detail: str, *, url: str | None, post_id: str | None
    ) -> None:
        where = "" if url is not None or post_id is None else f" (post {post_id})"
        super().__init__(f"media refused, {reason}: {detail}{where}", url=url)
        self.reason: RejectReason = reason
        self.detail = detail
        self.post_id = post_id


class MediaNotFound(StorageError):
    """No file with this sha256 is in the store."""

    def __init__(self, sha256: str, root: Path) -> None:
        super().__init__(f"media {sha256} is not in the store at {root}")
        self.sha256 = sha256


@dataclass(slots=True, frozen=True)
class MediaStats:
    """How much the store holds: distinct files, their bytes, and posts linked to them."""

    files: int
    bytes: int
    posts: int


@dataclass(slots=True, frozen=True)
class TypeMismatch:
    """A URL whose declared Content-Type disagreed with the bytes it served."""

    url: str
    declared: str
    sniffed: str
    sha256: str


def media_client(
    *,
    timeout: float = 30.0,
    proxy: str | None = None,
    source_address: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """An HTTP client for media downloads (no cookies: CDN URLs are signed, not session-bound)."""
    transport = platform_http.transport(proxy=proxy, source_address=source_address)
    return httpx.Client(transport=transport, timeout=timeout, headers=headers)


def _write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` via a temp file and rename; False when it is already there."""
    try:
        if path.is_file() and path.stat().st_size == len(data):
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StorageError(f"cannot write media file {path}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the API may run as another user
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageError(f"cannot write media file {path}: {exc}") from exc
        raise
    return True


def _status_error(answer: httpx.Response, url: str) -> PlatformError:
    status = answer.status_code
    if status in (404, 410):
        return NotFound(f"media {status}: gone from the server", url=url, status=status)
    if status == 429:
        wait = answer.headers.get("retry-after")
        hint = f", Retry-After {wait}" if wait else ""
        return RateLimited(f"media 429 Too Many Requests{hint}", url=url, status=status)
    if status in (401, 403):
        return PlatformError(
            f"media {status} forbidden: signed CDN URLs expire; collect the post again "
            "for a fresh URL",
            url=url,
            status=status,
        )
    if status >= 500:
        return TransportError(f"media server error {status}; try later", url=url, status=status)
    return PlatformError(f"unexpected HTTP {status} for media", url=url, status=status)


class MediaStore:
    """Images by sha256 under ``root``, indexed in ``root/index.sqlite`` (WAL).

    Thread-safe: one SQLite connection per thread; files are renamed into place.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        thumb_size: int = 320,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        if max_bytes <= 0 or thumb_size <= 0 or max_pixels <= 0:
            raise InputError("max_bytes, thumb_size and max_pixels must be positive")
        self.root = root
        self.max_bytes = max_bytes
        self.thumb_size = thumb_size
        self.max_pixels = max_pixels
        self.index_path = root / _INDEX_NAME
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        try:
            root.mkdir(parents=True, exist_ok=True)
            self._conn().executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot create media index {self.index_path}: {exc}") from exc

    # -- index plumbing -----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.index_path, timeout=30, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                raise StorageError(f"cannot open media index {self.index_path}: {exc}") from exc
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"media index {self.index_path}: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self._conn().execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"media index {self.index_path}: {exc}") from exc

    def close(self) -> None:
        """Close every thread's index connection."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> MediaStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paths --------------------------------------------------------------------------------
    def _check_sha(self, sha256: str) -> str:
        # The sha becomes a path: anything but 64 hex digits could walk out of the store.
        if not _SHA_RE.fullmatch(sha256):
            raise InputError(f"not a sha256 (64 lower-case hex digits): {sha256!r}", field="sha")
        return sha256

    def _file_path(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.{ext}"

    def _thumb_path(self, sha256: str) -> Path:
        return self.root / _THUMB_DIR / sha256[:2] / f"{sha256}.jpg"

    def _file_row(self, sha256: str) -> tuple[str, str, int, int | None, int | None] | None:
        rows = self._query(
            "SELECT mime, ext, size, width, height FROM files WHERE sha256 = ?", (sha256,)
        )
        return (rows[0][0], rows[0][1], rows[0][2], rows[0][3], rows[0][4]) if rows else None

    # -- writing ------------------------------------------------------------------------------
    def store_bytes(
        self,
        data: bytes,
        *,
        platform: str,
        post_id: str | None,
        url: str | None,
        fetched_at: datetime,
        declared_type: str | None = None,
    ) -> MediaFile:
        """Store ``data`` (once per sha256) and link it to the post; refuse it whole or not at all.

        Raises :class:`MediaRejected` (too large, empty, unknown type, truncated, corrupt,
        decompression bomb) before anything is written, and :class:`StorageError` when the disk
        or the index fails.
        """
        if len(data) > self.max_bytes:
            raise MediaRejected(
                "too_large",
                f"{len(data)} bytes is over the limit of {self.max_bytes}",
                url=url,
                post_id=post_id,
            )
        if not data:
            raise MediaRejected("empty", "the body is empty", url=url, post_id=post_id)
        mime = sniff_mime(data)
        if mime is None:
            raise MediaRejected(
                "unknown_type",
                f"magic bytes {data[:12].hex()} are no image or video type we store "
                f"(declared {declared_type or 'nothing'})",
                url=url,
                post_id=post_id,
            )
        sha = hashlib.sha256(data).hexdigest()
        ext = EXTENSIONS[mime]
        path = self._file_path(sha, ext)
        known = self._file_row(sha)
        if known is not None and path.is_file():
            width, height = known[3], known[4]
        else:
            try:
                seen = inspect_image(
                    data, mime, max_pixels=self.max_pixels, thumb_size=self.thumb_size
                )
            except Refused as refused:
                raise MediaRejected(
                    refused.reason, refused.detail, url=url, post_id=post_id
                ) from refused
            width, height = seen.width, seen.height
            _write_atomic(path, data)
            if seen.thumbnail is not None:
                _write_atomic(self._thumb_path(sha), seen.thumbnail)
        at = fetched_at.isoformat()
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sha, mime, ext, len(data), width, height, at),
            )
            self._link(db, sha, platform, post_id, url, declared_type, at)
        if declared_type is not None and is_type_mismatch(declared_type, mime):
            log.warning(
                "media type mismatch: %s declared %r but its bytes are %s (sha256 %s)",
                url,
                declared_type,
                mime,
                sha,
            )
        return MediaFile(
            sha256=sha,
            mime=mime,
            size=len(data),
            width=width,
            height=height,
            platform=platform,
            post_id=post_id,
            url=url,
            fetched_at=fetched_at,
        )

    @staticmethod
    def _link(
        db: sqlite3.Connection,
        sha: str,
        platform: str,
        post_id: str | None,
        url: str | None,
        declared_type: str | None,
        at: str,
    ) -> None:
        # post_id '' stands for "no post" (an avatar, an import): NULL would defeat the key.
        db.execute(
            "INSERT OR IGNORE INTO links VALUES (?, ?, ?, ?, ?, ?)",
            (platform, post_id or "", sha, url, declared_type, at),
        )
        if url is not None:
            db.execute(
                # A URL that now serves other bytes points at what it served last.
                "INSERT INTO urls VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "sha256 = excluded.sha256, declared_type = excluded.declared_type, "
                "fetched_at = excluded.fetched_at",
                (url, sha, declared_type, at),
            )

    def fetch(
        self,
        client: httpx.Client,
        url: str,
        *,
        platform: str,
        post_id: str | None,
        fetched_at: datetime,
    ) -> MediaFile:
        """Download ``url`` into the store, or only link it when the URL was fetched before.

        The download is streamed and abandoned as soon as it passes ``max_bytes``. Raises
        :class:`NotFound` (404/410), :class:`RateLimited` (429), :class:`TransportError`
        (connection failures, 5xx), :class:`PlatformError` (other statuses) and
        :class:`MediaRejected`, each naming the URL. Never retries: the collector decides.
        """
        known = self._known_file(url)
        if known is not None:
            sha, mime, size, width, height, declared = known
            with self._tx() as db:
                self._link(db, sha, platform, post_id, url, declared, fetched_at.isoformat())
            return MediaFile(sha, mime, size, width, height, platform, post_id, url, fetched_at)
        data, declared_type = self._download(client, url, post_id)
        return self.store_bytes(
            data,
            platform=platform,
            post_id=post_id,
            url=url,
            fetched_at=fetched_at,
            declared_type=declared_type,
        )

    def _download(
        self, client: httpx.Client, url: str, post_id: str | None
    ) -> tuple[bytes, str | None]:
        try:
            with client.stream("GET", url, follow_redirects=True) as answer:
                if answer.status_code != 200:
                    raise _status_error(answer, url)
                declared = answer.headers.get("content-type")
                length = answer.headers.get("content-length", "")
                if length.isdigit() and int(length) > self.max_bytes:
                    raise MediaRejected(
                        "too_large",
                        f"Content-Length {length} is over the limit of {self.max_bytes} bytes; "
                        "not downloaded",
                        url=url,
                        post_id=post_id,
                    )
                chunks: list[bytes] = []
                total = 0
                for chunk in answer.iter_bytes(_CHUNK):
                    total += len(chunk)
                    if total > self.max_bytes:
                        # Leaving the block closes the connection without reading the rest.
                        raise MediaRejected(
                            "too_large",
                            f"body passed the limit of {self.max_bytes} bytes while "
                            "downloading; stopped",
                            url=url,
                            post_id=post_id,
                        )
                    chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise TransportError(f"timed out downloading media: {exc}", url=url) from exc
        except httpx.InvalidURL as exc:
            raise PayloadError(f"not a valid media URL: {exc}", url=url) from exc
        except (httpx.HTTPError, httpx.StreamError) as exc:
            # Resets, refused connections and bodies cut short before Content-Length land here.
            raise TransportError(
                f"media download failed: {type(exc).__name__}: {exc}", url=url
            ) from exc
        return b"".join(chunks), declared

    # -- reading ------------------------------------------------------------------------------
    def _known_file(
        self, url: str
    ) -> tuple[str, str, int, int | None, int | None, str | None] | None:
        rows = self._query(
            "SELECT f.sha256, f.mime, f.ext, f.size, f.width, f.height, u.declared_type "
            "FROM urls u JOIN files f USING (sha256) WHERE u.url = ?",
            (url,),
        )
        if not rows:
            return None
        sha, mime, ext, size, width, height, declared = rows[0]
        if not self._file_path(sha, ext).is_file():
            return None  # deleted by hand: download it again
        return sha, mime, size, width, height, declared

    def known_url(self, url: str) -> str | None:
        """The sha256 this URL gave when it was fetched, if it was and the file is still here."""
        known = self._known_file(url)
        return known[0] if known is not None else None

    def lookup(self, sha256: str) -> Path:
        """The stored file for ``sha256``; :class:`MediaNotFound` when it is not stored."""
        sha = self._check_sha(sha256)
        row = self._file_row(sha)
        if row is not None:
            path = self._file_path(sha, row[1])
            if path.is_file():
                return path
        raise MediaNotFound(sha, self.root)

    def thumbnail_path(self, sha256: str) -> Path | None:
        """The JPEG thumbnail for ``sha256``, or None (not stored, or a type Pillow can't read)."""
        path = self._thumb_path(self._check_sha(sha256))
        return path if path.is_file() else None

    def for_post(self, platform: str, post_id: str) -> list[MediaFile]:
        """The files linked to a post, in the order they were stored (carousel order)."""
        rows = self._query(
            "SELECT f.sha256, f.mime, f.size, f.width, f.height, l.url, l.fetched_at "
            "FROM links l JOIN files f USING (sha256) "
            "WHERE l.platform = ? AND l.post_id = ? ORDER BY l.rowid",
            (platform, post_id),
        )
        return [
            MediaFile(
                sha, mime, size, width, height, platform, post_id, url, datetime.fromisoformat(at)
            )
            for sha, mime, size, width, height, url, at in rows
        ]

    def linked_files(self, mime_prefix: str = "image/") -> list[MediaFile]:
        """Every (post, file) link whose file type starts with ``mime_prefix``, by platform and
        post, each post's files in the order they were stored (enrichment enumerates these)."""
        rows = self._query(
            "SELECT f.sha256, f.mime, f.size, f.width, f.height, l.platform, l.post_id, l.url, "
            "l.fetched_at FROM links l JOIN files f USING (sha256) "
            "WHERE l.post_id != '' AND f.mime LIKE ? ORDER BY l.platform, l.post_id, l.rowid",
            (mime_prefix.replace("%", "") + "%",),
        )
        return [
            MediaFile(sha, mime, size, w, h, plat, post, url, datetime.fromisoformat(at))
            for sha, mime, size, w, h, plat, post, url, at in rows
        ]

    def forget_post(self, platform: str, post_id: str, *, dry_run: bool = False) -> int:
        """Unlink a post from its files and delete each file (and thumbnail) that no other post
        still links; returns how many files were deleted (or would be, with ``dry_run``).

        For erasure (``tagpulse forget``): the index forgets the post's links, the URLs it was
        fetched from and the files nobody else uses; a picture another post shares is kept.
        """
        if dry_run:
            return len(self._post_files(self._query, platform, post_id)[1])
        with self._tx() as db:
            links, orphans = self._post_files(
                lambda sql, params: db.execute(sql, params).fetchall(), platform, post_id
            )
            db.execute("DELETE FROM links WHERE platform = ? AND post_id = ?", (platform, post_id))
            for url in {u for _, u in links if u is not None}:
                db.execute(
                    "DELETE FROM urls WHERE url = ? AND NOT EXISTS "
                    "(SELECT 1 FROM links WHERE links.url = urls.url)",
                    (url,),
                )
            for sha, _ in orphans:
                db.execute("DELETE FROM urls WHERE sha256 = ?", (sha,))
                db.execute("DELETE FROM files WHERE sha256 = ?", (sha,))
        # Files go after the index no longer names them: a reader never finds a dangling row.
        for sha, ext in orphans:
            if ext:
                self._file_path(sha, ext).unlink(missing_ok=True)
            self._thumb_path(sha).unlink(missing_ok=True)
        return len(orphans)

    def forget_pictures(self, platform: str, urls: Iterable[str], *, dry_run: bool = False) -> int:
        """Forget the files fetched with no post (profile pictures) from ``urls``: the URLs,
        and each file that nothing else (another URL, a post) still uses, with its links;
        returns how many files were deleted (or would be, with ``dry_run``). ``platform`` names
        the account's platform for symmetry with :meth:`forget_post`; URLs are global."""
        wanted = sorted(set(urls))
        if not wanted:
            return 0
        if dry_run:
            return len(self._picture_orphans(self._query, wanted))
        with self._tx() as db:
            orphans = self._picture_orphans(
                lambda sql, params: db.execute(sql, params).fetchall(), wanted
            )
            db.executemany("DELETE FROM urls WHERE url = ?", [(u,) for u in wanted])
            for sha, _ in orphans:
                db.execute("DELETE FROM links WHERE sha256 = ?", (sha,))
                db.execute("DELETE FROM files WHERE sha256 = ?", (sha,))
        for sha, ext in orphans:
            if ext:
                self._file_path(sha, ext).unlink(missing_ok=True)
            self._thumb_path(sha).unlink(missing_ok=True)
        return len(orphans)

    @staticmethod
    def _picture_orphans(
        query: Callable[[str, tuple[Any, ...]], list[Any]], wanted: list[str]
    ) -> list[tuple[str, str]]:
        """(sha256, ext) of the files behind ``wanted`` that no other URL and no post uses."""
        marks = ", ".join("?" * len(wanted))
        shas = {r[0] for r in query(f"SELECT sha256 FROM urls WHERE url IN ({marks})",
                                    tuple(wanted))}  # fmt: skip
        orphans: list[tuple[str, str]] = []
        for sha in sorted(shas):
            others = query(
                f"SELECT 1 FROM urls WHERE sha256 = ? AND url NOT IN ({marks}) "
                "UNION ALL SELECT 1 FROM links WHERE sha256 = ? AND post_id != ''",
                (sha, *wanted, sha),
            )
            if not others:
                ext = query("SELECT ext FROM files WHERE sha256 = ?", (sha,))
                orphans.append((sha, ext[0][0] if ext else ""))
        return orphans

    @staticmethod
    def _post_files(
        query: Callable[[str, tuple[Any, ...]], list[Any]], platform: str, post_id: str
    ) -> tuple[list[tuple[str, str | None]], list[tuple[str, str]]]:
        """A post's (sha256, url) links, and the (sha256, ext) files only it links."""
        rows = query(
            "SELECT sha256, url FROM links WHERE platform = ? AND post_id = ?", (platform, post_id)
        )
        links = [(r[0], r[1]) for r in rows]
        orphans: list[tuple[str, str]] = []
        for sha in sorted({s for s, _ in links}):
            shared = query(
                "SELECT 1 FROM links WHERE sha256 = ? AND NOT (platform = ? AND post_id = ?) "
                "LIMIT 1",
                (sha, platform, post_id),
            )
            if not shared:
                ext = query("SELECT ext FROM files WHERE sha256 = ?", (sha,))
                orphans.append((sha, ext[0][0] if ext else ""))
        return links, orphans

    def stats(self) -> MediaStats:
        """Distinct files, their total bytes, and distinct posts linked to any of them."""
        files, size = self._query("SELECT count(*), coalesce(sum(size), 0) FROM files")[0]
        posts = self._query(
            "SELECT count(*) FROM (SELECT DISTINCT platform, post_id FROM links "
            "WHERE post_id != '')"
        )[0][0]
        return MediaStats(files=files, bytes=size, posts=posts)

    def mismatches(self) -> list[TypeMismatch]:
        """URLs whose declared Content-Type disagreed with their magic bytes."""
        rows = self._query(
            "SELECT u.url, u.declared_type, f.mime, f.sha256 FROM urls u JOIN files f "
            "USING (sha256) WHERE u.declared_type IS NOT NULL ORDER BY u.url"
        )
        return [
            TypeMismatch(url, declared, mime, sha)
            for url, declared, mime, sha in rows
            if is_type_mismatch(declared, mime)
        ]
