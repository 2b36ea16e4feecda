"""The raw archive: every platform answer, zstd-compressed NDJSON, never rewritten.

Files are written under a temporary name and renamed, so a reader never sees half a file. The
same body (by content hash) is stored once; the catalog's ``raw_index`` remembers where.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
import zstandard

from tagpulse.records import RawEnvelope

__all__ = ["RawArchive", "content_hash", "envelope_line", "envelope_to_json", "read_raw_file"]

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


def read_raw_file(path: Path) -> Iterator[dict[str, Any]]:
    """The envelopes of one archive file, bodies decoded back to bytes under ``body``."""
    with path.open("rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as reader:
        data = reader.read()
    for line in data.splitlines():
        if line.strip():
            yield _decode_line(line)


class RawArchive:
    """Writes envelope batches to ``raw/platform=<p>/date=<d>/<ts>-<uuid>.ndjson.zst``."""

    def __init__(self, lake_dir: Path) -> None:
        self.root = lake_dir / "raw"

    def write(self, envelopes: Iterable[RawEnvelope]) -> dict[str, Path]:
        """Archive envelopes; returns content_hash -> file for each one written."""
        by_partition: dict[tuple[str, str], list[RawEnvelope]] = {}
        for env in envelopes:
            key = (env.platform, env.collected_at.strftime("%Y-%m-%d"))
            by_partition.setdefault(key, []).append(env)
        written: dict[str, Path] = {}
        compressor = zstandard.ZstdCompressor(level=3)
        for (platform, date), batch in by_partition.items():
            folder = self.root / f"platform={platform}" / f"date={date}"
            folder.mkdir(parents=True, exist_ok=True)
            stamp = batch[0].collected_at.strftime("%Y%m%dT%H%M%S")
            final = folder / f"{stamp}-{uuid.uuid4().hex[:12]}.ndjson.zst"
            tmp = folder / f".{final.name}.tmp"
            lines = b"".join(envelope_line(e) for e in batch)
            with tmp.open("wb") as fh:
                fh.write(compressor.compress(lines))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            for env in batch:
                written[env.content_hash] = final
        return written
