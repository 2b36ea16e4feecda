"""The people of the sandbox's social world and who follows whom.

Built at once from the seed (a few milliseconds for the default 300 accounts):

* each account gets a language, names, a biography, habits (posts per week, preferred hour,
  weekday pattern, media mix), an engagement rate, a mood (its posts' sentiment bias) and a few
  of the hashtag world's tags as interests;
* the follow graph grows by preferential attachment with fitness: accounts, in a random order,
  follow ``m`` others (``m`` log-normal, median ~10) chosen with probability proportional to
  ``fitness * (1 + followers so far)``; a handful of accounts get a much higher fitness and
  become the influencers (heavy-tailed follower counts). Followed accounts follow back with
  probability 0.25 (0.02 for influencers). Each edge carries the time it appeared,
  ``max(created of both) + Exp(mean 150 days)``, so some edges appear while the simulation runs
  and follower counts grow;
* about 5 % of accounts are private, 2 % are deleted at some time around the world's start
  (they vanish: profile not found, gone from every follower list), 2 % change their handle;
  the most followed ~3 % are verified.

A few accounts also buy followers (:mod:`social_bought`, drawn from a stream of its own).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from tagpulse.errors import ConfigError
from tagpulse.platforms.sandbox.social_text import (
    CATEGORIES,
    SOCIAL_LANGUAGES,
    make_biography,
    make_name,
)

__all__ = [
    "SocialAccount",
    "SocialConfig",
    "SocialGraph",
    "build_graph",
]

_DAY = 86400.0
_WEEK = 7 * _DAY
_LANGUAGE_WEIGHTS = (0.3, 0.15, 0.14, 0.12, 0.14, 0.15)
# Weekday weights, Monday first: every day alike, weekends, working days, Friday nights.
_WEEKDAY_PATTERNS: tuple[tuple[float, ...], ...] = (
    (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    (0.6, 0.6, 0.6, 0.7, 1.0, 2.2, 2.0),
    (1.4, 1.4, 1.3, 1.3, 1.1, 0.4, 0.4),
    (0.7, 0.7, 0.8, 0.9, 2.0, 1.6, 0.8),
)


@dataclass(frozen=True, slots=True)
class SocialConfig:
    """Size and shares of the social world.

    ``follower_scale``: every in-world follower stands for this many real ones, so the reported
    follower count is the number of in-world followers at that time times the scale (1 makes
    the follower lists complete). ``following_scale`` does the same for following counts.
    ``bought_share``: the share of accounts that buy followers once (see :mod:`social_bought`).
    """

    n_accounts: int = 300
    follower_scale: int = 1000
    following_scale: int = 10
    private_share: float = 0.05
    deleted_share: float = 0.02
    renamed_share: float = 0.02
    viral_share: float = 0.015
    hidden_likes_share: float = 0.03
    webp_share: float = 0.05
    bought_share: float = 0.015

    def __post_init__(self) -> None:
        if not 2 <= self.n_accounts <= 1_000_000:
            raise ConfigError(f"SocialConfig.n_accounts = {self.n_accounts}: use 2 … 1,000,000")
        if self.follower_scale < 1 or self.following_scale < 1:
            raise ConfigError("SocialConfig: follower_scale and following_scale must be >= 1")
        for name in (
            "private_share",
            "deleted_share",
            "renamed_share",
            "viral_share",
            "hidden_likes_share",
            "webp_share",
            "bought_share",
        ):
            share = float(getattr(self, name))
            if not 0.0 <= share <= 1.0:
                raise ConfigError(f"SocialConfig.{name} = {share}: a share must be in [0, 1]")


@dataclass(frozen=True, slots=True)
class SocialAccount:
    """One account of the social world; ``username`` is its handle after any rename."""

    idx: int
    pk: int
    username: str
    old_username: str | None
    renamed_at: float | None
    full_name: str
    biography: str
    language: str
    is_private: bool
    is_verified: bool
    is_business: bool
    category_name: str | None
    business_category_name: str | None
    external_url: str | None
    created_at: float
    deleted_at: float | None
    influencer: bool
    posts_per_week: float
    preferred_hour: float
    hour_sd: float
    weekday_weights: tuple[float, ...]
    media_weights: tuple[float, float, float, float]  # image, video, carousel, reel
    engagement_rate: float
    mood: float
    interests: tuple[str, ...]
    highlight_reel_count: int

    @property
    def id(self) -> str:
        return str(self.pk)

    def username_at(self, t: float) -> str:
        if self.old_username is not None and self.renamed_at is not None and t < self.renamed_at:
            return self.old_username
        return self.username

    def deleted(self, t: float) -> bool:
        return self.deleted_at is not None and t >= self.deleted_at

    @property
    def ever_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class SocialGraph:
    """Accounts and follow edges; ``followers[v]`` holds ``(since, u)`` newest first."""

    accounts: tuple[SocialAccount, ...]
    followers: tuple[tuple[tuple[float, int], ...], ...]
    following: tuple[tuple[tuple[float, int], ...], ...]


def _unique_handle(rng: random.Random, language: str, seen: set[str]) -> tuple[str, str]:
    while True:
        full_name, handle = make_name(rng, language)
        if handle not in seen and len(handle) <= 30:
            seen.add(handle)
            return full_name, handle


def _edges(
    config: SocialConfig, seed: int, fitness: np.ndarray, influencer: list[bool]
) -> list[tuple[int, int]]:
    n = config.n_accounts
    rng = random.Random(f"tagpulse-sandbox:social-edges:{seed}")
    nprng = np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, 0x50C1A1]))
    indeg = np.zeros(n)
    pairs: set[tuple[int, int]] = set()
    order = list(range(n))
    rng.shuffle(order)
    for u in order:
        m = max(1, min(n - 1, n // 4 or 1, int(rng.lognormvariate(math.log(10.0), 0.8))))
        weights = fitness * (1.0 + indeg)
        weights[u] = 0.0
        targets = nprng.choice(n, size=m, replace=False, p=weights / weights.sum())
        for v in (int(x) for x in targets):
            if (u, v) not in pairs:
                pairs.add((u, v))
                indeg[v] += 1
        for v in (int(x) for x in targets):
            back = 0.02 if influencer[v] else 0.25
            if (v, u) not in pairs and rng.random() < back:
                pairs.add((v, u))
                indeg[u] += 1
    return sorted(pairs)


def build_graph(
    seed: int, start: float, config: SocialConfig, tags: tuple[str, ...]
) -> SocialGraph:
    """The accounts and the follow graph of a world (see the module docstring)."""
    n = config.n_accounts
    rng = random.Random(f"tagpulse-sandbox:social:{seed}")
    n_influencers = max(1, n // 60)
    fitness = np.array([rng.lognormvariate(0.0, 0.8) for _ in range(n)])
    influencer = [False] * n
    for i in rng.sample(range(n), n_influencers):
        influencer[i] = True
        fitness[i] *= 12.0
    # Accounts join in whole weeks (a post chunk starts with the account); the newest joined
    # two weeks before the start.
    created = [start - _WEEK * rng.randint(2, 6 * 52) for _ in range(n)]
    pairs = _edges(config, seed, fitness, influencer)
    edge_rng = random.Random(f"tagpulse-sandbox:social-since:{seed}")
    followers: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    following: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    for u, v in pairs:
        since = float(int(max(created[u], created[v]) + edge_rng.expovariate(1 / (150 * _DAY))))
        followers[v].append((since, u))
        following[u].append((since, v))
    indeg = sorted((len(f) for f in followers), reverse=True)
    verified_at = indeg[max(0, math.ceil(n * 0.03) - 1)]

    candidates = [i for i in range(n) if not influencer[i]]
    rng.shuffle(candidates)
    n_private = round(n * config.private_share)
    n_deleted = round(n * config.deleted_share)
    n_renamed = round(n * config.renamed_share)
    private = set(candidates[:n_private])
    deleted = set(candidates[n_private : n_private + n_deleted])
    renamed = set(candidates[n_private + n_deleted : n_private + n_deleted + n_renamed])

    seen: set[str] = set()
    pks: set[int] = set()
    accounts = []
    for i in range(n):
        arng = random.Random(f"tagpulse-sandbox:social-account:{seed}:{i}")
        language = arng.choices(SOCIAL_LANGUAGES, weights=_LANGUAGE_WEIGHTS)[0]
        full_name, handle = _unique_handle(arng, language, seen)
        old_handle: str | None = None
        renamed_at: float | None = None
        if i in renamed:
            old_handle = handle
            _, handle = _unique_handle(arng, language, seen)
            renamed_at = float(int(start + arng.uniform(-20, 14) * _DAY))
        pk = arng.randrange(1_000_000, 70_000_000_000)
        while pk in pks:
            pk = arng.randrange(1_000_000, 70_000_000_000)
        pks.add(pk)
        is_business = (influencer[i] and arng.random() < 0.5) or arng.random() < 0.22
        category = arng.choice(CATEGORIES) if is_business else None
        url_share = 0.7 if is_business else 0.25
        external_url = f"https://example.com/{handle}" if arng.random() < url_share else None
        weights = [arng.gammavariate(1.5, 1.0) for _ in range(4)]
        total = sum(weights)
        weights[0] += total  # images stay the most common kind
        total += total
        rate = min(25.0, max(0.2, arng.lognormvariate(math.log(3.0), 0.7)))
        if is_business:
            rate *= 1.5
        degree = len(followers[i])
        engagement = arng.lognormvariate(math.log(0.04), 0.5) / (1.0 + degree / 50.0)
        mood = -abs(arng.gauss(0.3, 0.2)) if arng.random() < 0.08 else arng.gauss(0.3, 0.3)
        interests = tuple(arng.sample(tags, min(len(tags), arng.randint(1, 3)))) if tags else ()
        accounts.append(
            SocialAccount(
                idx=i,
                pk=pk,
                username=handle,
                old_username=old_handle,
                renamed_at=renamed_at,
                full_name=full_name,
                biography=make_biography(arng, language, category[0] if category else None),
                language=language,
                is_private=i in private,
                is_verified=degree >= verified_at and degree > 0,
                is_business=is_business,
                category_name=category[0] if category else None,
                business_category_name=category[1] if category else None,
                external_url=external_url,
                created_at=created[i],
                deleted_at=float(int(start + arng.uniform(-20, 14) * _DAY))
                if i in deleted
                else None,
                influencer=influencer[i],
                posts_per_week=rate,
                preferred_hour=arng.gauss(17.0, 3.5) % 24.0,
                hour_sd=arng.uniform(0.7, 2.5),
                weekday_weights=arng.choice(_WEEKDAY_PATTERNS),
                media_weights=(
                    weights[0] / total,
                    weights[1] / total,
                    weights[2] / total,
                    weights[3] / total,
                ),
                engagement_rate=min(0.3, max(0.002, engagement)),
                mood=max(-0.8, min(0.9, mood)),
                interests=interests,
                highlight_reel_count=arng.randrange(0, 12),
            )
        )
    return SocialGraph(
        accounts=tuple(accounts),
        followers=tuple(_newest_first(edges, accounts) for edges in followers),
        following=tuple(_newest_first(edges, accounts) for edges in following),
    )


def _newest_first(
    edges: list[tuple[float, int]], accounts: list[SocialAccount]
) -> tuple[tuple[float, int], ...]:
    return tuple(sorted(edges, key=lambda e: (-e[0], -accounts[e[1]].pk)))
