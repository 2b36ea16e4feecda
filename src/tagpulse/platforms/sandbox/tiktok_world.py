"""The sandbox world as TikTok shows it: hashtag counts, accounts and their posts.

* **Hashtags.** A challenge's ``videoCount`` is ``floor(true_count(tag, t) *
  TIKTOK_COUNT_FACTOR)`` (three fifths of the hashtag world's posts) and its ``viewCount`` that
  times a per-tag number of views per video (800 … 4799, from the seed). A tag whose count the
  hashtag world hides (``count_hidden``) comes without stats, like Instagram's; a tag the world
  does not know is an empty challenge. Challenge ids are fixed per seed and tag.
* **Accounts** are the social world's, under the same handles: followers, following and video
  count equal its truth; ``heartCount`` is an estimate (posts x followers x engagement rate, not
  a sum over posts); ``friendCount`` the mutual follows in the world. An old handle of a
  renamed account and a deleted account are not found; a private account shows its counts.
* **Posts** are the social world's posts: videos and reels as videos, images and carousels as
  photo posts (``imagePost``); a post's id carries its creation time in its top 32 bits, as on
  TikTok. ``diggCount``, ``commentCount`` and ``playCount`` (videos: plays; photos: ten views a
  like) equal the social world's counts at the time asked; shares are a fortieth of the likes,
  saves a fifteenth. A challenge's item list is the public posts of the last 28 days carrying
  the tag, newest first.
"""

from __future__ import annotations

import base64
import hashlib
import math
import threading
import weakref
import zlib
from fractions import Fraction
from itertools import islice
from typing import Any

from tagpulse.platforms.sandbox.media_ids import IG_EPOCH_MS
from tagpulse.platforms.sandbox.social import SocialPost
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.world import DAY, World

__all__ = [
    "TIKTOK_COUNT_FACTOR",
    "TikTokView",
    "tiktok_tag_truth",
    "tiktok_user_truth",
    "tiktok_view",
]

TIKTOK_COUNT_FACTOR = Fraction(3, 5)
"""TikTok videos with a tag, per post of the hashtag world with it."""
_TAG_ITEMS_S = 28 * DAY


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class TikTokView:
    """TikTok's view of a world (build it once per world: :func:`tiktok_view`)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.social = world.social
        self.seed = world.seed
        self._by_sec_uid = {self.sec_uid(a): a for a in self.social.accounts}
        self._by_challenge = {self.challenge_id(tag): tag for tag in world.tags}

    # -- hashtags ------------------------------------------------------------------------------

    def knows(self, tag: str) -> bool:
        return tag in self.world.tags

    def count_hidden(self, tag: str) -> bool:
        return self.knows(tag) and self.world.tag(tag).count_hidden

    def video_count(self, tag: str, t: float) -> int:
        if not self.knows(tag):
            return 0
        return math.floor(self.world.true_count(tag, t) * TIKTOK_COUNT_FACTOR)

    def views_per_video(self, tag: str) -> int:
        return 800 + zlib.crc32(f"tiktok-views:{self.seed}:{tag}".encode()) % 4000

    def view_count(self, tag: str, t: float) -> int:
        return self.video_count(tag, t) * self.views_per_video(tag)

    def challenge_id(self, tag: str) -> str:
        return str(1_600_000_000_000_000 + zlib.crc32(f"tiktok-tag:{self.seed}:{tag}".encode()))

    def tag_of(self, challenge_id: str) -> str | None:
        return self._by_challenge.get(challenge_id.strip())

    def tag_posts(self, tag: str, t: float) -> list[SocialPost]:
        """The public posts of the last 28 days before ``t`` with ``tag``, newest first."""
        found: list[SocialPost] = []
        for account in self.social.accounts:
            if tag not in account.interests or account.is_private or account.deleted(t):
                continue
            for post in self.social.iter_posts(account, t):
                if post.taken_at < t - _TAG_ITEMS_S:
                    break
                if tag in post.hashtags:
                    found.append(post)
        found.sort(key=lambda post: -post.pk)
        return found

    # -- accounts ------------------------------------------------------------------------------

    def user_id(self, account: SocialAccount) -> str:
        return str(
            6_800_000_000_000_000_000 + _digest(f"tiktok-user:{self.seed}:{account.idx}") % 10**17
        )

    def sec_uid(self, account: SocialAccount) -> str:
        raw = hashlib.blake2b(f"tiktok-secuid:{self.seed}:{account.idx}".encode(), digest_size=36)
        return "MS4wLjABAAAA" + base64.urlsafe_b64encode(raw.digest()).decode().rstrip("=")

    def by_sec_uid(self, sec_uid: str) -> SocialAccount | None:
        return self._by_sec_uid.get(sec_uid.strip())

    def resolve(self, handle: str, t: float) -> SocialAccount | None:
        """The account under ``handle`` at ``t`` (None: unknown, deleted, or an old handle)."""
        account, state = self.social.resolve(handle, t)
        return account if state == "active" else None

    def user_stats(self, account: SocialAccount, t: float) -> dict[str, int]:
        social = self.social
        videos = social.post_count(account, t)
        followers = social.followers(account, t)
        following = {other.idx for other in social.following(account, t)}
        # Hearts come from the real audience; bought followers never like anything.
        real_followers = len(followers) * social.config.follower_scale
        hearts = int(videos * real_followers * account.engagement_rate)
        return {
            "followerCount": social.follower_count(account, t),
            "followingCount": len(following) * social.config.following_scale,
            "heart": hearts,
            "heartCount": hearts,
            "videoCount": videos,
            "diggCount": _digest(f"tiktok-digg:{self.seed}:{account.idx}") % 5000,
            "friendCount": sum(1 for other in followers if other.idx in following),
        }

    def user_posts(
        self, account: SocialAccount, t: float, cursor_ms: int, count: int
    ) -> tuple[list[SocialPost], bool]:
        """A page of ``account``'s posts at ``t``, newest first, older than ``cursor_ms`` (the
        previous page's last post's creation in epoch milliseconds; 0: from the newest)."""
        if account.is_private or account.deleted(t):
            return [], False
        before = ((cursor_ms - IG_EPOCH_MS) << 23) if cursor_ms > 0 else None
        posts = list(islice(self.social.iter_posts(account, t, before), count + 1))
        return posts[:count], len(posts) > count

    # -- posts ---------------------------------------------------------------------------------

    @staticmethod
    def item_id(post: SocialPost) -> str:
        return str((post.taken_at << 32) | (post.pk & 0xFFFFFFFF))

    def post_stats(self, post: SocialPost, t: float) -> dict[str, int]:
        social = self.social
        likes = social.like_count(post, t)
        plays = social.play_count(post, t) if post.is_video else likes * 10
        return {
            "diggCount": likes,
            "shareCount": likes // 40,
            "commentCount": social.comment_count(post, t),
            "playCount": plays,
            "collectCount": likes // 15,
        }


_VIEWS: weakref.WeakKeyDictionary[World, TikTokView] = weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


def tiktok_view(world: World) -> TikTokView:
    """The TikTok view of ``world``, built on first use and kept while the world lives."""
    with _VIEWS_LOCK:
        view = _VIEWS.get(world)
        if view is None:
            view = _VIEWS[world] = TikTokView(world)
        return view


# -- ground truth ------------------------------------------------------------------------------


def tiktok_tag_truth(world: World, tag: str, t: float) -> dict[str, Any]:
    """What TikTok's challenge detail of ``#tag`` says at ``t`` (counts even when hidden)."""
    view = tiktok_view(world)
    name = tag.lower().lstrip("#")
    return {
        "tag": name,
        "t": t,
        "known": view.knows(name),
        "challenge_id": view.challenge_id(name) if view.knows(name) else None,
        "count_hidden": view.count_hidden(name),
        "video_count": view.video_count(name, t),
        "view_count": view.view_count(name, t),
    }


def tiktok_user_truth(world: World, username: str, t: float) -> dict[str, Any] | None:
    """Who ``username`` is on TikTok at ``t`` and their counts (``None``: nobody then)."""
    view = tiktok_view(world)
    account = view.resolve(username, t)
    if account is None:
        return None
    stats = view.user_stats(account, t)
    return {
        "asked": username,
        "t": t,
        "id": view.user_id(account),
        "sec_uid": view.sec_uid(account),
        "username": account.username_at(t),
        "private": account.is_private,
        "verified": account.is_verified,
        "followers": stats["followerCount"],
        "following": stats["followingCount"],
        "videos": stats["videoCount"],
        "hearts": stats["heartCount"],
    }
