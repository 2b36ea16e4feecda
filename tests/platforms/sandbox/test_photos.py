"""The sandbox's post pictures: real photos, one crop per post, a favourite subject per account."""

from __future__ import annotations

import io
from collections import Counter

from PIL import Image

from tagpulse.platforms.sandbox.photos import PHOTO_SUBJECTS, photo_subject, render_photo


def test_each_key_gets_its_own_bytes_at_the_asked_size() -> None:
    a = render_photo(7, "1001", "coffee", 135, 168, False)
    b = render_photo(7, "1002", "coffee", 135, 168, False)
    assert a != b
    assert a == render_photo(7, "1001", "coffee", 135, 168, False)
    image = Image.open(io.BytesIO(a))
    assert image.format == "JPEG" and image.size == (135, 168)
    webp = Image.open(io.BytesIO(render_photo(7, "1001", "coffee", 135, 135, True)))
    assert webp.format == "WEBP" and webp.size == (135, 135)


def test_accounts_mostly_post_their_favourite_subject() -> None:
    favourites = []
    for owner in range(40):
        counts = Counter(photo_subject(7, owner, str(k)) for k in range(400))
        subject, n = counts.most_common(1)[0]
        assert 0.6 < n / 400 < 0.8  # 70 % favourite, the rest spread over the other four
        assert set(counts) == set(PHOTO_SUBJECTS)
        favourites.append(subject)
    assert len(set(favourites)) == len(PHOTO_SUBJECTS)  # owners differ in taste
    assert photo_subject(8, 0, "1") in PHOTO_SUBJECTS
