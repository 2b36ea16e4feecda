"""Hashtags, mentions and emoji, Unicode-correct: ZWJ sequences, skin tones, flags, keycaps."""

from __future__ import annotations

from tagpulse.enrich.extract import (
    clean_text,
    emoji_sequence,
    extract_emoji,
    extract_hashtags,
    extract_mentions,
    strip_tag_block,
)


def test_emoji_sequences_stay_whole() -> None:
    family = "👨\u200d👩\u200d👧"
    couple = "👩\u200d❤️\u200d👨"
    runner = "🏃\u200d♀️"
    thumb = "👍🏽"
    scotland = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    text = f"Family {family} time {thumb}{thumb} 🇫🇷🇯🇵 {scotland} 1️⃣ {couple} {runner} 🔥🔥"
    assert emoji_sequence(text) == [
        family, thumb, thumb, "🇫🇷", "🇯🇵", scotland, "1️⃣", couple, runner, "🔥", "🔥",
    ]  # fmt: skip
    assert extract_emoji(text) == [
        family, thumb, "🇫🇷", "🇯🇵", scotland, "1️⃣", couple, runner, "🔥",
    ]  # fmt: skip


def test_text_symbols_are_not_emoji_unless_asked() -> None:
    assert extract_emoji("Nike™ © 2026 ♪ ✓ #1 a🇫b 42") == []
    assert extract_emoji("©️ ™️") == ["©️", "™️"]
    # ❤ without the selector is the same emoji as ❤️.
    assert extract_emoji("❤ ❤️") == ["❤️"]
    # A bare skin-tone swatch is an emoji; a lone regional letter is not a flag.
    assert extract_emoji("🏽") == ["🏽"] and extract_emoji("🇫") == []


def test_hashtags_any_script() -> None:
    text = (
        "Best day #Puma #Café #cafe\u0301 #नमस्ते #東京 #2024vibes #123 email a#b &#39; "
        "#کتاب\u200cخوانی #puma"
    )
    assert extract_hashtags(text) == [
        "puma", "café", "नमस्ते", "東京", "2024vibes", "کتاب\u200cخوانی",
    ]  # fmt: skip


def test_mentions() -> None:
    text = "Thanks @Bob.Smith. and @ana_31, mail me at x@y.com @bob.smith"
    assert extract_mentions(text) == ["bob.smith", "ana_31"]


def test_clean_text_drops_the_tag_block() -> None:
    assert strip_tag_block("Best day ever 😍 @bob #puma #love") == "Best day ever 😍"
    assert clean_text("I #love this 😍 https://x.example/p @bob #puma #happy") == "I love this"
    assert clean_text("So good 😍", keep_emoji=True) == "So good 😍"
