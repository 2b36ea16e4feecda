"""The image input of the ``cnn`` and ``mixed`` models: profile picture and post side by side.

Layout, as the like-predictor study did: one grayscale image of 100 rows x 128 columns, two
100 x 64 halves: the **left** half is the author's profile picture, the **right** half the
post's image (its first stored image: the cover of a carousel). Each picture is turned upright
(EXIF), converted to grayscale (``L``: one channel is enough for brightness, faces and layout
and keeps the network small enough to train on CPU in a minute), centre-cropped to the half's
aspect ratio and resized (bilinear) to 64 x 100; pixels are ``value / 255`` in [0, 1].

Where the pictures come from: the post image is the first image file the media store
(``<home>/media``) links to the post (``tagpulse track`` with media, ``tagpulse media fetch``);
the profile picture is the file the store holds for the author's ``profile_pic_url`` (found
through the store's URL index; an account pass with media stores it). The newest URL the lake
knows that the store holds is used: an account is also seen in other accounts' follower and
liker lists, whose smaller thumbnail URLs are newer observations but never downloaded, and a
picture changed since the last pass is better shown as the previous one than as nothing. A
picture that is not stored or does not decode leaves its half all zeros and its
**indicator** 0: :attr:`ImageBatch.flags` holds per post ``[post image present, profile picture
present]``, which the networks take as a second input so that "no image" is never mistaken for
"a black image".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tagpulse.errors import MissingExtra
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.features import Dataset

if TYPE_CHECKING:
    from tagpulse.collect.media import MediaStore

__all__ = [
    "HALF_WIDTH",
    "IMAGE_HEIGHT",
    "IMAGE_WIDTH",
    "ImageBatch",
    "PostKey",
    "compose",
    "dataset_images",
    "dataset_keys",
    "load_half",
    "post_images",
]

log = logging.getLogger(__name__)

IMAGE_HEIGHT = 100
HALF_WIDTH = 64
IMAGE_WIDTH = 2 * HALF_WIDTH
#: (platform, post_id, owner_id) of a post.
PostKey = tuple[str, str, str]


@dataclass(slots=True)
class ImageBatch:
    """Per post the side-by-side image and its two presence indicators."""

    #: float32, shape (n, 1, IMAGE_HEIGHT, IMAGE_WIDTH), values in [0, 1].
    pixels: npt.NDArray[np.float32]
    #: float32, shape (n, 2): [post image present, profile picture present], 1 or 0.
    flags: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.pixels)

    @classmethod
    def empty(cls, n: int) -> ImageBatch:
        """``n`` posts without any stored picture."""
        return cls(
            np.zeros((n, 1, IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.float32),
            np.zeros((n, 2), dtype=np.float32),
        )

    def take(self, rows: npt.NDArray[np.intp] | Sequence[int]) -> ImageBatch:
        index = np.asarray(rows, dtype=np.intp)
        return ImageBatch(
            np.ascontiguousarray(self.pixels[index]), np.ascontiguousarray(self.flags[index])
        )

    @property
    def coverage(self) -> dict[str, float]:
        """The share of posts with a post image and with a profile picture."""
        if len(self) == 0:
            return {"post_image": 0.0, "profile_picture": 0.0}
        share = self.flags.mean(axis=0)
        return {"post_image": float(share[0]), "profile_picture": float(share[1])}


def _pil() -> tuple[Any, Any]:
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise MissingExtra("vision", "PIL") from exc
    return Image, ImageOps


def load_half(path: Path) -> npt.NDArray[np.float32] | None:
    """One picture as a (IMAGE_HEIGHT, HALF_WIDTH) grayscale half in [0, 1]; None (and a log
    line) when the file does not decode."""
    image_mod, ops = _pil()
    try:
        with image_mod.open(path) as opened:
            upright = ops.exif_transpose(opened) or opened
            gray = upright.convert("L")
            fitted = ops.fit(gray, (HALF_WIDTH, IMAGE_HEIGHT), method=image_mod.Resampling.BILINEAR)
            pixels = np.asarray(fitted, dtype=np.float32) / 255.0
    except (OSError, ValueError, SyntaxError, EOFError, image_mod.DecompressionBombError) as exc:
        log.warning("image %s does not decode, used as missing: %s", path, exc)
        return None
    return pixels


def compose(
    post_half: npt.NDArray[np.float32] | None, avatar_half: npt.NDArray[np.float32] | None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The (1, H, W) image (left: profile picture, right: post image) and its flags."""
    pixels = np.zeros((1, IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.float32)
    flags = np.zeros(2, dtype=np.float32)
    if avatar_half is not None:
        pixels[0, :, :HALF_WIDTH] = avatar_half
        flags[1] = 1.0
    if post_half is not None:
        pixels[0, :, HALF_WIDTH:] = post_half
        flags[0] = 1.0
    return pixels, flags


def _profile_pictures(query: LakeQuery) -> dict[tuple[str, str], list[str]]:
    """(platform, user id) -> the profile picture URLs the lake knows, newest first."""
    if not query.has_data("profiles"):
        return {}
    rows = query.rows(
        "SELECT platform, user_id, profile_pic_url AS url, max(collected_at) AS seen "
        "FROM profiles_all WHERE user_id IS NOT NULL AND profile_pic_url IS NOT NULL "
        "GROUP BY platform, user_id, profile_pic_url ORDER BY seen DESC, url"
    )
    out: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        out.setdefault((r["platform"], r["user_id"]), []).append(r["url"])
    return out


def _stored_avatar(store: MediaStore, urls: Sequence[str]) -> str | None:
    """The sha256 of the newest of ``urls`` that the store holds."""
    for url in urls:
        sha = store.known_url(url)
        if sha is not None:
            return sha
    return None


def post_images(media_dir: Path, query: LakeQuery, posts: Sequence[PostKey]) -> ImageBatch:
    """The side-by-side images of ``posts`` (all missing when there is no media store)."""
    batch = ImageBatch.empty(len(posts))
    if not posts or not (media_dir / "index.sqlite").is_file():
        return batch
    from tagpulse.collect.media import MediaNotFound, MediaStore

    pictures = _profile_pictures(query)
    halves: dict[str, npt.NDArray[np.float32] | None] = {}
    avatars: dict[tuple[str, str], str | None] = {}

    def half(store: MediaStore, sha: str | None) -> npt.NDArray[np.float32] | None:
        if sha is None:
            return None
        if sha not in halves:
            try:
                halves[sha] = load_half(store.lookup(sha))
            except MediaNotFound:
                halves[sha] = None
        return halves[sha]

    with MediaStore(media_dir) as store:
        for i, (platform, post_id, owner_id) in enumerate(posts):
            files = [f for f in store.for_post(platform, post_id) if f.mime.startswith("image/")]
            owner = (platform, owner_id)
            if owner not in avatars:
                avatars[owner] = _stored_avatar(store, pictures.get(owner, ()))
            avatar_sha = avatars[owner]
            batch.pixels[i], batch.flags[i] = compose(
                half(store, files[0].sha256 if files else None), half(store, avatar_sha)
            )
    return batch


def dataset_keys(data: Dataset) -> list[PostKey]:
    """(platform, post_id, owner_id) of each row of ``data``."""
    keys: list[PostKey] = []
    for group, post_id in zip(data.groups.tolist(), data.post_ids, strict=True):
        platform, _, owner = str(group).partition(":")
        keys.append((platform, post_id, owner))
    return keys


def dataset_images(media_dir: Path, query: LakeQuery, data: Dataset) -> ImageBatch:
    """The images of every row of ``data``, in row order."""
    return post_images(media_dir, query, dataset_keys(data))
