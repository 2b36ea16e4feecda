"""Response shapes of the sandbox: media items, graphql nodes, envelopes and error bodies.

The shapes copy the recorded payloads in ``shared/fixtures/instagram_web`` (``media.json`` for
api/v1 media items, ``hashtag.json`` for graphql nodes, ``checkpoint/*`` and
``medias-error.json`` for the failures), so that the same parsers read the sandbox and the real
platform. It also names the failures the sandbox can inject (:class:`FaultConfig`). Nothing
here does I/O; randomness comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tagpulse.errors import ConfigError

__all__ = [
    "APP_ID",
    "FAULT_KINDS",
    "LANGUAGES",
    "MALFORMED_BODY",
    "NOT_FOUND_BODY",
    "RATE_LIMIT_BODY",
    "USERAGENT_MISMATCH_BODY",
    "WAIT_401_BODY",
    "Author",
    "FaultConfig",
    "checkpoint_body",
    "fault_kind",
    "graphql_node",
    "hashtag_id",
    "ig_media_pk",
    "legacy_hashtag_payload",
    "make_caption",
    "media_item",
    "shortcode_from_pk",
    "web_info_payload",
]

FAULT_KINDS: tuple[str, ...] = (
    "429",
    "401",
    "login",
    "checkpoint",
    "reset",
    "truncated",
    "malformed",
)
"""Short names of the injectable failures, in the order FaultConfig lists them."""

_FIELD_TO_KIND = {
    "rate_limit_429": "429",
    "wait_401": "401",
    "login_redirect": "login",
    "checkpoint": "checkpoint",
    "connection_reset": "reset",
    "truncated_json": "truncated",
    "malformed_json": "malformed",
}


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Probability, per authenticated data request, of each injected failure (seeded)."""

    rate_limit_429: float = 0.0
    wait_401: float = 0.0
    login_redirect: float = 0.0
    checkpoint: float = 0.0
    connection_reset: float = 0.0
    truncated_json: float = 0.0
    malformed_json: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        total = 0.0
        for name in _FIELD_TO_KIND:
            p = float(getattr(self, name))
            if not 0.0 <= p <= 1.0:
                raise ConfigError(f"FaultConfig.{name} = {p}: a probability must be in [0, 1]")
            total += p
        if total > 1.0 + 1e-9:
            raise ConfigError(f"FaultConfig probabilities add up to {total:.3f}; keep them <= 1")

    def weighted_kinds(self) -> list[tuple[str, float]]:
        return [(kind, float(getattr(self, name))) for name, kind in _FIELD_TO_KIND.items()]


def fault_kind(kind: str) -> str:
    """The short name (FAULT_KINDS) of a fault given by short or FaultConfig field name."""
    kind = _FIELD_TO_KIND.get(kind, kind)
    if kind not in FAULT_KINDS:
        raise ConfigError(
            f"unknown fault {kind!r}: use one of {list(FAULT_KINDS)} or a FaultConfig field name"
        )
    return kind


APP_ID = "936619743392459"
"""The web app id real clients send as ``X-IG-App-ID``."""

RATE_LIMIT_BODY: dict[str, Any] = {
    "message": "Please wait a few minutes before you try again.",
    "status": "fail",
}
WAIT_401_BODY: dict[str, Any] = {
    "message": "Please wait a few minutes before you try again.",
    "require_login": True,
    "status": "fail",
}
USERAGENT_MISMATCH_BODY: dict[str, Any] = {"message": "useragent mismatch", "status": "fail"}
NOT_FOUND_BODY: dict[str, Any] = {"message": "Page not found", "status": "fail"}
MALFORMED_BODY = b"{error}"
"""What the platform sometimes answers with status 200 (``medias-error.json``)."""

# Instagram media ids are (milliseconds since this epoch) << 23 | shard << 10 | sequence.
_IG_EPOCH_MS = 1314220021721
_SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_CDN = "https://scontent.sandbox.invalid"

_EMOJI = (
    "✨",
    "❤️",
    "🔥",
    "😍",
    "🙌",
    "📸",
    "🌅",
    "🎉",
    "💯",
    "😂",
    "🥰",
    "🌍",
    "👟",
    "☀️",
    "🙏",
)
_EXTRA_TAGS = (
    "love",
    "instagood",
    "photooftheday",
    "travel",
    "style",
    "happy",
    "weekend",
    "friends",
    "nofilter",
    "art",
)
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": (
        "Golden hour never gets old {e} #{tag}",
        "Weekend vibes {e}{e} #{tag} #{x}",
        "Can't believe this view {e} #{tag}",
        "New drop, who's in? {e} #{tag} #{x} #{y}",
        "Throwback to the best day ever {e} #{tag}",
    ),
    "fr": (
        "Quelle belle journée {e} #{tag}",
        "Toujours aussi magique {e} #{tag} #{x}",
        "Un moment hors du temps {e}{e} #{tag}",
        "On y retourne quand ? {e} #{tag} #{x}",
    ),
    "es": (
        "Qué día tan bonito {e} #{tag}",
        "No hay nada mejor que esto {e}{e} #{tag} #{x}",
        "Recuerdos que no se olvidan {e} #{tag}",
    ),
    "de": (
        "Was für ein schöner Tag {e} #{tag}",
        "Einfach unvergesslich {e}{e} #{tag} #{x}",
        "Mehr davon, bitte! {e} #{tag}",
    ),
}
LANGUAGES: tuple[str, ...] = tuple(_TEMPLATES)

_TYPENAMES = {1: "GraphImage", 2: "GraphVideo", 8: "GraphSidecar"}
_PRODUCT_TYPES = {1: "feed", 2: "clips", 8: "carousel_container"}


@dataclass(frozen=True, slots=True)
class Author:
    """A public account of the world that posts under hashtags."""

    pk: int
    username: str
    full_name: str
    is_private: bool
    is_verified: bool
    follower_count: int
    language: str

    def user_dict(self) -> dict[str, Any]:
        return {
            "pk": self.pk,
            "username": self.username,
            "full_name": self.full_name,
            "is_private": self.is_private,
            "is_verified": self.is_verified,
            "profile_pic_url": f"{_CDN}/v/t51.2885-19/{self.pk}_s150x150.jpg",
            "profile_pic_id": f"{self.pk}0001_{self.pk}",
            "has_anonymous_profile_picture": False,
            "is_unpublished": False,
            "is_favorite": False,
        }


def ig_media_pk(taken_at: float, rng: random.Random) -> int:
    """A media id shaped like Instagram's: time-ordered, 19 digits in this decade."""
    millis = max(0, int(taken_at * 1000) - _IG_EPOCH_MS)
    return (millis << 23) | (rng.randrange(1 << 13) << 10) | rng.randrange(1 << 10)


def shortcode_from_pk(pk: int) -> str:
    """The shortcode is the media id in base64url, padded with 'A' (zero) to 11 characters."""
    chars: list[str] = []
    while pk > 0:
        pk, digit = divmod(pk, 64)
        chars.append(_SHORTCODE_ALPHABET[digit])
    return "".join(reversed(chars)).rjust(11, "A")


def hashtag_id(seed_value: int) -> str:
    """A hashtag id like ``17841562894101784`` (17 digits, fixed prefix)."""
    return f"17841{seed_value % 10**12:012d}"


def make_caption(rng: random.Random, tag: str, language: str) -> str:
    template = rng.choice(_TEMPLATES.get(language, _TEMPLATES["en"]))
    x, y = rng.sample(_EXTRA_TAGS, 2)
    # Each {e} gets its own emoji: format() would repeat one value.
    parts = template.split("{e}")
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(_EMOJI) + part
    return text.replace("{tag}", tag).replace("{x}", x).replace("{y}", y)


def _candidates(media_key: str, width: int, height: int) -> dict[str, Any]:
    sizes = [width, 750, 640, 480, 320]
    return {
        "candidates": [
            {
                "width": w,
                "height": round(height * w / width),
                "url": f"{_CDN}/v/t51.2885-15/{media_key}_n.jpg?stp=dst-jpg_s{w}x{w}",
            }
            for w in sizes
        ]
    }


def media_item(
    rng: random.Random,
    tag: str,
    author: Author,
    taken_at: int,
    language: str,
    popularity: float,
) -> dict[str, Any]:
    """One api/v1 media item (the shape of an entry of ``media.json``'s ``items``)."""
    media_type = rng.choices((1, 2, 8), weights=(0.55, 0.25, 0.2))[0]
    pk = ig_media_pk(taken_at, rng)
    width, height = rng.choice(((1080, 1080), (1080, 1350), (1080, 566)))
    reach = max(10.0, author.follower_count * popularity)
    like_count = int(reach * rng.uniform(0.01, 0.08))
    comment_count = int(like_count * rng.uniform(0.005, 0.05))
    text = make_caption(rng, tag, language)
    user = author.user_dict()
    item: dict[str, Any] = {
        "taken_at": taken_at,
        "pk": pk,
        "id": f"{pk}_{author.pk}",
        "device_timestamp": taken_at * 1_000_000 + rng.randrange(1_000_000),
        "media_type": media_type,
        "code": shortcode_from_pk(pk),
        "client_cache_key": f"{pk}.2",
        "filter_type": 0,
        "product_type": _PRODUCT_TYPES[media_type],
        "user": user,
        "can_viewer_reshare": True,
        "caption_is_edited": False,
        "like_and_view_counts_disabled": False,
        "comment_likes_enabled": True,
        "comment_count": comment_count,
        "like_count": like_count,
        "has_liked": False,
        "top_likers": [],
        "photo_of_you": False,
        "caption": {
            "pk": pk + 1,
            "user_id": author.pk,
            "text": text,
            "type": 1,
            "created_at": taken_at,
            "created_at_utc": taken_at,
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
        "original_width": width,
        "original_height": height,
        "image_versions2": _candidates(str(pk), width, height),
        "deleted_reason": 0,
    }
    if media_type == 2:
        play_count = int(reach * rng.uniform(0.2, 1.5))
        item["view_count"] = int(play_count * rng.uniform(0.6, 0.9))
        item["play_count"] = play_count
        item["video_duration"] = round(rng.uniform(5.0, 60.0), 3)
        item["has_audio"] = True
        item["video_versions"] = [
            {
                "type": 101,
                "width": width,
                "height": height,
                "url": f"{_CDN}/o1/v/t16/{pk}_n.mp4",
                "id": str(pk + 2),
            }
        ]
    elif media_type == 8:
        children = []
        for index in range(rng.randint(2, 5)):
            child_pk = pk + 10 + index
            child_type = 2 if rng.random() < 0.2 else 1
            children.append(
                {
                    "id": f"{child_pk}_{author.pk}",
                    "pk": child_pk,
                    "media_type": child_type,
                    "original_width": width,
                    "original_height": height,
                    "image_versions2": _candidates(str(child_pk), width, height),
                    "carousel_parent_id": f"{pk}_{author.pk}",
                }
            )
        item["carousel_media_count"] = len(children)
        item["carousel_media"] = children
    return item


def graphql_node(item: dict[str, Any]) -> dict[str, Any]:
    """The legacy graphql node (``hashtag.json``) for an api/v1 media item."""
    media_type = int(item["media_type"])
    best = item["image_versions2"]["candidates"][0]
    node: dict[str, Any] = {
        "comments_disabled": False,
        "__typename": _TYPENAMES[media_type],
        "id": str(item["pk"]),
        "edge_media_to_caption": {"edges": [{"node": {"text": item["caption"]["text"]}}]},
        "shortcode": item["code"],
        "edge_media_to_comment": {"count": item["comment_count"]},
        "taken_at_timestamp": item["taken_at"],
        "dimensions": {"height": best["height"], "width": best["width"]},
        "display_url": best["url"],
        "edge_liked_by": {"count": item["like_count"]},
        "edge_media_preview_like": {"count": item["like_count"]},
        "owner": {"id": str(item["user"]["pk"])},
        "thumbnail_src": item["image_versions2"]["candidates"][-1]["url"],
        "is_video": media_type == 2,
    }
    if media_type == 2:
        node["video_view_count"] = item["view_count"]
    return node


def _grid_sections(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    # The web client lays medias out in rows of three, one section per row.
    return [
        {
            "layout_type": "media_grid",
            "layout_content": {"medias": [{"media": item} for item in items[i : i + 3]]},
        }
        for i in range(0, len(items), 3)
    ]


def _formatted(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 10_000:
        return f"{count / 1_000:.1f}K"
    return f"{count:,}"


def web_info_payload(
    tag_id: str,
    tag: str,
    count: int | None,
    top: Sequence[dict[str, Any]],
    recent: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """``/api/v1/tags/web_info/``; a tag whose count the platform hides has no media_count."""
    data: dict[str, Any] = {
        "id": tag_id,
        "name": tag,
        "allow_following": True,
        "is_following": False,
        "profile_pic_url": f"{_CDN}/v/t51.2885-15/{tag_id}_s150x150.jpg",
    }
    if count is not None:
        data["media_count"] = count
        data["formatted_media_count"] = _formatted(count)
    data["top"] = {
        "sections": _grid_sections(top),
        "more_available": True,
        "next_max_id": f"QVFB{tag_id}",
        "next_page": 1,
    }
    data["recent"] = {
        "sections": _grid_sections(recent),
        "more_available": True,
        "next_max_id": f"QVFC{tag_id}",
        "next_page": 1,
    }
    return {"data": data, "status": "ok"}


def legacy_hashtag_payload(
    tag_id: str,
    tag: str,
    count: int | None,
    recent: Sequence[dict[str, Any]],
    top: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """``/explore/tags/<tag>/?__a=1`` (legacy graphql shape)."""
    media: dict[str, Any] = {}
    if count is not None:
        media["count"] = count
    media["page_info"] = {"has_next_page": True, "end_cursor": f"QVFE{tag_id}"}
    media["edges"] = [{"node": graphql_node(item)} for item in recent]
    return {
        "graphql": {
            "hashtag": {
                "id": tag_id,
                "name": tag,
                "allow_following": True,
                "is_following": False,
                "is_top_media_only": False,
                "profile_pic_url": f"{_CDN}/v/t51.2885-15/{tag_id}_s150x150.jpg",
                "edge_hashtag_to_media": media,
                "edge_hashtag_to_top_posts": {
                    "edges": [{"node": graphql_node(item)} for item in top]
                },
                "edge_hashtag_to_content_advisory": {"count": 0, "edges": []},
            }
        }
    }


def checkpoint_body(account_pk: int, token: str, *, lock: bool) -> dict[str, Any]:
    return {
        "message": "checkpoint_required",
        "checkpoint_url": f"/challenge/{account_pk}/{token}/",
        "lock": lock,
        "status": "fail",
    }
