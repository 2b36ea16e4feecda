"""Response shapes of the sandbox's account endpoints, built from the social world at a time.

The shapes copy the recorded payloads in ``shared/fixtures/instagram_web``: ``profile.json`` for
the graphql user of ``web_profile_info`` (every key it has), ``legacy/cd4bec8/profile.json`` for
the 12 newest posts embedded in ``edge_owner_to_timeline_media`` (graphql nodes with the keys of
each ``__typename``), ``media.json`` for api/v1 media items (grid query, user feed, media info),
``media-comments.json`` for comment pages and ``followers-feed.json`` /
``followings-feed.json`` for the follow lists. Image URLs point at the sandbox server itself
(``<base>/media/<pk>_<width>.jpg``), so a media store can download them. No I/O here.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from tagpulse.platforms.sandbox.payloads import shortcode_from_pk as shortcode
from tagpulse.platforms.sandbox.social import Comment, SocialPost, SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount

__all__ = [
    "USER_NOT_FOUND_BODY",
    "api_item",
    "comments_payload",
    "follow_payload",
    "graphql_post_node",
    "grid_payload",
    "image_url",
    "media_info_payload",
    "profile_payload",
    "profile_pic_url",
    "user_feed_payload",
]

USER_NOT_FOUND_BODY: dict[str, Any] = {"data": {"user": None}, "status": "ok"}
"""web_profile_info's answer (with status 404) for a deleted or unknown handle."""

_TYPENAMES = {1: "GraphImage", 2: "GraphVideo", 8: "GraphSidecar"}
_WIDTHS = (1080, 750, 640, 480, 320)
_THUMBS = (150, 240, 320, 480, 640)


def image_url(base: str, pk: int, width: int) -> str:
    return f"{base}/media/{pk}_{width}.jpg"


def profile_pic_url(base: str, account: SocialAccount, size: int = 150) -> str:
    return f"{base}/media/u{account.pk}_{size}.jpg"


def _candidates(base: str, pk: int, width: int, height: int) -> dict[str, Any]:
    return {
        "candidates": [
            {"width": w, "height": round(height * w / width), "url": image_url(base, pk, w)}
            for w in _WIDTHS
        ]
    }


def _token(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def api_user(account: SocialAccount, t: float, base: str) -> dict[str, Any]:
    return {
        "pk": account.pk,
        "pk_id": account.id,
        "username": account.username_at(t),
        "full_name": account.full_name,
        "is_private": account.is_private,
        "is_verified": account.is_verified,
        "profile_pic_url": profile_pic_url(base, account),
        "profile_pic_id": f"{account.pk}0001_{account.pk}",
        "has_anonymous_profile_picture": False,
        "is_unpublished": False,
        "is_favorite": False,
    }


def api_item(world: SocialWorld, post: SocialPost, t: float, base: str) -> dict[str, Any]:
    """One api/v1 media item (an entry of ``media.json``'s ``items``) as it stands at ``t``."""
    account = world.accounts[post.owner]
    user = api_user(account, t, base)
    pk = post.pk
    caption_pk = 17_900_000_000_000_000 + pk % 10**14
    item: dict[str, Any] = {
        "taken_at": post.taken_at,
        "pk": pk,
        "id": f"{pk}_{account.pk}",
        "device_timestamp": post.taken_at * 1_000_000 + pk % 1_000_000,
        "media_type": post.media_type,
        "code": shortcode(pk),
        "client_cache_key": _token(str(pk)) + ".2",
        "filter_type": 0,
        "product_type": post.product_type,
        "user": user,
        "can_viewer_reshare": True,
        "caption_is_edited": False,
        "like_and_view_counts_disabled": post.likes_hidden,
        "comment_likes_enabled": True,
        "comment_threading_enabled": True,
        "has_more_comments": False,
        "max_num_visible_preview_comments": 2,
        "comment_count": world.comment_count(post, t),
        # Hidden counts read 0: only the owner sees them (the truth API has the real value).
        "like_count": 0 if post.likes_hidden else world.like_count(post, t),
        "has_liked": False,
        "top_likers": [],
        "facepile_top_likers": [],
        "photo_of_you": False,
        "caption": {
            "pk": caption_pk,
            "user_id": account.pk,
            "text": post.caption,
            "type": 1,
            "created_at": post.taken_at,
            "created_at_utc": post.taken_at,
            "content_type": "comment",
            "status": "Active",
            "bit_flags": 0,
            "did_report_as_spam": False,
            "share_enabled": False,
            "user": user,
            "is_covered": False,
            "media_id": pk,
            "private_reply_status": 0,
        },
        "can_viewer_save": True,
        "original_width": post.width,
        "original_height": post.height,
        "image_versions2": _candidates(base, pk, post.width, post.height),
        "is_paid_partnership": False,
        "deleted_reason": 0,
        "commerciality_status": "not_commercial",
    }
    if post.comments_disabled:
        item["comments_disabled"] = True
    if post.is_video:
        if not post.likes_hidden:
            item["view_count"] = world.view_count(post, t)
            item["play_count"] = world.play_count(post, t)
        item["video_duration"] = post.video_duration
        item["has_audio"] = True
        item["video_versions"] = [
            {
                "type": 101,
                "width": post.width,
                "height": post.height,
                "url": f"{base}/media/{pk}.mp4",
                "id": str(pk + 7),
            }
        ]
    elif post.children:
        children = []
        for index, child_type in enumerate(post.children):
            child_pk = pk + 1 + index
            children.append(
                {
                    "id": f"{child_pk}_{account.pk}",
                    "pk": child_pk,
                    "media_type": child_type,
                    "original_width": post.width,
                    "original_height": post.height,
                    "image_versions2": _candidates(base, child_pk, post.width, post.height),
                    "carousel_parent_id": f"{pk}_{account.pk}",
                }
            )
        item["carousel_media_count"] = len(children)
        item["carousel_media"] = children
    return item


def _node_common(post: SocialPost, account: SocialAccount, pk: int, base: str) -> dict[str, Any]:
    return {
        "__typename": _TYPENAMES[post.media_type] if pk == post.pk else "GraphImage",
        "id": str(pk),
        "shortcode": shortcode(pk),
        "dimensions": {"height": post.height, "width": post.width},
        "display_url": image_url(base, pk, 1080),
        "edge_media_to_tagged_user": {"edges": []},
        "fact_check_overall_rating": None,
        "fact_check_information": None,
        "gating_info": None,
        "sharing_friction_info": {"should_have_sharing_friction": False, "bloks_app_url": None},
        "media_overlay_info": None,
        "media_preview": None,
        "owner": {"id": account.id, "username": account.username},
        "is_video": post.is_video if pk == post.pk else False,
        "has_upcoming_event": False,
        "accessibility_caption": None,
    }


def graphql_post_node(world: SocialWorld, post: SocialPost, t: float, base: str) -> dict[str, Any]:
    """A graphql timeline node (``legacy/cd4bec8/profile.json``) as it stands at ``t``."""
    account = world.accounts[post.owner]
    node = _node_common(post, account, post.pk, base)
    node["owner"]["username"] = account.username_at(t)
    likes = 0 if post.likes_hidden else world.like_count(post, t)
    node.update(
        {
            "edge_media_to_caption": {"edges": [{"node": {"text": post.caption}}]},
            "edge_media_to_comment": {"count": world.comment_count(post, t)},
            "comments_disabled": post.comments_disabled,
            "taken_at_timestamp": post.taken_at,
            "edge_liked_by": {"count": likes},
            "edge_media_preview_like": {"count": likes},
            "location": None,
            "nft_asset_info": None,
            "thumbnail_src": image_url(base, post.pk, 640),
            "thumbnail_resources": [
                {"src": image_url(base, post.pk, w), "config_width": w, "config_height": w}
                for w in _THUMBS
            ],
            "coauthor_producers": [],
            "pinned_for_users": [],
        }
    )
    if post.likes_hidden:
        node["like_and_view_counts_disabled"] = True
    if post.is_video:
        node.update(
            {
                "felix_profile_grid_crop": None,
                "dash_info": {
                    "is_dash_eligible": False,
                    "video_dash_manifest": None,
                    "number_of_qualities": 0,
                },
                "has_audio": True,
                "tracking_token": _token(f'{{"media_id":"{post.pk}"}}'),
                "video_url": f"{base}/media/{post.pk}.mp4",
                "video_view_count": 0 if post.likes_hidden else world.view_count(post, t),
                "clips_music_attribution_info": None,
                "product_type": post.product_type,
            }
        )
    elif post.children:
        node["edge_sidecar_to_children"] = {
            "edges": [
                {"node": _node_common(post, account, post.pk + 1 + index, base)}
                for index in range(len(post.children))
            ]
        }
    return node


def _empty_connection() -> dict[str, Any]:
    return {"count": 0, "page_info": {"has_next_page": False, "end_cursor": None}, "edges": []}


def profile_payload(
    world: SocialWorld,
    account: SocialAccount,
    t: float,
    base: str,
    newest: Sequence[SocialPost],
    end_cursor: str | None,
) -> dict[str, Any]:
    """``web_profile_info``: the graphql user with its newest posts (none for a private one)."""
    post_count = world.post_count(account, t)
    username = account.username_at(t)
    business = account.is_business
    edges = [] if account.is_private else newest
    timeline: dict[str, Any] = {
        "count": post_count,
        "page_info": {
            "has_next_page": bool(edges) and post_count > len(edges),
            "end_cursor": end_cursor if edges and post_count > len(edges) else None,
        },
        "edges": [{"node": graphql_post_node(world, post, t, base)} for post in edges],
    }
    user: dict[str, Any] = {
        "biography": account.biography,
        "blocked_by_viewer": False,
        "restricted_by_viewer": False,
        "country_block": False,
        "external_url": account.external_url,
        "external_url_linkshimmed": None,
        "edge_followed_by": {"count": world.follower_count(account, t)},
        "fbid": f"17841{account.pk % 10**12:012d}",
        "followed_by_viewer": False,
        "edge_follow": {"count": world.following_count(account, t)},
        "follows_viewer": False,
        "full_name": account.full_name,
        "has_ar_effects": False,
        "has_clips": account.media_weights[3] > 0.05,
        "has_guides": False,
        "has_channel": False,
        "has_blocked_viewer": False,
        "highlight_reel_count": account.highlight_reel_count,
        "has_requested_viewer": False,
        "hide_like_and_view_counts": False,
        "id": account.id,
        "is_business_account": business,
        "is_professional_account": business,
        "is_supervision_enabled": False,
        "is_guardian_of_viewer": False,
        "is_supervised_by_viewer": False,
        "is_embeds_disabled": False,
        "is_joined_recently": t - account.created_at < 30 * 86400,
        "guardian_id": None,
        "business_address_json": None,
        "business_contact_method": "UNKNOWN" if business else None,
        "business_email": None,
        "business_phone_number": None,
        "business_category_name": account.business_category_name,
        "overall_category_name": None,
        "category_enum": None,
        "category_name": account.category_name,
        "is_private": account.is_private,
        "is_verified": account.is_verified,
        "edge_mutual_followed_by": {"count": 0, "edges": []},
        "profile_pic_url": profile_pic_url(base, account, 150),
        "profile_pic_url_hd": profile_pic_url(base, account, 320),
        "requested_by_viewer": False,
        "should_show_category": business,
        "should_show_public_contacts": False,
        "state_controlled_media_country": None,
        "transparency_label": None,
        "transparency_product": None,
        "username": username,
        "connected_fb_page": None,
        "pronouns": [],
        "edge_felix_video_timeline": _empty_connection(),
        "edge_owner_to_timeline_media": timeline,
        "edge_saved_media": _empty_connection(),
        "edge_media_collections": _empty_connection(),
    }
    return {"data": {"user": user}, "status": "ok"}


def grid_payload(
    items: Sequence[dict[str, Any]], end_cursor: str | None, has_next: bool
) -> dict[str, Any]:
    """The profile grid query (``xdt_api__v1__feed__user_timeline_graphql_connection``)."""
    return {
        "data": {
            "xdt_api__v1__feed__user_timeline_graphql_connection": {
                "edges": [{"node": item, "cursor": item["id"]} for item in items],
                "page_info": {
                    "end_cursor": end_cursor,
                    "has_next_page": has_next,
                    "has_previous_page": False,
                    "start_cursor": None,
                },
            }
        },
        "extensions": {"is_final": True},
        "status": "ok",
    }


def user_feed_payload(
    items: Sequence[dict[str, Any]], next_max_id: str | None, more: bool
) -> dict[str, Any]:
    """``/api/v1/feed/user/<id>/``; ``next_max_id`` only while more are available."""
    payload: dict[str, Any] = {
        "items": list(items),
        "num_results": len(items),
        "more_available": more,
        "auto_load_more_enabled": True,
    }
    if more:
        payload["next_max_id"] = next_max_id
    payload["status"] = "ok"
    return payload


def _api_comment(
    world: SocialWorld, post: SocialPost, comment: Comment, base: str
) -> dict[str, Any]:
    author = world.accounts[comment.author]
    return {
        "pk": int(comment.id),
        "user_id": author.pk,
        "text": comment.text,
        "type": 0,
        "created_at": comment.created_at,
        "created_at_utc": comment.created_at,
        "content_type": "comment",
        "status": "Active",
        "bit_flags": 0,
        "did_report_as_spam": False,
        "share_enabled": False,
        "user": api_user(author, comment.created_at, base),
        "is_covered": False,
        "media_id": post.pk,
        "has_liked_comment": False,
        "comment_like_count": 0,
        "private_reply_status": 0,
    }


def media_info_payload(world: SocialWorld, post: SocialPost, t: float, base: str) -> dict[str, Any]:
    """``/api/v1/media/<pk>/info/`` (``media.json``), with the two latest comments."""
    item = api_item(world, post, t, base)
    count = item["comment_count"]
    preview = [world.comment(post, i) for i in range(max(0, count - 2), count)]
    item["preview_comments"] = [_api_comment(world, post, c, base) for c in preview]
    item["comments"] = item["preview_comments"]
    item["has_more_comments"] = count > len(preview)
    return {
        "items": [item],
        "num_results": 1,
        "more_available": False,
        "auto_load_more_enabled": False,
        "status": "ok",
    }


def comments_payload(
    world: SocialWorld,
    count: int,
    comments: Sequence[Comment],
    end_cursor: str | None,
    base: str,
) -> dict[str, Any]:
    """A ``media-comments.json`` page: ``data.shortcode_media.edge_media_to_comment``."""
    edges = []
    for comment in comments:
        author = world.accounts[comment.author]
        edges.append(
            {
                "node": {
                    "id": comment.id,
                    "text": comment.text,
                    "created_at": comment.created_at,
                    "owner": {
                        "id": author.id,
                        "profile_pic_url": profile_pic_url(base, author),
                        "username": author.username_at(comment.created_at),
                    },
                }
            }
        )
    connection = {
        "count": count,
        "page_info": {"has_next_page": end_cursor is not None, "end_cursor": end_cursor},
        "edges": edges,
    }
    return {"data": {"shortcode_media": {"edge_media_to_comment": connection}}, "status": "ok"}


def follow_payload(
    key: str,
    count: int,
    accounts: Sequence[SocialAccount],
    end_cursor: str | None,
    t: float,
    base: str,
) -> dict[str, Any]:
    """A ``followers-feed.json`` (``edge_followed_by``) or ``followings-feed.json``
    (``edge_follow``) page."""
    edges = []
    for account in accounts:
        pic = profile_pic_url(base, account)
        edges.append(
            {
                "node": {
                    "id": account.id,
                    "username": account.username_at(t),
                    "full_name": account.full_name,
                    "profile_pic_url": pic,
                    "is_private": account.is_private,
                    "is_verified": account.is_verified,
                    "followed_by_viewer": False,
                    "requested_by_viewer": False,
                    "reel": {
                        "id": account.id,
                        "expiring_at": int(t) + 86400,
                        "has_pride_media": False,
                        "latest_reel_media": 0,
                        "seen": None,
                        "owner": {
                            "__typename": "GraphUser",
                            "id": account.id,
                            "profile_pic_url": pic,
                            "username": account.username_at(t),
                        },
                    },
                }
            }
        )
    user: dict[str, Any] = {
        key: {
            "count": count,
            "page_info": {"has_next_page": end_cursor is not None, "end_cursor": end_cursor},
            "edges": edges,
        }
    }
    if key == "edge_followed_by":
        user["edge_mutual_followed_by"] = {"count": 0, "edges": []}
    return {"data": {"user": user}, "status": "ok"}
