"""The left half of the image models' input: the author's profile picture, as collection
stores it. A hand-built store where the right picture is known, then a sandbox collection over
loopback against the world's truth (the bytes its CDN serves for each profile picture)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from tagpulse.collect.media import MediaStore
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.images import render_image
from tagpulse.predict.features import build_dataset
from tagpulse.predict.models.images import (
    HALF_WIDTH,
    dataset_images,
    dataset_keys,
    load_half,
    post_images,
)
from tagpulse.records import ParsedRecords, Profile
from tests.collect import conftest as collect_conftest
from tests.collect.conftest import Rig
from tests.predict.image_lakes import picture

__all__ = ["make_rig"]  # fixture used here

make_rig = collect_conftest.make_rig

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _profile(user: str, url: str | None, at: datetime) -> Profile:
    return Profile("instagram", user, f"h{user}", at, "r", profile_pic_url=url)


def test_the_newest_stored_picture_is_the_left_half(tmp_path: Path) -> None:
    """a: seen later in a liker list with a thumbnail URL that was never fetched -> still its
    stored picture; b: its picture changed and the new one was fetched -> the new one;
    c: a picture URL that was never fetched -> none."""
    rng = np.random.default_rng(1)
    home = tmp_path / "home"
    images = {name: picture(level, rng, (90, 90)) for name, level in
              (("a", 0.2), ("b_old", 0.4), ("b_new", 0.9), ("post", 0.6))}  # fmt: skip
    with MediaStore(home / "media") as store:
        for name in ("a", "b_old", "b_new"):
            store.store_bytes(images[name], platform="instagram", post_id=None,
                              url=f"https://cdn.test/{name}_320.png", fetched_at=T0)  # fmt: skip
        store.store_bytes(images["post"], platform="instagram", post_id="pa",
                          url="https://cdn.test/post.png", fetched_at=T0)  # fmt: skip
    records = ParsedRecords()
    records.profiles += [
        _profile("a", "https://cdn.test/a_320.png", T0),
        _profile("a", "https://cdn.test/a_150.png", T0 + timedelta(hours=5)),  # not fetched
        _profile("a", None, T0 + timedelta(hours=6)),
        _profile("b", "https://cdn.test/b_old_320.png", T0),
        _profile("b", "https://cdn.test/b_new_320.png", T0 + timedelta(hours=1)),
        _profile("c", "https://cdn.test/c_320.png", T0),
    ]
    LakeWriter(home / "lake").append_records(records)
    batch = post_images(home / "media", LakeQuery(home / "lake"),
                        [("instagram", "pa", "a"), ("instagram", "pb", "b"),
                         ("instagram", "pc", "c"), ("instagram", "pd", "nobody")])  # fmt: skip
    assert batch.flags.tolist() == [[1, 1], [0, 1], [0, 0], [0, 0]]
    with MediaStore(home / "media") as store:
        a = load_half(store.lookup(store.known_url("https://cdn.test/a_320.png") or ""))
        b = load_half(store.lookup(store.known_url("https://cdn.test/b_new_320.png") or ""))
    assert a is not None and b is not None
    assert np.array_equal(batch.pixels[0, 0, :, :HALF_WIDTH], a)
    assert np.array_equal(batch.pixels[1, 0, :, :HALF_WIDTH], b)
    assert not batch.pixels[2:, 0, :, :HALF_WIDTH].any()


def test_a_sandbox_collection_fills_the_left_half(
    make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    rig = make_rig("nike\n")
    social = rig.world.social
    t = rig.clock.time()
    public = [
        a for a in social.accounts
        if social.resolve(a.username, t)[1] == "active" and not a.is_private
    ][:2]  # fmt: skip
    handles = rig.tags_file.parent / "accounts.txt"
    handles.write_text("".join(f"{a.username}\n" for a in public))
    rig.handles_file = handles
    stats = rig.collector(once=True, max_posts=12).run()
    assert stats.avatars_stored == 2

    query = LakeQuery(rig.settings.lake_dir)
    data = build_dataset(query)
    owners = {key[2] for key in dataset_keys(data)}
    assert owners == {str(a.pk) for a in public} and len(data.post_ids) >= 12
    batch = dataset_images(rig.settings.media_dir, query, data)
    assert batch.flags[:, 1].tolist() == [1.0] * len(data.post_ids)
    assert batch.coverage["profile_picture"] == 1.0 and batch.coverage["post_image"] > 0.5

    # The left half is the picture the sandbox's CDN served for the author (its truth).
    urls = {r["user_id"]: r["profile_pic_url"] for r in query.rows(
        "SELECT DISTINCT user_id, profile_pic_url FROM profiles WHERE state = 'ok'"
    )}  # fmt: skip
    truth: dict[str, np.ndarray] = {}
    for owner in owners:
        found = re.search(r"/media/u(\d+)_(\d+)\.jpg$", urls[owner])
        assert found is not None and found.group(1) == owner
        size = int(found.group(2))
        served = tmp_path / f"u{owner}.jpg"
        served.write_bytes(render_image(rig.world.seed, f"u{owner}", size, size, False))
        half = load_half(served)
        assert half is not None and half.std() > 0  # a real picture, not a flat fill
        truth[owner] = half
    for i, (_, _, owner) in enumerate(dataset_keys(data)):
        assert np.array_equal(batch.pixels[i, 0, :, :HALF_WIDTH], truth[owner])
    # Two accounts, two different pictures.
    a, b = (truth[o] for o in sorted(owners))
    assert not np.array_equal(a, b)
