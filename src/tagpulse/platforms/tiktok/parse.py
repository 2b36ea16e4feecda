"""TikTok web payloads -> records. Pure functions: no I/O, no clock.

Known shapes (:func:`parse_payload` detects each):

* ``api/challenge/detail/?challengeName=``: ``{"challengeInfo": {"challenge": {id, title, desc},
  "stats"|"statsV2": {videoCount, viewCount}}}`` -> a :class:`HashtagSnapshot`.
* ``api/challenge/item_list/``, ``api/post/item_list/``: ``{"itemList": [item...], "cursor",
  "hasMore"}`` (an empty page has no ``itemList``) -> posts, their authors, ``mentioned`` edges
  and ``next_cursor``.
* ``api/user/detail/?uniqueId=``: ``{"userInfo": {"user", "stats", "statsV2"}}`` -> a profile.
* ``api/item/detail/`` and page data: ``{"itemInfo": {"itemStruct": item}}``.
* Page JSON, or the HTML page holding it: ``__UNIVERSAL_DATA_FOR_REHYDRATION__``
  (``__DEFAULT_SCOPE__`` -> ``webapp.user-detail`` / ``webapp.video-detail`` /
  ``webapp.challenge-detail``), the older ``SIGI_STATE`` (``ItemModule`` items naming their
  author by handle, ``UserModule``) and Next.js ``props.pageProps``.
* One item object, as Zeeschuimer captures it (:func:`parse_item` is the per-item entry).

Counts come as numbers (``stats``, rounded in some answers) or strings (``statsV2``, exact); the
exact ones win. An answer with ``statusCode`` other than 0 is an error answer: account not found
or private become a :class:`Profile` state when ``hint_handle`` names the account, the captcha
wall raises :class:`VerifyRequired`, the rest an :class:`ApiError`. A field that is missing or of
the wrong type becomes ``None`` plus a warning; only a body in no known shape raises (always a
:class:`~tagpulse.errors.PayloadError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from tagpulse.platforms.tiktok.exceptions import (
    NOT_FOUND_CODES,
    PRIVATE_CODES,
    UnknownShape,
    VerifyRequired,
    error_for_status,
)
from tagpulse.platforms.tiktok.parse_item import (
    PLATFORM,
    Ctx,
    add_profile,
    as_list,
    as_mapping,
    bool_or_none,
    collect_item,
    count_of,
    dig,
    int_or_none,
    normalise_name,
    parse_item,
    parse_profile,
    post_url,
    str_or_none,
)
from tagpulse.records import HashtagSnapshot, ParsedRecords, Profile

__all__ = ["PLATFORM", "load_payload", "parse_item", "parse_payload", "post_url"]

_PAGE_SCRIPT = re.compile(
    r"<script[^>]*\bid=[\"'](__UNIVERSAL_DATA_FOR_REHYDRATION__|SIGI_STATE|__NEXT_DATA__)[\"']"
    r"[^>]*>(.*?)</script>",
    re.DOTALL,
)
_VERIFY_MARKERS = ("captcha", "verify-bar", "security check", "verifyconfig")
_SCOPES = ("webapp.video-detail", "webapp.user-detail", "webapp.challenge-detail")


# --- decoding -------------------------------------------------------------------------------


def _looks_like_verify(text: str) -> bool:
    head = text[:20000].lower()
    return any(marker in head for marker in _VERIFY_MARKERS)


def load_payload(body: bytes | str) -> Any:
    """Decode a JSON body, or the data script of a TikTok HTML page.

    Raises :class:`VerifyRequired` for a captcha page and :class:`UnknownShape` for anything
    else that holds no JSON."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if text.lstrip()[:1] == "<":
        match = _PAGE_SCRIPT.search(text)
        if match is None:
            if _looks_like_verify(text):
                raise VerifyRequired(
                    "a captcha (verify) page instead of data: back off and use another session "
                    "or address",
                    status_code=None,
                )
            raise UnknownShape(
                "an HTML page without __UNIVERSAL_DATA_FOR_REHYDRATION__, SIGI_STATE or "
                f"__NEXT_DATA__; starts with {text.lstrip()[:40]!r}"
            )
        text = match.group(2)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UnknownShape(f"body is not valid JSON ({exc}); starts with {text[:40]!r}") from exc


# --- shapes ---------------------------------------------------------------------------------


def _listing(doc: Mapping[str, Any], ctx: Ctx) -> ParsedRecords:
    out = ParsedRecords()
    via = ctx.seen_via or (
        f"tag:{ctx.tag}" if ctx.tag else f"profile:{ctx.handle}" if ctx.handle else None
    )
    items = doc.get("itemList")
    if items is not None and not isinstance(items, list):
        ctx.warnings.append(f"itemList is a {type(items).__name__}, not a list")
    for item in as_list(items):
        collect_item(out, ctx, item, via)
    if bool_or_none(doc.get("hasMore"), "hasMore", ctx.warnings):
        out.next_cursor = str_or_none(doc.get("cursor")) or None
        if out.next_cursor is None:
            ctx.warnings.append("hasMore is true but the answer has no cursor")
    return out


def _snapshot(doc: Mapping[str, Any], ctx: Ctx) -> ParsedRecords:
    info = doc.get("challengeInfo")
    if not isinstance(info, Mapping):
        raise UnknownShape(f"challengeInfo is a {type(info).__name__}, not an object")
    warnings = ctx.warnings
    challenge = as_mapping(info.get("challenge"))
    title = str_or_none(challenge.get("title"))
    tag = normalise_name(ctx.tag) or normalise_name(title)
    if not tag:
        warnings.append("challenge answer without a title and no hint_tag: no snapshot")
        return ParsedRecords()
    if title and normalise_name(title) != tag:
        warnings.append(f"payload is for #{title}, asked for #{tag}")
    exact = as_mapping(info.get("statsV2")) or as_mapping(challenge.get("statsV2"))
    rounded = as_mapping(info.get("stats")) or as_mapping(challenge.get("stats"))
    post_count = count_of(exact, rounded, "videoCount", f"#{tag} videoCount", warnings)
    extra: dict[str, Any] = {}
    if not challenge:
        warnings.append(f"#{tag}: the answer holds no challenge (unknown to TikTok?)")
        extra["state"] = "not_found"
    if post_count is None:
        warnings.append(f"#{tag}: the platform did not report a post count")
    views = count_of(exact, rounded, "viewCount", f"#{tag} viewCount", warnings)
    for key, value in (
        ("view_count", views),
        ("challenge_id", str_or_none(challenge.get("id"))),
        ("description", str_or_none(challenge.get("desc"))),
        ("is_commerce", bool_or_none(challenge.get("isCommerce"), f"#{tag} isCommerce", warnings)),
    ):
        if value is not None and value != "":
            extra[key] = value
    snapshot = HashtagSnapshot(
        platform=PLATFORM,
        tag=tag,
        post_count=post_count,
        top_posts=[],
        related_tags=[],
        collected_at=ctx.collected_at,
        account=ctx.account,
        raw_id=ctx.raw_id,
        extra=extra,
    )
    return ParsedRecords(snapshots=[snapshot])


def _placeholder(ctx: Ctx, handle: str, *, private: bool, code: int | None) -> Profile:
    """The account asked for, when the answer says it is missing or private."""
    return Profile(
        platform=PLATFORM,
        user_id=None,
        handle=handle,
        collected_at=ctx.collected_at,
        raw_id=ctx.raw_id,
        is_private=True if private else None,
        state="private" if private else "not_found",
        extra={} if code is None else {"status_code": code},
    )


def _user(doc: Mapping[str, Any], ctx: Ctx) -> ParsedRecords:
    info = doc.get("userInfo")
    user = dig(info, "user")
    if not isinstance(user, Mapping) or not user:
        if ctx.handle:
            ctx.warnings.append(f"@{ctx.handle}: userInfo holds no user; taken as not found")
            return ParsedRecords(profiles=[_placeholder(ctx, ctx.handle, private=False, code=None)])
        keys = sorted(map(str, as_mapping(info)))[:8]
        raise UnknownShape(f"userInfo without a user object (keys {keys})")
    out = ParsedRecords()
    exact, rounded = as_mapping(dig(info, "statsV2")), as_mapping(dig(info, "stats"))
    profile = parse_profile(user, exact, rounded, ctx)
    if profile is not None and ctx.handle and profile.handle.lower() != ctx.handle:
        ctx.warnings.append(f"asked for @{ctx.handle}, the answer is @{profile.handle}")
        profile.state = "renamed"
        profile.extra["asked_handle"] = ctx.handle
    add_profile(out, profile)
    via = ctx.seen_via or (f"profile:{profile.handle.lower()}" if profile else None)
    for item in as_list(dig(info, "itemList")):
        collect_item(out, ctx, item, via)
    return out


def _sigi(doc: Mapping[str, Any], ctx: Ctx) -> ParsedRecords:
    """The older page JSON: ``UserModule`` accounts, ``ItemModule`` items, ``ItemList`` pages."""
    out = ParsedRecords()
    users = as_mapping(dig(doc, "UserModule", "users"))
    stats = as_mapping(dig(doc, "UserModule", "stats"))
    for key, user in users.items():
        if isinstance(user, Mapping):
            add_profile(out, parse_profile(user, {}, as_mapping(stats.get(key)), ctx))
    via = ctx.seen_via or (f"profile:{ctx.handle}" if ctx.handle else None)
    for item in as_mapping(doc.get("ItemModule")).values():
        collect_item(out, ctx, item, via)
    for listing in as_mapping(doc.get("ItemList")).values():
        cursor = str_or_none(as_mapping(listing).get("cursor"))
        if as_mapping(listing).get("hasMore") is True and cursor:
            out.next_cursor = cursor
            break
    return out


def _status(doc: Mapping[str, Any], warnings: list[str]) -> int | None:
    for key in ("statusCode", "status_code"):
        if doc.get(key) is not None:
            return int_or_none(doc.get(key), key, warnings)
    return None


def _error_answer(doc: Mapping[str, Any], code: int, ctx: Ctx, *, video: bool) -> ParsedRecords:
    """Not-found and private accounts asked for by handle become profile states; every other
    code (and any code of a video answer) raises the error it means (:func:`error_for_status`)."""
    message = str_or_none(doc.get("statusMsg")) or str_or_none(doc.get("status_msg")) or None
    if ctx.handle and not video and code in NOT_FOUND_CODES | PRIVATE_CODES:
        private = code in PRIVATE_CODES
        said = "private" if private else "not found"
        ctx.warnings.append(f"@{ctx.handle}: statusCode {code} ({message or said})")
        return ParsedRecords(profiles=[_placeholder(ctx, ctx.handle, private=private, code=code)])
    raise error_for_status(code, message)


def _unwrap(doc: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
    """The data object inside page JSON (``__DEFAULT_SCOPE__``, Next.js ``props.pageProps``),
    and the scope it came from."""
    scope = doc.get("__DEFAULT_SCOPE__")
    if isinstance(scope, Mapping):
        for key in _SCOPES:
            if isinstance(scope.get(key), Mapping):
                inner: Mapping[str, Any] = scope[key]
                return inner, key
        raise UnknownShape(
            f"page data without {', '.join(_SCOPES)}; scope keys {sorted(map(str, scope))[:8]}"
        )
    page_props = dig(doc, "props", "pageProps")
    return (page_props, None) if isinstance(page_props, Mapping) else (doc, None)


def _records(doc: Mapping[str, Any], ctx: Ctx) -> ParsedRecords:
    doc, scope = _unwrap(doc)
    code = _status(doc, ctx.warnings)
    if code:
        video = scope == "webapp.video-detail" or "itemInfo" in doc
        return _error_answer(doc, code, ctx, video=video)
    if "challengeInfo" in doc:
        return _snapshot(doc, ctx)
    if "itemList" in doc or ("hasMore" in doc and "cursor" in doc):
        return _listing(doc, ctx)
    if "userInfo" in doc:
        return _user(doc, ctx)
    if "itemInfo" in doc:
        item = dig(doc, "itemInfo", "itemStruct")
        if not isinstance(item, Mapping):
            raise UnknownShape("itemInfo without an itemStruct object")
        out = ParsedRecords()
        collect_item(out, ctx, item, ctx.seen_via or "media")
        return out
    if "ItemModule" in doc or "UserModule" in doc:
        return _sigi(doc, ctx)
    if "id" in doc and any(key in doc for key in ("author", "createTime", "desc", "stats")):
        out = ParsedRecords()
        collect_item(out, ctx, doc, ctx.seen_via)
        return out
    raise UnknownShape(
        "tiktok payload in no known shape (expected challengeInfo, itemList/hasMore, userInfo, "
        "itemInfo, __DEFAULT_SCOPE__, ItemModule/UserModule or an item object); "
        f"keys {sorted(map(str, doc))[:10]}"
    )


def parse_payload(
    payload: bytes | str | Mapping[str, Any],
    *,
    collected_at: datetime,
    raw_id: str | None = None,
    hint_tag: str | None = None,
    hint_handle: str | None = None,
    seen_via: str | None = None,
    account: str | None = None,
) -> ParsedRecords:
    """Every record a TikTok answer holds, with its problems in ``warnings`` and where a listing
    continues in ``next_cursor``.

    ``hint_tag`` names the hashtag asked for (else the challenge's title is used; listings then
    get ``seen_via`` ``tag:<tag>``), ``hint_handle`` the account (a not-found or private answer
    becomes a :class:`Profile` with that state; another handle in the answer means a rename;
    listings get ``profile:<handle>``). ``seen_via`` replaces those defaults. ``account`` is the
    collecting account's alias, kept on hashtag snapshots.

    Raises :class:`~tagpulse.platforms.tiktok.exceptions.UnknownShape` for a body in no known
    shape, :class:`~tagpulse.platforms.tiktok.exceptions.VerifyRequired` for the captcha wall
    and :class:`~tagpulse.platforms.tiktok.exceptions.ApiError` for other error answers: all
    are :class:`~tagpulse.errors.PayloadError`.
    """
    doc = load_payload(payload) if isinstance(payload, bytes | str) else payload
    if not isinstance(doc, Mapping):
        raise UnknownShape(f"tiktok payload is a JSON {type(doc).__name__}, expected an object")
    ctx = Ctx(
        collected_at,
        raw_id,
        [],
        handle=normalise_name(hint_handle),
        tag=normalise_name(hint_tag),
        seen_via=seen_via,
        account=account,
    )
    out = _records(doc, ctx)
    out.warnings = list(dict.fromkeys(ctx.warnings + out.warnings))
    return out
