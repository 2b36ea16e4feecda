"""Watchlist files (``tags.txt``, ``accounts.txt``): one entry a line, re-read when they change.

Rules: ``#`` prefix optional; blank lines and ``# comments`` (a ``#`` followed by a space, or a
trailing `` # ...``) ignored; tags lower-cased; duplicates merged. A tag is letters, marks and
digits of any script plus ``_``, at most 100 characters. An ``@`` prefix makes the line an
account handle (ASCII letters, digits, ``.`` and ``_``, at most 30); in an accounts file every
line is a handle, ``@`` optional. An optional ``platform:`` prefix names the platform (default
instagram). An account entry is kept as the tag ``@handle``: one schedule per entry either way.
A single post is watched with its link or ``p/<shortcode>`` (kept as ``p/<shortcode>``): its
likes, comments and views over time.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tagpulse.errors import InputError

__all__ = [
    "MAX_HANDLE_LENGTH",
    "MAX_TAG_LENGTH",
    "SUPPORTED_PLATFORMS",
    "WatchEntry",
    "Watchlist",
    "normalise_tag",
    "parse_watchlist",
]

MAX_TAG_LENGTH = 100
MAX_HANDLE_LENGTH = 30
_HANDLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._")
SUPPORTED_PLATFORMS = ("instagram", "tiktok", "x", "ig-graph")
_KNOWN_PLATFORMS = ("instagram", "tiktok", "x", "ig-graph")


@dataclass(slots=True, frozen=True)
class WatchEntry:
    platform: str
    tag: str
    line: int

    @property
    def is_account(self) -> bool:
        return self.tag.startswith("@")

    @property
    def is_post(self) -> bool:
        return self.tag.startswith("p/")


_POST = re.compile(
    r"^(?:https?://(?:www\.)?instagram\.com/)?/?(?:p|reel|tv)/([A-Za-z0-9_-]{5,40})/?$"
)


def _handle_error(handle: str) -> str | None:
    if not handle:
        return "empty handle"
    if len(handle) > MAX_HANDLE_LENGTH:
        return f"handle is {len(handle)} characters long; the limit is {MAX_HANDLE_LENGTH}"
    bad = next((ch for ch in handle if ch not in _HANDLE_CHARS), None)
    if bad is not None:
        return f"character {bad!r} is not allowed in a handle: use letters, digits, . and _"
    return None


def _tag_error(tag: str) -> str | None:
    if not tag:
        return "empty tag"
    if len(tag) > MAX_TAG_LENGTH:
        return f"tag is {len(tag)} characters long; the limit is {MAX_TAG_LENGTH}"
    for ch in tag:
        if ch == "_":
            continue
        category = unicodedata.category(ch)
        if category[0] in "LMN":
            continue
        name = unicodedata.name(ch, f"U+{ord(ch):04X}")
        if ch.isspace():
            return "tags cannot contain spaces"
        return f"character {ch!r} ({name}) is not allowed: use letters, digits and _"
    return None


def normalise_tag(text: str) -> str:
    """``#Paris`` -> ``paris``; raises InputError for an invalid tag."""
    tag = unicodedata.normalize("NFC", text.strip().lstrip("#")).lower()
    problem = _tag_error(tag)
    if problem:
        raise InputError(f"invalid tag {text!r}: {problem}", field="tag")
    return tag


def parse_watchlist(
    text: str, path: str = "<watchlist>", *, accounts: bool = False
) -> list[WatchEntry]:
    """Parse a watchlist; the first invalid line raises an InputError naming it.

    ``accounts``: every line is a handle (an accounts file), not only ``@`` lines.
    """
    entries: dict[tuple[str, str], WatchEntry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line == "#" or line.startswith(("# ", "#\t")):
            continue
        if " #" in line or "\t#" in line:
            # A trailing comment: "nike  # brand"
            head, _, rest = line.replace("\t", " ").partition(" #")
            if not rest or rest[0] in " \t":
                line = head.strip()
        post = _POST.match(line)
        if post is not None:
            entries.setdefault(
                ("instagram", "p/" + post.group(1)),
                WatchEntry("instagram", "p/" + post.group(1), number),
            )
            continue
        platform = "instagram"
        if ":" in line:
            prefix, _, line = line.partition(":")
            platform = prefix.strip().lower()
            line = line.strip()
            if platform not in _KNOWN_PLATFORMS:
                raise InputError(
                    f"unknown platform {prefix!r}; known: {', '.join(_KNOWN_PLATFORMS)}",
                    path=path,
                    line=number,
                )
            if platform not in SUPPORTED_PLATFORMS:
                raise InputError(
                    f"platform {platform!r} is not supported by the tracker yet; "
                    f"supported: {', '.join(SUPPORTED_PLATFORMS)}",
                    path=path,
                    line=number,
                )
        if accounts or line.startswith("@"):
            handle = line.removeprefix("@").lower()
            problem = _handle_error(handle)
            if problem:
                raise InputError(
                    f"invalid handle {raw.strip()!r}: {problem}", path=path, line=number
                )
            tag = "@" + handle
        else:
            tag = unicodedata.normalize("NFC", line.lstrip("#")).lower()
            problem = _tag_error(tag)
            if problem:
                raise InputError(f"invalid tag {raw.strip()!r}: {problem}", path=path, line=number)
        entries.setdefault((platform, tag), WatchEntry(platform, tag, number))
    return list(entries.values())


class Watchlist:
    """A watchlist file (and optionally an accounts file) that notices when it changes."""

    def __init__(self, path: Path, accounts_path: Path | None = None) -> None:
        self.path = path
        self.accounts_path = accounts_path
        self._digest: str | None = None
        self._entries: list[WatchEntry] = []

    def _files(self) -> list[tuple[Path, bool]]:
        files = [(self.path, False)]
        if self.accounts_path is not None:
            files.append((self.accounts_path, True))
        return files

    def _read(self) -> tuple[str, list[tuple[Path, bool, str]]]:
        digest = hashlib.sha256()
        texts: list[tuple[Path, bool, str]] = []
        for path, accounts in self._files():
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read watchlist: {exc.strerror}", path=str(path)) from exc
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                raise InputError("not valid UTF-8", path=str(path), line=line) from exc
            digest.update(hashlib.sha256(data).digest())
            texts.append((path, accounts, text))
        return digest.hexdigest(), texts

    @staticmethod
    def _parse(texts: list[tuple[Path, bool, str]]) -> list[WatchEntry]:
        merged: dict[tuple[str, str], WatchEntry] = {}
        for path, accounts, text in texts:
            for entry in parse_watchlist(text, str(path), accounts=accounts):
                merged.setdefault((entry.platform, entry.tag), entry)
        return list(merged.values())

    def load(self) -> list[WatchEntry]:
        """Read and parse the file(s) (raises InputError on any bad line)."""
        digest, texts = self._read()
        self._entries = self._parse(texts)
        self._digest = digest
        return self._entries

    @property
    def entries(self) -> list[WatchEntry]:
        return list(self._entries)

    def reload_if_changed(self) -> bool:
        """Re-read when the content changed; True if the entries were replaced.

        A bad edit raises InputError and keeps the previous entries, so a running collector can
        report it and go on with what it had.
        """
        digest, texts = self._read()
        if digest == self._digest:
            return False
        entries = self._parse(texts)
        self._digest = digest
        changed = [(e.platform, e.tag) for e in entries] != [
            (e.platform, e.tag) for e in self._entries
        ]
        self._entries = entries
        return changed
