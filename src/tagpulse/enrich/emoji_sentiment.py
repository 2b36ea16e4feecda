"""The sentiment valence of an emoji (VADER's scale, -4 … +4).

First the shipped table (``data/emoji_valence.txt``: about 130 common emoji, set by hand where
VADER's description-based scoring is wrong or silent: 😡 "enraged face" scores 0, 💔 "broken
heart" scores positive, ❤️ with its selector scores nothing); then, for any other emoji, VADER's
own way: the valence of its description in VADER's lexicon (🎉 "party popper" → positive). Skin
tones and selectors do not change an emoji's valence (👍🏽 is 👍).
"""

from __future__ import annotations

import functools
import math
from importlib import resources
from typing import Any

__all__ = ["EmojiValence", "emoji_table"]

_ALPHA = 15.0
_IGNORED = "\ufe0f\ufe0e\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff"


@functools.cache
def emoji_table() -> dict[str, float]:
    """The shipped valences, keyed by the emoji without selectors or skin tones."""
    text = resources.files("tagpulse.enrich").joinpath("data/emoji_valence.txt")
    table: dict[str, float] = {}
    for line in text.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            emoji, _, value = line.partition("\t")
            table[_bare(emoji.strip())] = float(value)
    return table


def _bare(emoji: str) -> str:
    return "".join(c for c in emoji if c not in _IGNORED)


def _unsquash(compound: float) -> float:
    """The valence sum behind a VADER compound score (the inverse of its normalisation)."""
    c = max(-0.9999, min(0.9999, compound))
    return c * math.sqrt(_ALPHA / (1 - c * c))


class EmojiValence:
    """Valence lookups, cached; ``vader`` is a ``SentimentIntensityAnalyzer``."""

    def __init__(self, vader: Any) -> None:
        self._vader = vader
        self._table = emoji_table()
        self._cache: dict[str, float | None] = {}

    def valence(self, emoji: str) -> float | None:
        """The valence of one emoji (None: neutral or unknown)."""
        if emoji in self._cache:
            return self._cache[emoji]
        bare = _bare(emoji)
        value = self._table.get(bare)
        if value is None and "\u200d" in bare:
            value = self._table.get(bare.split("\u200d")[0])  # 🏃‍♀️ is 🏃; 😮‍💨 is in the table
        if value is None:
            value = self._described(bare)
        self._cache[emoji] = value
        return value

    def _described(self, bare: str) -> float | None:
        descriptions = [self._vader.emojis.get(c) for c in bare.split("\u200d")[0][:1]]
        description = descriptions[0] if descriptions else None
        if not description:
            return None
        compound = float(self._vader.polarity_scores(description)["compound"])
        if compound == 0.0:
            return None
        return round(_unsquash(compound), 3)
