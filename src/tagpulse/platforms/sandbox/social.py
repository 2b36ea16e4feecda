"""The sandbox's social world: accounts, their posts over time, engagement, comments and likes.

Accounts and the follow graph come from :mod:`social_graph`. Posts are generated lazily, one
week ("chunk", aligned on the world's start) of one account at a time, from a generator seeded by
(world seed, account, week), and cached:

* how many posts an account makes in a week is Poisson with the account's rate times a
  Gamma(4, 1/4) activity factor (drawn 64 weeks at a time, so counts up to any time are cheap
  cumulative sums); each post's day follows the account's weekday pattern and its time of day a
  normal law around the account's preferred hour;
* a post's media id is Instagram-shaped and time-ordered, and carries its owner
  (:mod:`media_ids`), so a post is found from its id or shortcode in O(1);
* a post has a latent sentiment (the account's mood plus noise) that its caption's words and
  emoji follow, 0-4 hashtags (the account's interests among the hashtag world's tags, plus
  generic ones), mentions of accounts it follows, a language (the account's, or English);
* a few accounts buy followers once (:mod:`social_bought`): their follower count jumps, their
  engagement does not (it comes from in-world followers and the audience they stand for);
* engagement grows with the post's age ``a`` as ``1 - exp(-a / tau)`` towards final values:
  in-world likers (followers at posting time who like with a probability set by the engagement
  rate, each at ``taken_at + Exp(tau)``) plus external likes (the followers the scale stands for,
  times engagement rate, popularity and, for viral posts, a x8-x40 boost); comments are
  in-world accounts' texts, the i-th written at the time the count curve reaches i + 1/2;
  video plays follow the same curve. A few posts hide their like counts, a few disable comments.

Everything is a pure function of the seed and the time asked about, so the ground-truth methods
here are what the server answers, computed independently of any request.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import math
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tagpulse.platforms.sandbox.media_ids import media_pk, owner_shard, taken_at_of
from tagpulse.platforms.sandbox.sentiment_shift import DEFAULT_SENTIMENT_SHIFT, SentimentShift
from tagpulse.platforms.sandbox.social_bought import BoughtFollowers, draw_bought_followers
from tagpulse.platforms.sandbox.social_graph import (
    SocialAccount,
    SocialConfig,
    SocialGraph,
    build_graph,
)
from tagpulse.platforms.sandbox.social_text import (
    extra_tags,
    make_social_caption,
    make_social_comment,
)

__all__ = [
    "Comment",
    "Engagement",
    "SocialPost",
    "SocialWorld",
]

_WEEK = 7 * 86400.0
_HOUR = 3600.0
_BLOCK = 64  # weeks of post counts drawn at once
_MAX_WEEKS = 52 * 40
_KINDS = ("image", "video", "carousel", "reel")
_MEDIA_TYPE = {"image": 1, "video": 2, "carousel": 8, "reel": 2}
_PRODUCT_TYPE = {
    "image": "feed",
    "video": "feed",
    "carousel": "carousel_container",
    "reel": "clips",
}
_SIZES = ((1080, 1080), (1080, 1350), (1080, 566), (1080, 1920))


@dataclass(frozen=True, slots=True)
class SocialPost:
    """The lasting part of a post; counts at a time come from :meth:`SocialWorld.engagement`."""

    pk: int
    owner: int  # account index
    taken_at: int
    kind: str  # image, video, carousel, reel
    width: int
    height: int
    children: tuple[int, ...]  # media types of carousel children
    language: str
    sentiment: float
    caption: str
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    likes_hidden: bool
    comments_disabled: bool
    viral: bool
    popularity: float
    video_duration: float
    #: Turned negative by the world's sentiment shift (:mod:`sentiment_shift`).
    sentiment_shifted: bool = False

    @property
    def media_type(self) -> int:
        return _MEDIA_TYPE[self.kind]

    @property
    def product_type(self) -> str:
        return _PRODUCT_TYPE[self.kind]

    @property
    def is_video(self) -> bool:
        return self.kind in ("video", "reel")


@dataclass(frozen=True, slots=True)
class Engagement:
    """A post's engagement curves; values at a time via :meth:`SocialWorld` accessors."""

    liker_times: tuple[int, ...]  # sorted
    likers: tuple[int, ...]  # account indexes, in the order of liker_times
    external_likes: int
    tau: float
    comments: int
    comment_tau: float
    plays: int
    view_ratio: float


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    index: int
    author: int  # account index
    text: str
    created_at: int
    sentiment: float


def _grow(final: int, age: float, tau: float) -> int:
    if age <= 0 or final <= 0:
        return 0
    return min(final, math.floor(final * -math.expm1(-age / tau)))


class _Timeline:
    """Weekly post counts of one account from its first week on, extended lazily."""

    def __init__(self, seed: int, account: SocialAccount, start: float) -> None:
        self.k0 = math.floor((account.created_at - start) / _WEEK + 1e-9)
        self._seed = seed
        self._account = account
        self.counts: list[int] = []
        self.cum: list[int] = [0]

    def ensure(self, k: int) -> None:
        while k - self.k0 >= len(self.counts):
            block = len(self.counts) // _BLOCK
            entropy = [self._seed & 0xFFFFFFFF, self._account.idx, block, 0x7057]
            rng = np.random.default_rng(np.random.SeedSequence(entropy))
            activity = rng.gamma(4.0, 0.25, size=_BLOCK)
            counts = rng.poisson(self._account.posts_per_week * activity)
            for count in counts.tolist():
                self.counts.append(int(count))
                self.cum.append(self.cum[-1] + int(count))


class SocialWorld:
    """The generative social world of a seed; thread-safe, lazily generated, cached."""

    def __init__(
        self,
        seed: int,
        start: float,
        tags: tuple[str, ...] = (),
        config: SocialConfig | None = None,
        sentiment_shift: SentimentShift | None = DEFAULT_SENTIMENT_SHIFT,
    ) -> None:
        self.seed = seed
        self.start = float(start)
        self.config = config or SocialConfig()
        self.sentiment_shift = sentiment_shift
        self.tags = tags
        graph: SocialGraph = build_graph(seed, self.start, self.config, tags)
        self.graph = graph
        self.accounts = graph.accounts
        #: Accounts that buy followers (by index): the ground truth of fake audiences.
        self.bought: dict[int, BoughtFollowers] = draw_bought_followers(
            seed, self.start, graph, self.config
        )
        self._by_pk = {account.pk: account for account in self.accounts}
        self._by_handle: dict[str, SocialAccount] = {}
        for account in self.accounts:
            self._by_handle[account.username] = account
            if account.old_username is not None:
                self._by_handle[account.old_username] = account
        self._lock = threading.RLock()
        self._timelines: dict[int, _Timeline] = {}
        self._not_deleted = tuple(a.idx for a in self.accounts if not a.ever_deleted)
        self._chunk = functools.lru_cache(maxsize=50_000)(self._make_chunk)
        self.engagement = functools.lru_cache(maxsize=100_000)(self._make_engagement)

    # -- accounts ------------------------------------------------------------------------------

    def by_handle(self, handle: str) -> SocialAccount | None:
        """The account that holds or held ``handle`` (any time; see :meth:`resolve`)."""
        return self._by_handle.get(handle.lower().lstrip("@"))

    def by_pk(self, pk: int | str) -> SocialAccount | None:
        try:
            return self._by_pk.get(int(pk))
        except ValueError:
            return None

    def resolve(self, handle: str, t: float) -> tuple[SocialAccount | None, str]:
        """Who ``handle`` names at ``t``, and how: ``active``, ``renamed`` (an old handle: the
        account now answers under its new one), ``deleted`` or ``unknown``."""
        account = self.by_handle(handle)
        if account is None:
            return None, "unknown"
        name = handle.lower().lstrip("@")
        current = account.username_at(t)
        if name != current and name != account.old_username:
            return None, "unknown"  # the new handle before the rename
        if account.deleted(t):
            return None, "deleted"
        return account, "active" if name == current else "renamed"

    def follow_edges(
        self, account: SocialAccount, t: float, kind: str = "followers"
    ) -> list[tuple[float, SocialAccount]]:
        """``(since, other)`` of the accounts following ``account`` (``kind="followers"``) or
        followed by it (``"following"``) at ``t``, newest first; deleted accounts are gone."""
        edges = self.graph.followers if kind == "followers" else self.graph.following
        accounts = self.accounts
        return [
            (since, accounts[u])
            for since, u in edges[account.idx]
            if since <= t and not accounts[u].deleted(t)
        ]

    def followers(self, account: SocialAccount, t: float) -> list[SocialAccount]:
        """Ground truth: in-world followers at ``t``, newest first."""
        return [other for _, other in self.follow_edges(account, t, "followers")]

    def following(self, account: SocialAccount, t: float) -> list[SocialAccount]:
        return [other for _, other in self.follow_edges(account, t, "following")]

    def follower_count(self, account: SocialAccount, t: float) -> int:
        """The reported count: in-world followers times the scale, plus any bought ones."""
        real = len(self.followers(account, t)) * self.config.follower_scale
        return real + self.bought_followers(account, t)

    def bought_followers(self, account: SocialAccount, t: float) -> int:
        """Followers ``account`` bought by ``t`` (they never engage; 0 for most accounts)."""
        bought = self.bought.get(account.idx)
        return bought.count if bought is not None and t >= bought.at else 0

    def following_count(self, account: SocialAccount, t: float) -> int:
        return len(self.following(account, t)) * self.config.following_scale

    # -- posts ---------------------------------------------------------------------------------

    def _timeline(self, account: SocialAccount) -> _Timeline:
        with self._lock:
            timeline = self._timelines.get(account.idx)
            if timeline is None:
                timeline = self._timelines[account.idx] = _Timeline(self.seed, account, self.start)
            return timeline

    def _week(self, t: float) -> int:
        k = math.floor((t - self.start) / _WEEK)
        if abs(k) > _MAX_WEEKS:
            raise ValueError(
                f"time {t!r} is {k} weeks from the world's start; the social world covers "
                f"±{_MAX_WEEKS} weeks"
            )
        return k

    def week_count(self, account: SocialAccount, k: int) -> int:
        timeline = self._timeline(account)
        if k < timeline.k0:
            return 0
        with self._lock:
            timeline.ensure(k)
            return timeline.counts[k - timeline.k0]

    def posts_in_week(self, account: SocialAccount, k: int) -> tuple[SocialPost, ...]:
        """The account's posts of week ``k`` (from the world's start), newest first."""
        result: tuple[SocialPost, ...] = self._chunk(account.idx, k)
        return result

    def _make_chunk(self, idx: int, k: int) -> tuple[SocialPost, ...]:
        account = self.accounts[idx]
        n = self.week_count(account, k)
        if n == 0:
            return ()
        rng = random.Random(f"tagpulse-sandbox:social-posts:{self.seed}:{idx}:{k}")
        week_start = self.start + k * _WEEK
        first_day = math.floor(week_start / 86400.0)
        day_weights = [account.weekday_weights[(first_day + d + 3) % 7] for d in range(7)]
        times = []
        for _ in range(n):
            day = rng.choices(range(7), weights=day_weights)[0]
            hour = rng.gauss(account.preferred_hour, account.hour_sd) % 24.0
            times.append(week_start + day * 86400.0 + hour * _HOUR)
        times.sort()
        posts = [self._make_post(rng, account, int(t), seq) for seq, t in enumerate(times)]
        posts.sort(key=lambda p: -p.pk)
        return tuple(posts)

    def _make_post(
        self, rng: random.Random, account: SocialAccount, taken_at: int, seq: int
    ) -> SocialPost:
        pk = media_pk(taken_at * 1000 + rng.randrange(1000), account.idx, seq)
        kind = rng.choices(_KINDS, weights=account.media_weights)[0]
        width, height = _SIZES[3] if kind == "reel" else rng.choice(_SIZES[:3])
        children: tuple[int, ...] = ()
        if kind == "carousel":
            children = tuple(2 if rng.random() < 0.2 else 1 for _ in range(rng.randint(2, 7)))
        language = account.language if rng.random() < 0.8 else "en"
        sentiment = max(-1.0, min(1.0, account.mood + rng.gauss(0.0, 0.5)))
        n_tags = rng.choices((0, 1, 2, 3, 4), weights=(0.15, 0.3, 0.3, 0.15, 0.1))[0]
        tags: list[str] = []
        if account.interests and n_tags:
            tags.append(rng.choice(account.interests))
        tags.extend(tag for tag in extra_tags(rng, 4) if tag not in tags)
        tags = tags[:n_tags]
        mentions: list[str] = []
        following = self.graph.following[account.idx]
        if following and rng.random() < 0.25:
            for _, v in rng.sample(following, min(len(following), rng.randint(1, 2))):
                other = self.accounts[v]
                if not other.deleted(taken_at):
                    mentions.append(other.username_at(taken_at))
        viral = rng.random() < self.config.viral_share
        post = SocialPost(
            pk=pk,
            owner=account.idx,
            taken_at=taken_at,
            kind=kind,
            width=width,
            height=height,
            children=children,
            language=language,
            sentiment=round(sentiment, 4),
            caption=make_social_caption(rng, language, sentiment, tags, mentions),
            hashtags=tuple(tags),
            mentions=tuple(mentions),
            likes_hidden=rng.random() < self.config.hidden_likes_share,
            comments_disabled=rng.random() < 0.02,
            viral=viral,
            popularity=rng.lognormvariate(0.0, 0.5) * (rng.uniform(8.0, 40.0) if viral else 1.0),
            video_duration=round(rng.uniform(5.0, 90.0), 3) if kind in ("video", "reel") else 0.0,
        )
        shift = self.sentiment_shift
        drawn = (
            shift.draw(self.seed, str(pk), self.start, taken_at, post.hashtags) if shift else None
        )
        if drawn is not None:
            # Its own generator: the post's other draws (above) are what they were.
            shift_rng, value = drawn
            caption = make_social_caption(shift_rng, language, value, tags, mentions)
            post = dataclasses.replace(
                post, sentiment=value, caption=caption, sentiment_shifted=True
            )
        return post

    def post(self, pk: int) -> SocialPost | None:
        """The post (or carousel parent of a child id) with media id ``pk``, at any time."""
        if pk <= 0:
            return None
        try:
            k = self._week(taken_at_of(pk))
        except ValueError:
            return None
        base = pk & ~7
        for idx in range(owner_shard(pk), len(self.accounts), 8192):
            for post in self.posts_in_week(self.accounts[idx], k):
                if post.pk == pk or (post.pk == base and pk - base <= len(post.children)):
                    return post
        return None

    def iter_posts(
        self, account: SocialAccount, t: float, before_pk: int | None = None
    ) -> Iterator[SocialPost]:
        """The account's posts taken at or before ``t``, newest first, after ``before_pk``."""
        if before_pk is not None:
            t = min(t, taken_at_of(before_pk))
        k = self._week(t)
        k0 = self._timeline(account).k0
        while k >= k0:
            for post in self.posts_in_week(account, k):
                if post.taken_at <= t and (before_pk is None or post.pk < before_pk):
                    yield post
            k -= 1

    def posts_at(self, account: SocialAccount, t: float) -> list[SocialPost]:
        """Ground truth: every post of ``account`` visible at ``t``, newest first."""
        if account.deleted(t):
            return []
        return list(self.iter_posts(account, t))

    def post_count(self, account: SocialAccount, t: float) -> int:
        """How many posts ``account`` has at ``t`` (without reading each week's posts)."""
        k = self._week(t)
        timeline = self._timeline(account)
        if k < timeline.k0:
            return 0
        with self._lock:
            timeline.ensure(k)
            before = timeline.cum[k - timeline.k0]
        return before + sum(1 for p in self.posts_in_week(account, k) if p.taken_at <= t)

    # -- engagement ----------------------------------------------------------------------------

    def _make_engagement(self, pk: int) -> Engagement:
        post = self.post(pk)
        if post is None:
            raise KeyError(f"no post with media id {pk}")
        account = self.accounts[post.owner]
        rng = random.Random(f"tagpulse-sandbox:social-engagement:{self.seed}:{pk}")
        tau = rng.uniform(4.0, 20.0) * _HOUR * (3.0 if post.viral else 1.0)
        fans = [u.idx for u in self.followers(account, post.taken_at) if not u.ever_deleted]
        p_like = min(0.7, max(0.02, account.engagement_rate * 6.0 * post.popularity))
        likes: list[tuple[int, int]] = []
        for u in fans:
            if rng.random() < p_like:
                likes.append((post.taken_at + 1 + int(rng.expovariate(1.0 / tau)), u))
        if post.viral:
            fan_set = set(fans)
            for u in self._not_deleted:
                if u != account.idx and u not in fan_set and rng.random() < 0.15:
                    likes.append((post.taken_at + 1 + int(rng.expovariate(1.0 / tau)), u))
        likes.sort()
        external_fans = len(fans) * (self.config.follower_scale - 1)
        external = int(external_fans * account.engagement_rate * post.popularity)
        total = len(likes) + external
        comments = 0 if post.comments_disabled else int(total * rng.uniform(0.005, 0.04))
        if not post.comments_disabled and total > 0 and rng.random() < 0.5:
            comments += 1
        plays = int(total * rng.uniform(8.0, 25.0)) + rng.randrange(5, 50) if post.is_video else 0
        return Engagement(
            liker_times=tuple(t for t, _ in likes),
            likers=tuple(u for _, u in likes),
            external_likes=external,
            tau=tau,
            comments=comments,
            comment_tau=tau * 1.5,
            plays=plays,
            view_ratio=rng.uniform(0.6, 0.9),
        )

    def likers(self, post: SocialPost, t: float) -> list[SocialAccount]:
        """In-world accounts that liked ``post`` by ``t``, earliest first."""
        eng = self.engagement(post.pk)
        n = bisect.bisect_right(eng.liker_times, t)
        return [self.accounts[u] for u in eng.likers[:n]]

    def like_count(self, post: SocialPost, t: float) -> int:
        eng = self.engagement(post.pk)
        in_world = bisect.bisect_right(eng.liker_times, t)
        return in_world + _grow(eng.external_likes, t - post.taken_at, eng.tau)

    def play_count(self, post: SocialPost, t: float) -> int:
        return _grow(
            self.engagement(post.pk).plays, t - post.taken_at, self.engagement(post.pk).tau
        )

    def view_count(self, post: SocialPost, t: float) -> int:
        return int(self.play_count(post, t) * self.engagement(post.pk).view_ratio)

    def _comment_time(self, post: SocialPost, eng: Engagement, i: int) -> int:
        fraction = (i + 0.5) / eng.comments
        return post.taken_at + max(1, math.ceil(-eng.comment_tau * math.log1p(-fraction)))

    def comment_count(self, post: SocialPost, t: float) -> int:
        eng = self.engagement(post.pk)
        if eng.comments == 0 or t <= post.taken_at:
            return 0
        k = _grow(eng.comments, t - post.taken_at, eng.comment_tau)
        while k < eng.comments and self._comment_time(post, eng, k) <= t:
            k += 1
        while k > 0 and self._comment_time(post, eng, k - 1) > t:
            k -= 1
        return k

    def comment(self, post: SocialPost, i: int) -> Comment:
        """The ``i``-th comment of ``post`` (0 = oldest)."""
        eng = self.engagement(post.pk)
        if not 0 <= i < eng.comments:
            raise IndexError(f"post {post.pk} has {eng.comments} comments in all; asked for {i}")
        rng = random.Random(f"tagpulse-sandbox:social-comment:{self.seed}:{post.pk}:{i}")
        account = self.accounts[post.owner]
        fans = self.graph.followers[account.idx]
        author = account.idx  # now and then the owner answers
        if rng.random() > 0.05:
            pool = [u for _, u in fans if not self.accounts[u].ever_deleted]
            if pool and rng.random() < 0.7:
                author = rng.choice(pool)
            elif self._not_deleted:
                author = rng.choice(self._not_deleted)
        sentiment = max(-1.0, min(1.0, 0.7 * post.sentiment + rng.gauss(0.0, 0.4)))
        language = self.accounts[author].language
        digest = hashlib.blake2b(f"{self.seed}:{post.pk}:{i}".encode(), digest_size=8).digest()
        comment_id = 17_000_000_000_000_000 + int.from_bytes(digest, "big") % 983_000_000_000_000
        return Comment(
            id=str(comment_id),
            index=i,
            author=author,
            text=make_social_comment(rng, language, sentiment),
            created_at=self._comment_time(post, eng, i),
            sentiment=round(sentiment, 4),
        )

    def comments_at(self, post: SocialPost, t: float) -> list[Comment]:
        """Ground truth: the comments visible at ``t``, oldest first."""
        return [self.comment(post, i) for i in range(self.comment_count(post, t))]
