"""Images of collected posts into the media store, politely, as part of collection.

What is fetched: the images of posts read from an account's profile and feed (``seen_via``
``profile:*``), every image of a carousel, once per URL (a known URL only gains a link); and
the **profile picture** of each account a pass observes (its profile's ``profile_pic_url``,
stored with no post: ``post_id`` ``''`` in the store's links, found again through the store's URL
index). A profile picture is downloaded once per distinct URL: the next pass sees the same URL
and only links it; a changed URL (a new picture) is downloaded. A tag's top and recent posts are
not fetched while tracking (they turn over constantly; thousands of images a day per tag) —
``tagpulse media fetch`` fetches any stored post's images on demand.

Politeness: CDN downloads need no account, so they do not spend account budgets, but they are
paced (at most ``per_flush`` a flush, profile pictures first, one at a time) and a 429 from the
CDN stops fetching (pictures and post images alike) until ``cooldown_s`` later. A failed image
is an event, never a failed collection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tagpulse.errors import PlatformError, RateLimited
from tagpulse.records import Post, Profile

if TYPE_CHECKING:
    import httpx

    from tagpulse.collect.media import MediaStore

__all__ = ["MediaFetcher", "MediaOutcome", "MediaWant", "wanted_avatars", "wanted_images"]


@dataclass(frozen=True, slots=True)
class MediaWant:
    """One URL to fetch: a post's image, or (``post_id`` None) an account's profile picture."""

    platform: str
    post_id: str | None
    url: str

    @property
    def is_avatar(self) -> bool:
        return self.post_id is None


def wanted_images(posts: Iterable[Post], *, profile_only: bool = True) -> list[MediaWant]:
    """The post images to fetch, each URL once, in collection order."""
    seen: set[str] = set()
    out: list[MediaWant] = []
    for post in posts:
        if profile_only and not (post.seen_via or "").startswith("profile:"):
            continue
        for url in post.media_urls:
            if url and url not in seen:
                seen.add(url)
                out.append(MediaWant(post.platform, post.post_id, url))
    return out


def wanted_avatars(profiles: Iterable[Profile]) -> list[MediaWant]:
    """The profile pictures to fetch, each URL once: those of observed (``ok``) accounts."""
    seen: set[str] = set()
    out: list[MediaWant] = []
    for profile in profiles:
        url = profile.profile_pic_url
        if profile.state == "ok" and url and url not in seen:
            seen.add(url)
            out.append(MediaWant(profile.platform, None, url))
    return out


@dataclass(slots=True)
class MediaOutcome:
    #: Files downloaded (post images and profile pictures together) ...
    stored: int = 0
    #: ... of which profile pictures.
    avatars_stored: int = 0
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

    def fetch(self, wants: list[MediaWant], now: float, at: Callable[[], datetime]) -> MediaOutcome:
        """Fetch ``wants`` in order (at most ``per_flush``); the rest are counted deferred."""
        outcome = MediaOutcome()
        if not wants:
            return outcome
        if now < self._paused_until:
            outcome.deferred = len(wants)
            return outcome
        store, client = self._open()
        for index, want in enumerate(wants):
            if index >= self.per_flush:
                outcome.deferred = len(wants) - index
                break
            url = want.url
            try:
                known = store.known_url(url) is not None
                store.fetch(
                    client, url, platform=want.platform, post_id=want.post_id, fetched_at=at()
                )
            except RateLimited as exc:
                self._paused_until = now + self.cooldown_s
                outcome.failed.append((url, str(exc)))
                outcome.deferred = len(wants) - index - 1
                break
            except PlatformError as exc:
                outcome.failed.append((url, str(exc)))
                continue
            if known:
                outcome.known += 1
            else:
                outcome.stored += 1
                outcome.avatars_stored += want.is_avatar
        return outcome

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._store is not None:
            self._store.close()
        self._client = self._store = None
