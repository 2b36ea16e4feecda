"""Small deterministic pictures for the sandbox's profile pictures.

Posts show real photos (:mod:`tagpulse.platforms.sandbox.photos`); profile pictures are drawn
here: a gradient with a few shapes whose colours come from a hash of the world's seed and the
account id. Both are served at 1/8 of the requested size (135 px for 1080) so that serving stays
cheap. A share of posts (``SocialConfig.webp_share``) get WebP bytes served under their ``.jpg``
name and ``image/jpeg`` type, as CDNs really do; a media store must trust the magic bytes, not
the name.
"""

from __future__ import annotations

import functools
import hashlib
import io

from PIL import Image, ImageDraw

__all__ = ["is_webp_quirk", "picture_size", "render_image"]

_SCALE = 8


def _digest(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=32).digest()


def is_webp_quirk(seed: int, key: str, share: float) -> bool:
    """Whether the picture ``key`` is one served as WebP under a ``.jpg`` name."""
    return int.from_bytes(_digest(seed, f"webp:{key}")[:4], "big") < share * 2**32


def picture_size(width: int, height: int) -> tuple[int, int]:
    """The served size of a ``width`` x ``height`` slot: 1/8 of it, within 8-400 px a side."""
    return max(8, min(400, width // _SCALE)), max(8, min(400, height // _SCALE))


@functools.lru_cache(maxsize=4096)
def render_image(seed: int, key: str, width: int, height: int, webp: bool) -> bytes:
    """JPEG (or WebP) bytes of picture ``key`` for a ``width`` x ``height`` slot."""
    digest = _digest(seed, key)
    w, h = picture_size(width, height)
    top = (digest[0], digest[1], digest[2])
    bottom = (digest[3], digest[4], digest[5])
    image = Image.new("RGB", (w, h), top)
    draw = ImageDraw.Draw(image)
    for y in range(h):
        mix = y / max(1, h - 1)
        colour = tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (w, y)], fill=colour)
    for i in range(digest[6] % 4 + 1):
        x0 = digest[7 + i] * w // 256
        y0 = digest[11 + i] * h // 256
        size = max(2, digest[15 + i] * min(w, h) // 512)
        fill = (digest[19 + i], digest[23 + i], digest[27 + i])
        draw.ellipse([x0, y0, x0 + size, y0 + size], fill=fill)
    out = io.BytesIO()
    if webp:
        image.save(out, format="WEBP", quality=70)
    else:
        image.save(out, format="JPEG", quality=80)
    return out.getvalue()
