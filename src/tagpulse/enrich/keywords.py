"""Keyword phrases of a caption: RAKE (Rapid Automatic Keyword Extraction).

The text (without URLs, mentions, the trailing tag block and emoji) is cut into candidate
phrases at punctuation and at the stop words of its language (``data/stopwords_<lang>.txt``;
English when the language has no list). Each word scores ``degree / frequency`` over the
candidates (words that sit in longer phrases score higher) and a phrase the sum of its words.
The best phrases of at most three words are returned, lower case. Texts in scripts written
without spaces (Japanese, Chinese, Thai) get none: cutting them needs a segmenter.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from tagpulse.enrich.lexicon import fold

__all__ = ["STOPWORD_LANGUAGES", "extract_keywords", "stopwords"]

STOPWORD_LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "pt", "de", "it")
_UNSPACED = frozenset({"ja", "zh", "th"})
_SPLIT = re.compile(r"[.,;:!?¡¿()\[\]{}\"“”«»…|/\\–—\n]+")
_WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)
_MAX_WORDS = 3


@functools.cache
def stopwords(language: str) -> frozenset[str]:
    """The shipped stop words of ``language`` (English when there is no list), folded."""
    lang = language if language in STOPWORD_LANGUAGES else "en"
    text = resources.files("tagpulse.enrich").joinpath(f"data/stopwords_{lang}.txt")
    return frozenset(fold(w) for w in text.read_text("utf-8").split())


def _candidates(text: str, stop: frozenset[str]) -> list[list[str]]:
    phrases: list[list[str]] = []
    for chunk in _SPLIT.split(text):
        current: list[str] = []
        for raw in _WORD.findall(chunk):
            word = raw.lower()
            # Elided articles and pronouns (l'amour, j'adore) carry their word after the mark.
            head, _, tail = word.replace("’", "'").partition("'")
            if tail and len(head) <= 2:
                if fold(head) not in stop and current:
                    phrases.append(current)
                    current = []
                word = tail
            folded = fold(word)
            if folded in stop or word.isdigit() or len(word) < 2:
                if current:
                    phrases.append(current)
                current = []
            else:
                current.append(word)
        if current:
            phrases.append(current)
    return [p for p in phrases if len(p) <= _MAX_WORDS]


def extract_keywords(text: str, language: str | None, *, top: int = 5) -> list[str]:
    """Up to ``top`` keyword phrases of ``text`` (cleaned words), best first."""
    if language in _UNSPACED or not text.strip():
        return []
    phrases = _candidates(text, stopwords(language or "en"))
    if not phrases:
        return []
    frequency: dict[str, int] = {}
    degree: dict[str, int] = {}
    for phrase in phrases:
        for word in phrase:
            frequency[word] = frequency.get(word, 0) + 1
            degree[word] = degree.get(word, 0) + len(phrase)
    scored: dict[str, float] = {}
    for phrase in phrases:
        key = " ".join(phrase)
        scored[key] = sum(degree[w] / frequency[w] for w in phrase)
    order = {phrase: i for i, phrase in enumerate(scored)}
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], order[kv[0]]))
    return [phrase for phrase, _ in ranked[:top]]
