"""X (Twitter) API v2 payloads -> records. Pure functions: no I/O, no clock.

Known shapes (all JSON objects):

* tweets: ``tweets/search/recent``, ``tweets/search/all``, user timelines, tweet lookup: ``data``
  a list of tweets, ``includes`` (``users``, ``tweets``, ``media``, ``places``, ``polls``),
  ``meta`` (``next_token``, ``result_count``).
* a stream line (``tweets/search/stream``) or a single-tweet lookup: ``data`` one tweet object,
  beside ``includes`` and (stream) ``matching_rules``.
* counts: ``tweets/counts/recent`` / ``all``: ``data`` a list of ``{start, end, tweet_count}``
  buckets and ``meta.total_tweet_count``.
* users: ``users/by``, ``users``, ``users/by/username/<u>``: ``data`` user objects (a list, or
  one), ``includes.tweets`` their pinned tweets.
* errors: ``{"errors": [...], "title", "detail"}`` with no data raises :class:`ApiError`, unless
  every error names a resource (``resource_type``/``resource_id``: a user or tweet that is gone),
  which is an ordinary empty answer plus warnings. Errors beside data are warnings too.

Choices (documented here because analyses depend on them):

* ``media_type``: the tweet's resolved ``attachments.media_keys`` (from ``includes.media``): one
  ``photo`` -> ``image``, one ``video``/``animated_gif`` -> ``video``, two or more ->
  ``carousel``; none (a text-only tweet, or keys absent from ``includes``) -> ``unknown``;
  ``extra["media_keys"]`` tells the two ``unknown`` cases apart. ``media_urls`` are images the
  media store can fetch (a photo's ``url``, a video's ``preview_image_url``); the best MP4 of a
  video goes to ``extra["video_urls"]``.
* A retweet shows its original: ``caption`` is the original's full text (``note_tweet`` when
  present) and its hashtags, mentions and media are added to the retweet's own (the retweet's
  ``entities`` cover only the truncated ``RT @…`` text). Its ``shares`` is ``None``: X echoes the
  original's ``retweet_count`` on every retweet (kept in ``extra``), and summing it would count
  the original's shares once per retweet.
* ``shares`` = ``retweet_count`` + ``quote_count`` (both kept in ``extra``); ``comments`` =
  ``reply_count``; ``views`` = ``impression_count`` (absent from older payloads: ``None``).
* Edges (``src`` the tweet's author): an ``entities.mentions`` entry -> ``mentioned`` (``post_id``
  the mentioning tweet); a reply -> ``commented`` to the replied-to author (``post_id`` the tweet
  replied to); a quote -> ``quoted`` to the quoted author; a retweet -> ``reposted`` to the
  original's author (X's own likes are not visible in these answers) and no ``mentioned``
  edges, since its text is the original's. A mention without an id (older answers) takes it
  from ``includes.users``, else ``dst`` is ``@handle``. Self-loops are not emitted.
* Tweets in ``includes.tweets`` (retweeted, quoted, replied-to, pinned) become posts too, with
  ``seen_via="referenced"``; a tweet in both ``data`` and ``includes`` is one post.
* ``tag`` of a counts series: :func:`tag_of_query`.

A field that is missing or of the wrong type becomes ``None`` plus a warning; only a body that is
not JSON, JSON in no known shape, or an API error body raises (an :class:`XPayloadError`). This
module finds the objects in an answer; :mod:`.parse_objects` turns each tweet and user into
records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from tagpulse.platforms.x.exceptions import ApiError, UnknownShape, XPayloadError
from tagpulse.platforms.x.parse_objects import (
    PLATFORM,
    Includes,
    as_int,
    as_list,
    as_map,
    as_str,
    as_time,
    parse_tweet,
    parse_user,
    post_url,
)
from tagpulse.records import ParsedRecords, Profile, TagCount

__all__ = [
    "PLATFORM",
    "load_json",
    "parse_response",
    "parse_twarc2_line",
    "post_url",
    "tag_of_query",
]

# One search term, optionally a #hashtag, optionally in parentheses: "#Brexit", "(dogs)".
_SINGLE_TERM = re.compile(r"^\(?\s*#?(\w+)\s*\)?$")


def load_json(body: bytes | str) -> Any:
    """Decode a JSON body, raising :class:`UnknownShape` with the reason when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raw = body if isinstance(body, bytes) else body.encode("utf-8", "replace")
        raise UnknownShape(
            f"body is not valid JSON ({exc}); {len(raw)} bytes, starts with {raw[:40]!r}"
        ) from exc


def tag_of_query(query: str) -> str:
    """The tag a counts series is filed under.

    A query that is one ``#tag`` or one word (optionally in parentheses) gives that word in lower
    case without ``#`` (``"#Brexit"`` -> ``"brexit"``); any other query keeps its text (stripped),
    so ``"dogs -is:retweet"`` is a series of its own, not mixed into ``dogs``.
    """
    text = query.strip()
    match = _SINGLE_TERM.match(text)
    return match.group(1).lower() if match else text


# -- counts --------------------------------------------------------------------------------------


def _tag_counts(
    buckets: list[Any], meta: Mapping[str, Any], query: str | None, ctx: Includes
) -> list[TagCount]:
    w = ctx.warnings
    if query is None:
        w.append(f"{len(buckets)} count buckets skipped: the query (the tag) is unknown")
        return []
    tag = tag_of_query(query)
    counts: list[TagCount] = []
    for number, bucket in enumerate(buckets):
        what = f"count bucket {number}"
        if not isinstance(bucket, Mapping):
            w.append(f"{what}: expected an object, got {type(bucket).__name__}")
            continue
        start = as_time(bucket.get("start"), f"{what} start", w, required=True)
        end = as_time(bucket.get("end"), f"{what} end", w, required=True)
        count = as_int(bucket.get("tweet_count"), f"{what} tweet_count", w)
        if start is None or end is None or count is None:
            w.append(f"{what}: skipped")
            continue
        counts.append(
            TagCount(
                platform=PLATFORM,
                tag=tag,
                bucket_start=start,
                bucket_end=end,
                count=count,
                collected_at=ctx.collected_at,
                raw_id=ctx.raw_id,
            )
        )
    total = as_int(meta.get("total_tweet_count"), "meta.total_tweet_count", w)
    if total is not None and total != sum(c.count for c in counts):
        w.append(f"meta.total_tweet_count {total} != sum of buckets {sum(c.count for c in counts)}")
    return counts


# -- errors --------------------------------------------------------------------------------------


def _is_resource_error(error: Any) -> bool:
    return isinstance(error, Mapping) and ("resource_type" in error or "resource_id" in error)


def _describe(error: Any) -> str:
    if not isinstance(error, Mapping):
        return f"{error!r:.120}"
    title = error.get("title")
    detail = error.get("detail") or error.get("message")
    return ": ".join(str(part) for part in (title, detail) if part) or f"{dict(error)!r:.120}"


def _api_error(doc: Mapping[str, Any], errors: list[Any]) -> ApiError:
    first = as_map(errors[0]) if errors else {}
    title = doc.get("title") or first.get("title")
    detail = doc.get("detail") or first.get("detail") or first.get("message")
    parts = [str(p) for p in (title, detail) if p]
    if len(errors) > 1:
        parts.append(f"({len(errors)} errors)")
    return ApiError(
        f"X API error: {' '.join(parts) or 'error body without a title'}",
        title=title if isinstance(title, str) else None,
        detail=detail if isinstance(detail, str) else None,
        errors=[e for e in errors if isinstance(e, Mapping)],
    )


def _not_found_profiles(errors: list[Any], ctx: Includes) -> list[Profile]:
    """A ``users/by?usernames=`` error for a handle that is gone: a ``not_found`` profile."""
    gone: list[Profile] = []
    for error in errors:
        e = as_map(error)
        value = e.get("value")
        if (
            e.get("resource_type") == "user"
            and e.get("parameter") in ("usernames", "username")
            and isinstance(value, str)
            and value
        ):
            gone.append(
                Profile(
                    platform=PLATFORM,
                    user_id=None,
                    handle=value,
                    collected_at=ctx.collected_at,
                    raw_id=ctx.raw_id,
                    state="not_found",
                    extra={"error": _describe(e)},
                )
            )
    return gone


# -- entry points --------------------------------------------------------------------------------


def _is_user(item: Mapping[str, Any]) -> bool:
    return "username" in item and "text" not in item and "author_id" not in item


def parse_response(
    payload: bytes | str | Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None = None,
    query: str | None = None,
) -> ParsedRecords:
    """Turn an API v2 answer (any known shape, see the module doc) into records.

    ``query`` is the search or counts query asked for: it names a counts series
    (:func:`tag_of_query`) and becomes posts' ``seen_via`` (``search:<query>``).
    """
    doc = load_json(payload) if isinstance(payload, bytes | str) else payload
    if not isinstance(doc, Mapping):
        raise UnknownShape(f"X payload is a JSON {type(doc).__name__}, not an object")
    ctx = Includes(collected_at=collected_at, raw_id=raw_id)
    out = ParsedRecords()
    raw_errors = doc.get("errors")
    if raw_errors is not None and not isinstance(raw_errors, list):
        ctx.warnings.append(f"errors: expected a list, got {type(raw_errors).__name__}")
    errors = as_list(raw_errors)
    data = doc.get("data")
    meta_raw = doc.get("meta")
    if meta_raw is not None and not isinstance(meta_raw, Mapping):
        ctx.warnings.append(f"meta: expected an object, got {type(meta_raw).__name__}")
    meta = as_map(meta_raw)

    if data is None:
        problem = "title" in doc or "detail" in doc
        if errors and not problem and all(_is_resource_error(e) for e in errors):
            out.profiles += _not_found_profiles(errors, ctx)
        elif errors or problem:
            raise _api_error(doc, errors)
        elif not ({"meta", "includes", "matching_rules"} & set(doc)):
            raise UnknownShape(
                "X payload in no known shape (expected data, includes, meta or errors); "
                f"keys {sorted(str(k) for k in doc)[:8]}"
            )
    ctx.warnings += [f"API error beside data: {_describe(e)}" for e in errors]
    ctx.index(doc.get("includes"))
    next_token = meta.get("next_token")
    out.next_cursor = next_token if isinstance(next_token, str) and next_token else None

    seen_via = f"search:{query}" if query is not None else None
    data_tweets: list[Mapping[str, Any]] = []
    if isinstance(data, Mapping):
        if _is_user(data):
            profile = parse_user(data, ctx)
            out.profiles += [profile] if profile else []
        else:
            rules = doc.get("matching_rules")
            data_tweets.append({**data, "matching_rules": rules} if rules is not None else data)
    elif isinstance(data, list):
        items = [item for item in data if isinstance(item, Mapping)]
        if len(items) < len(data):
            ctx.warnings.append(f"data: {len(data) - len(items)} items that are not objects")
        if "total_tweet_count" in meta or any("tweet_count" in item for item in items):
            out.tag_counts += _tag_counts(data, meta, query, ctx)
        elif items and all(_is_user(item) for item in items):
            for user in items:
                profile = parse_user(user, ctx)
                out.profiles += [profile] if profile else []
        else:
            data_tweets += items
    elif data is not None:
        ctx.warnings.append(f"data: expected a list or an object, got {type(data).__name__}")

    tweets = [(t, seen_via) for t in data_tweets] + [(t, "referenced") for t in ctx.tweets.values()]
    for tweet in data_tweets:
        # A retweet whose original came in data too (not only in includes) still finds it.
        if isinstance(tweet.get("id"), str):
            ctx.tweets.setdefault(tweet["id"], tweet)
    seen: set[str] = set()
    for tweet, via in tweets:
        parsed = parse_tweet(tweet, ctx, via)
        if parsed is None or parsed[0].post_id in seen:
            continue
        seen.add(parsed[0].post_id)
        out.posts.append(parsed[0])
        out.edges += parsed[1]
    known = {(p.user_id, p.handle) for p in out.profiles}
    for user in ctx.users.values():
        profile = parse_user(user, ctx)
        if profile is not None and (profile.user_id, profile.handle) not in known:
            known.add((profile.user_id, profile.handle))
            out.profiles.append(profile)
    out.warnings = ctx.warnings
    return out


def parse_twarc2_line(
    line: bytes | str,
    *,
    raw_id: str | None = None,
    collected_at: datetime | None = None,
    line_number: int | None = None,
) -> ParsedRecords:
    """Parse one line of a twarc2 JSONL file: an API answer plus ``__twarc`` (url, retrieved_at).

    ``collected_at`` is ``__twarc.retrieved_at``; the ``collected_at`` argument is only the
    fallback for a line without it (a line with neither raises). The query is the ``query``
    parameter of ``__twarc.url``. A line that is not a JSON object (a truncated write, say) raises
    :class:`UnknownShape` whose ``reason`` says why; ``line_number`` goes into the error.
    """
    if not line.strip():
        raise UnknownShape("empty line", line=line_number)
    try:
        doc = load_json(line)
    except XPayloadError as exc:
        raise UnknownShape(exc.reason, line=line_number) from exc
    if not isinstance(doc, Mapping):
        raise UnknownShape(
            f"twarc2 line is a JSON {type(doc).__name__}, not an object", line=line_number
        )
    warnings: list[str] = []
    twarc = doc.get("__twarc")
    if twarc is not None and not isinstance(twarc, Mapping):
        warnings.append(f"__twarc: expected an object, got {type(twarc).__name__}")
    twarc = as_map(twarc)
    retrieved = as_time(twarc.get("retrieved_at"), "__twarc.retrieved_at", warnings, required=True)
    if retrieved is None:
        if collected_at is None:
            raise UnknownShape(
                "twarc2 line without a usable __twarc.retrieved_at (and no fallback time)",
                line=line_number,
            )
        retrieved = collected_at
    url = as_str(twarc.get("url"), "__twarc.url", warnings)
    query = None
    if url is not None:
        try:
            values = parse_qs(urlsplit(url).query).get("query")
        except ValueError:
            warnings.append(f"__twarc.url: not a URL: {url!r:.80}")
            values = None
        query = values[0] if values else None
    body = {key: value for key, value in doc.items() if key != "__twarc"}
    try:
        records = parse_response(body, collected_at=retrieved, raw_id=raw_id, query=query)
    except XPayloadError as exc:
        if line_number is not None:
            exc.line = line_number
            exc.args = (f"line {line_number}: {exc.args[0] if exc.args else exc.reason}",)
        raise
    records.warnings[:0] = warnings
    return records
