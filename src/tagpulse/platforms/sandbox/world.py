"""The generative world behind the sandbox: hashtags, their true counts, posts and accounts.

Everything is a function of the seed, so two worlds built alike agree on every count and post.
A tag's expected posting rate (posts/hour) is a base rate with compound growth, weekly and daily
seasonality (peaks on Saturday evening and at 19:00 UTC) and campaign bursts. Each hour's number
of new posts is drawn from a Poisson law with that expectation, from a generator seeded by
(world seed, tag, week), and summed into a cumulative table built lazily a week at a time, so
``true_count`` is a table lookup plus a linear interpolation inside the hour, rounded down: exact,
deterministic and non-decreasing in time.

``World.social`` is the social world (accounts, follow graph, posts, engagement; see
:mod:`tagpulse.platforms.sandbox.social`), built on first use from the same seed, with the
hashtags above as the accounts' interests.
"""

from __future__ import annotations

import math
import random
import threading
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from tagpulse.errors import ConfigError
from tagpulse.platforms.sandbox.payloads import (
    LANGUAGES,
    Author,
    hashtag_id,
    media_item,
)
from tagpulse.platforms.sandbox.payloads_x import XTokenSpec, default_x_tokens
from tagpulse.platforms.sandbox.sentiment_shift import (
    DEFAULT_SENTIMENT_SHIFT,
    SentimentShift,
    caption_tags,
)
from tagpulse.platforms.sandbox.social import SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialConfig
from tagpulse.platforms.sandbox.social_text import make_social_caption

__all__ = [
    "DAY",
    "DEFAULT_START",
    "HOUR",
    "WEEK",
    "AccountSpec",
    "Burst",
    "Limits",
    "SentimentShift",
    "SocialConfig",
    "TagSpec",
    "TokenBucket",
    "World",
    "XTokenSpec",
    "default_accounts",
    "default_tags",
    "default_x_tokens",
]

DEFAULT_START = 1793491200.0
"""2026-11-01T00:00:00Z, a Sunday."""

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
# Saturday 2026-11-07 18:00 UTC: weekly seasonality peaks here (and every week from it).
_WEEKLY_PEAK = DEFAULT_START + 6 * DAY + 18 * HOUR
_DAILY_PEAK_S = 19 * HOUR
_CHUNK_HOURS = 168
# Far enough for any simulation; beyond it the lazily built tables would grow without bound.
_MAX_HOURS = 24 * 366 * 30
_TOP_POSTS = 9


class Burst(NamedTuple):
    """Extra posting during a campaign, relative to the world's start."""

    start_offset_s: float
    duration_s: float
    extra_rate_per_hour: float


@dataclass(frozen=True, slots=True)
class TagSpec:
    """How one hashtag behaves. ``growth`` is relative per day (0.01 = +1 %/day, compounded)."""

    name: str
    base_count: int
    rate_per_hour: float
    growth: float = 0.0
    weekly_amplitude: float = 0.0
    bursts: Sequence[tuple[float, float, float]] = ()
    count_hidden: bool = False
    daily_amplitude: float = 0.0

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.lower() or "#" in self.name:
            raise ConfigError(f"tag name {self.name!r}: use the lower-case name without '#'")
        if self.base_count < 0 or self.rate_per_hour < 0:
            raise ConfigError(f"tag {self.name!r}: base_count and rate_per_hour must be >= 0")
        if self.growth <= -1:
            raise ConfigError(f"tag {self.name!r}: growth must be > -1 (relative per day)")
        amplitude = abs(self.weekly_amplitude) + abs(self.daily_amplitude)
        if amplitude >= 1:
            raise ConfigError(
                f"tag {self.name!r}: weekly_amplitude + daily_amplitude must stay below 1 "
                "so the rate never goes negative"
            )
        bursts = tuple(Burst(*map(float, burst)) for burst in self.bursts)
        for burst in bursts:
            if burst.duration_s < 0 or burst.extra_rate_per_hour < 0:
                raise ConfigError(f"tag {self.name!r}: burst {burst} has a negative part")
        object.__setattr__(self, "bursts", bursts)


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """An account the collector logs in with; its budget is a token bucket in simulated time."""

    alias: str
    session_id: str
    capacity: float = 10.0
    refill_per_hour: float = 200.0
    pk: int = 0

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.refill_per_hour < 0:
            raise ConfigError(
                f"account {self.alias!r}: capacity must be >= 1 and refill_per_hour >= 0"
            )
        if self.pk == 0:
            object.__setattr__(self, "pk", 40_000_000_000 + zlib.crc32(self.alias.encode()))


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-IP budget, cooldown and ban policy (simulated seconds).

    ``x_rate_scale`` scales X's per-app windows (:data:`~.platform_gate.X_RATE_LIMITS`);
    ``tiktok_ip_*`` is TikTok's own per-IP budget (see :mod:`.platform_gate`)."""

    ip_capacity: float = 60.0
    ip_refill_per_hour: float = 2000.0
    cooldown_s: float = 600.0
    ban_after_violations: int = 3
    log_limit: int = 1_000_000
    x_rate_scale: float = 1.0
    tiktok_ip_capacity: float = 60.0
    tiktok_ip_refill_per_hour: float = 1200.0

    def __post_init__(self) -> None:
        if self.ip_capacity < 1 or self.ip_refill_per_hour < 0 or self.cooldown_s < 0:
            raise ConfigError("Limits: ip_capacity >= 1, ip_refill_per_hour >= 0, cooldown_s >= 0")
        if self.ban_after_violations < 1 or self.log_limit < 0:
            raise ConfigError("Limits: ban_after_violations >= 1 and log_limit >= 0")
        tiktok_refill = self.tiktok_ip_refill_per_hour
        if self.x_rate_scale <= 0 or self.tiktok_ip_capacity < 1 or tiktok_refill < 0:
            raise ConfigError(
                "Limits: x_rate_scale > 0, tiktok_ip_capacity >= 1, tiktok_ip_refill_per_hour >= 0"
            )


class TokenBucket:
    """``capacity`` tokens, refilled at ``refill_per_hour`` of simulated time."""

    def __init__(self, capacity: float, refill_per_hour: float, now: float) -> None:
        self.capacity = capacity
        self.refill_per_hour = refill_per_hour
        self.tokens = capacity
        self.updated = now

    def available(self, now: float) -> float:
        if now > self.updated:
            gained = (now - self.updated) * self.refill_per_hour / 3600.0
            self.tokens = min(self.capacity, self.tokens + gained)
            self.updated = now
        return self.tokens

    def take(self, now: float) -> bool:
        if self.available(now) < 1.0:
            return False
        self.tokens -= 1.0
        return True


def default_tags() -> list[TagSpec]:
    """Eight demo tags, each behaving differently (steady, campaign, seasonal, hidden, slow)."""
    campaign = 3 * DAY + 9 * HOUR  # nike's campaign starts on the 4th day, 09:00 UTC
    return [
        TagSpec("paris", 125_782_874, 420.0, 0.001, 0.1, (), False, 0.3),
        # A competitor set: nike, adidas, puma; nike runs a campaign with #justdoit.
        TagSpec(
            "nike", 112_406_311, 300.0, 0.002, 0.15, [(campaign, 36 * HOUR, 2400.0)], False, 0.3
        ),
        TagSpec("adidas", 41_512_090, 150.0, 0.002, 0.15, (), False, 0.3),
        TagSpec("puma", 12_804_377, 60.0, 0.001, 0.15, (), False, 0.25),
        TagSpec(
            "justdoit",
            18_377_412,
            40.0,
            0.0,
            0.1,
            [(campaign, 48 * HOUR, 900.0), (10 * DAY, 12 * HOUR, 300.0)],
            False,
            0.2,
        ),
        TagSpec("sunset", 301_220_145, 500.0, 0.0, 0.7, (), False, 0.2),
        # The platform never reports this one's count, like the real #newyears.
        TagSpec("newyears", 2_113_508, 20.0, 0.0, 0.0, [(60 * DAY, 30 * HOUR, 3000.0)], True, 0.2),
        TagSpec("slowtag", 1_204, 0.5),
    ]


def default_accounts(n: int = 3) -> list[AccountSpec]:
    """``acct01`` … with session ids ``sess-acct01`` …, capacity 10, refill 200/hour."""
    return [AccountSpec(f"acct{i:02d}", f"sess-acct{i:02d}") for i in range(1, n + 1)]


def _stable_key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class _TagSeries:
    """Cumulative post counts of one tag, hour by hour, around the world's start."""

    def __init__(self, spec: TagSpec, start: float, seed: int) -> None:
        self.spec = spec
        self._start = start
        self._seed = seed
        self._lock = threading.Lock()
        empty = np.zeros(0, dtype=np.int64)
        zero = np.zeros(1, dtype=np.int64)
        # Forward: hour i >= 0; cum[i] = posts in hours [0, i).
        self._fwd_inc: npt.NDArray[np.int64] = empty
        self._fwd_cum: npt.NDArray[np.int64] = zero
        # Backward: back_inc[j] = posts in hour -(j+1); back_cum[m] = posts in hours [-m, 0).
        self._back_inc: npt.NDArray[np.int64] = empty
        self._back_cum: npt.NDArray[np.int64] = zero

    def rate(self, t: float) -> float:
        """Expected posts per hour at epoch ``t``."""
        return float(self._smooth_rate(np.array([t]))[0]) + sum(
            b.extra_rate_per_hour
            for b in self._bursts()
            if self._start + b.start_offset_s <= t < self._start + b.start_offset_s + b.duration_s
        )

    def _bursts(self) -> tuple[Burst, ...]:
        return tuple(Burst(*b) for b in self.spec.bursts)

    def _smooth_rate(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        spec = self.spec
        days = (t - self._start) / DAY
        growth = np.exp(math.log1p(spec.growth) * days)
        weekly = spec.weekly_amplitude * np.cos(2 * np.pi * (t - _WEEKLY_PEAK) / WEEK)
        daily = spec.daily_amplitude * np.cos(2 * np.pi * ((t % DAY) - _DAILY_PEAK_S) / DAY)
        result: npt.NDArray[np.float64] = spec.rate_per_hour * growth * (1.0 + weekly + daily)
        return result

    def _chunk_increments(self, chunk: int) -> npt.NDArray[np.int64]:
        """Posts in each hour of ``chunk`` (hours chunk*168 … chunk*168+167), in time order."""
        hours = np.arange(chunk * _CHUNK_HOURS, (chunk + 1) * _CHUNK_HOURS, dtype=np.float64)
        begins = self._start + hours * HOUR
        expected = self._smooth_rate(begins + HOUR / 2)  # midpoint rule; the rate is smooth
        for burst in self._bursts():
            b_begin = self._start + burst.start_offset_s
            b_end = b_begin + burst.duration_s
            overlap = np.clip(
                np.minimum(begins + HOUR, b_end) - np.maximum(begins, b_begin), 0, None
            )
            expected = expected + burst.extra_rate_per_hour * overlap / HOUR
        entropy = [self._seed & 0xFFFFFFFF, _stable_key(self.spec.name), chunk + (1 << 40)]
        rng = np.random.default_rng(np.random.SeedSequence(entropy))
        increments: npt.NDArray[np.int64] = rng.poisson(expected).astype(np.int64)
        return increments

    def _ensure(self, hour: int) -> None:
        if abs(hour) > _MAX_HOURS:
            raise ValueError(
                f"tag {self.spec.name!r}: time is {hour} hours from the world's start; "
                f"the sandbox world covers ±{_MAX_HOURS} hours"
            )
        if hour >= 0:
            if hour < len(self._fwd_inc):
                return
            with self._lock:
                incs = [self._fwd_inc]
                n = len(self._fwd_inc)
                while n <= hour:
                    incs.append(self._chunk_increments(n // _CHUNK_HOURS))
                    n += _CHUNK_HOURS
                fwd_inc = np.concatenate(incs)
                fwd_cum = np.concatenate(([0], np.cumsum(fwd_inc))).astype(np.int64)
                self._fwd_cum = fwd_cum  # cum first: a reader checks inc's length
                self._fwd_inc = fwd_inc
        else:
            needed = -hour - 1
            if needed < len(self._back_inc):
                return
            with self._lock:
                incs = [self._back_inc]
                n = len(self._back_inc)
                while n <= needed:
                    chunk = -(n // _CHUNK_HOURS) - 1
                    incs.append(self._chunk_increments(chunk)[::-1])
                    n += _CHUNK_HOURS
                back_inc = np.concatenate(incs)
                back_cum = np.concatenate(([0], np.cumsum(back_inc))).astype(np.int64)
                self._back_cum = back_cum
                self._back_inc = back_inc

    def count(self, t: float) -> int:
        if not math.isfinite(t):
            raise ValueError(f"tag {self.spec.name!r}: time must be finite, got {t!r}")
        position = (t - self._start) / HOUR
        hour = math.floor(position)
        fraction = position - hour
        self._ensure(hour)
        if hour >= 0:
            before = int(self._fwd_cum[hour])
            increment = int(self._fwd_inc[hour])
        else:
            j = -hour - 1
            before = -int(self._back_cum[j + 1])
            increment = int(self._back_inc[j])
        return max(0, self.spec.base_count + before + math.floor(increment * fraction))


_FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Emma", "Liam", "Olivia", "Noah", "Ava", "Mason", "Chloe", "Ethan", "Grace", "Jack"),
    "fr": ("Léa", "Hugo", "Chloé", "Louis", "Manon", "Jules", "Camille", "Théo", "Inès", "Lucas"),
    "es": ("Lucía", "Mateo", "Sofía", "Pablo", "Valeria", "Diego", "Carmen", "Javier", "Elena"),
    "de": ("Mia", "Leon", "Hannah", "Felix", "Lena", "Jonas", "Marie", "Paul", "Lea", "Finn"),
}
_LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Hughes", "Clarke"),
    "fr": ("Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Roux"),
    "es": ("García", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Koch"),
}
_HANDLE_WORDS = (
    "travels",
    "eats",
    "lens",
    "daily",
    "vibes",
    "studio",
    "runs",
    "style",
    "wander",
    "snaps",
    "official",
    "life",
)
_TAG_LANGUAGE = {"paris": "fr", "sunset": "en", "nike": "en", "adidas": "de", "puma": "de"}


def _make_authors(seed: int, n: int) -> tuple[Author, ...]:
    rng = random.Random(f"tagpulse-sandbox:authors:{seed}")
    authors: list[Author] = []
    seen: set[str] = set()
    while len(authors) < n:
        language = rng.choice(LANGUAGES)
        first = rng.choice(_FIRST_NAMES[language])
        last = rng.choice(_LAST_NAMES[language])
        word = rng.choice(_HANDLE_WORDS)
        ascii_first = first.lower().encode("ascii", "ignore").decode()
        ascii_last = last.lower().encode("ascii", "ignore").decode()
        pattern = rng.randrange(4)
        if pattern == 0:
            username = f"{ascii_first}.{ascii_last}"
        elif pattern == 1:
            username = f"{ascii_first}_{word}"
        elif pattern == 2:
            username = f"{ascii_last}{word}{rng.randrange(10, 99)}"
        else:
            username = f"{word}.{ascii_first}{rng.randrange(1, 9)}"
        if username in seen:
            continue
        seen.add(username)
        followers = int(rng.lognormvariate(7.0, 1.8))
        authors.append(
            Author(
                pk=rng.randrange(1_000_000, 70_000_000_000),
                username=username,
                full_name=f"{first} {last}",
                is_private=False,
                is_verified=followers > 500_000,
                follower_count=followers,
                language=language,
            )
        )
    return tuple(authors)


class World:
    """Seeded hashtags, accounts and authors; every answer is a pure function of the seed."""

    def __init__(
        self,
        seed: int = 7,
        start: float = DEFAULT_START,
        tags: Sequence[TagSpec] | None = None,
        accounts: Sequence[AccountSpec] | None = None,
        n_authors: int = 240,
        social_config: SocialConfig | None = None,
        x_tokens: Sequence[XTokenSpec] | None = None,
        sentiment_shift: SentimentShift | None = DEFAULT_SENTIMENT_SHIFT,
    ) -> None:
        self.seed = seed
        self.sentiment_shift = sentiment_shift
        self.start = float(start)
        specs = list(default_tags() if tags is None else tags)
        self._series: dict[str, _TagSeries] = {}
        for spec in specs:
            if spec.name in self._series:
                raise ConfigError(f"tag {spec.name!r} is defined twice")
            self._series[spec.name] = _TagSeries(spec, self.start, seed)
        self.accounts: tuple[AccountSpec, ...] = tuple(
            default_accounts() if accounts is None else accounts
        )
        self._by_session: dict[str, AccountSpec] = {}
        for account in self.accounts:
            if account.session_id in self._by_session:
                raise ConfigError(f"session id {account.session_id!r} is used twice")
            self._by_session[account.session_id] = account
        # The X apps (bearer tokens) the sandbox's X API accepts, beside the web sessions.
        self.x_tokens: tuple[XTokenSpec, ...] = tuple(
            default_x_tokens() if x_tokens is None else x_tokens
        )
        self.authors: tuple[Author, ...] = _make_authors(seed, n_authors)
        self.social_config = social_config or SocialConfig()
        self._social: SocialWorld | None = None
        self._social_lock = threading.Lock()

    @property
    def social(self) -> SocialWorld:
        """The social world of this seed (built on first use: a few milliseconds)."""
        if self._social is None:
            with self._social_lock:
                if self._social is None:
                    self._social = SocialWorld(
                        self.seed,
                        self.start,
                        tuple(self._series),
                        self.social_config,
                        self.sentiment_shift,
                    )
        return self._social

    @property
    def tags(self) -> Mapping[str, TagSpec]:
        return {name: series.spec for name, series in self._series.items()}

    def tag(self, name: str) -> TagSpec:
        return self._get(name).spec

    def _get(self, name: str) -> _TagSeries:
        try:
            return self._series[name.lower()]
        except KeyError:
            raise KeyError(
                f"unknown tag {name!r}; the sandbox knows {sorted(self._series)}"
            ) from None

    def account_by_session(self, session_id: str) -> AccountSpec | None:
        return self._by_session.get(session_id)

    def account(self, alias: str) -> AccountSpec:
        for account in self.accounts:
            if account.alias == alias:
                return account
        raise KeyError(f"unknown account {alias!r}")

    def hashtag_id(self, tag: str) -> str:
        return hashtag_id(_stable_key(f"{self.seed}:{self._get(tag).spec.name}") * 7919)

    def rate(self, tag: str, t: float) -> float:
        """Expected new posts per hour under ``tag`` at epoch ``t``."""
        return self._get(tag).rate(t)

    def true_count(self, tag: str, t: float) -> int:
        """The exact number of posts under ``tag`` at epoch ``t`` (KeyError for an unknown tag)."""
        return self._get(tag).count(t)

    def _author_for(self, rng: random.Random, tag: str) -> tuple[Author, str]:
        author = rng.choice(self.authors)
        preferred = _TAG_LANGUAGE.get(tag, author.language)
        language = preferred if rng.random() < 0.6 else author.language
        return author, language

    def _shifted(self, item: dict[str, Any], language: str) -> dict[str, Any]:
        """A tag page's media item under the sentiment shift: a negative caption (same tags)."""
        shift = self.sentiment_shift
        if shift is None:
            return item
        text = item["caption"]["text"]
        tags = caption_tags(text)
        drawn = shift.draw(self.seed, f"tag:{item['pk']}", self.start, item["taken_at"], tags)
        if drawn is not None:
            rng, value = drawn
            item["caption"]["text"] = make_social_caption(rng, language, value, tags, ())
        return item

    def top_posts(self, tag: str, t: float) -> list[dict[str, Any]]:
        """Nine popular api/v1 media items, fixed for the hour of ``t``, all posted before it."""
        name = self._get(tag).spec.name
        hour_start = math.floor(t / HOUR) * HOUR
        rng = random.Random(f"tagpulse-sandbox:top:{self.seed}:{name}:{int(hour_start)}")
        posts = []
        for _ in range(_TOP_POSTS):
            author, language = self._author_for(rng, name)
            taken_at = int(hour_start - rng.uniform(HOUR, 3 * DAY))
            popularity = rng.uniform(1.0, 6.0)
            item = media_item(rng, name, author, taken_at, language, popularity)
            posts.append(self._shifted(item, language))
        posts.sort(key=lambda item: -int(item["like_count"]))
        return posts

    def recent_posts(self, tag: str, t: float, n: int = 6) -> list[dict[str, Any]]:
        """The ``n`` latest media items before ``t`` (fixed per minute), newest first."""
        series = self._get(tag)
        name = series.spec.name
        minute_start = math.floor(t / 60) * 60
        rng = random.Random(f"tagpulse-sandbox:recent:{self.seed}:{name}:{int(minute_start)}")
        mean_gap = HOUR / max(series.rate(minute_start), 0.05)
        taken_at = float(minute_start) - 1.0
        posts = []
        for _ in range(n):
            taken_at -= rng.expovariate(1.0 / mean_gap)
            author, language = self._author_for(rng, name)
            popularity = rng.uniform(0.05, 0.6)
            item = media_item(rng, name, author, int(taken_at), language, popularity)
            posts.append(self._shifted(item, language))
        return posts
