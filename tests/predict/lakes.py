"""A hand-built lake where a post's likes ratio is planted: it depends on the hour it was
published (best at 19:00 UTC) and on the faces in its image (``post_labels``), times noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from tagpulse.lake.post_labels import POST_LABELS, PostLabel, post_labels_table
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import ParsedRecords, Post, Profile

START = datetime(2026, 9, 1, tzinfo=UTC)
#: The features whose values the likes were made from.
PLANTED = {"hour", "hour_sin", "hour_cos", "hour_bucket", "faces"}


def hour_factor(hour: float) -> float:
    return 1 + 0.6 * math.cos(2 * math.pi * (hour - 19) / 24)


def face_factor(faces: int) -> float:
    return 1 + 0.4 * faces


@dataclass(slots=True)
class PlantedLake:
    home: Path
    posts: list[Post]


def build_planted_lake(home: Path, *, accounts: int = 60, per_account: int = 25,
                       seed: int = 3) -> PlantedLake:  # fmt: skip
    rng = np.random.default_rng(seed)
    posts: list[Post] = []
    profiles: list[Profile] = []
    labels: list[PostLabel] = []
    for a in range(accounts):
        owner = f"u{a}"
        followers = int(rng.integers(500, 200_000))
        base = followers * float(rng.uniform(0.01, 0.08))
        profiles.append(
            Profile("instagram", owner, f"acct{a}", START + timedelta(days=40), "prof",
                    followers=followers, following=int(rng.integers(50, 3000)),
                    is_business=bool(rng.integers(0, 2)), category=["art", "food", None][a % 3])
        )  # fmt: skip
        t = START + timedelta(hours=float(rng.uniform(0, 48)))
        for i in range(per_account):
            t += timedelta(hours=float(rng.uniform(6, 60)))
            faces = int(rng.integers(0, 4))
            ratio = hour_factor(t.hour + t.minute / 60) * face_factor(faces)
            likes = round(base * ratio * float(rng.lognormal(0, 0.15)))
            seen = t + timedelta(days=float(rng.uniform(5, 10)))
            pid = f"{owner}p{i}"
            posts.append(
                Post("instagram", pid, seen, f"r{pid}", owner_id=owner, taken_at=t,
                     caption="x" * int(rng.integers(0, 200)), hashtags=["tag"],
                     media_type="video" if rng.random() < 0.3 else "image", likes=likes,
                     comments=round(likes * float(rng.uniform(0.01, 0.05))))
            )  # fmt: skip
            labels.append(
                PostLabel("instagram", pid, owner, f"sha{pid}", 0, t, "m1", [("dog", 0.9)],
                          faces, faces, 0, None, seen)
            )  # fmt: skip
    writer = LakeWriter(home / "lake")
    writer.append_records(ParsedRecords(posts=posts, profiles=profiles))
    writer.write_table(POST_LABELS, "instagram", post_labels_table(labels), "enriched_at")
    return PlantedLake(home, posts)
