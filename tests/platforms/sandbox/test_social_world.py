"""The social world itself: deterministic, heavy-tailed, consistent counts, readable signals."""

from __future__ import annotations

import math
import statistics
from itertools import islice

import pytest

from tagpulse.errors import ConfigError
from tagpulse.platforms.sandbox.media_ids import pk_from_shortcode
from tagpulse.platforms.sandbox.payloads import shortcode_from_pk
from tagpulse.platforms.sandbox.social import SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialConfig
from tagpulse.platforms.sandbox.social_text import _EMOJI, SOCIAL_LANGUAGES, sentiment_label
from tagpulse.platforms.sandbox.world import DAY, HOUR, World

from .conftest import T0_OFFSET, public_account


def test_same_seed_same_world() -> None:
    a, b = World(seed=11).social, World(seed=11).social
    assert a.accounts == b.accounts
    assert a.graph == b.graph
    t = a.start + T0_OFFSET
    for account in a.accounts[:25]:
        posts = a.posts_at(account, t)
        assert posts == b.posts_at(b.accounts[account.idx], t)
        for post in posts[:3]:
            assert a.like_count(post, t) == b.like_count(post, t)
            assert a.comments_at(post, t) == b.comments_at(post, t)
    # Asked in another order (a later week first), the posts agree too.
    c = World(seed=11).social
    account = c.accounts[3]
    later = c.posts_at(account, t + 30 * DAY)
    assert later[-len(a.posts_at(account, t)) :] == a.posts_at(a.accounts[3], t)


def test_other_seed_other_world() -> None:
    a, b = World(seed=1).social, World(seed=2).social
    assert [x.username for x in a.accounts] != [x.username for x in b.accounts]


def test_graph_is_heavy_tailed_with_flags(social: SocialWorld) -> None:
    n = len(social.accounts)
    assert n == 300
    degrees = sorted((len(f) for f in social.graph.followers), reverse=True)
    assert degrees[0] >= 8 * statistics.median(degrees)
    verified = [a for a in social.accounts if a.is_verified]
    assert 1 <= len(verified) <= n // 10
    assert min(len(social.graph.followers[a.idx]) for a in verified) >= degrees[n // 5]
    assert sum(a.is_private for a in social.accounts) == round(0.05 * n)
    assert sum(a.deleted_at is not None for a in social.accounts) == round(0.02 * n)
    assert sum(a.old_username is not None for a in social.accounts) == round(0.02 * n)
    assert all(a.category_name for a in social.accounts if a.is_business)
    handles = [a.username for a in social.accounts] + [
        a.old_username for a in social.accounts if a.old_username
    ]
    assert len(handles) == len(set(handles))
    assert {a.language for a in social.accounts} == set(SOCIAL_LANGUAGES)
    # Every follow edge is listed on both sides.
    for v, edges in enumerate(social.graph.followers):
        for since, u in edges:
            assert (since, v) in social.graph.following[u]


def test_follower_counts_follow_the_graph_over_time(social: SocialWorld) -> None:
    t = social.start + T0_OFFSET
    scale = social.config.follower_scale
    grew = 0
    for account in social.accounts:
        followers = social.followers(account, t)
        bought = social.bought_followers(account, t)
        assert social.follower_count(account, t) == len(followers) * scale + bought
        assert bought == 0 or account.idx in social.bought
        assert all(not f.deleted(t) for f in followers)
        later = social.follower_count(account, t + 14 * DAY)
        grew += later > social.follower_count(account, t)
    assert grew >= 5  # some accounts gain followers while a demo runs


def test_post_counts_and_lists_agree(social: SocialWorld) -> None:
    t0 = social.start + T0_OFFSET
    for account in social.accounts[::15]:
        previous = -1
        for t in (t0 - 40 * DAY, t0, t0 + 0.5 * DAY, t0 + 9 * DAY):
            posts = social.posts_at(account, t)
            if account.deleted(t):
                assert posts == []
                continue
            assert len(posts) == social.post_count(account, t) >= previous
            previous = len(posts)
            assert [p.pk for p in posts] == sorted((p.pk for p in posts), reverse=True)
            assert all(p.taken_at <= t for p in posts)


def test_ids_shortcodes_and_owners_round_trip(social: SocialWorld) -> None:
    t = social.start + T0_OFFSET
    for account in social.accounts[:40]:
        for post in islice(social.iter_posts(account, t), 5):
            assert social.post(post.pk) == post
            assert pk_from_shortcode(shortcode_from_pk(post.pk)) == post.pk
            assert (post.pk >> 10) & 0x1FFF == account.idx
            for index in range(len(post.children)):
                assert social.post(post.pk + 1 + index) == post
    assert social.post(12345) is None


def test_posting_habits(social: SocialWorld) -> None:
    t = social.start + T0_OFFSET
    account = public_account(social, t, 300, 3000)
    posts = social.posts_at(account, t)
    weeks = (t - account.created_at) / (7 * DAY)
    assert len(posts) / weeks == pytest.approx(account.posts_per_week, rel=0.35)
    # Time of day clusters around the account's hour (circular mean).
    angles = [2 * math.pi * ((p.taken_at % DAY) / DAY) for p in posts]
    mean = math.atan2(sum(map(math.sin, angles)), sum(map(math.cos, angles)))
    hour = (mean / (2 * math.pi) * 24) % 24
    gap = min(abs(hour - account.preferred_hour), 24 - abs(hour - account.preferred_hour))
    assert gap < 1.5
    kinds = {p.kind for p in social.iter_posts(social.accounts[0], t)}
    assert kinds == {"image", "video", "carousel", "reel"}


def test_captions_carry_sentiment_tags_mentions_and_languages(social: SocialWorld) -> None:
    t = social.start + T0_OFFSET
    posts = [p for a in social.accounts[:80] for p in islice(social.iter_posts(a, t), 15)]
    assert len(posts) > 600
    for post in posts:
        klass = {"positive": "pos", "negative": "neg", "neutral": "neu"}
        emoji = _EMOJI[klass[sentiment_label(post.sentiment)]]
        head = post.caption.split(" @")[0].split(" #")[0]
        assert any(e in head for e in emoji), post.caption
        for tag in post.hashtags:
            assert f"#{tag}" in post.caption
        for handle in post.mentions:
            assert f"@{handle}" in post.caption
    labels = {sentiment_label(p.sentiment) for p in posts}
    assert labels == {"positive", "negative", "neutral"}
    tracked = {tag for p in posts for tag in p.hashtags} & set(social.tags)
    assert len(tracked) >= 5
    assert {p.language for p in posts} == set(SOCIAL_LANGUAGES)
    assert any(p.mentions for p in posts)


def test_engagement_grows_and_has_outliers(social: SocialWorld) -> None:
    t = social.start + T0_OFFSET
    posts = [p for a in social.accounts for p in islice(social.iter_posts(a, t), 30)]
    hidden = [p for p in posts if p.likes_hidden]
    viral = [p for p in posts if p.viral]
    assert hidden and viral
    for post in posts[:300]:
        counts = [social.like_count(post, post.taken_at + h * HOUR) for h in (0, 1, 6, 48, 500)]
        assert counts == sorted(counts) and counts[0] == 0
        comments = [social.comment_count(post, post.taken_at + h * HOUR) for h in (1, 48, 500)]
        assert comments == sorted(comments)
        likers = social.likers(post, t)
        assert len(likers) <= social.like_count(post, t)
        assert all(not liker.ever_deleted for liker in likers)
    ratios = []
    for post in viral:
        peers = [
            social.like_count(p, p.taken_at + 30 * DAY)
            for p in islice(social.iter_posts(social.accounts[post.owner], t), 30)
            if not p.viral
        ]
        if peers and statistics.mean(peers) > 0:
            ratios.append(
                social.like_count(post, post.taken_at + 30 * DAY) / statistics.mean(peers)
            )
    assert statistics.median(ratios) > 4


def test_comments_are_consistent(social: SocialWorld) -> None:
    t = social.start + T0_OFFSET
    account = public_account(social, t, 40, 400)
    for post in social.posts_at(account, t)[:10]:
        comments = social.comments_at(post, t)
        assert len(comments) == social.comment_count(post, t)
        assert [c.index for c in comments] == list(range(len(comments)))
        assert [c.created_at for c in comments] == sorted(c.created_at for c in comments)
        assert all(post.taken_at < c.created_at <= t for c in comments)
        assert len({c.id for c in comments}) == len(comments)
    with pytest.raises(IndexError):
        social.comment(post, 10**6)


def test_config_validation_and_small_worlds() -> None:
    with pytest.raises(ConfigError):
        SocialConfig(n_accounts=1)
    with pytest.raises(ConfigError):
        SocialConfig(private_share=1.5)
    with pytest.raises(ConfigError):
        SocialConfig(follower_scale=0)
    tiny = World(seed=3, social_config=SocialConfig(n_accounts=20, follower_scale=1)).social
    assert len(tiny.accounts) == 20
    account = tiny.accounts[0]
    t = tiny.start
    assert tiny.follower_count(account, t) == len(tiny.followers(account, t))
    with pytest.raises(ValueError):
        tiny.post_count(account, t + 1e10)
