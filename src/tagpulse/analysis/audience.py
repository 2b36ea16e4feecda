"""Suspicious audiences: followers that do not engage, and followers that arrived all at once.

* **Low engagement for the follower band.** Engagement per follower falls as accounts grow, so
  an account is compared with accounts of about its size: those whose follower count is within
  half a decade (x/÷ 3.16) of its own, widened to a whole decade when fewer than ``min_band``
  (5) accounts are that close; with fewer still, the norm is the median of all other accounts
  and no flag is raised. Its log engagement rate gets a robust z-score against theirs
  (median and MAD, so one odd neighbour does not move the yardstick; the scale has a floor of
  0.25 in natural-log units, so a band of near-identical accounts does not turn a small gap into
  an alarm). Far below (``z <= -low_z``, 3.5) is flagged: bought followers inflate the
  denominator and never like anything. The band's median is also the norm the ranking's
  engagement part is measured against.
* **Follower jumps.** Between two profile observations at most ``jump_window_s`` apart, the
  count grew by at least ``jump_ratio`` of itself (1.0: it doubled) and by at least
  ``min_jump`` followers. The flag shows the median engagement per post before and after the
  jump: bought followers leave it where it was; a real breakthrough raises it.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tagpulse.analysis.influencer_data import FollowerObservation, PostStats

__all__ = [
    "AudienceFlag",
    "AudienceOptions",
    "BandNorm",
    "band_norms",
    "follower_jumps",
    "low_engagement_flag",
]

_MAD_TO_SIGMA = 1.4826
_LOG_SCALE_FLOOR = 0.25
#: An account whose posts got no likes at all is scored as if at one like in a million followers.
_RATE_FLOOR = 1e-6


@dataclass(slots=True, frozen=True)
class AudienceOptions:
    low_z: float = 3.5
    band_decades: float = 0.5
    min_band: int = 5
    jump_ratio: float = 1.0
    min_jump: int = 5_000
    jump_window_s: float = 7 * 86400.0


@dataclass(slots=True, frozen=True)
class AudienceFlag:
    """Why an account's audience looks bought: ``kind`` is ``low_engagement`` or
    ``follower_jump``; ``reason`` says it in words, with the numbers."""

    kind: str
    reason: str
    z: float | None = None
    at: datetime | None = None


@dataclass(slots=True, frozen=True)
class BandNorm:
    """The engagement norm of an account's follower band: the median rate of its peers."""

    norm: float
    size: int
    low: float  # followers
    high: float
    #: Robust z-score of the account's log rate among its peers; None when fewer than
    #: ``min_band`` accounts are within a decade (the norm then comes from every other account).
    z: float | None


def band_norms(
    accounts: Sequence[tuple[float, float]], options: AudienceOptions
) -> list[BandNorm | None]:
    """For each ``(followers > 0, engagement rate)``, its band's norm and its z-score there;
    None when it is the only account."""
    logf = [math.log10(f) for f, _ in accounts]
    logr = [math.log(max(r, _RATE_FLOOR)) for _, r in accounts]
    out: list[BandNorm | None] = []
    for i, (lf, lr) in enumerate(zip(logf, logr, strict=True)):
        result: BandNorm | None = None
        for width in (options.band_decades, 2 * options.band_decades):
            band = [logr[j] for j in range(len(logf)) if j != i and abs(logf[j] - lf) <= width]
            if len(band) >= options.min_band:
                median = statistics.median(band)
                mad = statistics.median(abs(x - median) for x in band)
                scale = max(_MAD_TO_SIGMA * mad, _LOG_SCALE_FLOOR)
                result = BandNorm(
                    math.exp(median), len(band), 10 ** (lf - width), 10 ** (lf + width),
                    (lr - median) / scale,
                )  # fmt: skip
                break
        others = [j for j in range(len(logf)) if j != i]
        if result is None and others:
            result = BandNorm(
                math.exp(statistics.median(logr[j] for j in others)), len(others),
                min(accounts[j][0] for j in others), max(accounts[j][0] for j in others), None,
            )  # fmt: skip
        out.append(result)
    return out


def low_engagement_flag(
    rate: float, band: BandNorm | None, options: AudienceOptions
) -> AudienceFlag | None:
    if band is None or band.z is None or band.z > -options.low_z:
        return None
    return AudienceFlag(
        "low_engagement",
        f"engagement {rate:.3%} per follower per post is {-band.z:.1f} robust SDs below the "
        f"median {band.norm:.3%} of {band.size} accounts with "
        f"{_count(band.low)}–{_count(band.high)} followers",
        z=band.z,
    )


def _count(value: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.0f}"


def _median_engagement(posts: Sequence[PostStats]) -> float | None:
    known = [p.likes + (p.comments or 0) for p in posts if p.likes is not None]
    return statistics.median(known) if known else None


def follower_jumps(
    observations: Sequence[FollowerObservation],
    posts: Sequence[PostStats],
    options: AudienceOptions,
) -> list[AudienceFlag]:
    """A flag for each jump between consecutive observations (oldest first)."""
    flags = []
    ordered = sorted(observations, key=lambda o: o.at)
    for before, after in itertools.pairwise(ordered):
        gain = after.followers - before.followers
        span = (after.at - before.at).total_seconds()
        if (
            before.followers <= 0
            or span > options.jump_window_s
            or gain < options.min_jump
            or gain < options.jump_ratio * before.followers
        ):
            continue
        reason = (
            f"followers {before.followers:,} → {after.followers:,} "
            f"(+{gain / before.followers:.0%}) between {before.at:%Y-%m-%d %H:%M} and "
            f"{after.at:%Y-%m-%d %H:%M}"
        )
        old = _median_engagement([p for p in posts if p.at < before.at])
        new = _median_engagement([p for p in posts if p.at >= after.at])
        if old is not None and new is not None:
            ratio = f" (x{new / old:.2f})" if old > 0 else ""
            reason += f"; likes+comments per post {old:,.0f} before, {new:,.0f} after{ratio}"
        flags.append(AudienceFlag("follower_jump", reason, at=after.at))
    return flags
