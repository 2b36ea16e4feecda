"""Accounts of the social world that bought followers: the ground truth of a fake audience.

A few ordinary accounts (``SocialConfig.bought_share`` of them: 4 of the default 300) buy a block
of followers once: at a moment in the first days after the world's start their reported follower
count jumps by 8-20 times what they had, in one step. The bought followers are not accounts of
the world: they never like, comment or appear in follower lists, so the account's engagement
stays where it was before the jump (its likes come from its in-world followers and the real
audience they stand for), while its follower count says it is many times larger.

Everything here is drawn from its own random stream (seeded by the world's seed and a name of its
own), after the graph is built and without touching any other stream, so every other fact of the
world is the same as in a world without bought followers.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from tagpulse.platforms.sandbox.social_graph import SocialAccount, SocialConfig, SocialGraph

__all__ = ["BoughtFollowers", "draw_bought_followers"]

_DAY = 86400.0
#: An account buys at least this many times the followers it has (in-world, times the scale).
_MULTIPLIER = (8.0, 20.0)
#: When: between these many days after the world's start (inside a two-week demo).
_WHEN_DAYS = (1.0, 9.0)
#: Candidates have a real audience to start from, and post often enough to be seen posting.
_MIN_FOLLOWERS_IN_WORLD = 3
_MAX_FOLLOWERS_IN_WORLD = 40
_MIN_POSTS_PER_WEEK = 1.5


@dataclass(frozen=True, slots=True)
class BoughtFollowers:
    """``count`` followers that ``account`` (an index) gains at ``at`` (epoch seconds)."""

    account: int
    at: float
    count: int


def _in_world_followers(graph: SocialGraph, account: SocialAccount, t: float) -> int:
    accounts = graph.accounts
    return sum(
        1 for since, u in graph.followers[account.idx] if since <= t and not accounts[u].deleted(t)
    )


def draw_bought_followers(
    seed: int, start: float, graph: SocialGraph, config: SocialConfig
) -> dict[int, BoughtFollowers]:
    """Which accounts buy followers, when and how many (keyed by account index)."""
    n = round(len(graph.accounts) * config.bought_share)
    if n <= 0:
        return {}
    rng = random.Random(f"tagpulse-sandbox:social-bought-followers:{seed}")
    candidates = [
        a
        for a in graph.accounts
        if not (a.influencer or a.is_private or a.ever_deleted or a.old_username is not None)
        and a.posts_per_week >= _MIN_POSTS_PER_WEEK
        and _MIN_FOLLOWERS_IN_WORLD
        <= _in_world_followers(graph, a, start)
        <= _MAX_FOLLOWERS_IN_WORLD
    ]
    chosen = rng.sample(candidates, min(n, len(candidates)))
    bought: dict[int, BoughtFollowers] = {}
    for account in sorted(chosen, key=lambda a: a.idx):
        at = float(int(start + rng.uniform(*_WHEN_DAYS) * _DAY))
        real = _in_world_followers(graph, account, at) * config.follower_scale
        count = math.ceil(real * rng.uniform(*_MULTIPLIER) / 100) * 100
        bought[account.idx] = BoughtFollowers(account.idx, at, count)
    return bought
