"""Ground truth of the social world as plain JSON-ready dicts (for tests and ``/__sandbox/``).

Each function answers what *was there* at time ``t``, computed from the world alone, never from
what the server served: profile counts, the exact posts visible, a post's counts, the follow
lists. ``None`` means the handle or id never existed in this world.
"""

from __future__ import annotations

from typing import Any

from tagpulse.platforms.sandbox.payloads import shortcode_from_pk
from tagpulse.platforms.sandbox.social import SocialPost, SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.social_text import sentiment_label

__all__ = [
    "follow_truth",
    "post_truth",
    "posts_truth",
    "profile_truth",
    "users_listing",
]


def _account_facts(world: SocialWorld, account: SocialAccount) -> dict[str, Any]:
    bought = world.bought.get(account.idx)
    return {
        "id": account.id,
        "username": account.username,
        "old_username": account.old_username,
        "renamed_at": account.renamed_at,
        "deleted_at": account.deleted_at,
        "full_name": account.full_name,
        "biography": account.biography,
        "language": account.language,
        "is_private": account.is_private,
        "is_verified": account.is_verified,
        "is_business": account.is_business,
        "category_name": account.category_name,
        "external_url": account.external_url,
        "influencer": account.influencer,
        "posts_per_week": round(account.posts_per_week, 3),
        "engagement_rate": round(account.engagement_rate, 5),
        # A fake audience: when the account bought followers and how many (None: never).
        "bought_followers": None if bought is None else {"at": bought.at, "count": bought.count},
    }


def profile_truth(world: SocialWorld, handle: str, t: float) -> dict[str, Any] | None:
    """What a profile request for ``handle`` at ``t`` should show.

    ``state``: ``active``; ``renamed`` (``handle`` is an old one: the server answers with the
    account under its new handle); ``deleted``; ``unknown`` (e.g. the new handle before the
    rename). Counts are ``None`` unless the profile is visible."""
    known = world.by_handle(handle)
    if known is None:
        return None
    account, state = world.resolve(handle, t)
    facts = _account_facts(world, known)
    facts.update({"asked": handle, "t": t, "state": state, "username_at_t": None})
    facts.update({"followers": None, "following": None, "posts": None})
    if account is not None:
        followers = world.followers(account, t)
        following = world.following(account, t)
        facts.update(
            {
                "username_at_t": account.username_at(t),
                "followers": world.follower_count(account, t),
                "followers_bought": world.bought_followers(account, t),
                "following": len(following) * world.config.following_scale,
                "followers_in_world": len(followers),
                "following_in_world": len(following),
                "posts": world.post_count(account, t),
            }
        )
    return facts


def post_truth(world: SocialWorld, post: SocialPost, t: float) -> dict[str, Any]:
    """A post's lasting facts and its counts at ``t`` (hidden counts included)."""
    owner = world.accounts[post.owner]
    return {
        "pk": post.pk,
        "id": f"{post.pk}_{owner.pk}",
        "code": shortcode_from_pk(post.pk),
        "owner_id": owner.id,
        "owner_username": owner.username_at(t),
        "taken_at": post.taken_at,
        "kind": post.kind,
        "media_type": post.media_type,
        "product_type": post.product_type,
        "children": len(post.children),
        "caption": post.caption,
        "hashtags": list(post.hashtags),
        "mentions": list(post.mentions),
        "language": post.language,
        "sentiment": post.sentiment,
        "sentiment_label": sentiment_label(post.sentiment),
        "sentiment_shifted": post.sentiment_shifted,
        "viral": post.viral,
        "likes": world.like_count(post, t),
        "likes_hidden": post.likes_hidden,
        "likers_in_world": [a.id for a in world.likers(post, t)],
        "comments": world.comment_count(post, t),
        "comments_disabled": post.comments_disabled,
        "plays": world.play_count(post, t) if post.is_video else None,
        "views": world.view_count(post, t) if post.is_video else None,
    }


def posts_truth(
    world: SocialWorld, handle: str, t: float, limit: int | None = None
) -> dict[str, Any] | None:
    """The posts of ``handle``'s account visible at ``t`` (newest first; all of them, even for a
    private account, whose posts the server does not show)."""
    known = world.by_handle(handle)
    if known is None:
        return None
    account, state = world.resolve(handle, t)
    posts: list[SocialPost] = []
    if account is not None:
        for post in world.iter_posts(account, t):
            if limit is not None and len(posts) >= limit:
                break
            posts.append(post)
    return {
        "asked": handle,
        "t": t,
        "state": state,
        "id": known.id,
        "is_private": known.is_private,
        "count": world.post_count(account, t) if account is not None else None,
        "posts": [post_truth(world, post, t) for post in posts],
    }


def follow_truth(world: SocialWorld, handle: str, t: float, kind: str) -> dict[str, Any] | None:
    """The in-world followers (``kind="followers"``) or followings at ``t``, newest first."""
    known = world.by_handle(handle)
    if known is None:
        return None
    account, state = world.resolve(handle, t)
    edges = world.follow_edges(account, t, kind) if account is not None else []
    scale = world.config.follower_scale if kind == "followers" else world.config.following_scale
    return {
        "asked": handle,
        "t": t,
        "state": state,
        "kind": kind,
        "count": len(edges) * scale if account is not None else None,
        "accounts": [
            {"id": other.id, "username": other.username_at(t), "since": since}
            for since, other in edges
        ],
    }


def users_listing(world: SocialWorld) -> list[dict[str, Any]]:
    """Every account's lasting facts (to pick accounts to watch in tests and demos)."""
    return [
        _account_facts(world, account) | {"followers_in_world_ever": len(world.graph.followers[i])}
        for i, account in enumerate(world.accounts)
    ]
