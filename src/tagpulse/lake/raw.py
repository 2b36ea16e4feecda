"""The raw archive: every platform answer, zstd-compressed NDJSON, never rewritten.

Files are written under a temporary name and renamed, so a reader never sees half a file. The
same body (by content hash) is stored once; the catalog's ``raw_index`` remembers where.

The one exception to "never rewritten" is erasure: ``tagpulse forget`` rewrites a file without
the answers that mention a forgotten account (:func:`rewrite_raw_file`, same name, atomic), and
the archive refuses such answers from then on (the lake's privacy policy).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import zstandard

from tagpulse.lake.privacy import load_policy
from tagpulse.lake.storage import LakeFile, LakeRoot, ObjectLake
from tagpulse.records import RawEnvelope

__all__ = [
    "RawArchive",
    "content_hash",
    "envelope_from_json",
    "envelope_line",
    "envelope_to_json",
    "raw_files",
    "raw_objects",
    "read_raw_file",
    "read_raw_object",
    "rewrite_raw_file",
]

log = logging.getLogger(__name__)

#: Where an inline JSON body starts: the last member of the line. Inside any string value of the
#: metadata before it, quotes are escaped, so this unescaped sequence is found only here.
_INLINE = b',"body_encoding":"json","body":'


def content_hash(body: bytes) -> str:
    """The id of a raw body: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def envelope_to_json(env: RawEnvelope) -> dict[str, Any]:
    try:
        body: str = env.body.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        body = base64.b64encode(env.body).decode("ascii")
        encoding = "base64"
    return {
        "platform": env.platform,
        "endpoint": env.endpoint,
        "url": env.url,
        "params": env.params,
        "status": env.status,
        "account": env.account,
        "collected_at": env.collected_at.isoformat(),
        "content_hash": env.content_hash,
        "body_encoding": encoding,
        "body": body,
    }


def envelope_line(env: RawEnvelope) -> bytes:
    """One archive line (with its newline).

    A body known to be one-line JSON is embedded as it is (``body_encoding: json``): the line is
    still JSON for any reader, and the exact bytes are recovered by slicing. Any other body is a
    UTF-8 string, or base64 when it is not UTF-8.
    """
    if env.body_is_json and b"\n" not in env.body and b"\r" not in env.body:
        meta = {
            "platform": env.platform,
            "endpoint": env.endpoint,
            "url": env.url,
            "params": env.params,
            "status": env.status,
            "account": env.account,
            "collected_at": env.collected_at.isoformat(),
            "content_hash": env.content_hash,
        }
        return orjson.dumps(meta)[:-1] + _INLINE + env.body + b"}\n"
    return orjson.dumps(envelope_to_json(env)) + b"\n"


def _decode_line(line: bytes) -> dict[str, Any]:
    at = line.find(_INLINE)
    if at >= 0:
        doc: dict[str, Any] = orjson.loads(line[:at] + b"}")
        doc["body_encoding"] = "json"
        doc["body"] = line[at + len(_INLINE) : line.rstrip().rfind(b"}")]
        return doc
    doc = orjson.loads(line)
    body = doc["body"]
    doc["body"] = base64.b64decode(body) if doc.get("body_encoding") == "base64" else body.encode()
    return doc


def _raw_lines(path: Path) -> list[bytes]:
    with path.open("rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as reader:
        data = reader.read()
    return [line for line in data.splitlines() if line.strip()]


def _object_lines(store: ObjectLake, name: LakeFile) -> list[bytes]:
    with zstandard.ZstdDecompressor().stream_reader(store.get(store.key_of(name))) as reader:
        data = reader.read()
    return [line for line in data.splitlines() if line.strip()]


def read_raw_file(path: Path) -> Iterator[dict[str, Any]]:
    """The envelopes of one archive file, bodies decoded back to bytes under ``body``."""
    for line in _raw_lines(path):
        yield _decode_line(line)


def raw_files(lake_dir: Path) -> list[Path]:
    """Every archive file of a lake, oldest partition first (temporary files excluded)."""
    root = lake_dir / "raw"
    return sorted(root.glob("platform=*/date=*/[!.]*.ndjson.zst")) if root.exists() else []


def raw_objects(store: ObjectLake) -> list[str]:
    """Every archive object of an object-storage lake (``s3://`` URLs), oldest first."""
    return [store.url_of(k) for k in store.glob("raw/platform=*/date=*/*.ndjson.zst")]


def read_raw_object(store: ObjectLake, url: str) -> Iterator[dict[str, Any]]:
    """The envelopes of one archive object (as :func:`read_raw_file` yields them)."""
    for line in _object_lines(store, url):
        yield _decode_line(line)


def envelope_from_json(doc: dict[str, Any]) -> RawEnvelope:
    """A :class:`RawEnvelope` again, from what :func:`read_raw_file` yields."""
    body: bytes = doc["body"]
    return RawEnvelope(
        platform=doc["platform"],
        endpoint=doc["endpoint"],
        url=doc.get("url") or "",
        params={str(k): str(v) for k, v in (doc.get("params") or {}).items()},
        status=int(doc.get("status") or 0),
        account=doc.get("account"),
        collected_at=datetime.fromisoformat(doc["collected_at"]),
        body=body,
        content_hash=doc.get("content_hash") or content_hash(body),
        body_is_json=doc.get("body_encoding") == "json",
    )


def _write_raw(path: Path, lines: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    with tmp.open("wb") as fh:
        fh.write(zstandard.ZstdCompressor(level=3).compress(lines))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def rewrite_raw_file(
    path: Path, drop: Callable[[dict[str, Any]], bool], *, dry_run: bool = False
) -> list[str]:
    """Rewrite ``path`` without the envelopes ``drop`` selects; returns their content hashes.

    The kept lines are copied byte for byte under the same name (renamed into place, so a
    reader sees the old file or the new one); a file left empty is removed.
    """
    kept: list[bytes] = []
    dropped: list[str] = []
    for line in _raw_lines(path):
        doc = _decode_line(line)
        if drop(doc):
            dropped.append(doc.get("content_hash") or content_hash(doc["body"]))
        else:
            kept.append(line)
    if dropped and not dry_run:
        if kept:
            _write_raw(path, b"".join(line + b"\n" for line in kept))
        else:
            path.unlink(missing_ok=True)
    return dropped


class RawArchive:
    """Writes envelope batches to ``raw/platform=<p>/date=<d>/<ts>-<uuid>.ndjson.zst``.

    On an object-storage lake each batch is one PUT under its final key (atomic on S3).
    """

    def __init__(self, lake_dir: LakeRoot) -> None:
        self.store = lake_dir if isinstance(lake_dir, ObjectLake) else None
        self.lake_dir = lake_dir.local_dir if isinstance(lake_dir, ObjectLake) else lake_dir
        self.root = self.lake_dir / "raw"

    def write(self, envelopes: Iterable[RawEnvelope]) -> dict[str, LakeFile]:
        """Archive envelopes; returns content_hash -> file for each one written.

        An answer that mentions a forgotten account is not archived (and so not returned).
        """
        policy = load_policy(self.lake_dir)
        by_partition: dict[tuple[str, str], list[RawEnvelope]] = {}
        refused = 0
        for env in envelopes:
            if policy is not None and policy.concerns(env.platform, env.body, env.url, env.params):
                refused += 1
                continue
            key = (env.platform, env.collected_at.date().isoformat())
            by_partition.setdefault(key, []).append(env)
        written: dict[str, LakeFile] = {}
        compressor = zstandard.ZstdCompressor(level=3)
        for (platform, date), batch in by_partition.items():
            stamp = batch[0].collected_at.strftime("%Y%m%dT%H%M%S")
            name = f"{stamp}-{uuid.uuid4().hex[:12]}.ndjson.zst"
            lines = b"".join(envelope_line(e) for e in batch)
            if self.store is not None:
                obj = self.store.key("raw", f"platform={platform}", f"date={date}", name)
                self.store.put(obj, compressor.compress(lines))
                for env in batch:
                    written[env.content_hash] = self.store.url_of(obj)
                continue
            folder = self.root / f"platform={platform}" / f"date={date}"
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / name
            tmp = folder / f".{final.name}.tmp"
            with tmp.open("wb") as fh:
                fh.write(compressor.compress(lines))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            for env in batch:
                written[env.content_hash] = final
        if refused:
            log.info("%d answers not archived: they mention a forgotten account", refused)
        return written
