"""The text models: language, sentiment, hashtags, mentions, emoji and keywords of a caption or
comment.

* **Language**: lingua, built once, restricted to :data:`LANGUAGES` (faster, and fewer wrong
  guesses between languages nobody writes in the lake) in low-accuracy mode (trigrams only:
  builds in under a millisecond instead of ~0.7 s and runs ~2x faster; on short social texts it
  was as accurate on our labelled sentences). Detected on the words only (no emoji, mentions,
  URLs or trailing tag block); text without letters has no language.
* **Sentiment** (``sentiment`` is a compound score in -1 … 1; above 0.05 is positive, below
  -0.05 negative, VADER's convention), by ``sentiment_method``:

  - ``vader``: English text, VADER (``vaderSentiment``) with every emoji as a word whose valence
    is :mod:`emoji_sentiment`'s (VADER's own emoji handling breaks on ❤️'s selector and
    misreads 😡, 💔, 🙄);
  - ``lexicon-<lang>``: Spanish, French, Portuguese, German, Italian: the shipped lexicon of the
    language plus emoji, scored with VADER's rules (:mod:`tagpulse.enrich.lexicon`);
  - ``emoji``: text with no language (emoji only) or in a language without a lexicon
    (Japanese, Dutch, …) but with emoji: the emoji alone;
  - none (null): a language without a lexicon and no emoji.

* **Hashtags, mentions, emoji**: :mod:`tagpulse.enrich.extract`; **keywords**:
  :mod:`tagpulse.enrich.keywords`.

The model version (:attr:`TextModel.version`, e.g. ``text-1/vader-3.3.2/lingua-2.1.1``) names
this code's revision and the two packages' versions: a change to any of them is a new version,
and ``tagpulse enrich`` enriches everything again under it.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tagpulse.enrich.emoji_sentiment import EmojiValence
from tagpulse.enrich.extract import (
    clean_text,
    emoji_spans,
    extract_emoji,
    extract_hashtags,
    extract_mentions,
)
from tagpulse.enrich.keywords import extract_keywords
from tagpulse.enrich.lexicon import EMOJI_ONLY, LEXICON_LANGUAGES, load_lexicon, score_text
from tagpulse.errors import MissingExtra

__all__ = [
    "LANGUAGES",
    "TEXT_REVISION",
    "TextFeatures",
    "TextModel",
    "sentiment_class",
    "text_model_version",
]

#: Bumped when this package's scoring changes, so that ``enrich`` redoes old rows.
TEXT_REVISION = "text-1"

#: ISO 639-1 codes the language detector chooses among.
LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "pt", "de", "it", "nl", "tr", "pl", "ru", "ar", "ja", "ko", "zh", "hi",
)  # fmt: skip

_POSITIVE_AT = 0.05
#: The least confidence of a second-choice language whose lexicon may score a text.
_ALTERNATIVE_AT = 0.1


def sentiment_class(score: float | None) -> str | None:
    """``pos``, ``neg`` or ``neu`` by VADER's ±0.05 convention; None for no score."""
    if score is None:
        return None
    if score >= _POSITIVE_AT:
        return "pos"
    if score <= -_POSITIVE_AT:
        return "neg"
    return "neu"


@dataclass(slots=True, frozen=True)
class TextFeatures:
    language: str | None
    language_confidence: float | None
    sentiment: float | None
    sentiment_method: str | None
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    emoji: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def text_model_version() -> str:
    """The current model version, without loading the models."""
    return (
        f"{TEXT_REVISION}/vader-{_version('vaderSentiment')}"
        f"/lingua-{_version('lingua-language-detector')}"
    )


class TextModel:
    """Loads VADER and lingua once; :meth:`analyse` runs a batch of texts."""

    def __init__(self, *, languages: Sequence[str] = LANGUAGES, low_accuracy: bool = False) -> None:
        try:
            from lingua import IsoCode639_1, LanguageDetectorBuilder
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:
            raise MissingExtra("text", exc.name or "vaderSentiment/lingua") from exc
        codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector: Any = builder.build()
        self._vader: Any = SentimentIntensityAnalyzer()
        self.emoji = EmojiValence(self._vader)
        self.low_accuracy = low_accuracy
        self.version = text_model_version()
        # Emoji become VADER words (``tpemoji<n>``) carrying their valence.
        self._emoji_words: dict[str, str] = {}

    def _emoji_word(self, emoji: str) -> str | None:
        word = self._emoji_words.get(emoji)
        if word is None:
            valence = self.emoji.valence(emoji)
            if valence is None:
                return None
            word = f"tpemoji{len(self._emoji_words)}"
            self._vader.lexicon[word] = valence
            self._emoji_words[emoji] = word
        return word

    def vader(self, text: str) -> float:
        """VADER's compound score of ``text``, emoji scored as words."""
        pieces: list[str] = []
        last = 0
        for span in emoji_spans(text):
            word = self._emoji_word(span.text)
            pieces += [text[last : span.start], f" {word} " if word else " "]
            last = span.end
        pieces.append(text[last:])
        return float(self._vader.polarity_scores("".join(pieces))["compound"])

    def languages(self, words: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Each text's likely languages with their confidence, best first (empty: no letters,
        or a script none of :data:`LANGUAGES` is written in)."""
        out: list[list[tuple[str, float]]] = [[] for _ in words]
        todo = [i for i, w in enumerate(words) if any(c.isalpha() for c in w)]
        if not todo:
            return out
        values = self._detector.compute_language_confidence_values_in_parallel(
            [words[i] for i in todo]
        )
        for i, ranked in zip(todo, values, strict=True):
            out[i] = [
                (v.language.iso_code_639_1.name.lower(), round(float(v.value), 4))
                for v in ranked
                if v.value > 0
            ]
        return out

    def _score(self, body: str, language: str | None) -> tuple[float, int, str] | None:
        if language == "en":
            score = self.vader(body)
            return score, int(score != 0.0), "vader"
        if language in LEXICON_LANGUAGES:
            score, hits = score_text(body, load_lexicon(language), self.emoji.valence)
            return score, hits, f"lexicon-{language}"
        return None

    def sentiment(
        self, text: str, ranked: Sequence[tuple[str, float]]
    ) -> tuple[float | None, str | None]:
        """``(compound, method)`` of ``text`` given its ranked languages.

        The best language's scorer decides, unless it finds no sentiment-bearing word: then the
        next likely languages (confidence at least :data:`_ALTERNATIVE_AT`) are tried, because
        a short comment ("Que bonito") is often a coin toss between neighbours (pt, es, it)."""
        body = clean_text(text, keep_emoji=True)
        first: tuple[float, int, str] | None = None
        for i, (language, confidence) in enumerate(ranked):
            if i > 0 and confidence < _ALTERNATIVE_AT:
                break
            scored = self._score(body, language)
            if scored is None:
                continue
            if scored[1]:
                return round(scored[0], 4), scored[2]
            first = first or scored
        if first is not None and ranked and first[2].endswith(ranked[0][0]):
            return round(first[0], 4), first[2]
        if any(True for _ in emoji_spans(body)):
            score, _ = score_text(body, EMOJI_ONLY, self.emoji.valence)
            return round(score, 4), "emoji"
        if first is not None:
            return round(first[0], 4), first[2]
        return None, None

    def analyse(self, texts: Sequence[str]) -> list[TextFeatures]:
        """Every feature of every text, in order."""
        words = [clean_text(t) for t in texts]
        detected = self.languages(words)
        out: list[TextFeatures] = []
        for text, plain, ranked in zip(texts, words, detected, strict=True):
            language, confidence = ranked[0] if ranked else (None, None)
            score, method = self.sentiment(text, ranked)
            out.append(
                TextFeatures(
                    language=language,
                    language_confidence=confidence,
                    sentiment=score,
                    sentiment_method=method,
                    hashtags=extract_hashtags(text),
                    mentions=extract_mentions(text),
                    emoji=extract_emoji(text),
                    keywords=extract_keywords(plain, language),
                )
            )
        return out
