"""Instagram-shaped media ids for the social world, and what can be read back from them.

A media id is ``(milliseconds since the Instagram epoch) << 23 | shard << 10 | sequence``, as on
the real platform. The sandbox puts the owner's account index (mod 8192) in the shard bits, so the
owner and the week of a post can be read back from its id (or its shortcode, the id in base64url):
media info and comments by id are O(1) lookups. Sequence numbers step by 8 so that carousel
children can be ``pk + 1 … pk + 7``.
"""

from __future__ import annotations

__all__ = [
    "IG_EPOCH_MS",
    "media_pk",
    "owner_shard",
    "pk_from_shortcode",
    "taken_at_of",
]

IG_EPOCH_MS = 1314220021721
_SHORTCODE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def media_pk(millis: int, owner_idx: int, seq: int) -> int:
    """The id of the ``seq``-th post of account ``owner_idx`` taken at epoch ``millis``."""
    return ((millis - IG_EPOCH_MS) << 23) | ((owner_idx % 8192) << 10) | ((seq * 8) % 1024)


def owner_shard(pk: int) -> int:
    """The owner's account index mod 8192."""
    return (pk >> 10) & 0x1FFF


def taken_at_of(pk: int) -> float:
    """Epoch seconds (with milliseconds) at which the media ``pk`` was taken."""
    return ((pk >> 23) + IG_EPOCH_MS) / 1000.0


def pk_from_shortcode(code: str) -> int | None:
    """The media id a shortcode stands for (``None`` for a string that is not a shortcode)."""
    value = 0
    for char in code:
        digit = _SHORTCODE.find(char)
        if digit < 0:
            return None
        value = value * 64 + digit
    return value
