"""The text models on hand-labelled sentences (English, Spanish, French, emoji only, and a few
Portuguese, German and Italian ones), and on the sandbox's captions against their truth."""

from __future__ import annotations

import pytest

from tagpulse.enrich.keywords import extract_keywords
from tagpulse.enrich.lexicon import load_lexicon, score_text
from tagpulse.enrich.text import TextModel, sentiment_class, text_model_version
from tagpulse.platforms.sandbox.social_text import sentiment_label
from tagpulse.platforms.sandbox.world import DAY, World
from tests.enrich.labelled import EMOJI_ONLY, ENGLISH, FRENCH, OTHERS, SPANISH

#: The bar for each labelled set (measured: 20/20 on each; see the README).
ACCURACY = 0.8


@pytest.fixture(scope="module")
def model() -> TextModel:
    return TextModel()


def _accuracy(model: TextModel, data: list[tuple[str, str | None, str]]) -> tuple[float, float]:
    features = model.analyse([text for text, _, _ in data])
    language = sum(f.language == lang for f, (_, lang, _) in zip(features, data, strict=True))
    sentiment = sum(
        sentiment_class(f.sentiment) == klass
        for f, (_, _, klass) in zip(features, data, strict=True)
    )
    return language / len(data), sentiment / len(data)


@pytest.mark.parametrize(
    ("name", "data"),
    [("en", ENGLISH), ("es", SPANISH), ("fr", FRENCH), ("emoji", EMOJI_ONLY), ("pt/de/it", OTHERS)],
)
def test_labelled_sentences(model: TextModel, name: str, data: list) -> None:  # type: ignore[type-arg]
    assert len(data) >= 9 if name == "pt/de/it" else len(data) >= 15
    classes = {klass for _, _, klass in data}
    assert classes == {"pos", "neg", "neu"}
    language, sentiment = _accuracy(model, data)
    assert language >= ACCURACY, name
    assert sentiment >= ACCURACY, name


def test_methods_follow_the_language(model: TextModel) -> None:
    en, es, fr, emoji, ja, ja_emoji = model.analyse(
        [
            "I love this",
            "Me encanta esta ciudad",
            "J'adore cette ville",
            "😍🔥",
            "最高の一日",
            "最高の一日 😍",
        ]
    )
    assert (en.language, en.sentiment_method) == ("en", "vader")
    assert (es.language, es.sentiment_method) == ("es", "lexicon-es")
    assert (fr.language, fr.sentiment_method) == ("fr", "lexicon-fr")
    assert (emoji.language, emoji.language_confidence, emoji.sentiment_method) == (
        None,
        None,
        "emoji",
    )
    assert ja.language == "ja" and ja.sentiment is None and ja.sentiment_method is None
    assert ja_emoji.sentiment_method == "emoji" and (ja_emoji.sentiment or 0) > 0.3
    assert 0 < (en.language_confidence or 0) <= 1


def test_negation_intensifiers_and_contrast() -> None:
    es = load_lexicon("es")
    plain = score_text("me gusta", es, lambda _: None)[0]
    assert plain > 0
    assert score_text("no me gusta", es, lambda _: None)[0] < 0
    assert score_text("me gusta muy bueno", es, lambda _: None)[0] > plain
    # "ne … pas" is one negation, not two.
    fr = load_lexicon("fr")
    assert score_text("ce n'est pas bien", fr, lambda _: None)[0] < 0
    assert score_text("pas mal du tout", fr, lambda _: None)[0] > 0
    # A negator inside a phrase ("nunca más") does not flip what follows.
    assert score_text("nunca más, horrible", es, lambda _: None)[0] < -0.5
    # After "pero" counts more than before.
    assert score_text("bonito pero caro y malo", es, lambda _: None)[0] < 0


def test_emoji_valences_fix_vader(model: TextModel) -> None:
    # VADER alone scores ❤️ (with its selector) and 😡 as 0, and 💔 as positive.
    assert model.vader("❤️") > 0.5
    assert model.vader("😡") < -0.5
    assert model.vader("💔") < -0.5
    assert model.vader("love it 👍🏽") > model.vader("love it")


def test_keywords() -> None:
    words = extract_keywords(
        "Golden hour at the old harbour, best seafood restaurant in town", "en"
    )
    assert "best seafood restaurant" in words and "golden hour" in words
    assert all(w not in ("the", "at", "in") for w in words)
    assert extract_keywords("Una tarde increíble en el mercado de San Miguel", "es")[0] == (
        "mercado"
    ) or "san miguel" in extract_keywords("Una tarde increíble en el mercado de San Miguel", "es")
    assert extract_keywords("最高の一日", "ja") == []
    assert extract_keywords("", "en") == []


def test_version_names_the_packages(model: TextModel) -> None:
    assert model.version == text_model_version()
    assert model.version.startswith("text-1/vader-") and "/lingua-" in model.version


def test_sandbox_captions_against_truth(model: TextModel) -> None:
    """The sandbox writes captions from a latent sentiment: the class found is the class meant."""
    world = World(seed=7)
    social = world.social
    t = world.start + 14 * DAY
    captions = [
        (p.caption, sentiment_label(p.sentiment))
        for a in social.accounts[:150]
        for p in social.posts_at(a, t)[:8]
        if p.language != "ja"  # no lexicon for Japanese: emoji alone decide there
    ]
    assert len(captions) > 300
    features = model.analyse([c for c, _ in captions])
    short = {"positive": "pos", "negative": "neg", "neutral": "neu"}
    hits = sum(
        sentiment_class(f.sentiment) == short[label]
        for f, (_, label) in zip(features, captions, strict=True)
    )
    assert hits / len(captions) >= 0.95  # measured 0.99
