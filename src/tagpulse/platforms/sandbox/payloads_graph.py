"""Response shapes of the sandbox's Instagram Graph API, built from the social world at a time.

The shapes follow the recorded answers in ``tests/fixtures/instagram_graph`` (python-facebook's
test data: ``hashtag_search.json``, ``hashtag_recent_medias_p1.json``,
``discovery_user_default.json``, ``discovery_medias_p1.json``) and Meta's documented fields;
error bodies follow ``error.json`` (``{"error": {"message", "type": "OAuthException", "code",
"error_subcode", "fbtrace_id"}}``). Only the fields a request asks for are returned, as the API
does. Ids: a post's Graph media id is its web ``pk``; an account's IG user id is
:func:`graph_user_id` (``178414`` + its ``pk``), its ``ig_id`` the ``pk``. No I/O here.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tagpulse.platforms.sandbox.payloads import shortcode_from_pk
from tagpulse.platforms.sandbox.payloads_user import image_url, profile_pic_url
from tagpulse.platforms.sandbox.social import SocialPost, SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount

__all__ = [
    "HASHTAG_MEDIA_FIELDS_ALLOWED",
    "PROFILE_FIELDS_ALLOWED",
    "Field",
    "app_usage_header",
    "graph_error",
    "graph_media",
    "graph_profile",
    "graph_time",
    "graph_user_id",
]

HASHTAG_MEDIA_FIELDS_ALLOWED = frozenset(
    {
        "id",
        "caption",
        "children",
        "comments_count",
        "like_count",
        "media_type",
        "media_product_type",
        "media_url",
        "permalink",
        "timestamp",
    }
)
"""What hashtag media answer (``username`` and ``owner`` are refused, as documented)."""
PROFILE_MEDIA_FIELDS_ALLOWED = HASHTAG_MEDIA_FIELDS_ALLOWED | {"username", "is_comment_enabled"}
PROFILE_FIELDS_ALLOWED = frozenset(
    {
        "id",
        "ig_id",
        "username",
        "name",
        "biography",
        "website",
        "profile_picture_url",
        "followers_count",
        "follows_count",
        "media_count",
        "media",
    }
)
_MEDIA_TYPE = {"image": "IMAGE", "video": "VIDEO", "carousel": "CAROUSEL_ALBUM", "reel": "VIDEO"}
_PRODUCT_TYPE = {"image": "FEED", "video": "FEED", "carousel": "FEED", "reel": "REELS"}


@dataclass(frozen=True, slots=True)
class Field:
    """One entry of a ``fields`` parameter: ``name.mod(arg)...{children}``."""

    name: str
    modifiers: tuple[tuple[str, str], ...] = ()
    children: tuple[Field, ...] | None = None

    def modifier(self, name: str) -> str | None:
        for key, value in self.modifiers:
            if key == name:
                return value
        return None


def graph_user_id(account: SocialAccount) -> str:
    """The IG user id the Graph API shows for an in-world account."""
    return f"178414{account.pk:011d}"


def graph_time(epoch: float) -> str:
    """``2021-08-17T19:00:42+0000``, the Graph API's way of writing a time."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _trace_id(*parts: object) -> str:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=17).digest()
    return "A" + digest.hex()[:22]


def graph_error(
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    transient: bool = False,
    title: str | None = None,
    user_msg: str | None = None,
    trace: object = "",
) -> dict[str, Any]:
    """A Graph API error body."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["is_transient"] = transient
    if title is not None:
        error["error_user_title"] = title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = _trace_id(message, code, trace)
    return {"error": error}


def app_usage_header(calls: int, limit: int) -> str:
    """``X-App-Usage``: percentages of the app's hourly budget used (cpu and time run lower)."""
    percent = math.ceil(100 * calls / limit) if limit > 0 else 100
    return orjson.dumps(
        {
            "call_count": percent,
            "total_cputime": math.ceil(percent * 0.3),
            "total_time": math.ceil(percent * 0.45),
        }
    ).decode()


def _child_media(
    post: SocialPost, account: SocialAccount, base: str, wanted: Sequence[Field]
) -> dict[str, Any]:
    children = []
    for index, child_type in enumerate(post.children):
        pk = post.pk + 1 + index
        child: dict[str, Any] = {}
        for item in wanted:
            if item.name == "media_url":
                child["media_url"] = image_url(base, pk, 1080)
            elif item.name == "media_type":
                child["media_type"] = "VIDEO" if child_type == 2 else "IMAGE"
            elif item.name == "permalink":
                child["permalink"] = f"https://www.instagram.com/p/{shortcode_from_pk(pk)}/"
            elif item.name == "timestamp":
                child["timestamp"] = graph_time(post.taken_at)
        child["id"] = str(pk)
        children.append(child)
    return {"data": children}


def graph_media(
    world: SocialWorld, post: SocialPost, t: float, base: str, fields: Sequence[Field]
) -> dict[str, Any]:
    """One IG Media object with the requested fields, as it stands at ``t``."""
    account = world.accounts[post.owner]
    code = shortcode_from_pk(post.pk)
    media: dict[str, Any] = {}
    for item in fields:
        name = item.name
        if name == "id":
            media["id"] = str(post.pk)
        elif name == "caption" and post.caption:
            media["caption"] = post.caption
        elif name == "media_type":
            media["media_type"] = _MEDIA_TYPE[post.kind]
        elif name == "media_product_type":
            media["media_product_type"] = _PRODUCT_TYPE[post.kind]
        elif name == "comments_count":
            media["comments_count"] = world.comment_count(post, t)
        elif name == "like_count" and not post.likes_hidden:
            # Omitted when the owner hides like counts.
            media["like_count"] = world.like_count(post, t)
        elif name == "permalink":
            kind = "reel" if post.kind == "reel" else "p"
            media["permalink"] = f"https://www.instagram.com/{kind}/{code}/"
        elif name == "timestamp":
            media["timestamp"] = graph_time(post.taken_at)
        elif name == "media_url":
            if post.is_video:
                media["media_url"] = f"{base}/media/{post.pk}.mp4"
            elif not post.children:
                media["media_url"] = image_url(base, post.pk, 1080)
        elif name == "children" and post.children:
            media["children"] = _child_media(post, account, base, item.children or ())
        elif name == "username":
            media["username"] = account.username_at(t)
        elif name == "is_comment_enabled":
            media["is_comment_enabled"] = not post.comments_disabled
    media.setdefault("id", str(post.pk))
    return media


def graph_profile(
    world: SocialWorld,
    account: SocialAccount,
    t: float,
    base: str,
    fields: Sequence[Field],
    media: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``business_discovery`` object of an account at ``t``; ``media`` is its media edge
    (already built: it needs the request's paging)."""
    values: dict[str, Any] = {
        "id": graph_user_id(account),
        "ig_id": account.pk,
        "username": account.username_at(t),
        "name": account.full_name,
        "biography": account.biography,
        "website": account.external_url,
        "profile_picture_url": profile_pic_url(base, account),
        "followers_count": world.follower_count(account, t),
        "follows_count": world.following_count(account, t),
        "media_count": world.post_count(account, t),
    }
    found: dict[str, Any] = {}
    for item in fields:
        if item.name == "media":
            if media is not None:
                found["media"] = media
        elif values.get(item.name) is not None:
            found[item.name] = values[item.name]
    found.setdefault("id", values["id"])
    return found
