"""The sandbox's account endpoints, media files and social ground truth.

Data endpoints (each through :meth:`SandboxServer.data`: ``sessionid`` cookie of a known account,
``X-IG-App-ID``, per-account and per-IP budgets, scripted and random faults — the same path as
the hashtag endpoints; the sandbox does not model anonymous access, so every one of them, the
follow lists included, redirects a request without a session to the login page):

* ``GET /api/v1/users/web_profile_info/?username=<u>`` → ``{"data": {"user": {...}}, "status":
  "ok"}``, the graphql user of ``profile.json`` with its 12 newest posts embedded (none for a
  private account, which still shows its counts).
* ``GET /graphql/query/?doc_id=<any>&variables={"username", "first" (or "data": {"count"}),
  "after"}`` → ``data.xdt_api__v1__feed__user_timeline_graphql_connection`` (api/v1 items,
  newest first). ``end_cursor`` is ``"<pk>_<owner id>"`` of the page's last post and the next
  page holds the posts with smaller ids, so a stored cursor resumes exactly, whatever was posted
  meanwhile.
* ``GET /api/v1/feed/user/<user id>/?count=12&max_id=<cursor>`` → ``{"items", "num_results",
  "more_available", "next_max_id", "status"}``, same cursor.
* ``GET /api/v1/media/<pk>[_<owner>]/info/`` → ``media.json``'s shape.
* ``GET /api/v1/media/<pk>/likers/`` → ``{"users": [...], "user_count", "status"}``: the post's
  in-world likers, most recent first (at most 1,000).
* ``GET /graphql/query/?query_hash=<h>&variables=...``:
  comments (``33ba35852cb50da46f5b5e889df7d159`` or ``97b41c52301f77ce508f55e66d17620e``,
  variables ``{"shortcode", "first", "after"}``; the first page holds the newest comments,
  each page oldest first, the next page older ones, as in ``media-comments.json``);
  followers (``c76146de99bb02f6415203be841dd25a``) and following
  (``d04b0a864b4b54837c0d870b0e77e076``), variables ``{"id", "first", "after"}``, newest
  first, private accounts show counts and no edges; a user's posts as graphql nodes
  (``42323d64886122307be10013ad2dcc44``, ``{"id", "first", "after"}``, ``medias.json``).

Not found: REST endpoints answer 404 (``web_profile_info`` and the user feed with
``{"data": {"user": null}, "status": "ok"}``, media info with ``{"message": "Media not found or
unavailable", "status": "fail"}``); graphql queries answer 200 with a null object, as
``profile-id-invalid.json`` shows. A deleted account is not found from its deletion on. An old
handle of a renamed account answers with the account under its new handle (``username`` differs
from the one asked); ``GET /<old handle>/`` redirects (301) to ``/<new handle>/``. Private
accounts' feeds and grids are empty pages.

Files, free like a CDN (no session, no budget): ``GET /media/<pk>_<width>.jpg`` (post pictures;
some are WebP bytes under the ``.jpg`` name), ``GET /media/u<user id>_<size>.jpg`` (profile
pictures). Videos (``.mp4``) are not served.

Ground truth (no session): ``/__sandbox/truth/profile?username=&t=``,
``/__sandbox/truth/posts?username=&t=[&limit=]``, ``/__sandbox/truth/post?pk=|code=&t=``,
``/__sandbox/truth/followers?username=&t=``, ``/__sandbox/truth/following?username=&t=``,
``/__sandbox/users``; ``t`` (or ``at``) defaults to the clock's time.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from itertools import islice
from typing import TYPE_CHECKING, Any

import orjson

from tagpulse.platforms.sandbox.images import is_webp_quirk, picture_size, render_image
from tagpulse.platforms.sandbox.media_ids import pk_from_shortcode
from tagpulse.platforms.sandbox.payloads_user import (
    USER_NOT_FOUND_BODY,
    api_item,
    comments_payload,
    follow_payload,
    graphql_post_node,
    grid_payload,
    media_info_payload,
    profile_payload,
    user_feed_payload,
)
from tagpulse.platforms.sandbox.photos import photo_subject, render_photo
from tagpulse.platforms.sandbox.replies import Reply, json_reply
from tagpulse.platforms.sandbox.social import SocialPost, SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.social_truth import (
    follow_truth,
    post_truth,
    posts_truth,
    profile_truth,
    users_listing,
)

if TYPE_CHECKING:
    from tagpulse.platforms.sandbox.server import SandboxServer

__all__ = [
    "COMMENTS_QUERY_HASHES",
    "FOLLOWERS_QUERY_HASH",
    "FOLLOWING_QUERY_HASH",
    "MEDIAS_QUERY_HASH",
    "PROFILE_GRID_DOC_ID",
    "route_user",
]

FOLLOWERS_QUERY_HASH = "c76146de99bb02f6415203be841dd25a"
FOLLOWING_QUERY_HASH = "d04b0a864b4b54837c0d870b0e77e076"
COMMENTS_QUERY_HASHES = ("33ba35852cb50da46f5b5e889df7d159", "97b41c52301f77ce508f55e66d17620e")
MEDIAS_QUERY_HASH = "42323d64886122307be10013ad2dcc44"
PROFILE_GRID_DOC_ID = "7950326061742207"
"""A doc id for the grid query; doc ids rotate on the real site, so any one is accepted."""

_FEED = re.compile(r"^/api/v1/feed/user/(\d+)/?$")
_MEDIA_INFO = re.compile(r"^/api/v1/media/(\d+)(?:_\d+)?/info/?$")
_LIKERS = re.compile(r"^/api/v1/media/(\d+)(?:_\d+)?/likers/?$")
_IMAGE = re.compile(r"^/media/(u?)(\d+)(?:_(\d+))?\.jpg$")
_PROFILE_PAGE = re.compile(r"^/([A-Za-z0-9._]{1,30})/$")
_MEDIA_NOT_FOUND = {"message": "Media not found or unavailable", "status": "fail"}
_HTML = "text/html; charset=utf-8"
_Content = Callable[[float], Reply]


class _BadRequest(ValueError):
    pass


def _arg(query: dict[str, list[str]], name: str) -> str:
    return (query.get(name) or [""])[0]


def _first(variables: dict[str, Any], default: int) -> int:
    data = variables.get("data")
    raw = variables.get("first") or (data.get("count") if isinstance(data, dict) else None)
    try:
        return max(1, min(50, int(raw or default)))
    except (TypeError, ValueError):
        raise _BadRequest(f"'first' must be a number, got {raw!r}") from None


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: Any, prefix: str, parts: int) -> list[int]:
    try:
        fields = base64.urlsafe_b64decode(str(cursor).encode()).decode().split(":")
        if fields[0] != prefix or len(fields) != parts + 1:
            raise ValueError(prefix)
        return [int(field) for field in fields[1:]]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _BadRequest(f"invalid cursor {str(cursor)[:40]!r}") from None


def _post_cursor(cursor: Any) -> int | None:
    if cursor in (None, ""):
        return None
    text = str(cursor)
    head = text.split("_", 1)[0]
    if not head.isdigit():
        raise _BadRequest(f"invalid cursor {text[:40]!r}: use '<media id>_<owner id>'")
    return int(head)


def _page(
    world: SocialWorld, account: SocialAccount, now: float, first: int, after: Any
) -> tuple[list[SocialPost], str | None, bool]:
    if account.is_private:
        return [], None, False
    posts = list(islice(world.iter_posts(account, now, _post_cursor(after)), first + 1))
    more = len(posts) > first
    posts = posts[:first]
    cursor = f"{posts[-1].pk}_{account.pk}" if posts else None
    return posts, cursor, more


def _visible_post(world: SocialWorld, pk: int | None, now: float) -> SocialPost | None:
    post = world.post(pk) if pk is not None else None
    if post is None or post.pk != pk or post.taken_at > now:
        return None
    owner = world.accounts[post.owner]
    return None if owner.deleted(now) or owner.is_private else post


class _Routes:
    def __init__(self, app: SandboxServer) -> None:
        self.app = app
        self.world = app.world.social
        self.base = app.base_url

    def profile(self, username: str, now: float) -> Reply:
        account, _ = self.world.resolve(username, now)
        if account is None:
            return json_reply(404, USER_NOT_FOUND_BODY)
        posts, cursor, _ = _page(self.world, account, now, 12, None)
        return json_reply(200, profile_payload(self.world, account, now, self.base, posts, cursor))

    def grid(self, variables: dict[str, Any], now: float) -> Reply:
        account, _ = self.world.resolve(str(variables.get("username") or ""), now)
        if account is None:
            connection = {"xdt_api__v1__feed__user_timeline_graphql_connection": None}
            return json_reply(200, {"data": connection, "status": "ok"})
        first = _first(variables, 12)
        posts, cursor, more = _page(self.world, account, now, first, variables.get("after"))
        items = [api_item(self.world, post, now, self.base) for post in posts]
        return json_reply(200, grid_payload(items, cursor, more))

    def feed(self, user_id: str, query: dict[str, list[str]], now: float) -> Reply:
        account = self.world.by_pk(user_id)
        if account is None or account.deleted(now):
            return json_reply(404, USER_NOT_FOUND_BODY)
        first = _first({"first": _arg(query, "count")}, 12)
        posts, cursor, more = _page(self.world, account, now, first, _arg(query, "max_id"))
        items = [api_item(self.world, post, now, self.base) for post in posts]
        return json_reply(200, user_feed_payload(items, cursor, more))

    def media_info(self, pk: str, now: float) -> Reply:
        post = _visible_post(self.world, int(pk), now)
        if post is None:
            return json_reply(404, _MEDIA_NOT_FOUND)
        return json_reply(200, media_info_payload(self.world, post, now, self.base))

    def likers(self, pk: str, now: float) -> Reply:
        """The post's in-world likers by ``now``, most recent first (at most 1,000, as on the
        real site); ``user_count`` is the post's whole like count."""
        post = _visible_post(self.world, int(pk), now)
        if post is None:
            return json_reply(404, _MEDIA_NOT_FOUND)
        users = [
            {
                "pk": str(a.pk),
                "pk_id": str(a.pk),
                "username": a.username_at(now),
                "full_name": a.full_name,
                "is_private": a.is_private,
                "is_verified": a.is_verified,
                "profile_pic_url": f"{self.base}/media/u{a.pk}_150.jpg",
            }
            for a in reversed(self.world.likers(post, now)[-1000:])
        ]
        doc = {"users": users, "user_count": self.world.like_count(post, now), "status": "ok"}
        return json_reply(200, doc)

    def comments(self, variables: dict[str, Any], now: float) -> Reply:
        pk = pk_from_shortcode(str(variables.get("shortcode") or "")[:20])
        post = _visible_post(self.world, pk, now)
        if post is None:
            return json_reply(200, {"data": {"shortcode_media": None}, "status": "ok"})
        first = _first(variables, 12)
        total = self.world.comment_count(post, now)
        end = total
        if variables.get("after"):
            pk_cursor, end = _decode(variables["after"], "comments", 2)
            if pk_cursor != post.pk:
                raise _BadRequest("this cursor belongs to another post")
            end = min(end, total)
        begin = max(0, end - first)
        comments = [self.world.comment(post, i) for i in range(begin, end)]
        cursor = _encode(f"comments:{post.pk}:{begin}") if begin > 0 else None
        return json_reply(200, comments_payload(self.world, total, comments, cursor, self.base))

    def _user_by_id(self, variables: dict[str, Any], now: float) -> SocialAccount | None:
        account = self.world.by_pk(str(variables.get("id") or ""))
        return None if account is None or account.deleted(now) else account

    def follows(self, kind: str, variables: dict[str, Any], now: float) -> Reply:
        account = self._user_by_id(variables, now)
        if account is None:
            return json_reply(200, {"data": {"viewer": {}, "user": None}, "status": "ok"})
        edges = self.world.follow_edges(account, now, kind)
        if kind == "followers":
            count = self.world.follower_count(account, now)  # bought followers included
        else:
            count = len(edges) * self.world.config.following_scale
        first = _first(variables, 24)
        if account.is_private:
            edges = []
        elif variables.get("after"):
            since, pk = _decode(variables["after"], kind, 2)
            edges = [(s, a) for s, a in edges if (-s, -a.pk) > (-since, -pk)]
        page = edges[:first]
        more = len(edges) > first
        cursor = _encode(f"{kind}:{int(page[-1][0])}:{page[-1][1].pk}") if more else None
        key = "edge_followed_by" if kind == "followers" else "edge_follow"
        accounts = [other for _, other in page]
        return json_reply(200, follow_payload(key, count, accounts, cursor, now, self.base))

    def medias(self, variables: dict[str, Any], now: float) -> Reply:
        account = self._user_by_id(variables, now)
        if account is None:
            return json_reply(200, {"data": {"viewer": {}, "user": None}, "status": "ok"})
        posts, cursor, more = _page(
            self.world, account, now, _first(variables, 12), variables.get("after")
        )
        connection = {
            "count": self.world.post_count(account, now),
            "page_info": {"has_next_page": more, "end_cursor": cursor},
            "edges": [{"node": graphql_post_node(self.world, p, now, self.base)} for p in posts],
        }
        user = {"edge_owner_to_timeline_media": connection}
        return json_reply(200, {"data": {"user": user}, "status": "ok"})

    def graphql(self, query: dict[str, list[str]]) -> tuple[str, _Content]:
        query_hash = _arg(query, "query_hash")
        try:
            variables = orjson.loads(_arg(query, "variables") or "{}")
        except orjson.JSONDecodeError:
            variables = None
        if not isinstance(variables, dict):
            return "graphql", _fail(400, "variables must be a JSON object")
        vs: dict[str, Any] = variables
        if query_hash in COMMENTS_QUERY_HASHES:
            return "comments", lambda now: self.comments(vs, now)
        if query_hash == FOLLOWERS_QUERY_HASH:
            return "followers", lambda now: self.follows("followers", vs, now)
        if query_hash == FOLLOWING_QUERY_HASH:
            return "following", lambda now: self.follows("following", vs, now)
        if query_hash == MEDIAS_QUERY_HASH:
            return "medias", lambda now: self.medias(vs, now)
        if _arg(query, "doc_id") and "username" in vs:
            return "grid", lambda now: self.grid(vs, now)
        return "graphql", _fail(400, "unknown query_hash or doc_id")

    def image(self, user: bool, key: str, width: str) -> Reply:
        now = self.app.clock.time()
        seed = self.world.seed
        size = int(width or 1080)
        if user:
            account = self.world.by_pk(key)
            if account is None or account.deleted(now):
                return Reply(404, b"", "text/plain")
            return Reply(200, render_image(seed, f"u{key}", size, size, False), "image/jpeg")
        pk = int(key)
        post = self.world.post(pk)
        if post is None or post.taken_at > now or self.world.accounts[post.owner].deleted(now):
            return Reply(404, b"", "text/plain")
        height = round(post.height * size / post.width)
        webp = is_webp_quirk(seed, str(post.pk), self.world.config.webp_share)
        w, h = picture_size(size, height)
        subject = photo_subject(seed, post.owner, key)
        return Reply(200, render_photo(seed, key, subject, w, h, webp), "image/jpeg")

    def profile_page(self, handle: str) -> Reply | None:
        if self.world.by_handle(handle) is None:
            return None
        account, state = self.world.resolve(handle, self.app.clock.time())
        if account is None:
            page = "<!DOCTYPE html><html><body>Sorry, this page isn't available.</body></html>"
            return Reply(404, page.encode(), _HTML)
        if state == "renamed":
            return Reply(301, b"", _HTML, {"Location": f"/{account.username}/"})
        page = f"<!DOCTYPE html><html><head><title>@{account.username} • Instagram</title>"
        return Reply(200, (page + "</head><body></body></html>").encode(), _HTML)

    def truth(self, path: str, query: dict[str, list[str]]) -> Reply | None:
        if path == "/__sandbox/users":
            return json_reply(200, users_listing(self.world))
        if not path.startswith("/__sandbox/truth/"):
            return None
        try:
            t = float(_arg(query, "t") or _arg(query, "at") or self.app.clock.time())
            what = path.removeprefix("/__sandbox/truth/")
            handle = _arg(query, "username")
            answer: dict[str, Any] | None
            if what == "profile":
                answer = profile_truth(self.world, handle, t)
            elif what == "posts":
                limit = int(_arg(query, "limit")) if _arg(query, "limit") else None
                answer = posts_truth(self.world, handle, t, limit)
            elif what in ("followers", "following"):
                answer = follow_truth(self.world, handle, t, what)
            elif what == "post":
                code = _arg(query, "code")
                pk = pk_from_shortcode(code) if code else int(_arg(query, "pk") or 0)
                post = self.world.post(pk) if pk else None
                answer = post_truth(self.world, post, t) if post and post.pk == pk else None
            else:
                return None
        except ValueError as exc:
            return json_reply(400, {"message": str(exc), "status": "fail"})
        if answer is None:
            return json_reply(404, {"message": "not in this world", "status": "fail"})
        return json_reply(200, answer)


def _fail(status: int, message: str) -> _Content:
    return lambda now: json_reply(status, {"message": message, "status": "fail"})


def _guarded(content: _Content) -> _Content:
    def run(now: float) -> Reply:
        try:
            return content(now)
        except _BadRequest as exc:
            return json_reply(400, {"message": str(exc), "status": "fail"})
        except ValueError as exc:  # a time outside the world's span
            return json_reply(400, {"message": str(exc), "status": "fail"})

    return run


def route_user(
    app: SandboxServer,
    handler: BaseHTTPRequestHandler,
    path: str,
    query: dict[str, list[str]],
) -> Reply | None:
    """The answer to an account, media or social-truth request; ``None`` for other paths."""
    if path.startswith("/__sandbox/"):
        social = path == "/__sandbox/users" or path.startswith("/__sandbox/truth/")
        return _Routes(app).truth(path, query) if social else None
    if path.startswith("/api/v1/users/web_profile_info"):
        routes = _Routes(app)
        username = _arg(query, "username")
        return app.data(handler, "profile", "", _guarded(lambda now: routes.profile(username, now)))
    if path.rstrip("/") == "/graphql/query":
        kind, content = _Routes(app).graphql(query)
        return app.data(handler, kind, "", _guarded(content))
    match = _FEED.match(path)
    if match:
        routes, user_id = _Routes(app), match.group(1)
        return app.data(handler, "feed", "", _guarded(lambda now: routes.feed(user_id, query, now)))
    match = _LIKERS.match(path)
    if match:
        routes, pk = _Routes(app), match.group(1)
        return app.data(handler, "likers", "", _guarded(lambda now: routes.likers(pk, now)))
    match = _MEDIA_INFO.match(path)
    if match:
        routes, pk = _Routes(app), match.group(1)
        return app.data(handler, "media", "", _guarded(lambda now: routes.media_info(pk, now)))
    match = _IMAGE.match(path)
    if match:
        return _Routes(app).image(match.group(1) == "u", match.group(2), match.group(3) or "")
    match = _PROFILE_PAGE.match(path)
    if match and not path.startswith(("/accounts/", "/explore/", "/api/")):
        return _Routes(app).profile_page(match.group(1))
    return None
