"""Where the lake lives: a local folder (the default) or object storage (``s3://bucket/prefix``).

The local lake is a :class:`~pathlib.Path` and keeps its own code paths (temp name + rename,
``fsync``). An object-storage lake is an :class:`ObjectLake`: the same layout under a bucket
prefix, reached through fsspec (``s3fs``, the ``scale`` extra). On S3 a PUT of a whole object is
atomic (a reader sees the old listing or the complete new object, never part of one, and a
multipart upload is invisible until it completes), so a part is written once under its final
name: no temporary object, no rename. DuckDB reads the objects through the same fsspec
filesystem registered on its connection (its own ``httpfs`` extension is not needed).

What stays on local disk under the home: the catalog (SQLite), caches, media and the lock files
(:attr:`ObjectLake.local_dir`); a compaction lock is therefore per machine — run compaction
from one node (the collector's, by default).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagpulse.errors import ConfigError, StorageError
from tagpulse.extras import require

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "OBJECT_STORAGE_COMMANDS",
    "LakeFile",
    "LakeRoot",
    "ObjectLake",
    "ObjectStorageUnsupported",
    "is_object_url",
    "open_object_lake",
    "require_local",
]

#: The protocols an object-storage lake may use (what ``s3fs`` serves).
_PROTOCOLS = ("s3://", "s3a://")

#: The commands that work with the lake on object storage (named in the refusal of the others).
OBJECT_STORAGE_COMMANDS = (
    "track",
    "chart",
    "compact",
    "status",
    "serve",
    "export",
    "enrich",
    "insights (every command)",
    "predict train/evaluate/score/best-time",
    "feed",
    "feed-eval",
    "similar-tags",
)

#: A written lake file: a local path, or the ``s3://`` URL of an object.
LakeFile = Path | str


def is_object_url(text: str) -> bool:
    """Whether a lake location names object storage rather than a local folder."""
    return text.strip().lower().startswith(_PROTOCOLS)


class ObjectStorageUnsupported(ConfigError):
    """A command that reads or writes the lake's files directly met an object-storage lake."""

    def __init__(self, url: str, command: str | None = None) -> None:
        self.url = url
        self.command = command
        what = f"`{command}`" if command else "this command"
        super().__init__(
            f"{what} does not support object storage yet (the lake is {url}, from "
            "TAGPULSE_LAKE_URL): run it on a local lake (unset TAGPULSE_LAKE_URL), or use a "
            f"command that supports object storage ({', '.join(OBJECT_STORAGE_COMMANDS)})"
        )

    def for_command(self, command: str) -> ObjectStorageUnsupported:
        """The same error, naming the command that met it."""
        return ObjectStorageUnsupported(self.url, command)


class ObjectLake:
    """A lake under ``s3://bucket/prefix``, with its fsspec filesystem.

    Keys are fsspec paths without the protocol (``bucket/prefix/tables/...``); :meth:`url_of`
    adds it back for DuckDB and for messages.
    """

    def __init__(self, url: str, fs: Any, local_dir: Path) -> None:
        scheme, _, rest = url.strip().partition("://")
        root = rest.strip("/")
        if not root or scheme.lower() not in ("s3", "s3a"):
            raise ConfigError(
                f"TAGPULSE_LAKE_URL={url!r} is not an object-storage URL: use s3://bucket/prefix"
            )
        self.url = f"s3://{root}"
        self.root = root
        self.bucket = root.split("/", 1)[0]
        self.fs = fs
        #: Local folder for what must stay local: lock files; the catalog sits beside it.
        self.local_dir = local_dir

    def __repr__(self) -> str:
        return f"ObjectLake({self.url!r})"

    def __str__(self) -> str:
        return self.url

    def key(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def url_of(self, key: str) -> str:
        return "s3://" + key

    def key_of(self, name: LakeFile) -> str:
        """The key of an ``s3://`` URL (or of a key already)."""
        text = str(name)
        for proto in _PROTOCOLS:
            if text.startswith(proto):
                return text[len(proto) :]
        return text

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        return StorageError(
            f"could not {action} {self.url_of(key)}: {exc} (check TAGPULSE_S3_ENDPOINT, the "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY credentials and that the bucket exists)"
        )

    def glob(self, pattern: str) -> list[str]:
        """Keys matching ``pattern`` (relative to the lake root), sorted; dot-names skipped."""
        try:
            found = self.fs.glob(self.key(pattern))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self._fail("list", self.key(pattern), exc) from exc
        keys = [str(k) for k in found]
        return sorted(k for k in keys if not k.rsplit("/", 1)[-1].startswith("."))

    def stats(self, pattern: str) -> list[tuple[str, int, int]]:
        """``(key, size, mtime_ns)`` of each object matching ``pattern`` (relative to the lake
        root), sorted by key; dot-names skipped. The mtime is the object's last-modified time
        (a rewritten object gets a new one)."""
        try:
            found: dict[str, dict[str, Any]] = self.fs.glob(self.key(pattern), detail=True)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self._fail("list", self.key(pattern), exc) from exc
        out = []
        for key, info in found.items():
            if str(key).rsplit("/", 1)[-1].startswith(".") or info.get("type") == "directory":
                continue
            modified: Any = info.get("LastModified") or info.get("mtime")
            mtime_ns = int(modified.timestamp() * 1e9) if hasattr(modified, "timestamp") else 0
            out.append((str(key), int(info.get("size") or 0), mtime_ns))
        return sorted(out)

    def put(self, key: str, data: bytes) -> None:
        """Store one whole object: a single atomic PUT (or a multipart upload, invisible until
        it completes), so readers never see part of it."""
        try:
            self.fs.pipe_file(key, data)
        except OSError as exc:
            raise self._fail("write", key, exc) from exc

    def get(self, key: str) -> bytes:
        try:
            data: bytes = self.fs.cat_file(key)
        except OSError as exc:
            raise self._fail("read", key, exc) from exc
        return data

    def remove(self, keys: Iterable[str]) -> None:
        names = list(keys)
        if not names:
            return
        try:
            self.fs.rm(names)
        except FileNotFoundError:
            pass  # already gone: what removing wanted
        except OSError as exc:
            raise self._fail("delete", names[0], exc) from exc

    def write_parquet(self, table: pa.Table, key: str, row_group_size: int) -> None:
        import pyarrow.parquet as pq  # here, not at import: config imports this module

        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd", row_group_size=row_group_size)
        self.put(key, buffer.getvalue())

    def read_parquet(self, key: str, schema: pa.Schema | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(self.get(key)), schema=schema)

    def register(self, con: Any) -> None:
        """Let a DuckDB connection read ``s3://`` paths through this filesystem."""
        con.register_filesystem(self.fs)


def _s3fs() -> Any:
    return require("s3fs", "scale")


def open_object_lake(
    url: str,
    local_dir: Path,
    *,
    endpoint: str | None = None,
    key: str | None = None,
    secret: str | None = None,
) -> ObjectLake:
    """An :class:`ObjectLake` at ``url``; credentials default to the standard AWS chain
    (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles, instance roles)."""
    s3fs = _s3fs()
    options: dict[str, Any] = {
        # Another process adds files all the time: never answer a listing from a cache.
        "use_listings_cache": False,
        "skip_instance_cache": True,
    }
    if endpoint:
        options["endpoint_url"] = endpoint
    if key is not None:
        options["key"] = key
    if secret is not None:
        options["secret"] = secret
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        # S3-compatible servers accept any region; botocore needs one to sign requests.
        options["client_kwargs"] = {"region_name": "us-east-1"}
    return ObjectLake(url, s3fs.S3FileSystem(**options), local_dir)


#: A lake's location as the lake's readers and writers take it.
LakeRoot = Path | ObjectLake


def require_local(lake: LakeRoot) -> Path:
    """The lake's folder, or :class:`ObjectStorageUnsupported` for an object-storage lake."""
    if isinstance(lake, ObjectLake):
        raise ObjectStorageUnsupported(lake.url)
    return lake
