"""The social world's sentiment shift: #puma's posts from day 8 on turn negative (truth marks
them), and nothing else in the world changes."""

from __future__ import annotations

from tagpulse.platforms.sandbox.social_text import sentiment_label
from tagpulse.platforms.sandbox.social_truth import post_truth
from tagpulse.platforms.sandbox.world import DAY, World


def test_shift_marked_in_truth_and_nothing_else_changes() -> None:
    shifted, plain = World(seed=7), World(seed=7, sentiment_shift=None)
    shift = shifted.sentiment_shift
    assert shift is not None
    starts = shift.starts_at(shifted.start)
    assert shift.truth(shifted.start)["starts_at"] == starts == shifted.start + 8 * DAY
    t = shifted.start + 14 * DAY
    concerned = turned = 0
    pairs = zip(shifted.social.accounts, plain.social.accounts, strict=True)
    # The accounts interested in #puma, and every tenth other one.
    chosen = [(a, b) for a, b in pairs if "puma" in a.interests or a.idx % 10 == 0]
    for a, b in chosen:
        for x, y in zip(shifted.social.posts_at(a, t), plain.social.posts_at(b, t), strict=True):
            assert x.pk == y.pk and x.hashtags == y.hashtags and x.viral == y.viral
            assert (x.popularity, x.likes_hidden, x.language) == (
                y.popularity, y.likes_hidden, y.language,
            )  # fmt: skip
            if "puma" in x.hashtags and x.taken_at >= starts:
                concerned += 1
                if x.sentiment_shifted:
                    turned += 1
                    assert sentiment_label(x.sentiment) == "negative"
                    assert post_truth(shifted.social, x, t)["sentiment_shifted"] is True
                    continue
            assert (x.caption, x.sentiment, x.sentiment_shifted) == (y.caption, y.sentiment, False)
    assert concerned > 30
    assert 0.7 <= turned / concerned <= 0.97  # share 0.85
