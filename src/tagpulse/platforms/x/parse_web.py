"""X web-app tweet objects (what the x.com page receives, and what Zeeschuimer saves) → records.

Pure functions: no I/O, no clock. Shapes seen in the wild:

* modern GraphQL ``Tweet``: ``rest_id``, ``legacy`` {``created_at`` "Wed Oct 10 20:19:24 +0000
  2018", ``full_text``, ``favorite_count``, ``retweet_count``, ``reply_count``,
  ``quote_count``, ``entities``, ``extended_entities``, ``lang``, ``conversation_id_str``,
  ``retweeted_status_result``}, ``core.user_results.result`` {``rest_id``, ``legacy``
  {``screen_name``, ``name``, ``followers_count``, ...}} (newer pages move ``screen_name`` and
  ``name`` to ``core.user_results.result.core``), ``views.count`` (a string);
* ``TweetWithVisibilityResults``: the same under ``tweet``;
* the older "adaptive" search items: ``type: adaptive``, ``user`` at the top, ``legacy.id_str``;
* items without a ``legacy`` block (tombstones, withheld, or newer layouts): the post is kept
  with what is there, or refused with a reason when not even an id and a text are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tagpulse.errors import PayloadError
from tagpulse.platforms.coerce import as_mapping, str_or_none
from tagpulse.records import Edge, MediaType, ParsedRecords, Post, Profile

__all__ = ["parse_web_tweet"]

PLATFORM = "x"
_CREATED = "%a %b %d %H:%M:%S %z %Y"


def _int(value: Any, what: str, warnings: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        warnings.append(f"{what}: expected an integer, got a boolean")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    warnings.append(f"{what}: expected an integer, got {type(value).__name__}")
    return None


def _unwrap(item: Mapping[str, Any]) -> Mapping[str, Any]:
    # TweetWithVisibilityResults and some result wrappers nest the tweet one level deeper.
    inner = item.get("tweet")
    if isinstance(inner, Mapping) and ("legacy" in inner or "rest_id" in inner):
        return inner
    result = item.get("result")
    if isinstance(result, Mapping):
        return _unwrap(result)
    return item


def _user(tweet: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(the user result, its legacy block); the adaptive shape keeps the user at the top."""
    result = as_mapping(as_mapping(as_mapping(tweet.get("core")).get("user_results")).get("result"))
    if result:
        return result, as_mapping(result.get("legacy"))
    top = as_mapping(tweet.get("user"))
    return top, top


def _profile(
    result: Mapping[str, Any],
    legacy: Mapping[str, Any],
    at: datetime,
    raw_id: str | None,
    warnings: list[str],
) -> Profile | None:
    core = as_mapping(result.get("core"))
    handle = str_or_none(legacy.get("screen_name")) or str_or_none(core.get("screen_name"))
    if handle is None:
        return None
    verified = legacy.get("verified")
    blue = result.get("is_blue_verified")
    return Profile(
        platform=PLATFORM,
        user_id=str_or_none(result.get("rest_id")) or str_or_none(legacy.get("id_str")),
        handle=handle,
        collected_at=at,
        raw_id=raw_id,
        name=str_or_none(legacy.get("name")) or str_or_none(core.get("name")),
        bio=str_or_none(legacy.get("description")),
        followers=_int(legacy.get("followers_count"), f"@{handle} followers_count", warnings),
        following=_int(legacy.get("friends_count"), f"@{handle} friends_count", warnings),
        posts_count=_int(legacy.get("statuses_count"), f"@{handle} statuses_count", warnings),
        is_private=legacy.get("protected") if isinstance(legacy.get("protected"), bool) else None,
        is_verified=(verified or blue) if isinstance(verified, bool | None) else None,
        profile_pic_url=str_or_none(legacy.get("profile_image_url_https")),
        extra={"location": legacy["location"]} if str_or_none(legacy.get("location")) else {},
    )


def _media(legacy: Mapping[str, Any]) -> tuple[MediaType, list[str]]:
    media = as_mapping(legacy.get("extended_entities")).get("media")
    if not isinstance(media, list):
        media = as_mapping(legacy.get("entities")).get("media")
    if not isinstance(media, list) or not media:
        return "unknown", []
    urls = [u for m in media if (u := str_or_none(as_mapping(m).get("media_url_https")))]
    kinds = {as_mapping(m).get("type") for m in media}
    if len(media) > 1:
        return "carousel", urls
    return ("video" if kinds & {"video", "animated_gif"} else "image"), urls


def parse_web_tweet(
    item: Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None,
    seen_via: str | None = None,
) -> ParsedRecords:
    """One web-app tweet object → its Post, its author's Profile and mention/reply edges."""
    out = ParsedRecords()
    warnings = out.warnings
    tweet = _unwrap(item)
    legacy = as_mapping(tweet.get("legacy"))
    if tweet.get("__typename") == "TweetTombstone" or "tombstone" in tweet:
        raise PayloadError("tweet is a tombstone (deleted or withheld): nothing to keep")
    post_id = str_or_none(tweet.get("rest_id")) or str_or_none(legacy.get("id_str"))
    if post_id is None:
        raise PayloadError(
            f"tweet object without rest_id or legacy.id_str; keys {sorted(tweet)[:10]}"
        )
    if not legacy:
        warnings.append(f"tweet {post_id}: no legacy block; text and counts unknown")
    user_result, user_legacy = _user(tweet)
    author = _profile(user_result, user_legacy, collected_at, raw_id, warnings)
    if author is None:
        warnings.append(f"tweet {post_id}: author handle unknown")
    owner_id = str_or_none(legacy.get("user_id_str")) or (author.user_id if author else None)
    taken_at = None
    created = legacy.get("created_at")
    if isinstance(created, str):
        try:
            taken_at = datetime.strptime(created, _CREATED)
        except ValueError:
            warnings.append(f"tweet {post_id}: created_at {created!r:.40} not understood")
    entities = as_mapping(legacy.get("entities"))
    hashtags = list(
        dict.fromkeys(
            t.lower()
            for h in entities.get("hashtags") or ()
            if (t := str_or_none(as_mapping(h).get("text")))
        )
    )
    mentions = [
        m
        for h in entities.get("user_mentions") or ()
        if (m := str_or_none(as_mapping(h).get("screen_name")))
    ]
    text = str_or_none(legacy.get("full_text"))
    note = str_or_none(
        as_mapping(
            as_mapping(as_mapping(tweet.get("note_tweet")).get("note_tweet_results")).get("result")
        ).get("text")
    )
    extra: dict[str, Any] = {}
    retweet = _unwrap(as_mapping(legacy.get("retweeted_status_result")))
    if retweet:
        extra["retweet_of"] = str_or_none(retweet.get("rest_id"))
        full = str_or_none(as_mapping(retweet.get("legacy")).get("full_text"))
        if full:
            text = full
    quoted = as_mapping(tweet.get("quoted_status_result"))
    if quoted:
        extra["quote_of"] = str_or_none(_unwrap(quoted).get("rest_id"))
    retweets = _int(legacy.get("retweet_count"), f"tweet {post_id} retweet_count", warnings)
    quotes = _int(legacy.get("quote_count"), f"tweet {post_id} quote_count", warnings)
    if retweets is not None or quotes is not None:
        extra |= {"retweets": retweets, "quotes": quotes}
    media_type, media_urls = _media(legacy)
    handle = author.handle if author else None
    place = as_mapping(legacy.get("place"))
    out.posts.append(
        Post(
            platform=PLATFORM,
            post_id=post_id,
            collected_at=collected_at,
            raw_id=raw_id,
            url=f"https://x.com/{handle or 'i'}/status/{post_id}",
            owner_id=owner_id,
            owner_handle=handle,
            taken_at=taken_at,
            caption=note or text,
            hashtags=hashtags,
            mentions=[m.lower() for m in mentions],
            media_type=media_type,
            media_urls=media_urls,
            likes=_int(legacy.get("favorite_count"), f"tweet {post_id} favorite_count", warnings),
            comments=_int(legacy.get("reply_count"), f"tweet {post_id} reply_count", warnings),
            views=_int(
                as_mapping(tweet.get("views")).get("count"), f"tweet {post_id} views", warnings
            ),
            shares=None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0),
            location=str_or_none(place.get("full_name")),
            language=str_or_none(legacy.get("lang")),
            seen_via=seen_via,
            extra=extra,
        )
    )
    if author is not None:
        out.profiles.append(author)
    src = owner_id or (f"@{handle}" if handle else None)
    if src is not None:
        for m in entities.get("user_mentions") or ():
            mention = as_mapping(m)
            name = str_or_none(mention.get("screen_name"))
            dst = str_or_none(mention.get("id_str")) or (f"@{name}" if name else None)
            if dst is not None:
                out.edges.append(
                    Edge(
                        PLATFORM,
                        src,
                        dst,
                        "mentioned",
                        collected_at,
                        raw_id,
                        src_handle=handle,
                        dst_handle=name,
                        post_id=post_id,
                    )
                )
        replied = str_or_none(legacy.get("in_reply_to_user_id_str"))
        if replied is not None and replied != src:
            out.edges.append(
                Edge(
                    PLATFORM,
                    src,
                    replied,
                    "commented",
                    collected_at,
                    raw_id,
                    src_handle=handle,
                    dst_handle=str_or_none(legacy.get("in_reply_to_screen_name")),
                    post_id=str_or_none(legacy.get("in_reply_to_status_id_str")),
                )
            )
    return out
