"""TikTok web shapes of the sandbox, built from :class:`TikTokView` at a time.

The keys are those of the composed fixtures in ``tests/fixtures/tiktok`` (see their README for
where each name comes from) and of what :mod:`tagpulse.platforms.tiktok.parse` reads: the
envelope (``extra``, ``log_pb``, ``statusCode``/``status_code``, ``statusMsg``), challenge
detail (``challengeInfo.challenge``, ``stats`` rounded to three significant digits,
``statsV2`` exact strings), item lists (``itemList``, ``cursor``, ``hasMore``; an empty page has
no ``itemList``), user detail (``userInfo.user``/``stats``/``statsV2``) and the captcha wall
(``statusCode`` 10000, ``verifyConfig``). Images point at the sandbox itself
(``<base>/media/<pk>_<width>.jpg``). No I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tagpulse.platforms.sandbox.media_ids import IG_EPOCH_MS
from tagpulse.platforms.sandbox.social import SocialPost
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.tiktok_world import TikTokView

__all__ = [
    "captcha_payload",
    "challenge_detail_payload",
    "item",
    "item_list_payload",
    "not_found_user_payload",
    "post_cursor",
    "rounded",
    "user_detail_payload",
]

_REGIONS = {"en": "US", "fr": "FR", "es": "ES", "de": "DE", "pt": "BR", "ja": "JP"}


def rounded(count: int) -> int:
    """A count as ``stats`` shows it: cut to three significant digits (12834 -> 12800)."""
    if count < 1000:
        return count
    unit: int = 10 ** max(0, len(str(count)) - 3)
    return count // unit * unit


def _stats(counts: Mapping[str, int]) -> tuple[dict[str, int], dict[str, str]]:
    return {k: rounded(v) for k, v in counts.items()}, {k: str(v) for k, v in counts.items()}


def _envelope(now: float, code: int = 0) -> dict[str, Any]:
    millis = int(now * 1000)
    stamp = datetime.fromtimestamp(millis // 1000, tz=UTC).strftime("%Y%m%d%H%M%S")
    logid = stamp + hashlib.blake2b(str(millis).encode(), digest_size=11).hexdigest().upper()
    return {
        "extra": {"fatal_item_ids": [], "logid": logid, "now": millis},
        "log_pb": {"impr_id": logid},
        "statusCode": code,
        "statusMsg": "",
        "status_code": code,
        "status_msg": "",
    }


def captcha_payload(now: float) -> dict[str, Any]:
    """The captcha (verify) wall, as ``captcha-composed.json``."""
    verify = {"type": "verify", "subtype": "slide", "region": "va", "detail": "sandbox"}
    return {**_envelope(now, 10000), "verifyConfig": verify}


def not_found_user_payload(now: float) -> dict[str, Any]:
    """``api/user/detail/`` for a handle nobody has, as ``user-detail-not-found-composed.json``."""
    return {**_envelope(now, 10202), "shareMeta": {}, "userInfo": {}}


def challenge_detail_payload(view: TikTokView, tag: str, now: float) -> dict[str, Any]:
    if not view.knows(tag):
        info: dict[str, Any] = {"challenge": {}, "stats": {"videoCount": 0, "viewCount": 0}}
        return {**_envelope(now), "challengeInfo": info, "shareMeta": {}}
    challenge = {
        "id": view.challenge_id(tag),
        "title": tag,
        "desc": f"Show us your #{tag} ✨",
        "profileLarger": "",
        "profileMedium": "",
        "profileThumb": "",
        "coverLarger": "",
        "coverMedium": "",
        "coverThumb": "",
        "isCommerce": False,
    }
    info = {"challenge": challenge}
    if not view.count_hidden(tag):
        counts = {"videoCount": view.video_count(tag, now), "viewCount": view.view_count(tag, now)}
        info["stats"], info["statsV2"] = _stats(counts)
    share = {"desc": f"#{tag} on TikTok", "title": f"#{tag} | TikTok"}
    return {**_envelope(now), "challengeInfo": info, "shareMeta": share}


def _avatars(base: str, account: SocialAccount) -> dict[str, str]:
    return {
        "avatarLarger": f"{base}/media/u{account.pk}_1080.jpg",
        "avatarMedium": f"{base}/media/u{account.pk}_720.jpg",
        "avatarThumb": f"{base}/media/u{account.pk}_100.jpg",
    }


def _author(view: TikTokView, account: SocialAccount, now: float, base: str) -> dict[str, Any]:
    return {
        "id": view.user_id(account),
        "shortId": "",
        "uniqueId": account.username_at(now),
        "nickname": account.full_name,
        **_avatars(base, account),
        "signature": account.biography,
        "createTime": int(account.created_at),
        "verified": account.is_verified,
        "secUid": view.sec_uid(account),
        "ftc": False,
        "relation": 0,
        "openFavorite": False,
        "commentSetting": 0,
        "duetSetting": 0,
        "stitchSetting": 0,
        "privateAccount": account.is_private,
        "secret": account.is_private,
        "isADVirtual": False,
        "roomId": "",
        "downloadSetting": 0,
        "isEmbedBanned": False,
    }


def user_detail_payload(
    view: TikTokView, account: SocialAccount, now: float, base: str
) -> dict[str, Any]:
    user = _author(view, account, now, base)
    if account.external_url:
        user["bioLink"] = {"link": account.external_url.split("://", 1)[-1], "risk": 0}
    commerce: dict[str, Any] = {"commerceUser": account.is_business}
    if account.is_business and account.category_name:
        commerce["category"] = account.category_name
    user |= {
        "commerceUserInfo": commerce,
        "region": _REGIONS.get(account.language, "US"),
        "language": account.language,
        "ttSeller": False,
        "followingVisibility": 1,
        "nickNameModifyTime": int(account.created_at),
        "uniqueIdModifyTime": int(account.renamed_at or 0),
    }
    counts = view.user_stats(account, now)
    stats, stats_v2 = _stats(counts)
    handle = account.username_at(now)
    share = {
        "desc": f"@{handle} {counts['followerCount']} Followers, {counts['followingCount']} "
        f"Following, {counts['heartCount']} Likes",
        "title": f"{account.full_name} on TikTok",
    }
    info = {"user": user, "stats": stats, "statsV2": stats_v2, "itemList": []}
    return {**_envelope(now), "shareMeta": share, "userInfo": info}


def _text_extra(view: TikTokView, post: SocialPost) -> list[dict[str, Any]]:
    extra: list[dict[str, Any]] = []
    caption = post.caption
    cursor = 0
    for handle in post.mentions:
        start = caption.find(f"@{handle}", cursor)
        if start < 0:
            continue
        cursor = start + len(handle) + 1
        other = view.social.by_handle(handle)
        extra.append(
            {
                "awemeId": "",
                "start": start,
                "end": cursor,
                "hashtagName": "",
                "type": 0,
                "subType": 0,
                "userId": view.user_id(other) if other else "",
                "isCommerce": False,
                "userUniqueId": handle,
                "secUid": view.sec_uid(other) if other else "",
            }
        )
    for tag in post.hashtags:
        start = caption.find(f"#{tag}", cursor)
        if start < 0:
            continue
        cursor = start + len(tag) + 1
        extra.append(
            {
                "awemeId": "",
                "start": start,
                "end": cursor,
                "hashtagId": view.challenge_id(tag),
                "hashtagName": tag,
                "type": 1,
                "subType": 0,
                "userId": "",
                "isCommerce": False,
                "userUniqueId": "",
                "secUid": "",
            }
        )
    return extra


def _media(post: SocialPost, item_id: str, base: str) -> dict[str, Any]:
    cover = f"{base}/media/{post.pk}_720.jpg"
    video = {
        "id": item_id,
        "height": post.height,
        "width": post.width,
        "duration": max(1, round(post.video_duration)) if post.is_video else 10,
        "ratio": "720p",
        "cover": cover,
        "originCover": f"{base}/media/{post.pk}_1080.jpg",
        "dynamicCover": "",
        "playAddr": "",
        "downloadAddr": "",
        "format": "mp4",
        "definition": "720p",
        "codecType": "h264",
    }
    media: dict[str, Any] = {"video": video}
    if not post.is_video:
        # Photo posts: the picture (or each carousel child) in imagePost.
        pks = [post.pk + i for i in range(1, len(post.children) + 1)] or [post.pk]
        images = [
            {
                "imageURL": {"urlList": [f"{base}/media/{pk}_1080.jpg"]},
                "imageWidth": post.width,
                "imageHeight": post.height,
            }
            for pk in pks
        ]
        media["imagePost"] = {
            "images": images,
            "cover": {"imageURL": {"urlList": [cover]}},
            "title": "",
        }
    return media


def item(view: TikTokView, post: SocialPost, now: float, base: str) -> dict[str, Any]:
    """One post as an ``itemList`` entry, its counts as of ``now``."""
    owner = view.social.accounts[post.owner]
    item_id = view.item_id(post)
    stats, stats_v2 = _stats(view.post_stats(post, now))
    author_stats, author_stats_v2 = _stats(view.user_stats(owner, now))
    challenges = [
        {"id": view.challenge_id(tag), "title": tag, "desc": "", "isCommerce": False}
        for tag in post.hashtags
    ]
    music = {
        "id": str(7_000_000_000_000_000_000 + post.pk % 10**17),
        "title": f"original sound - {owner.username_at(post.taken_at)}",
        "authorName": owner.full_name,
        "original": True,
        "duration": max(1, round(post.video_duration)) if post.is_video else 10,
        "album": "",
    }
    return {
        "id": item_id,
        "desc": post.caption,
        "createTime": post.taken_at,
        "scheduleTime": 0,
        **_media(post, item_id, base),
        "author": _author(view, owner, now, base),
        "authorStats": author_stats,
        "authorStatsV2": author_stats_v2,
        "music": music,
        "challenges": challenges,
        "stats": stats,
        "statsV2": stats_v2,
        "textExtra": _text_extra(view, post),
        "textLanguage": post.language,
        "isAd": False,
        "locationCreated": _REGIONS.get(post.language, "US"),
        "privateItem": False,
        "secret": False,
        "duetEnabled": True,
        "stitchEnabled": True,
        "shareEnabled": True,
        "itemCommentStatus": 3 if post.comments_disabled else 0,
    }


def post_cursor(post: SocialPost) -> int:
    """The cursor after ``post`` in a user's item list: its creation, epoch milliseconds."""
    return (post.pk >> 23) + IG_EPOCH_MS


def item_list_payload(
    items: list[dict[str, Any]], cursor: str, more: bool, now: float
) -> dict[str, Any]:
    """An item list page; an empty one has no ``itemList``, as TikTok sends it."""
    page: dict[str, Any] = {**_envelope(now), "cursor": cursor, "hasMore": more}
    if items:
        page["itemList"] = items
    return page
