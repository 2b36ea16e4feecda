"""Saved Instagram files: Instaloader output and saved web payloads (``instagram-json``).

``instagram-json``: a directory, or a ``.zip``/``.tar``/``.tar.gz`` archive, of saved answers in
any shape the Instagram parser knows (web profile info, the graphql user object with counts
flattened to integers and posts embedded as a ``posts`` list, tag pages, media info, comments...).
Each file is one answer; ``.json.xz``/``.json.gz`` are read too.

``instaloader``: a directory Instaloader wrote: ``*.json.xz`` / ``*.json`` node files
(``{"node": {...graphql...}, "instaloader": {"node_type": "Post"|"Profile"|...}}``), comments
beside a post as ``<stem>_comments.json``, images as ``<stem>.jpg`` / ``<stem>_<n>.jpg``.
Instaloader sets a file's time to the post's date, so the import time is the collection time.
"""

from __future__ import annotations

import functools
import gzip
import lzma
import tarfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tagpulse.errors import InputError, PayloadError
from tagpulse.imports.base import ImportItem, envelope
from tagpulse.records import Comment, ParsedRecords, RawEnvelope

__all__ = [
    "InstagramJsonImporter",
    "InstaloaderImporter",
    "parse_instagram_envelope",
    "parse_instaloader_envelope",
]

_SUFFIXES = (".json", ".json.xz", ".json.gz")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def _is_json_name(name: str) -> bool:
    return name.lower().endswith(_SUFFIXES)


def _decompress(name: str, data: bytes) -> bytes:
    lowered = name.lower()
    if lowered.endswith(".xz"):
        return lzma.decompress(data)
    if lowered.endswith(".gz"):
        return gzip.decompress(data)
    return data


def parse_instagram_envelope(env: RawEnvelope) -> ParsedRecords:
    from tagpulse.platforms.instagram.parse import parse_payload

    return parse_payload(
        env.body,
        collected_at=env.collected_at,
        raw_id=env.content_hash,
        endpoint=env.params.get("endpoint"),
        seen_via="import:instagram-json",
        hint_handle=env.params.get("handle"),
    )


def _read_member(name: str, read: Callable[[], bytes], location: str, now: datetime) -> ImportItem:
    try:
        body = _decompress(name, read())
    except (OSError, EOFError, lzma.LZMAError) as exc:
        return ImportItem(location, error=f"cannot decompress ({exc})")
    env = envelope(
        platform="instagram",
        endpoint="import:instagram-json",
        body=body,
        collected_at=now,
        url=name,
    )
    return ImportItem(location, envelope=env, parse=parse_instagram_envelope)


class InstagramJsonImporter:
    name = "instagram-json"

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def size(self, path: Path) -> int | None:
        return sum(1 for _ in self._names(path))

    def _names(self, path: Path) -> Iterator[str]:
        if path.is_dir():
            yield from (str(p) for p in sorted(path.rglob("*")) if _is_json_name(p.name))
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                yield from (n for n in zf.namelist() if _is_json_name(n))
        elif tarfile.is_tarfile(path):
            with tarfile.open(path) as tf:
                yield from (m.name for m in tf.getmembers() if m.isfile() and _is_json_name(m.name))
        elif _is_json_name(path.name):
            yield str(path)

    def items(self, path: Path) -> Iterator[ImportItem]:
        now = self._now()
        if not path.exists():
            raise InputError("no such file or directory", path=str(path))
        if path.is_dir() or (_is_json_name(path.name) and not zipfile.is_zipfile(path)):
            files = (
                sorted(p for p in path.rglob("*") if _is_json_name(p.name))
                if (path.is_dir())
                else [path]
            )
            for file in files:
                rel = str(file.relative_to(path)) if path.is_dir() else file.name
                yield _read_member(file.name, file.read_bytes, rel, now)
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if _is_json_name(name):
                        yield _read_member(
                            name, functools.partial(zf.read, name), f"{path.name}:{name}", now
                        )
        elif tarfile.is_tarfile(path):
            with tarfile.open(path) as tf:
                for member in tf.getmembers():
                    if not (member.isfile() and _is_json_name(member.name)):
                        continue
                    handle = tf.extractfile(member)
                    if handle is None:
                        continue
                    yield _read_member(member.name, handle.read, f"{path.name}:{member.name}", now)
        else:
            raise InputError(
                "not a directory, .zip, .tar(.gz) or .json(.xz/.gz) file", path=str(path)
            )


# --- Instaloader ------------------------------------------------------------------------------


def _instaloader_comments(
    doc: Any, post_id: str, at: datetime, raw_id: str, out: ParsedRecords
) -> None:
    def one(node: Mapping[str, Any], parent: str | None) -> None:
        cid = node.get("id")
        if cid is None:
            out.warnings.append("comment without id skipped")
            return
        found = node.get("owner")
        owner: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        created = node.get("created_at")
        likes = node.get("likes_count")
        out.comments.append(
            Comment(
                "instagram",
                str(cid),
                post_id,
                at,
                raw_id,
                owner_id=str(owner["id"]) if owner.get("id") is not None else None,
                owner_handle=owner.get("username")
                if isinstance(owner.get("username"), str)
                else None,
                text=node.get("text") if isinstance(node.get("text"), str) else None,
                created_at=datetime.fromtimestamp(created, UTC)
                if isinstance(created, int | float) and not isinstance(created, bool)
                else None,
                likes=likes if isinstance(likes, int) and not isinstance(likes, bool) else None,
                parent_id=parent,
            )
        )
        for answer in node.get("answers") or ():
            if isinstance(answer, Mapping):
                one(answer, str(cid))

    if not isinstance(doc, list):
        raise PayloadError("Instaloader comments file is not a JSON list")
    for node in doc:
        if isinstance(node, Mapping):
            one(node, None)


def parse_instaloader_envelope(env: RawEnvelope) -> ParsedRecords:
    """A node file (post, profile, ...) or a comments file, as Instaloader wrote it."""
    from tagpulse.platforms.instagram.parse import parse_payload
    from tagpulse.platforms.instagram.parse_media import parse_graphql_post

    try:
        doc = orjson.loads(env.body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    at, raw_id = env.collected_at, env.content_hash
    out = ParsedRecords()
    if env.params.get("kind") == "comments":
        _instaloader_comments(doc, env.params.get("post_id", ""), at, raw_id, out)
        return out
    if not isinstance(doc, Mapping) or not isinstance(doc.get("node"), Mapping):
        raise PayloadError("Instaloader file without a 'node' object")
    node = doc["node"]
    meta = doc.get("instaloader") if isinstance(doc.get("instaloader"), Mapping) else {}
    node_type = meta.get("node_type") if isinstance(meta, Mapping) else None
    if node_type == "Profile":
        return parse_payload(
            {"graphql": {"user": node}},
            collected_at=at,
            raw_id=raw_id,
            seen_via="import:instaloader",
        )
    if node_type in (None, "Post", "StoryItem"):
        post = parse_graphql_post(
            node,
            collected_at=at,
            raw_id=raw_id,
            seen_via="import:instaloader",
            warnings=out.warnings,
        )
        if post is None:
            raise PayloadError("Instaloader post node without an id")
        out.posts.append(post)
        return out
    raise PayloadError(f"Instaloader node_type {node_type!r} is not read by tagpulse")


def _stem(name: str) -> str:
    for suffix in (".json.xz", ".json.gz", ".json"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


class InstaloaderImporter:
    name = "instaloader"

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def _files(self, path: Path) -> list[Path]:
        if not path.is_dir():
            raise InputError("Instaloader output must be a directory", path=str(path))
        return sorted(
            p for p in path.rglob("*") if _is_json_name(p.name) and not p.name.startswith(".")
        )

    def size(self, path: Path) -> int | None:
        return len(self._files(path))

    def items(self, path: Path) -> Iterator[ImportItem]:
        now = self._now()
        files = self._files(path)
        post_ids: dict[str, str] = {}
        for file in files:
            location = str(file.relative_to(path))
            stem = _stem(file.name)
            if stem.endswith("_comments"):
                continue  # after its post, below, so the post id is known
            try:
                body = _decompress(file.name, file.read_bytes())
            except (OSError, EOFError, lzma.LZMAError) as exc:
                yield ImportItem(location, error=f"cannot decompress ({exc})")
                continue
            try:
                node = orjson.loads(body).get("node", {})
                post_ids[str(file.parent / stem)] = str(node.get("id"))
            except (orjson.JSONDecodeError, AttributeError):
                pass
            env = envelope(
                platform="instagram",
                endpoint="import:instaloader",
                body=body,
                collected_at=now,
                url=location,
            )
            images = sorted(
                p
                for p in file.parent.glob(f"{stem}*")
                if p.suffix.lower() in _IMAGE_SUFFIXES and not p.stem.endswith("_profile_pic")
            )
            yield ImportItem(location, envelope=env, parse=parse_instaloader_envelope, media=images)
        for file in files:
            stem = _stem(file.name)
            if not stem.endswith("_comments"):
                continue
            location = str(file.relative_to(path))
            post_id = post_ids.get(str(file.parent / stem.removesuffix("_comments")))
            if post_id is None:
                yield ImportItem(
                    location, error="comments file without its post file", broken=file.read_bytes()
                )
                continue
            env = envelope(
                platform="instagram",
                endpoint="import:instaloader",
                body=file.read_bytes(),
                collected_at=now,
                url=location,
                params={"kind": "comments", "post_id": post_id},
            )
            yield ImportItem(location, envelope=env, parse=parse_instaloader_envelope)
