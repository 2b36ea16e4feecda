"""A hand-built lake with pictures where a post's likes ratio is planted in its image: the
brighter the post's picture, the more likes (ratio = 0.4 + 1.2 x brightness, times noise); a
post without a stored picture has no planted effect. Each account has a profile picture in the
media store (found through its ``profile_pic_url``), and its posts are published at random
hours, so nothing but the picture carries the signal."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tagpulse.collect.media import MediaStore
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import ParsedRecords, Post, Profile

START = datetime(2026, 9, 1, tzinfo=UTC)


def brightness_factor(brightness: float) -> float:
    return 0.4 + 1.2 * brightness


def picture(brightness: float, rng: np.random.Generator, size: tuple[int, int]) -> bytes:
    """A PNG of mean level about ``brightness`` with a few random shapes (not signal)."""
    level = round(255 * brightness)
    image = Image.new("RGB", size, (level, level, level))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = int(rng.integers(0, size[0] - 20)), int(rng.integers(0, size[1] - 20))
        shade = int(np.clip(level + rng.integers(-40, 41), 0, 255))
        draw.ellipse((x, y, x + 20, y + 20), fill=(shade, shade // 2 + level // 2, shade))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@dataclass(slots=True)
class ImageLake:
    home: Path
    posts: list[Post]
    #: Post id -> the planted brightness of its picture (None: no picture stored).
    brightness: dict[str, float | None]


def build_image_lake(home: Path, *, accounts: int = 24, per_account: int = 14,
                     seed: int = 5, missing: float = 0.1) -> ImageLake:  # fmt: skip
    rng = np.random.default_rng(seed)
    posts: list[Post] = []
    profiles: list[Profile] = []
    brightness: dict[str, float | None] = {}
    fetched = START + timedelta(days=60)
    store = MediaStore(home / "media")
    with store:
        for a in range(accounts):
            owner = f"u{a}"
            pic_url = f"https://cdn.test/avatar/{owner}.png"
            store.store_bytes(
                picture(float(rng.uniform(0.2, 0.8)), rng, (80, 80)), platform="instagram",
                post_id=None, url=pic_url, fetched_at=fetched,
            )  # fmt: skip
            followers = int(rng.integers(500, 50_000))
            base = followers * float(rng.uniform(0.01, 0.08))
            profiles.append(
                Profile("instagram", owner, f"acct{a}", START + timedelta(days=40), "prof",
                        followers=followers, following=int(rng.integers(50, 3000)),
                        profile_pic_url=pic_url)
            )  # fmt: skip
            t = START + timedelta(hours=float(rng.uniform(0, 48)))
            for i in range(per_account):
                t += timedelta(hours=float(rng.uniform(6, 60)))
                pid = f"{owner}p{i}"
                level: float | None = float(rng.uniform(0.05, 0.95))
                if rng.random() < missing:
                    level = None
                ratio = 1.0 if level is None else brightness_factor(level)
                likes = round(base * ratio * float(rng.lognormal(0, 0.05)))
                url = f"https://cdn.test/post/{pid}.png"
                posts.append(
                    Post("instagram", pid, t + timedelta(days=7), f"r{pid}", owner_id=owner,
                         taken_at=t, caption="x", media_type="image", media_urls=[url],
                         likes=likes, comments=round(likes * 0.02))
                )  # fmt: skip
                brightness[pid] = level
                if level is not None:
                    size = (int(rng.integers(90, 160)), int(rng.integers(90, 160)))
                    store.store_bytes(picture(level, rng, size), platform="instagram",
                                      post_id=pid, url=url, fetched_at=fetched)  # fmt: skip
    LakeWriter(home / "lake").append_records(ParsedRecords(posts=posts, profiles=profiles))
    return ImageLake(home, posts, brightness)
