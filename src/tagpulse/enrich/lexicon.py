"""The multilingual sentiment fallback: a small lexicon per language, scored VADER's way.

For text in Spanish, French, Portuguese, German or Italian (VADER's lexicon is English), each
word is looked up in the language's lexicon (``data/lexicon_<lang>.txt``, valences on VADER's
-4 … +4 scale; accents and case ignored; ``word*`` entries match any ending; phrases such as
``nunca más``) and each emoji gets its valence (:mod:`tagpulse.enrich.emoji_sentiment`). Then
VADER's rules, with the language's own words:

* **negation**: a negator (``no``, ``ne``/``pas``, ``não``, ``nicht``/``kein``, ``non``…) among
  the three tokens before a word flips and damps it (x -0.74); ``ne … pas`` counts once;
* **intensifiers** (``muy``, ``très``, ``muito``, ``sehr``, ``molto``…) right before a word push
  it 0.293 further from zero;
* **contrast** (``pero``, ``mais``, ``mas``, ``aber``, ``ma``): what comes before counts half,
  what follows 1.5 times;
* **exclamation marks** add emphasis (0.292 each, at most four);
* the sum is squashed to ``x / sqrt(x² + 15)``: VADER's compound score in -1 … 1.

Without any lexicon word or emoji the score is 0 (neutral).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

from tagpulse.enrich.extract import emoji_spans
from tagpulse.errors import ConfigError

__all__ = [
    "LEXICON_LANGUAGES",
    "Lexicon",
    "fold",
    "load_lexicon",
    "normalize_score",
    "score_text",
    "tokens_of",
]

LEXICON_LANGUAGES: tuple[str, ...] = ("es", "fr", "pt", "de", "it")

_NEGATION_SCALAR = -0.74
_BOOST = 0.293
_EXCLAMATION = 0.292
_ALPHA = 15.0
_WORD = re.compile(r"\w+", re.UNICODE)
_EMOJI_TOKEN = "\x00"


def fold(word: str) -> str:
    """Lower case without accents: ``Décevant`` → ``decevant``."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@dataclass(frozen=True, slots=True)
class Lexicon:
    language: str
    words: dict[str, float]
    #: ``(prefix, valence)``, longest prefix first.
    prefixes: tuple[tuple[str, float], ...]
    phrases: dict[tuple[str, ...], float]
    negators: frozenset[str]
    boosters: frozenset[str]
    contrasts: frozenset[str]

    def valence(self, word: str) -> float | None:
        exact = self.words.get(word)
        if exact is not None:
            return exact
        for prefix, value in self.prefixes:
            if word.startswith(prefix):
                return value
        return None


def _parse(language: str, text: str) -> Lexicon:
    words: dict[str, float] = {}
    prefixes: list[tuple[str, float]] = []
    phrases: dict[tuple[str, ...], float] = {}
    lists: dict[str, frozenset[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("\t")
        if key.startswith("@"):
            lists[key[1:]] = frozenset(fold(w) for w in value.split())
            continue
        try:
            valence = float(value)
        except ValueError:
            raise ConfigError(
                f"lexicon_{language}.txt:{number}: expected WORD<TAB>VALENCE, got {line!r}"
            ) from None
        entry = fold(key)
        if " " in entry:
            phrases[tuple(entry.split())] = valence
        elif entry.endswith("*"):
            prefixes.append((entry[:-1], valence))
        else:
            words[entry] = valence
    prefixes.sort(key=lambda p: -len(p[0]))
    return Lexicon(
        language,
        words,
        tuple(prefixes),
        phrases,
        lists.get("negate", frozenset()),
        lists.get("boost", frozenset()),
        lists.get("but", frozenset()),
    )


@functools.cache
def load_lexicon(language: str) -> Lexicon:
    """The shipped lexicon of ``language`` (one of :data:`LEXICON_LANGUAGES`)."""
    if language not in LEXICON_LANGUAGES:
        raise ConfigError(
            f"no sentiment lexicon for {language!r}; there are: {', '.join(LEXICON_LANGUAGES)}"
        )
    text = resources.files("tagpulse.enrich").joinpath(f"data/lexicon_{language}.txt")
    return _parse(language, text.read_text("utf-8"))


#: An empty lexicon: only emoji score (the ``emoji`` method).
EMOJI_ONLY = Lexicon("", {}, (), {}, frozenset(), frozenset(), frozenset())


def tokens_of(text: str) -> list[str]:
    """Folded words and emoji (as ``"\\x00<emoji>"``) in order; ``l'amour`` → ``l``, ``amour``."""
    out: list[str] = []
    last = 0
    for span in emoji_spans(text):
        out += [fold(w) for w in _WORD.findall(text[last : span.start])]
        out.append(_EMOJI_TOKEN + span.text)
        last = span.end
    out += [fold(w) for w in _WORD.findall(text[last:])]
    return out


def normalize_score(total: float) -> float:
    """VADER's squashing of a valence sum into -1 … 1."""
    score = total / math.sqrt(total * total + _ALPHA)
    return max(-1.0, min(1.0, score))


def score_text(
    text: str, lexicon: Lexicon, emoji_valence: Callable[[str], float | None]
) -> tuple[float, int]:
    """The compound score of ``text`` and how many tokens carried sentiment."""
    tokens = tokens_of(text)
    valences = _valences(tokens, lexicon, emoji_valence)
    hits = sum(1 for v in valences if v != 0.0)
    contrast = next((i for i, t in enumerate(tokens) if t in lexicon.contrasts), None)
    if contrast is not None:
        valences = [v * (0.5 if i < contrast else 1.5) for i, v in enumerate(valences)]
    total = sum(valences)
    if total:
        total += math.copysign(min(text.count("!"), 4) * _EXCLAMATION, total)
    return normalize_score(total), hits


def _valences(
    tokens: Sequence[str], lexicon: Lexicon, emoji_valence: Callable[[str], float | None]
) -> list[float]:
    valences = [0.0] * len(tokens)
    in_phrase: set[int] = set()
    for i, token in enumerate(tokens):
        if i in in_phrase:
            continue
        value: float | None
        if token.startswith(_EMOJI_TOKEN):
            value = emoji_valence(token[1:])
        else:
            value = None
            for size in (3, 2):
                phrase = tuple(tokens[i : i + size])
                if len(phrase) == size and phrase in lexicon.phrases:
                    value = lexicon.phrases[phrase]
                    in_phrase.update(range(i, i + size))
                    break
            if value is None:
                value = lexicon.valence(token)
        if not value:
            continue
        if i > 0 and tokens[i - 1] in lexicon.boosters:
            value += math.copysign(_BOOST, value)
        elif i > 1 and tokens[i - 2] in lexicon.boosters:
            value += math.copysign(_BOOST * 0.95, value)
        # A negator inside a phrase ("nunca más") is part of its meaning, not a negation.
        window = range(max(0, i - 3), i)
        if any(tokens[j] in lexicon.negators and j not in in_phrase for j in window):
            value *= _NEGATION_SCALAR
        valences[i] = value
    return valences
