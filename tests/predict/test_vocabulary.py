"""Caption words and image labels: chosen from training rows only, no likes read."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

from tagpulse.lake.query import LakeQuery
from tagpulse.predict.evaluate import Index, grouped_kfold
from tagpulse.predict.features import FEATURES, Dataset, dataset_from_rows, load_post_rows
from tagpulse.predict.vocabulary import (
    Vocabulary,
    caption_words,
    describe_feature,
    fit_vocabulary,
    label_feature,
    vocabulary_predictor,
    with_vocabulary,
)
from tests.predict.lakes import PlantedLake, build_planted_lake


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> PlantedLake:
    return build_planted_lake(tmp_path_factory.mktemp("bow"), accounts=10, per_account=8)


def _rows(planted: PlantedLake) -> list[dict[str, object]]:
    """The planted rows with captions: every account says "sunset beach"; accounts u0 and u1
    also say "zebra" (twice each), account u2 alone says "giraffe"."""
    rows = load_post_rows(LakeQuery(planted.home / "lake"))
    for r in rows:
        words = ["sunset", "beach", "the"]
        if r["owner_id"] in ("u0", "u1"):
            words.append("Zebra!")
        if r["owner_id"] == "u2":
            words.append("giraffe")
        r["caption"] = " ".join(words) + " #sunset @ann http://x.example/a"
    return rows


def test_caption_words_are_cleaned_lowercased_and_without_stop_words() -> None:
    assert caption_words("The SUNSET at the beach, 2 of us 🌅 #Beach @ann") == {"sunset", "beach"}
    assert caption_words("") == set() and caption_words(None) == set()
    assert label_feature("tiger cat") == "label_tiger_cat"
    assert label_feature("crane (bird)") == "label_crane_bird"


def test_the_vocabulary_comes_from_the_training_rows_only(planted: PlantedLake) -> None:
    data = dataset_from_rows(_rows(planted))
    everything = fit_vocabulary(data)
    assert set(everything.words) == {"sunset", "beach", "zebra", "giraffe"}
    assert everything.labels == ["dog"]  # every planted image's top label
    # Training rows without u0, u1 and u2: their words are not columns.
    train = np.flatnonzero(~np.isin(data.groups, ["instagram:u0", "instagram:u1", "instagram:u2"]))
    vocabulary = fit_vocabulary(data, train)
    assert vocabulary.words == ["beach", "sunset"]
    # u2's own posts alone are enough rows for "giraffe"; one row is not.
    u2 = np.flatnonzero(data.groups == "instagram:u2")
    assert "giraffe" in fit_vocabulary(data, u2).words
    assert fit_vocabulary(data, u2[:1]).words == []

    seen: list[list[str]] = []

    def spy(fold: Dataset, tr: Index, te: Index) -> np.ndarray:
        seen.append(fold.feature_names[len(FEATURES) :])
        # The fold's columns are the training rows' vocabulary.
        assert fold.feature_names[len(FEATURES) :] == fit_vocabulary(data, tr).feature_names
        return np.ones(len(te))

    held_out = train, np.flatnonzero(np.isin(data.groups, ["instagram:u0", "instagram:u2"]))
    vocabulary_predictor(spy)(data, *held_out)
    assert seen[-1] == ["word_beach", "word_sunset", "label_dog"]
    for tr, te in grouped_kfold(data.groups, 5, 0):
        vocabulary_predictor(spy)(data, tr, te)


def test_indicator_columns_follow_the_fixed_features(planted: PlantedLake) -> None:
    data = dataset_from_rows(_rows(planted))
    vocabulary = Vocabulary(["zebra", "sunset"], ["dog", "cat"])
    full = with_vocabulary(data, vocabulary)
    assert full.feature_names == [*FEATURES, "word_zebra", "word_sunset", "label_dog", "label_cat"]
    assert full.X.shape == (len(data.y), len(FEATURES) + 4)
    np.testing.assert_array_equal(full.X[:, : len(FEATURES)], data.X)
    u0 = list(data.groups).index("instagram:u0")
    u5 = list(data.groups).index("instagram:u5")
    assert full.X[u0, -4:].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert full.X[u5, -4:].tolist() == [0.0, 1.0, 1.0, 0.0]
    # Not labelled: the label columns are unknown, not "absent".
    assert all(math.isnan(v) for v in vocabulary.indicators("zebra", None)[2:])
    assert Vocabulary.from_dict(vocabulary.as_dict()) == vocabulary
    assert Vocabulary.from_dict(None) == Vocabulary()
    for name in full.feature_names:
        assert describe_feature(name).startswith(
            ("posts.", "profiles.", "post_labels.", "post_text.")
        )


def test_no_indicator_uses_the_posts_own_likes_or_comments(planted: PlantedLake) -> None:
    rows = _rows(planted)
    base = dataset_from_rows(rows)
    vocabulary = fit_vocabulary(base)
    for k in (3, 30, 70):
        changed = copy.deepcopy(rows)
        target = next(r for r in changed if r["post_id"] == base.post_ids[k])
        target["likes"] = int(target["likes"]) * 7 + 3  # type: ignore[call-overload]
        target["comments"] = 0
        other = dataset_from_rows(changed)
        assert other.y[k] != base.y[k]
        assert fit_vocabulary(other) == vocabulary
        np.testing.assert_array_equal(
            with_vocabulary(other, vocabulary).X[k], with_vocabulary(base, vocabulary).X[k]
        )


def test_evaluating_other_data_keeps_the_models_codes(planted: PlantedLake, tmp_path: Path) -> None:
    rows = _rows(planted)
    trained = dataset_from_rows(rows, protocol="study")
    other = build_planted_lake(tmp_path / "o", accounts=4, per_account=6, seed=9)
    other_rows = load_post_rows(LakeQuery(other.home / "lake"))
    fixed = dataset_from_rows(
        other_rows, protocol="study", vocab=trained.vocab, scaling=trained.scaling
    )
    own = dataset_from_rows(other_rows, protocol="study")
    assert fixed.vocab == trained.vocab and fixed.scaling == trained.scaling
    assert own.scaling != trained.scaling  # fitted on itself it would differ
    j = fixed.feature_names.index("followers")
    lo, hi = trained.scaling["followers"]
    raw = np.array([r["followers"] for r in other_rows if r["post_id"] in set(fixed.post_ids)])
    assert fixed.X[:, j].min() == pytest.approx(float((raw.min() - lo) / (hi - lo)))
