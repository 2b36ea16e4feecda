"""Instagram accounts -> :class:`Profile` records, the posts they list and their follow graph.

User shapes (one reader covers them, since they differ only in key names):

* graphql user: ``web_profile_info`` ``data.user``, legacy ``?__a=1`` ``graphql.user``, and
  the flattened variant scrapers write (``"edge_followed_by": 4341402``, a top-level ``posts``
  list);
* mobile ``users/<id>/info`` ``user`` (``follower_count``, ``media_count``);
* the 2017 ``?__a=1`` ``user`` (``followed_by.count``, ``media.nodes[]``);
* the retired official API v1: ``users/self`` ``data`` (``counts``) and ``media/recent``;
* graphql pages of one user: ``edge_owner_to_timeline_media``, ``edge_felix_video_timeline``
  (igtv), ``edge_user_to_photos_of_you`` (tagged), ``edge_followed_by`` / ``edge_follow``
  (followers / followings), ``edge_chaining`` (suggested accounts), ``reel.user`` (id lookup);
* the owners of stories (``data.reels_media``) and of a live broadcast.

Pure functions: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagpulse.platforms.instagram.parse_common import (
    PLATFORM,
    Ctx,
    Hints,
    add_post_edges,
    as_list,
    as_mapping,
    bool_or_none,
    count_of,
    dig,
    edge_nodes,
    extract_hashtags,
    extract_mentions,
    first_present,
    make_edge,
    next_cursor,
    post_url,
    put_scalar,
    str_or_none,
    text_or_none,
    timestamp,
    user_key,
)
from tagpulse.platforms.instagram.parse_media import collect_api_item, collect_graphql_post
from tagpulse.records import MediaType, ParsedRecords, Post, Profile, ProfileState

__all__ = [
    "collect_official_media",
    "collect_user",
    "collect_user_payload",
    "is_user_object",
    "parse_profile",
]

_IDENTITY_KEYS = ("id", "pk", "username")
_PROFILE_KEYS = (
    "edge_followed_by",
    "follower_count",
    "followed_by",
    "edge_follow",
    "following_count",
    "follows",
    "media_count",
    "edge_owner_to_timeline_media",
    "biography",
    "full_name",
)
_PROFILE_EXTRA = (
    "fbid",
    "is_professional_account",
    "business_category_name",
    "highlight_reel_count",
    "has_clips",
    "hide_like_and_view_counts",
    "is_joined_recently",
    "account_type",
    "usertags_count",
    "total_clips_count",
)
_OFFICIAL_TYPES: dict[str, MediaType] = {"image": "image", "video": "video", "carousel": "carousel"}
# key of the connection, seen_via suffix, whether the listed posts belong to the user
_POST_LISTINGS = (
    ("edge_owner_to_timeline_media", "", True),
    ("edge_felix_video_timeline", ":igtv", True),
    ("edge_user_to_photos_of_you", ":tagged", False),
)
# key of the connection, context word, direction of "follows" relative to the user (None: no
# edge, only profiles), whether to keep a profile per listed account
_ACCOUNT_LISTINGS = (
    ("edge_followed_by", "followers", "in", True),
    ("edge_mutual_followed_by", "mutual_followers", "in", False),
    ("edge_follow", "following", "out", True),
    ("edge_chaining", "chaining", None, True),
    ("edge_related_profiles", "related", None, True),
)


def _has_identity(obj: Mapping[str, Any]) -> bool:
    return any(str_or_none(obj.get(key)) for key in _IDENTITY_KEYS)


def is_user_object(obj: Any) -> bool:
    """A mapping that describes one account: an identity plus profile fields."""
    return (
        isinstance(obj, Mapping) and _has_identity(obj) and any(key in obj for key in _PROFILE_KEYS)
    )


def parse_profile(
    user: Mapping[str, Any], ctx: Ctx, hints: Hints, *, has_posts: bool = False
) -> Profile | None:
    """One user object (any shape above) as a :class:`Profile`; ``None`` + warning without a
    handle. ``has_posts`` says whether the payload listed posts (a private account has none)."""
    warnings = ctx.warnings
    handle = str_or_none(user.get("username"))
    user_id = str_or_none(first_present(user, "id", "pk", "pk_id"))
    if not handle:
        handle = hints.handle
        if not handle:
            warnings.append(f"user {user_id or '?'} without username skipped")
            return None
    what = f"profile {handle}"
    counts = as_mapping(user.get("counts"))
    followers = first_present(user, "edge_followed_by", "follower_count", "followed_by")
    following = first_present(user, "edge_follow", "following_count", "follows")
    posts = first_present(user, "edge_owner_to_timeline_media", "media_count", "media")
    is_private = bool_or_none(user.get("is_private"), f"{what} is_private", warnings)
    extra: dict[str, Any] = {}
    state: ProfileState = "ok"
    if hints.handle and handle.lower() != hints.handle:
        state = "renamed"
        extra["asked_handle"] = hints.handle
    elif is_private and not has_posts:
        state = "private"
    for key in _PROFILE_EXTRA:
        put_scalar(extra, key, user.get(key))
    igtv = first_present(user, "edge_felix_video_timeline", "total_igtv_videos")
    put_scalar(extra, "igtv_count", count_of(igtv, f"{what} igtv count", warnings))
    pronouns = [p for p in as_list(user.get("pronouns")) if isinstance(p, str)]
    if pronouns:
        extra["pronouns"] = pronouns
    return Profile(
        platform=PLATFORM,
        user_id=user_id,
        handle=handle,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        name=str_or_none(user.get("full_name")),
        bio=str_or_none(first_present(user, "biography", "bio")),
        followers=count_of(
            counts.get("followed_by") if followers is None else followers,
            f"{what} followers",
            warnings,
        ),
        following=count_of(
            counts.get("follows") if following is None else following,
            f"{what} following",
            warnings,
        ),
        posts_count=count_of(
            counts.get("media") if posts is None else posts, f"{what} posts count", warnings
        ),
        is_private=is_private,
        is_verified=bool_or_none(user.get("is_verified"), f"{what} is_verified", warnings),
        is_business=bool_or_none(
            first_present(user, "is_business_account", "is_business"),
            f"{what} is_business",
            warnings,
        ),
        category=str_or_none(first_present(user, "category_name", "category")),
        external_url=str_or_none(first_present(user, "external_url", "website")) or None,
        profile_pic_url=str_or_none(
            first_present(user, "profile_pic_url_hd", "profile_pic_url", "profile_picture")
        )
        or str_or_none(dig(user, "hd_profile_pic_url_info", "url")),
        state=state,
        extra=extra,
    )


def _listed_profile(node: Mapping[str, Any], ctx: Ctx, context: str) -> Profile | None:
    """The few fields a followers/followings/suggestions list gives about an account."""
    handle = str_or_none(node.get("username"))
    if not handle:
        return None
    what = f"profile {handle}"
    return Profile(
        platform=PLATFORM,
        user_id=str_or_none(first_present(node, "id", "pk")),
        handle=handle,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        name=str_or_none(node.get("full_name")),
        is_private=bool_or_none(node.get("is_private"), f"{what} is_private", ctx.warnings),
        is_verified=bool_or_none(node.get("is_verified"), f"{what} is_verified", ctx.warnings),
        profile_pic_url=str_or_none(node.get("profile_pic_url")),
        extra={"partial": True, "seen_via": context},
    )


def _add_accounts(
    out: ParsedRecords, ctx: Ctx, user: Mapping[str, Any], me: str | None, my_handle: str | None
) -> None:
    """Followers, followings and suggested accounts: ``follows`` edges and minimal profiles."""
    label = my_handle or me or "?"
    for key, context, direction, with_profiles in _ACCOUNT_LISTINGS:
        nodes = list(edge_nodes(user.get(key)))
        if direction is not None and me is None and nodes:
            ctx.warnings.append(
                f"{key}: {len(nodes)} accounts listed but whose is unknown "
                "(pass hint_handle or hint_user_id); edges skipped"
            )
        for node in nodes:
            profile = _listed_profile(node, ctx, f"{context}:{label}") if with_profiles else None
            if profile is not None:
                out.profiles.append(profile)
            handle = str_or_none(node.get("username"))
            other = user_key(str_or_none(first_present(node, "id", "pk")), handle)
            if other is None or me is None or direction is None:
                continue
            src, dst, src_handle, dst_handle = (
                (other, me, handle, my_handle)
                if direction == "in"
                else (me, other, my_handle, handle)
            )
            out.edges.append(
                make_edge(
                    ctx,
                    "follows",
                    src,
                    dst,
                    src_handle=src_handle,
                    dst_handle=dst_handle,
                    post_id=None,
                )
            )
        out.next_cursor = out.next_cursor or next_cursor(user.get(key))


def _listed_posts(
    out: ParsedRecords,
    ctx: Ctx,
    user: Mapping[str, Any],
    hints: Hints,
    my_id: str | None,
    my_handle: str | None,
) -> int:
    """The posts a user payload lists (graphql connections, the 2017 ``media.nodes``, a
    scraper's ``posts`` list); returns how many. Sets ``out.next_cursor``."""
    count = 0
    me = user_key(my_id, my_handle)
    listed: set[str | None] = set()  # an igtv video is in the timeline too: observe it once
    for key, suffix, owned in _POST_LISTINGS:
        connection = user.get(key)
        nodes = [n for n in edge_nodes(connection) if str_or_none(n.get("id")) not in listed]
        listed.update(str_or_none(node.get("id")) for node in nodes)
        listed.discard(None)
        handle = my_handle
        if handle is None and owned and nodes:
            handle = str_or_none(dig(nodes[0], "owner", "username"))
        seen_via = hints.seen_via or (f"profile:{handle}{suffix}" if handle else None)
        for node in nodes:
            post = collect_graphql_post(
                out,
                ctx,
                node,
                seen_via,
                owner_id=my_id if owned else None,
                owner_handle=my_handle if owned else None,
            )
            if post is None:
                continue
            count += 1
            owner = user_key(post.owner_id, post.owner_handle)
            own_post = owner == me or (
                my_handle is not None and (post.owner_handle or "").lower() == my_handle.lower()
            )
            # A post in someone's "tagged" tab tags them, whether or not it lists its usertags.
            if (
                not owned
                and not own_post
                and me is not None
                and owner is not None
                and not any(e.post_id == post.post_id and e.dst == me for e in out.edges)
            ):
                out.edges.append(
                    make_edge(
                        ctx,
                        "tagged",
                        owner,
                        me,
                        src_handle=post.owner_handle,
                        dst_handle=my_handle,
                        post_id=post.post_id,
                    )
                )
        out.next_cursor = out.next_cursor or next_cursor(connection)
    seen_via = hints.seen_via or (f"profile:{my_handle}" if my_handle else None)
    legacy_media = user.get("media")
    if isinstance(legacy_media, Mapping) and isinstance(legacy_media.get("nodes"), list):
        for node in legacy_media["nodes"]:
            if isinstance(node, Mapping):
                post = collect_graphql_post(
                    out, ctx, node, seen_via, owner_id=my_id, owner_handle=my_handle
                )
                count += post is not None
        out.next_cursor = out.next_cursor or next_cursor(legacy_media)
    for item in as_list(user.get("posts")):
        if not isinstance(item, Mapping):
            ctx.warnings.append("posts[]: entry is not an object, skipped")
            continue
        if any(key in item for key in ("shortcode", "taken_at_timestamp", "__typename")):
            post = collect_graphql_post(
                out, ctx, item, seen_via, owner_id=my_id, owner_handle=my_handle
            )
        else:
            post = collect_api_item(
                out, ctx, item, seen_via, owner_id=my_id, owner_handle=my_handle
            )
        count += post is not None
    return count


def collect_user(out: ParsedRecords, ctx: Ctx, user: Mapping[str, Any], hints: Hints) -> None:
    """Everything one graphql/mobile/2017/flattened user object holds."""
    identity: Mapping[str, Any] = user
    reel_user = dig(user, "reel", "user")
    if not _has_identity(user) and isinstance(reel_user, Mapping):
        # The id lookup answers only reel.user (id and username).
        identity = reel_user
    my_id = str_or_none(first_present(identity, "id", "pk")) or hints.user_id
    my_handle = str_or_none(identity.get("username")) or hints.handle
    before = len(out.profiles)
    n_posts = _listed_posts(out, ctx, user, hints, my_id, my_handle)
    _add_accounts(out, ctx, user, user_key(my_id, my_handle), my_handle)
    if _has_identity(identity):
        profile = parse_profile(identity, ctx, hints, has_posts=n_posts > 0)
        if profile is not None:
            if identity is not user:
                profile.extra["partial"] = True
            out.profiles.insert(before, profile)


def collect_official_media(
    out: ParsedRecords, ctx: Ctx, item: Mapping[str, Any], seen_via: str | None
) -> Post | None:
    """A retired official API v1 media item (``users/self/media/recent``)."""
    full_id = str_or_none(item.get("id"))
    if not full_id:
        ctx.warnings.append("official API media item without id skipped")
        return None
    post_id, _, id_owner = full_id.partition("_")
    what = f"post {post_id}"
    user = as_mapping(item.get("user"))
    link = str_or_none(item.get("link"))
    shortcode = None
    if link and "/p/" in link:
        shortcode = link.split("/p/", 1)[1].strip("/").split("/", 1)[0] or None
    text = text_or_none(dig(item, "caption", "text"), f"{what} caption", ctx.warnings)
    raw_type = item.get("type")
    media_type: MediaType = (
        _OFFICIAL_TYPES.get(raw_type, "unknown") if isinstance(raw_type, str) else "unknown"
    )
    media_urls: list[str] = []
    for child in as_list(item.get("carousel_media")) or [item]:
        url = str_or_none(dig(child, "images", "standard_resolution", "url"))
        if url:
            media_urls.append(url)
    location = as_mapping(item.get("location"))
    extra: dict[str, Any] = {}
    put_scalar(extra, "location_id", str_or_none(location.get("id")))
    put_scalar(extra, "filter", item.get("filter"))
    put_scalar(extra, "video_url", str_or_none(dig(item, "videos", "standard_resolution", "url")))
    post = Post(
        platform=PLATFORM,
        post_id=post_id,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        shortcode=shortcode,
        url=post_url(shortcode) or link,
        owner_id=str_or_none(user.get("id")) or id_owner or None,
        owner_handle=str_or_none(user.get("username")),
        taken_at=timestamp(item.get("created_time"), f"{what} created_time", ctx.warnings),
        caption=text,
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
        media_type=media_type,
        media_urls=media_urls,
        likes=count_of(item.get("likes"), f"{what} likes", ctx.warnings),
        comments=count_of(item.get("comments"), f"{what} comments", ctx.warnings),
        views=count_of(item.get("video_views"), f"{what} video_views", ctx.warnings),
        location=str_or_none(location.get("name")),
        seen_via=seen_via,
        extra=extra,
    )
    out.posts.append(post)
    add_post_edges(
        out, ctx, post, [dig(tag, "user") for tag in as_list(item.get("users_in_photo"))]
    )
    return post


def _owner_profiles(out: ParsedRecords, ctx: Ctx, owners: list[Any], context: str) -> None:
    for owner in owners:
        profile = _listed_profile(owner, ctx, context) if isinstance(owner, Mapping) else None
        if profile is not None:
            out.profiles.append(profile)


def collect_user_payload(doc: Mapping[str, Any], ctx: Ctx, hints: Hints) -> ParsedRecords | None:
    """The records of an account-shaped answer, or ``None`` when ``doc`` is not one."""
    out = ParsedRecords()
    data = doc.get("data")
    if isinstance(data, Mapping) and "user" in data:
        user = data["user"]
        if isinstance(user, Mapping):
            collect_user(out, ctx, user, hints)
        elif user is None and hints.handle:
            out.profiles.append(
                Profile(
                    platform=PLATFORM,
                    user_id=hints.user_id,
                    handle=hints.handle,
                    collected_at=ctx.collected_at,
                    raw_id=ctx.raw_id,
                    state="not_found",
                )
            )
        elif user is None:
            ctx.warnings.append("user not found (data.user is null) and no hint_handle given")
        else:
            ctx.warnings.append(f"data.user is a {type(user).__name__}, not an object")
    elif isinstance(dig(doc, "graphql", "user"), Mapping):
        collect_user(out, ctx, doc["graphql"]["user"], hints)
    elif isinstance(doc.get("user"), Mapping):
        collect_user(out, ctx, doc["user"], hints)
    elif isinstance(data, Mapping) and "meta" in doc and ("counts" in data or "username" in data):
        profile = parse_profile(data, ctx, hints, has_posts=True)
        if profile is not None:
            out.profiles.append(profile)
    elif isinstance(data, list) and ("meta" in doc or "pagination" in doc):
        for item in data:
            if isinstance(item, Mapping):
                handle = str_or_none(dig(item, "user", "username"))
                seen_via = hints.seen_via or (f"profile:{handle}" if handle else None)
                collect_official_media(out, ctx, item, seen_via)
        # next_url is not kept: it carries the access token.
        out.next_cursor = str_or_none(dig(doc, "pagination", "next_max_id"))
    elif isinstance(data, Mapping) and isinstance(data.get("reels_media"), list):
        reels = [reel for reel in data["reels_media"] if isinstance(reel, Mapping)]
        _owner_profiles(out, ctx, [reel.get("owner") for reel in reels], "stories")
        n_items = sum(len(as_list(reel.get("items"))) for reel in reels)
        ctx.warnings.append(f"{n_items} story items not kept (stories are not posts)")
    elif isinstance(dig(doc, "broadcast_dict", "broadcast_owner"), Mapping):
        _owner_profiles(out, ctx, [doc["broadcast_dict"]["broadcast_owner"]], "live")
        ctx.warnings.append("live broadcast: only its owner is kept")
    elif is_user_object(doc):
        collect_user(out, ctx, doc, hints)
    else:
        return None
    return out
