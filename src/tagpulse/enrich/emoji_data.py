"""Which code points are emoji: a compact table after Unicode's emoji data (UTS #51).

Python's ``unicodedata`` has no emoji properties, and the third-party ``emoji``/``regex``
packages are not dependencies, so the few ranges needed live here:

* below U+1F000, the emoji of the symbol blocks, one by one (most of U+2600–U+27BF is *not*
  emoji: ♪, ✓ and the like are left out), with which of them look like emoji by default
  (:data:`EMOJI_PRESENTATION`) and which are text unless followed by U+FE0F
  (:func:`needs_selector`: ©, ®, ™, arrows, ‼);
* from U+1F000, the pictograph blocks (faces, people, animals, food, objects, symbols), whose
  characters read as emoji with or without a selector.

Regional indicators (flags), skin-tone modifiers and keycaps are handled by the scanner in
:mod:`tagpulse.enrich.extract`.
"""

from __future__ import annotations

import bisect

__all__ = ["EMOJI_PRESENTATION", "is_pictograph", "needs_selector"]


def _expand(spec: str) -> frozenset[str]:
    """``"2600-2604 260E"`` → the characters U+2600…U+2604 and U+260E."""
    out: set[str] = set()
    for part in spec.split():
        lo, _, hi = part.partition("-")
        out.update(chr(c) for c in range(int(lo, 16), int(hi or lo, 16) + 1))
    return frozenset(out)


#: Text-default symbols that are emoji only with U+FE0F.
_SELECTOR_ONLY = _expand(
    "00A9 00AE 203C 2049 2122 2139 2194-2199 21A9-21AA 2328 23CF 23ED-23EF 23F1-23F2 "
    "23F8-23FA 24C2 25AA-25AB 25B6 25C0 25FB-25FC 2934-2935 2B05-2B07 3030 303D 3297 3299"
)
#: Emoji in the Miscellaneous Symbols and Dingbats blocks (and a few around them).
_SYMBOL_EMOJI = _expand(
    "231A-231B 23E9-23EC 23F0 23F3 25FD-25FE "
    "2600-2604 260E 2611 2614-2615 2618 261D 2620 2622-2623 2626 262A 262E-262F 2638-263A "
    "2640 2642 2648-2653 265F-2660 2663 2665-2666 2668 267B 267E-267F 2692-2697 2699 "
    "269B-269C 26A0-26A1 26A7 26AA-26AB 26B0-26B1 26BD-26BE 26C4-26C5 26C8 26CE-26CF 26D1 "
    "26D3-26D4 26E9-26EA 26F0-26F5 26F7-26FA 26FD 2702 2705 2708-270D 270F 2712 2714 2716 "
    "271D 2721 2728 2733-2734 2744 2747 274C 274E 2753-2755 2757 2763-2764 2795-2797 27A1 "
    "27B0 27BF 2B1B-2B1C 2B50 2B55"
)
#: Of the characters below U+1F000, those shown as emoji without a selector.
EMOJI_PRESENTATION = _expand(
    "231A-231B 23E9-23EC 23F0 23F3 25FD-25FE 2614-2615 2648-2653 267F 2693 26A1 26AA-26AB "
    "26BD-26BE 26C4-26C5 26CE 26D4 26EA 26F2-26F3 26F5 26FA 26FD 2705 270A-270B 2728 274C "
    "274E 2753-2755 2757 2795-2797 27B0 27BF 2B1B-2B1C 2B50 2B55"
)
_LOW = _SELECTOR_ONLY | _SYMBOL_EMOJI

# Pictograph ranges from U+1F000 (inclusive bounds), sorted; skin tones (U+1F3FB–U+1F3FF) and
# regional indicators (U+1F1E6–U+1F1FF) are not in them.
_HIGH: tuple[tuple[int, int], ...] = (
    (0x1F004, 0x1F004),
    (0x1F0CF, 0x1F0CF),
    (0x1F170, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F201, 0x1F202),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F250, 0x1F251),
    (0x1F300, 0x1F3FA),
    (0x1F400, 0x1F6FF),
    (0x1F7E0, 0x1F7EB),
    (0x1F7F0, 0x1F7F0),
    (0x1F90C, 0x1F9FF),
    (0x1FA70, 0x1FAFF),
)
_HIGH_STARTS = [lo for lo, _ in _HIGH]


def is_pictograph(ch: str) -> bool:
    """Whether ``ch`` is an emoji base character (with or without a selector)."""
    if ch < "\U0001f000":
        return ch in _LOW
    c = ord(ch)
    k = bisect.bisect_right(_HIGH_STARTS, c) - 1
    return k >= 0 and c <= _HIGH[k][1]


def needs_selector(ch: str) -> bool:
    """Whether ``ch`` is text unless followed by U+FE0F (©, ™, ↔, ‼ …)."""
    return ch in _SELECTOR_ONLY
