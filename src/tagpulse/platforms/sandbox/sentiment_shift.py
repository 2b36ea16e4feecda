"""A sentiment shift around one brand: from a moment on, most posts tagged with it turn negative.

The default world's story: #puma's captions sour from day 8 (2026-11-09 00:00 UTC) on, a product
recall, say: 85 % of the posts tagged #puma taken from then on (the accounts' posts and the
posts on the tag's page) get a negative latent sentiment around -0.7 and a caption written from
it; their comments follow, as every comment follows its post's sentiment.

Every draw comes from its own generator, seeded by (world seed, post), after the post was
generated as before: nothing else in the world changes, and a world without a shift (or a post
not concerned) is byte for byte what it was. The shift is ground truth:
:meth:`SentimentShift.truth`, and ``sentiment_shifted`` in a post's truth.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from tagpulse.errors import ConfigError

__all__ = ["DEFAULT_SENTIMENT_SHIFT", "SentimentShift"]

_DAY = 86_400.0
_TAG = re.compile(r"#(\w+)")


@dataclass(frozen=True, slots=True)
class SentimentShift:
    """From ``start_offset_s`` after the world's start, ``share`` of the posts tagged ``tag``
    turn negative (latent sentiment ``sentiment`` ± 0.2, at most -0.3)."""

    tag: str = "puma"
    start_offset_s: float = 8 * _DAY
    share: float = 0.85
    sentiment: float = -0.7

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0 or not -1.0 <= self.sentiment <= -0.3:
            raise ConfigError("SentimentShift: share in [0, 1] and sentiment in [-1, -0.3]")

    def starts_at(self, world_start: float) -> float:
        return world_start + self.start_offset_s

    def draw(
        self, seed: int, key: str, world_start: float, taken_at: float, tags: tuple[str, ...]
    ) -> tuple[random.Random, float] | None:
        """For a post (``key`` names it) concerned by the shift: its generator and its new
        sentiment; None for a post that keeps its own."""
        if self.tag not in tags or taken_at < self.starts_at(world_start):
            return None
        rng = random.Random(f"tagpulse-sandbox:sentiment-shift:{seed}:{key}")
        if rng.random() >= self.share:
            return None
        value = max(-1.0, min(-0.3, rng.gauss(self.sentiment, 0.2)))
        return rng, round(value, 4)

    def truth(self, world_start: float) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "starts_at": self.starts_at(world_start),
            "share": self.share,
            "sentiment": self.sentiment,
        }


DEFAULT_SENTIMENT_SHIFT = SentimentShift()


def caption_tags(text: str) -> tuple[str, ...]:
    """The hashtags of a sandbox caption (they are plain ASCII words there)."""
    return tuple(t.lower() for t in _TAG.findall(text))
