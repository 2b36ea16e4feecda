"""Hashtags, mentions and emoji out of a caption or comment, Unicode-correct; and the text that
is left for the language and sentiment models.

* **Hashtags**: ``#`` then letters, digits, ``_`` and combining marks of any script (so
  ``#नमस्ते`` and a decomposed ``#café`` stay whole; ZWNJ/ZWJ inside are kept, as Persian tags
  need them), not all digits, not glued to a preceding word (``a#b``, ``&#39;``). NFC, lower case.
* **Mentions**: ``@`` then ASCII letters, digits, ``.`` and ``_`` (up to 30; a trailing ``.``
  is punctuation), not inside an e-mail address. Lower case.
* **Emoji**: whole grapheme sequences, not code points: ZWJ sequences (👨‍👩‍👧), skin tones
  (👍🏽), flags (🇫🇷, and tag sequences such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿), keycaps (1️⃣). Characters whose default
  look is text (©, ™, ↔) count only with the emoji selector U+FE0F. A lone heart-like symbol
  written without U+FE0F (❤) is returned with it (❤️), so both spellings count as one emoji.

All three keep the order of first appearance, without repeats (``emoji_sequence`` keeps them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from tagpulse.enrich.emoji_data import EMOJI_PRESENTATION, is_pictograph, needs_selector

__all__ = [
    "EmojiSpan",
    "clean_text",
    "emoji_sequence",
    "emoji_spans",
    "extract_emoji",
    "extract_hashtags",
    "extract_mentions",
    "strip_tag_block",
]

_ZWJ = "\u200d"
_ZWNJ = "\u200c"
_VS15 = "\ufe0e"
_VS16 = "\ufe0f"
_KEYCAP = "\u20e3"
_TAG_END = "\U000e007f"
_MENTION = re.compile(r"(?<![A-Za-z0-9_.@])@([A-Za-z0-9._]{1,30})")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def _is_modifier(ch: str) -> bool:
    return "\U0001f3fb" <= ch <= "\U0001f3ff"


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _is_tag(ch: str) -> bool:
    return "\U000e0020" <= ch <= "\U000e007e"


class EmojiSpan:
    """One emoji sequence in a text: where it is and its canonical spelling."""

    __slots__ = ("end", "start", "text")

    def __init__(self, start: int, end: int, text: str) -> None:
        self.start = start
        self.end = end
        self.text = text

    def __repr__(self) -> str:
        return f"EmojiSpan({self.start}, {self.end}, {self.text!r})"


def _element_end(text: str, i: int, *, joined: bool = False) -> int | None:
    """The end of one emoji element starting at ``i`` (base, selectors, modifier), or None.

    ``joined``: the element follows a ZWJ, where ♀ or ❤ without a selector still belong."""
    n = len(text)
    ch = text[i]
    if _is_regional(ch):
        if i + 1 < n and _is_regional(text[i + 1]):
            return i + 2
        return None  # a lone regional indicator is a letter, not a flag
    if ch in "0123456789#*":
        j = i + 1
        if j < n and text[j] == _VS16:
            j += 1
        return j + 1 if j < n and text[j] == _KEYCAP else None
    if _is_modifier(ch):
        return i + 1  # a skin tone on its own is shown as a swatch
    if not is_pictograph(ch):
        return None
    j = i + 1
    if j < n and text[j] == _VS15:
        return None  # asked to be shown as text
    if j < n and text[j] == _VS16:
        j += 1
    elif needs_selector(ch) and not joined:
        return None  # ©, ™, ↔ … are text unless asked to be emoji
    if j < n and _is_modifier(text[j]):
        j += 1
    if ch == "\U0001f3f4" and j < n and _is_tag(text[j]):  # subdivision flags
        k = j
        while k < n and _is_tag(text[k]):
            k += 1
        if k < n and text[k] == _TAG_END:
            j = k + 1
    return j


def _canonical(seq: str) -> str:
    if len(seq) == 1 and seq < "\U0001f000" and seq not in EMOJI_PRESENTATION:
        return seq + _VS16  # ❤ and ❤️ are one emoji
    return seq


def emoji_spans(text: str) -> Iterator[EmojiSpan]:
    """Every emoji sequence in ``text``, in order."""
    i, n = 0, len(text)
    while i < n:
        end = _element_end(text, i)
        if end is None:
            i += 1
            continue
        while end + 1 < n and text[end] == _ZWJ:
            nxt = _element_end(text, end + 1, joined=True)
            if nxt is None:
                break
            end = nxt
        yield EmojiSpan(i, end, _canonical(text[i:end]))
        i = end


def emoji_sequence(text: str) -> list[str]:
    """Every emoji in ``text``, repeats included (🔥🔥 is two)."""
    return [span.text for span in emoji_spans(text)]


def extract_emoji(text: str) -> list[str]:
    """The distinct emoji of ``text``, in order of first appearance."""
    return list(dict.fromkeys(emoji_sequence(text)))


def _tag_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or ch in (_ZWJ, _ZWNJ) or unicodedata.category(ch)[0] == "M"


def extract_hashtags(text: str) -> list[str]:
    """The distinct hashtags of ``text`` (NFC, lower case, without ``#``), in order."""
    text = unicodedata.normalize("NFC", text)
    found: list[str] = []
    n = len(text)
    i = 0
    while i < n:
        if text[i] not in "#＃" or (i > 0 and (_tag_char(text[i - 1]) or text[i - 1] == "&")):
            i += 1
            continue
        j = i + 1
        while j < n and _tag_char(text[j]):
            j += 1
        tag = text[i + 1 : j].strip(_ZWJ + _ZWNJ)
        if tag and not tag.isdigit():
            found.append(tag.lower())
        i = max(j, i + 1)
    return list(dict.fromkeys(found))


def extract_mentions(text: str) -> list[str]:
    """The distinct ``@mentions`` of ``text`` (lower case, without ``@``), in order."""
    found = [m.group(1).rstrip(".").lower() for m in _MENTION.finditer(text)]
    return list(dict.fromkeys(f for f in found if f))


_TOKEN_TAG = re.compile(r"^[#＃@]\S+$")


def strip_tag_block(text: str) -> str:
    """``text`` without the run of hashtags and mentions at its end (or its start).

    A trailing block of tags (``… #puma #love #happy``) labels the post; it is not what the
    author says, and generic tags (#love, #happy) would lend every caption their sentiment.
    Tags inside a sentence ("I #love it") are words of it and stay (without the ``#``).
    """
    words = text.split()
    while words and _TOKEN_TAG.match(words[-1]):
        words.pop()
    start = 0
    while start < len(words) and _TOKEN_TAG.match(words[start]):
        start += 1
    return " ".join(words[start:])


def clean_text(text: str, *, keep_emoji: bool = False) -> str:
    """The words of ``text`` for the models: no URLs, mentions or tag block; inline hashtags
    as plain words; emoji removed unless ``keep_emoji``."""
    body = _URL.sub(" ", unicodedata.normalize("NFC", text))
    body = strip_tag_block(body)
    body = _MENTION.sub(" ", body)
    body = re.sub(r"(?<![\w&])[#＃](?=\w)", "", body)
    if not keep_emoji:
        pieces: list[str] = []
        last = 0
        for span in emoji_spans(body):
            pieces.append(body[last : span.start])
            pieces.append(" ")
            last = span.end
        pieces.append(body[last:])
        body = "".join(pieces)
    return " ".join(body.split())
