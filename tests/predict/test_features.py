"""The prediction dataset: known feature values on a hand-built lake, no leakage of the post's
own likes or comments, the study protocol, and the target against the sandbox's truth."""

from __future__ import annotations

import copy
import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, World
from tagpulse.predict.features import (
    FEATURES,
    STUDY_POSTS,
    build_dataset,
    dataset_from_rows,
    load_post_rows,
)
from tagpulse.records import ParsedRecords, Post, Profile
from tests.predict.lakes import START, PlantedLake, build_planted_lake


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> PlantedLake:
    return build_planted_lake(tmp_path_factory.mktemp("planted"), accounts=12, per_account=15)


def _col(data_names: list[str], name: str) -> int:
    return data_names.index(name)


def test_every_feature_documented_with_its_source(planted: PlantedLake) -> None:
    data = build_dataset(LakeQuery(planted.home / "lake"))
    assert data.feature_names == list(FEATURES)
    assert data.X.shape == (12 * 15, len(FEATURES))
    source_tables = ("posts.", "profiles.", "post_labels.", "post_text.")
    assert all(desc.startswith(source_tables) for desc in FEATURES.values())


def test_known_values_of_a_small_lake(tmp_path: Path) -> None:
    t0 = START.replace(hour=18, minute=30)  # a Tuesday
    posts = [
        Post("instagram", "a", t0 + timedelta(days=3), "r1", owner_id="u", taken_at=t0,
             likes=100, comments=10, media_type="video", caption="hello", hashtags=["x", "y"],
             mentions=["m"], comments_disabled=False),
        Post("instagram", "b", t0 + timedelta(days=4), "r2", owner_id="u",
             taken_at=t0 + timedelta(hours=30), likes=300, comments=30),
        # An older observation with other likes: the latest one counts.
        Post("instagram", "b", t0 + timedelta(days=2), "r3", owner_id="u",
             taken_at=t0 + timedelta(hours=30), likes=5, comments=1),
        # Hidden likes at the latest observation are not a zero: the earlier count counts.
        Post("instagram", "c", t0 + timedelta(days=5), "r4", owner_id="u",
             taken_at=t0 + timedelta(hours=50), likes=None, comments=3),
        Post("instagram", "c", t0 + timedelta(days=4), "r5", owner_id="u",
             taken_at=t0 + timedelta(hours=50), likes=200, comments=20),
        # An account with one post has no ratio to learn.
        Post("instagram", "z", t0, "r6", owner_id="solo", taken_at=t0, likes=50),
    ]  # fmt: skip
    profile = Profile("instagram", "u", "user", t0, "p", followers=1000, following=10,
                      is_business=True, category="art")  # fmt: skip
    LakeWriter(tmp_path / "lake").append_records(ParsedRecords(posts=posts, profiles=[profile]))
    data = build_dataset(LakeQuery(tmp_path / "lake"))
    assert data.post_ids == ["a", "b", "c"]
    np.testing.assert_allclose(data.y, [0.5, 1.5, 1.0])
    np.testing.assert_allclose(data.account_mean, [200, 200, 200])
    row = dict(zip(data.feature_names, data.X[0], strict=True))
    assert row["hour"] == 18 and row["hour_bucket"] == 4
    assert row["hour_sin"] == pytest.approx(math.sin(2 * math.pi * 18.5 / 24))
    assert row["weekday_tue"] == 1 and sum(row[f"weekday_{d}"] for d in ("mon", "wed")) == 0
    assert row["is_video"] == 1 and row["comments_disabled"] == 0
    assert math.isnan(row["hours_since_previous"])
    assert row["followers"] == 1000 and row["following"] == 10 and row["is_business"] == 1
    assert row["account_mean_likes"] == 250 and row["account_mean_comments"] == 25  # b, c
    assert row["caption_length"] == 5 and row["hashtags"] == 2 and row["mentions"] == 1
    assert row["age_hours"] == 72
    assert math.isnan(row["faces"]) and math.isnan(row["sentiment"])
    second = dict(zip(data.feature_names, data.X[1], strict=True))
    assert second["hours_since_previous"] == 30 and second["age_hours"] == 96 - 30
    assert second["account_mean_likes"] == 150  # a, c: never its own 300


def test_no_feature_uses_the_posts_own_likes_or_comments(planted: PlantedLake) -> None:
    rows = load_post_rows(LakeQuery(planted.home / "lake"))
    for protocol in ("grouped", "study"):
        base = dataset_from_rows(rows, protocol=protocol)
        for k in (5, 40, 100):
            changed = copy.deepcopy(rows)
            target = next(r for r in changed if r["post_id"] == base.post_ids[k])
            target["likes"] = target["likes"] * 7 + 3
            target["comments"] = 0
            other = dataset_from_rows(changed, protocol=protocol)
            assert other.post_ids == base.post_ids
            assert other.y[k] != base.y[k]  # the change reached the target
            if protocol == "grouped":
                np.testing.assert_array_equal(other.X[k], base.X[k])
            else:
                # MinMax-scaled over the dataset: compare before the (shared) scaling.
                lo = np.array([other.scaling[n][0] for n in other.feature_names])
                hi = np.array([other.scaling[n][1] for n in other.feature_names])
                blo = np.array([base.scaling[n][0] for n in base.feature_names])
                bhi = np.array([base.scaling[n][1] for n in base.feature_names])
                raw = np.where(hi > lo, other.X[k] * (hi - lo) + lo, np.nan)
                braw = np.where(bhi > blo, base.X[k] * (bhi - blo) + blo, np.nan)
                np.testing.assert_allclose(raw, braw, rtol=1e-9)


def test_study_protocol_drops_the_newest_and_keeps_at_most_eleven(
    planted: PlantedLake,
) -> None:
    rows = load_post_rows(LakeQuery(planted.home / "lake"))
    data = dataset_from_rows(rows, protocol="study")
    assert data.protocol == "study"
    for account in set(data.groups.tolist()):
        owner = account.split(":", 1)[1]
        mine = sorted((r for r in rows if r["owner_id"] == owner), key=lambda r: r["taken_at"])
        kept = [p for p, g in zip(data.post_ids, data.groups, strict=True) if g == account]
        assert len(kept) == STUDY_POSTS - 1
        assert set(kept) == {r["post_id"] for r in mine[-STUDY_POSTS:-1]}
        mask = data.groups == account
        assert data.y[mask].mean() == pytest.approx(1.0)  # the mean over the kept posts
    assert np.nanmin(data.X) >= 0 and np.nanmax(data.X) <= 1
    assert data.y_scaled.min() == 0 and data.y_scaled.max() == 1


def test_empty_lake_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="two or more posts"):
        build_dataset(LakeQuery(tmp_path / "lake"))
    with pytest.raises(InputError, match="protocol"):
        dataset_from_rows([], protocol="nope")  # type: ignore[arg-type]


def test_sandbox_target_follows_the_worlds_popularity(tmp_path: Path) -> None:
    world = World(seed=7)
    social = world.social
    t = world.start + 60 * DAY
    posts, truth = [], {}
    for account in [a for a in social.accounts if not a.deleted(t)][:60]:
        for p in [p for p in social.posts_at(account, t) if t - p.taken_at > 5 * DAY][:30]:
            posts.append(
                Post("instagram", str(p.pk), utc_from_epoch(t), "truth", owner_id=str(account.pk),
                     taken_at=utc_from_epoch(p.taken_at), likes=social.like_count(p, t),
                     comments=social.comment_count(p, t))
            )  # fmt: skip
            truth[str(p.pk)] = p
    LakeWriter(tmp_path / "lake").append_records(ParsedRecords(posts=posts))
    data = build_dataset(LakeQuery(tmp_path / "lake"))
    assert data.accounts >= 20
    viral = np.array([truth[pid].viral for pid in data.post_ids])
    assert viral.sum() >= 5
    assert np.median(data.y[viral]) > 3 * np.median(data.y[~viral])
    # Within an account, the ratio ranks the posts as the world's popularity does.
    popularity = np.array([truth[pid].popularity for pid in data.post_ids])
    rhos = []
    for g in np.unique(data.groups):
        m = data.groups == g
        if m.sum() >= 5:
            rhos.append(np.corrcoef(np.argsort(np.argsort(data.y[m])),
                                    np.argsort(np.argsort(popularity[m])))[0, 1])  # fmt: skip
    assert np.mean(rhos) > 0.5
