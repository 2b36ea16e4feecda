"""Caption words and image labels as indicator features, fitted on the training rows only.

Two families of columns follow :data:`tagpulse.predict.features.FEATURES`:

- ``word_<w>``: 1 if the caption holds the word ``w``, else 0, for the (at most) 100 words in
  the most training captions (bag of words). Words: the caption as the text enrichment cleans
  it (no URLs, mentions or trailing tag block; inline hashtags as words), lower-cased runs of
  three or more letters, stop words of every shipped language left out; a word must be in at
  least two training captions.
- ``label_<l>``: 1 if the cover image's top-5 ImageNet labels (``post_labels.labels``, from
  ``tagpulse enrich --images``) hold ``l``, else 0, and unknown (NaN) when the image is not
  labelled, for the (at most) 20 labels on the most training images (at least two).

The vocabulary is chosen from the rows a model is trained on — within cross-validation from
each fold's training rows (:func:`vocabulary_predictor`) — and stored with the model, so the
posts it is evaluated on or scores never choose their own columns. Neither family reads likes
or comments.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.enrich.extract import clean_text
from tagpulse.enrich.keywords import STOPWORD_LANGUAGES, stopwords
from tagpulse.enrich.lexicon import fold
from tagpulse.predict.evaluate import Index, Predictor
from tagpulse.predict.features import FEATURES, Dataset

__all__ = [
    "FEATURE_FAMILIES",
    "LABELS",
    "MIN_ROWS",
    "WORDS",
    "Vocabulary",
    "caption_words",
    "describe_feature",
    "fit_vocabulary",
    "label_feature",
    "vocabulary_predictor",
    "with_vocabulary",
    "word_feature",
]

#: How many caption words and image labels become indicator columns, at most.
WORDS = 100
LABELS = 20
#: A word or label must occur in at least this many training rows.
MIN_ROWS = 2

#: The indicator families after :data:`~tagpulse.predict.features.FEATURES`, and their sources.
FEATURE_FAMILIES: dict[str, str] = {
    "word_<w>": "posts.caption: 1 if it holds the word w (top-100 caption words of the training "
    "rows), else 0",
    "label_<l>": "post_labels.labels of the cover image: 1 if its top-5 labels hold l (top-20 "
    "labels of the training rows), else 0; NaN when not labelled",
}

_LETTERS = re.compile(r"[^\W\d_]{3,}")
_UNSAFE = re.compile(r"[^0-9a-zA-Z]+")


@functools.cache
def _stop() -> frozenset[str]:
    return frozenset().union(*(stopwords(lang) for lang in STOPWORD_LANGUAGES))


def caption_words(caption: str | None) -> set[str]:
    """The distinct words of a caption that may become bag-of-words columns."""
    if not caption:
        return set()
    stop = _stop()
    return {w for w in _LETTERS.findall(clean_text(caption).lower()) if fold(w) not in stop}


def word_feature(word: str) -> str:
    return f"word_{word}"


def label_feature(label: str) -> str:
    """``label_<l>`` with the label's non-alphanumerics as ``_`` (LightGBM renames spaces)."""
    return "label_" + _UNSAFE.sub("_", label).strip("_")


def describe_feature(name: str) -> str:
    """The source of any feature a model may have: a fixed one or an indicator column."""
    if name in FEATURES:
        return FEATURES[name]
    if name.startswith("word_"):
        return f"posts.caption: 1 if it holds the word {name.removeprefix('word_')!r}, else 0"
    if name.startswith("label_"):
        return (
            f"post_labels.labels of the cover image: 1 if its top-5 labels hold "
            f"{name.removeprefix('label_')!r}, else 0 (NaN: not labelled)"
        )
    return "unknown feature"


def _top(counts: Counter[str], k: int) -> list[str]:
    chosen = [(n, c) for n, c in counts.items() if c >= MIN_ROWS]
    return [n for n, _ in sorted(chosen, key=lambda p: (-p[1], p[0]))[:k]]


@dataclass(slots=True, frozen=True)
class Vocabulary:
    """The words and labels that are columns, in column order."""

    words: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def feature_names(self) -> list[str]:
        return [word_feature(w) for w in self.words] + [label_feature(lb) for lb in self.labels]

    def indicators(self, caption: str | None, labels: Sequence[str] | None) -> list[float]:
        """One post's columns, in :attr:`feature_names` order."""
        words = caption_words(caption)
        out = [1.0 if w in words else 0.0 for w in self.words]
        if labels is None:
            return out + [math.nan] * len(self.labels)
        shown = set(labels)
        return out + [1.0 if lb in shown else 0.0 for lb in self.labels]

    def matrix(
        self, captions: Sequence[str], labels: Sequence[Sequence[str] | None]
    ) -> npt.NDArray[np.float64]:
        rows = [self.indicators(c, lb) for c, lb in zip(captions, labels, strict=True)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(self.feature_names))

    def as_dict(self) -> dict[str, Any]:
        return {"words": list(self.words), "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any] | None) -> Vocabulary:
        """From :meth:`as_dict`; an empty vocabulary for models trained before it existed."""
        if not doc:
            return cls()
        return cls([str(w) for w in doc.get("words", [])], [str(x) for x in doc.get("labels", [])])


def fit_vocabulary(
    data: Dataset, rows: Index | None = None, *, words: int = WORDS, labels: int = LABELS
) -> Vocabulary:
    """The vocabulary of ``rows`` of ``data`` (default: all): the words in the most captions
    and the labels on the most images, each in at least :data:`MIN_ROWS` of them."""
    index: Iterable[int] = range(len(data.captions)) if rows is None else rows.tolist()
    word_counts: Counter[str] = Counter()
    label_counts: Counter[str] = Counter()
    for i in index:
        word_counts.update(caption_words(data.captions[i]))
        shown = data.labels[i]
        if shown:
            label_counts.update(set(shown))
    chosen = _top(label_counts, labels)
    # Two labels can share a column name ("crane (bird)"/"crane bird"): keep the first.
    unique: dict[str, str] = {}
    for label in chosen:
        unique.setdefault(label_feature(label), label)
    return Vocabulary(_top(word_counts, words), list(unique.values()))


def with_vocabulary(data: Dataset, vocabulary: Vocabulary) -> Dataset:
    """``data`` with the vocabulary's indicator columns after its own (a new dataset)."""
    if not vocabulary.feature_names:
        return data
    extra = vocabulary.matrix(data.captions, data.labels)
    return replace(
        data,
        X=np.hstack([data.X, extra]),
        feature_names=[*data.feature_names, *vocabulary.feature_names],
    )


def vocabulary_predictor(
    predict: Predictor, *, words: int = WORDS, labels: int = LABELS
) -> Predictor:
    """``predict`` on the dataset plus the indicators of a vocabulary fitted on each fold's
    training rows only: the held-out rows never choose a column."""

    def fold_predict(data: Dataset, train: Index, test: Index) -> npt.NDArray[np.float64]:
        vocabulary = fit_vocabulary(data, train, words=words, labels=labels)
        return predict(with_vocabulary(data, vocabulary), train, test)

    return fold_predict
