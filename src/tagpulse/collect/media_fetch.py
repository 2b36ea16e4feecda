"""Images of collected posts into the media store, politely, as part of collection.

What is fetched: the images of posts read from an account's profile and feed (``seen_via``
``profile:*``), every image of a carousel, once per URL (a known URL only gains a link). A
tag's top and recent posts are not fetched while tracking (they turn over constantly; thousands
of images a day per tag) — ``tagpulse media fetch`` fetches any stored post's images on demand.

Politeness: CDN downloads need no account, so they do not spend account budgets, but they are
paced (at most ``per_flush`` a flush, one at a time) and a 429 from the CDN stops fetching until
``cooldown_s`` later. A failed image is an event, never a failed collection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tagpulse.errors import PlatformError, RateLimited
from tagpulse.records import Post

if TYPE_CHECKING:
    import httpx

    from tagpulse.collect.media import MediaStore

__all__ = ["MediaFetcher", "MediaOutcome", "wanted_images"]


def wanted_images(posts: Iterable[Post], *, profile_only: bool = True) -> list[tuple[Post, str]]:
    """(post, url) pairs to fetch, each URL once, in collection order."""
    seen: set[str] = set()
    out: list[tuple[Post, str]] = []
    for post in posts:
        if profile_only and not (post.seen_via or "").startswith("profile:"):
            continue
        for url in post.media_urls:
            if url and url not in seen:
                seen.add(url)
                out.append((post, url))
    return out


@dataclass(slots=True)
class MediaOutcome:
    stored: int = 0
    known: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    deferred: int = 0


class MediaFetcher:
    """Owns the media store and its HTTP client, both made on first use."""

    def __init__(self, root: Path, *, per_flush: int = 200, cooldown_s: float = 900.0) -> None:
        self.root = root
        self.per_flush = per_flush
        self.cooldown_s = cooldown_s
        self._store: MediaStore | None = None
        self._client: httpx.Client | None = None
        self._paused_until = 0.0

    def _open(self) -> tuple[MediaStore, httpx.Client]:
        if self._store is None or self._client is None:
            from tagpulse.collect.media import MediaStore, media_client

            self._store = MediaStore(self.root)
            self._client = media_client(timeout=15.0)
        return self._store, self._client

    def fetch(
        self, pairs: list[tuple[Post, str]], now: float, at: Callable[[], datetime]
    ) -> MediaOutcome:
        outcome = MediaOutcome()
        if not pairs:
            return outcome
        if now < self._paused_until:
            outcome.deferred = len(pairs)
            return outcome
        store, client = self._open()
        for index, (post, url) in enumerate(pairs):
            if index >= self.per_flush:
                outcome.deferred = len(pairs) - index
                break
            try:
                if store.known_url(url) is not None:
                    outcome.known += 1
                store.fetch(
                    client, url, platform=post.platform, post_id=post.post_id, fetched_at=at()
                )
                outcome.stored += 1
            except RateLimited as exc:
                self._paused_until = now + self.cooldown_s
                outcome.failed.append((url, str(exc)))
                outcome.deferred = len(pairs) - index - 1
                break
            except PlatformError as exc:
                outcome.failed.append((url, str(exc)))
        outcome.stored -= outcome.known
        return outcome

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._store is not None:
            self._store.close()
        self._client = self._store = None
