"""Real photographs as the sandbox posts' pictures, so image labels mean something.

Five public-domain / CC0 photos ship in ``photos/`` (see its NOTICE). Each account has a
favourite subject (drawn from the world's seed and the account), which most of its posts show;
the rest show another subject. Every picture is its own crop, mirror and exposure of the photo
(drawn from the media key), so no two posts share bytes and a media store still de-duplicates
only true repeats.
"""

from __future__ import annotations

import functools
import hashlib
import io
from importlib import resources

from PIL import Image, ImageEnhance

__all__ = ["PHOTO_SUBJECTS", "photo_subject", "render_photo"]

#: The subjects, by file stem, in a fixed order.
PHOTO_SUBJECTS = ("chelsea", "coffee", "camera", "astronaut", "rocket")
#: Share of an account's posts that show its favourite subject.
_FAVOURITE_SHARE = 0.7


def _digest(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"photos:{seed}:{key}".encode(), digest_size=16).digest()


def _unit(byte_pair: bytes) -> float:
    return int.from_bytes(byte_pair, "big") / 65536.0


def photo_subject(seed: int, owner: int, key: str) -> str:
    """The subject of picture ``key`` posted by account index ``owner``."""
    favourite = _digest(seed, f"owner:{owner}")[0] % len(PHOTO_SUBJECTS)
    pick = _digest(seed, f"pick:{key}")
    if _unit(pick[:2]) < _FAVOURITE_SHARE:
        return PHOTO_SUBJECTS[favourite]
    other = pick[2] % (len(PHOTO_SUBJECTS) - 1)
    return PHOTO_SUBJECTS[other if other < favourite else other + 1]


@functools.lru_cache(maxsize=len(PHOTO_SUBJECTS))
def _photo(subject: str) -> Image.Image:
    data = resources.files("tagpulse.platforms.sandbox").joinpath(f"photos/{subject}.jpg")
    with data.open("rb") as handle:
        image = Image.open(handle)
        image.load()
    return image.convert("RGB")


@functools.lru_cache(maxsize=4096)
def render_photo(seed: int, key: str, subject: str, width: int, height: int, webp: bool) -> bytes:
    """JPEG (or WebP) bytes: photo ``subject`` cropped, mirrored and exposed per ``key``, at
    ``width`` x ``height``."""
    photo = _photo(subject)
    digest = _digest(seed, f"crop:{key}")
    scale = 0.75 + 0.25 * _unit(digest[:2])  # keep 75-100 % of each side
    target = width / height
    crop_w = photo.width * scale
    crop_h = crop_w / target
    if crop_h > photo.height * scale:
        crop_h = photo.height * scale
        crop_w = crop_h * target
    x0 = (photo.width - crop_w) * _unit(digest[2:4])
    y0 = (photo.height - crop_h) * _unit(digest[4:6])
    image = photo.resize(
        (width, height), Image.Resampling.BILINEAR, (x0, y0, x0 + crop_w, y0 + crop_h)
    )
    if digest[6] & 1:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = ImageEnhance.Brightness(image).enhance(0.85 + 0.3 * _unit(digest[7:9]))
    out = io.BytesIO()
    if webp:
        image.save(out, format="WEBP", quality=70)
    else:
        image.save(out, format="JPEG", quality=80)
    return out.getvalue()
