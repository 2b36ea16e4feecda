"""The sandbox world as X shows it: who is there, which tweets carry a tag, how many.

* **Counts.** X counts :data:`X_COUNT_FACTOR` (a quarter) of the hashtag world's posts: the
  number of tweets with ``#tag`` before the whole hour ``h`` is
  ``floor(true_count(tag, h) * X_COUNT_FACTOR)``, so an hour holds the world's increment over
  that hour times the factor (rounded down at the hour's two ends). Inside an hour the tweets
  fall at uniformly drawn milliseconds (seeded by world seed, tag and hour), and a bucket
  ``[a, b)`` counts the tweets created in it: :func:`x_tweet_count`. Tags the hashtag world
  does not know have no tweets.
* **Tweets.** Those same tweets, one by one (:meth:`XView.tweets`): time-ordered snowflake ids
  (milliseconds since X's epoch, a per-tag machine number, the index in the hour), authors from
  the social world (public accounts that are never deleted, four times likelier when the tag is
  one of their interests), captions in the author's language with the tag (sometimes
  capitalised), maybe one or two generic tags and mentions of accounts the author follows;
  public metrics grow with the tweet's age. So ``search/recent`` returns exactly what
  ``counts/recent`` counts.
* **Users.** The social world's accounts, with their counts (followers, following, posts as
  ``tweet_count``) equal to its truth. An X handle is the account's handle with ``.`` turned
  into ``_`` and cut to 15 characters (the few clashes end in two digits instead); a renamed
  account answers under its new handle only, a deleted one not at all, a private one is
  ``protected``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import re
import threading
import weakref
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.platforms.sandbox.payloads_x import tco_url, x_time
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.social_text import extra_tags, make_social_caption
from tagpulse.platforms.sandbox.world import DAY, HOUR, World

__all__ = [
    "RECENT_S",
    "X_COUNT_FACTOR",
    "XTweet",
    "XView",
    "x_counts_truth",
    "x_tweet_count",
    "x_user_truth",
    "x_view",
]

X_COUNT_FACTOR = Fraction(1, 4)
"""X's tweets with a tag, per post of the hashtag world with it."""
RECENT_S = 7 * DAY
"""How far back ``counts/recent`` and ``search/recent`` reach."""
GRANULARITY_S = {"minute": 60, "hour": 3600, "day": 86400}
_TWITTER_EPOCH_MS = 1288834974657
_HOUR_MS = 3_600_000
_X_HANDLE = re.compile(r"^[a-z0-9_]{1,15}$")


@dataclass(frozen=True, slots=True)
class XTweet:
    """One tweet of a tag's stream; ``metrics`` are its public metrics at the time asked."""

    id: int
    created_ms: int
    tag: str
    author: SocialAccount
    text: str
    lang: str
    hashtags: tuple[tuple[int, int, str], ...]  # (start, end, tag as written)
    mentions: tuple[tuple[int, int, str, SocialAccount], ...]  # (start, end, handle, account)
    metrics: dict[str, int]


def _grown(final: int, age_s: float, tau_s: float) -> int:
    if age_s <= 0 or final <= 0:
        return 0
    return min(final, math.floor(final * -math.expm1(-age_s / tau_s)))


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class XView:
    """X's view of a world (build it once per world: :func:`x_view`)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.social = world.social
        self.seed = world.seed
        self._start_ms = round(world.start * 1000)
        self._x_handle: dict[str, str] = {}
        self._by_handle: dict[str, tuple[SocialAccount, str]] = {}
        self._assign_handles()
        self._authors: dict[str, tuple[list[SocialAccount], list[float]]] = {}
        self._lock = threading.Lock()
        self._hour_times = functools.lru_cache(maxsize=8192)(self._make_hour_times)

    # -- users ---------------------------------------------------------------------------------

    def _assign_handles(self) -> None:
        names: list[tuple[str, SocialAccount]] = []
        for account in self.social.accounts:
            for name in (account.old_username, account.username):
                if name is not None:
                    names.append((name, account))
        taken: set[str] = set()
        # Handles that are valid on X keep their name; the others are fitted after them.
        for valid in (True, False):
            for name, account in names:
                if bool(_X_HANDLE.match(name)) != valid:
                    continue
                handle = name if valid else re.sub(r"[^a-z0-9_]", "_", name)[:15]
                n = 0
                while handle in taken:
                    n += 1
                    handle = f"{handle[:13]}{n:02d}"
                taken.add(handle)
                self._x_handle[name] = handle
                self._by_handle[handle] = (account, name)

    def x_handle(self, username: str) -> str:
        """The X handle of a social-world handle."""
        return self._x_handle[username]

    def handle_at(self, account: SocialAccount, t: float) -> str:
        return self._x_handle[account.username_at(t)]

    def resolve(self, handle: str, t: float) -> SocialAccount | None:
        """The account ``handle`` names on X at ``t`` (None: nobody, deleted, or renamed away)."""
        found = self._by_handle.get(handle.lower().lstrip("@"))
        if found is None:
            return None
        account, name = found
        if account.deleted(t) or account.username_at(t) != name:
            return None
        return account

    def user_id(self, account: SocialAccount) -> str:
        return str(1_000_000_000 + _digest(f"x-user:{self.seed}:{account.idx}") % 9_000_000_000)

    def user_metrics(self, account: SocialAccount, t: float) -> dict[str, int]:
        social = self.social
        posts = social.post_count(account, t)
        return {
            "followers_count": social.follower_count(account, t),
            "following_count": social.following_count(account, t),
            "tweet_count": posts,
            "listed_count": len(social.graph.followers[account.idx]) // 3,
            "like_count": _digest(f"x-likes:{self.seed}:{account.idx}") % 20_000,
            "media_count": posts,
        }

    def user(self, account: SocialAccount, t: float, base_url: str) -> dict[str, Any]:
        """The whole user object (every ``user.fields`` field the sandbox knows)."""
        user: dict[str, Any] = {
            "id": self.user_id(account),
            "name": account.full_name,
            "username": self.handle_at(account, t),
            "created_at": x_time(account.created_at),
            "description": account.biography,
            "protected": account.is_private,
            "verified": account.is_verified,
            "verified_type": "blue" if account.is_verified else "none",
            "profile_image_url": f"{base_url}/media/u{account.pk}_400.jpg",
            "public_metrics": self.user_metrics(account, t),
            "url": "",
        }
        if account.external_url:
            short = tco_url(account.external_url)
            user["url"] = short
            display = account.external_url.split("://", 1)[-1]
            url = {"start": 0, "end": len(short), "url": short}
            url |= {"expanded_url": account.external_url, "display_url": display}
            user["entities"] = {"url": {"urls": [url]}}
        return user

    # -- counts --------------------------------------------------------------------------------

    def knows(self, tag: str) -> bool:
        return tag in self.world.tags

    def _before_hour(self, tag: str, h: int) -> int:
        """Tweets with ``tag`` before world hour ``h`` (hours from the world's start)."""
        posts = self.world.true_count(tag, self.world.start + h * HOUR)
        return math.floor(posts * X_COUNT_FACTOR)

    def _make_hour_times(self, tag: str, h: int) -> npt.NDArray[np.int64]:
        n = self._before_hour(tag, h + 1) - self._before_hour(tag, h)
        begin = self._start_ms + h * _HOUR_MS
        entropy = [self.seed & 0xFFFFFFFF, zlib.crc32(tag.encode()), h + (1 << 40), 0x7A11]
        rng = np.random.default_rng(np.random.SeedSequence(entropy))
        times: npt.NDArray[np.int64] = np.sort(rng.integers(begin, begin + _HOUR_MS, size=n))
        return times

    def hour_times(self, tag: str, h: int) -> npt.NDArray[np.int64]:
        """Creation times (epoch milliseconds, sorted) of world hour ``h``'s tweets."""
        times: npt.NDArray[np.int64] = self._hour_times(tag, h)
        return times

    def _hour_of(self, millis: int) -> int:
        return (millis - self._start_ms) // _HOUR_MS

    def cumulative(self, tag: str, millis: int) -> int:
        """Tweets with ``tag`` created before epoch millisecond ``millis``."""
        if not self.knows(tag):
            return 0
        h = self._hour_of(millis)
        before = self._before_hour(tag, h)
        if millis == self._start_ms + h * _HOUR_MS:
            return before
        return before + int(np.searchsorted(self.hour_times(tag, h), millis, side="left"))

    def count(self, tag: str, start_s: float, end_s: float) -> int:
        """Tweets with ``tag`` created in ``[start_s, end_s)``."""
        return self.cumulative(tag, round(end_s * 1000)) - self.cumulative(
            tag, round(start_s * 1000)
        )

    def buckets(
        self, tag: str, start_s: int, end_s: int, granularity: str
    ) -> list[tuple[int, int, int]]:
        """``(start, end, tweet_count)`` per bucket of ``[start_s, end_s)``, oldest first; the
        first and last buckets are cut at ``start_s`` and ``end_s``."""
        step = GRANULARITY_S[granularity]
        edges = [start_s, *range((start_s // step + 1) * step, end_s, step), end_s]
        cums = [self.cumulative(tag, edge * 1000) for edge in edges]
        return [(edges[i], edges[i + 1], cums[i + 1] - cums[i]) for i in range(len(edges) - 1)]

    # -- tweets --------------------------------------------------------------------------------

    def machine(self, tag: str) -> int:
        return zlib.crc32(f"{self.seed}:{tag}".encode()) & 0x3FF

    def tweet_id(self, tag: str, millis: int, index: int) -> int:
        return ((millis - _TWITTER_EPOCH_MS) << 22) | (self.machine(tag) << 12) | (index & 0xFFF)

    @staticmethod
    def millis_of(tweet_id: int) -> int:
        return (tweet_id >> 22) + _TWITTER_EPOCH_MS

    def tweet_refs(
        self, tag: str, lo_ms: int, hi_ms: int, before_id: int | None = None
    ) -> Iterator[tuple[int, int, int]]:
        """``(hour, index, millis)`` of the tweets created in ``[lo_ms, hi_ms)`` with an id
        below ``before_id``, newest first."""
        if not self.knows(tag) or hi_ms <= lo_ms:
            return
        if before_id is not None:
            hi_ms = min(hi_ms, self.millis_of(before_id) + 1)
        for h in range(self._hour_of(hi_ms - 1), self._hour_of(lo_ms) - 1, -1):
            times = self.hour_times(tag, h)
            top = int(np.searchsorted(times, hi_ms, side="left"))
            for index in range(top - 1, -1, -1):
                millis = int(times[index])
                if millis < lo_ms:
                    return
                if before_id is None or self.tweet_id(tag, millis, index) < before_id:
                    yield h, index, millis

    def _candidates(self, tag: str) -> tuple[list[SocialAccount], list[float]]:
        with self._lock:
            found = self._authors.get(tag)
            if found is None:
                accounts = [
                    a for a in self.social.accounts if not a.is_private and a.deleted_at is None
                ]
                cumulative: list[float] = []
                total = 0.0
                for account in accounts:
                    total += 4.0 if tag in account.interests else 1.0
                    cumulative.append(total)
                found = self._authors[tag] = (accounts, cumulative)
            return found

    def tweet(self, tag: str, h: int, index: int, millis: int, t: float) -> XTweet:
        """Tweet ``index`` of world hour ``h`` of ``tag``'s stream, with its metrics at ``t``."""
        rng = random.Random(f"tagpulse-sandbox:x-tweet:{self.seed}:{tag}:{h}:{index}")
        accounts, weights = self._candidates(tag)
        author = rng.choices(accounts, cum_weights=weights)[0]
        created = millis / 1000.0
        language = author.language if rng.random() < 0.8 else "en"
        sentiment = max(-1.0, min(1.0, author.mood + rng.gauss(0.0, 0.5)))
        written = tag if rng.random() < 0.7 else tag.capitalize()
        extras = [x for x in extra_tags(rng, rng.choice((0, 0, 1, 2))) if not self.knows(x)]
        mentioned: list[SocialAccount] = []
        following = self.social.graph.following[author.idx]
        if following and rng.random() < 0.3:
            for _, v in rng.sample(following, min(len(following), rng.randint(1, 2))):
                other = self.social.accounts[v]
                if other.deleted_at is None:
                    mentioned.append(other)
        handles = [self.handle_at(other, created) for other in mentioned]
        text = make_social_caption(rng, language, sentiment, [written, *extras], handles)
        hashtags: list[tuple[int, int, str]] = []
        mentions: list[tuple[int, int, str, SocialAccount]] = []
        cursor = 0
        for handle, other in zip(handles, mentioned, strict=True):
            begin = text.index(f"@{handle}", cursor)
            cursor = begin + len(handle) + 1
            mentions.append((begin, cursor, handle, other))
        for word in (written, *extras):
            begin = text.index(f"#{word}", cursor)
            cursor = begin + len(word) + 1
            hashtags.append((begin, cursor, word))
        fans = len(self.social.graph.followers[author.idx])
        likes = int(rng.lognormvariate(0.0, 1.0) * (2 + fans) * rng.uniform(0.5, 3.0))
        finals = {
            "retweet_count": int(likes * rng.uniform(0.02, 0.2)),
            "reply_count": int(likes * rng.uniform(0.01, 0.1)),
            "like_count": likes,
            "quote_count": int(likes * rng.uniform(0.0, 0.05)),
            "bookmark_count": int(likes * rng.uniform(0.0, 0.1)),
            "impression_count": int(likes * rng.uniform(30.0, 120.0)) + rng.randrange(20, 400),
        }
        tau = rng.uniform(1.0, 8.0) * HOUR
        metrics = {key: _grown(value, t - created, tau) for key, value in finals.items()}
        return XTweet(
            id=self.tweet_id(tag, millis, index),
            created_ms=millis,
            tag=tag,
            author=author,
            text=text,
            lang=language,
            hashtags=tuple(hashtags),
            mentions=tuple(mentions),
            metrics=metrics,
        )

    def tweets(
        self, tag: str, lo_ms: int, hi_ms: int, t: float, limit: int, before_id: int | None = None
    ) -> tuple[list[XTweet], bool]:
        """Up to ``limit`` tweets of ``[lo_ms, hi_ms)``, newest first, and whether more follow."""
        refs = []
        for ref in self.tweet_refs(tag, lo_ms, hi_ms, before_id):
            refs.append(ref)
            if len(refs) > limit:
                break
        more = len(refs) > limit
        return [self.tweet(tag, h, i, ms, t) for h, i, ms in refs[:limit]], more

    def tweet_object(self, tweet: XTweet) -> dict[str, Any]:
        """The whole tweet object (every ``tweet.fields`` field the sandbox knows)."""
        ident = str(tweet.id)
        entities: dict[str, Any] = {
            "hashtags": [{"start": s, "end": e, "tag": tag} for s, e, tag in tweet.hashtags]
        }
        if tweet.mentions:
            entities["mentions"] = [
                {"start": s, "end": e, "username": handle, "id": self.user_id(other)}
                for s, e, handle, other in tweet.mentions
            ]
        return {
            "id": ident,
            "text": tweet.text,
            "edit_history_tweet_ids": [ident],
            "author_id": self.user_id(tweet.author),
            "conversation_id": ident,
            "created_at": x_time(tweet.created_ms / 1000.0),
            "entities": entities,
            "lang": tweet.lang,
            "possibly_sensitive": False,
            "public_metrics": tweet.metrics,
            "reply_settings": "everyone",
        }


_VIEWS: weakref.WeakKeyDictionary[World, XView] = weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


def x_view(world: World) -> XView:
    """The X view of ``world``, built on first use and kept while the world lives."""
    with _VIEWS_LOCK:
        view = _VIEWS.get(world)
        if view is None:
            view = _VIEWS[world] = XView(world)
        return view


# -- ground truth ------------------------------------------------------------------------------


def x_tweet_count(world: World, tag: str, start: float, end: float) -> int:
    """Ground truth: tweets with ``#tag`` created in ``[start, end)`` (epoch seconds)."""
    return x_view(world).count(tag.lower().lstrip("#"), start, end)


def x_counts_truth(
    world: World,
    tag: str,
    t: float,
    granularity: str = "hour",
    start: float | None = None,
    end: float | None = None,
) -> dict[str, Any]:
    """What ``counts/recent`` of ``#tag`` answers at ``t``: the buckets of
    ``[start, end)`` (default: the 7 days before ``t``, whole seconds) and their total."""
    if granularity not in GRANULARITY_S:
        raise ValueError(f"granularity {granularity!r}: use minute, hour or day")
    name = tag.lower().lstrip("#")
    end_s = math.floor(t) if end is None else math.floor(end)
    start_s = math.floor(t) - int(RECENT_S) if start is None else math.floor(start)
    buckets = x_view(world).buckets(name, start_s, end_s, granularity)
    return {
        "tag": name,
        "t": t,
        "granularity": granularity,
        "start": start_s,
        "end": end_s,
        "buckets": [{"start": s, "end": e, "tweet_count": n} for s, e, n in buckets],
        "total_tweet_count": sum(n for _, _, n in buckets),
    }


def x_user_truth(world: World, username: str, t: float) -> dict[str, Any] | None:
    """Who ``username`` is on X at ``t`` and their counts (``None``: no such user then)."""
    view = x_view(world)
    account = view.resolve(username, t)
    if account is None:
        return None
    return {
        "asked": username,
        "t": t,
        "id": view.user_id(account),
        "username": view.handle_at(account, t),
        "social_username": account.username_at(t),
        "name": account.full_name,
        "protected": account.is_private,
        "verified": account.is_verified,
        "followers": view.social.follower_count(account, t),
        "following": view.social.following_count(account, t),
        "tweets": view.social.post_count(account, t),
    }
