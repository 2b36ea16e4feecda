"""Accounts against the sandbox over loopback: profiles and posts equal the world's truth."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.payloads import shortcode_from_pk
from tagpulse.platforms.sandbox.social import SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tests.collect.conftest import Rig


def pick(social: SocialWorld, t: float) -> dict[str, SocialAccount]:
    """A busy public account, a private one, a deleted one and a renamed one."""
    live = [a for a in social.accounts if social.resolve(a.username, t)[1] == "active"]
    public = [a for a in live if not a.is_private]
    busy = max(public, key=lambda a: social.post_count(a, t))
    private = next(a for a in live if a.is_private)
    deleted = next(a for a in social.accounts if a.deleted_at is not None and a.deleted(t))
    renamed = next(
        a for a in social.accounts
        if a.old_username and a.renamed_at is not None and a.renamed_at < t and not a.deleted(t)
    )  # fmt: skip
    return {"busy": busy, "private": private, "deleted": deleted, "renamed": renamed}


def account_rig(make_rig: Callable[..., Rig]) -> tuple[Rig, dict[str, SocialAccount]]:
    rig = make_rig("paris\n")
    chosen = pick(rig.world.social, rig.clock.time())
    handles = rig.tags_file.parent / "accounts.txt"
    lines = [chosen["busy"].username, "@" + chosen["private"].username, chosen["deleted"].username]
    lines.append(chosen["renamed"].old_username or "")
    handles.write_text("\n".join(lines) + "\n")
    rig.handles_file = handles
    return rig, chosen


def test_profiles_and_posts_equal_the_truth(make_rig: Callable[..., Rig]) -> None:
    rig, chosen = account_rig(make_rig)
    social = rig.world.social
    busy = chosen["busy"]
    t0 = rig.clock.time()
    want_posts = len(social.posts_at(busy, t0))
    assert want_posts > 30  # enough for three pages
    stats = rig.collector(once=True, max_posts=30).run()
    assert stats.snapshots == 5  # the tag and the four accounts

    q = LakeQuery(rig.settings.lake_dir)
    profiles = {r["handle"]: r for r in q.rows("SELECT * FROM profiles WHERE raw_id IS NOT NULL")}
    row = profiles[busy.username]
    at = row["collected_at"].timestamp()
    assert row["user_id"] == str(busy.pk) and row["state"] == "ok"
    assert row["followers"] == social.follower_count(busy, at)
    assert row["posts_count"] == social.post_count(busy, at)
    assert profiles[chosen["private"].username]["state"] == "private"
    renamed = chosen["renamed"]
    assert profiles[renamed.username]["state"] == "renamed"

    states = {r["handle"]: r["state"] for r in q.rows("SELECT handle, state FROM profiles")}
    assert states[chosen["deleted"].username] == "not_found"

    got = q.rows(
        "SELECT DISTINCT post_id FROM posts WHERE owner_id = ? AND seen_via LIKE 'profile:%'",
        [str(busy.pk)],
    )
    newest = [str(p.pk) for p in social.posts_at(busy, rig.clock.time())]
    ids = {r["post_id"] for r in got}
    # Pages of 12 until 30 were read: the 36 newest, no gap, none twice.
    assert ids == set(newest[:36])
    assert q.rows(
        "SELECT count(*) AS n FROM (SELECT post_id, raw_id FROM posts_all "
        "WHERE owner_id = ? GROUP BY ALL HAVING count(*) > 1)",
        [str(busy.pk)],
    ) == [{"n": 0}]
    private_posts = q.rows(
        "SELECT count(*) AS n FROM posts WHERE owner_id = ?", [str(chosen["private"].pk)]
    )
    assert private_posts == [{"n": 0}]
    # Pages are requests like any other: through the pool, never to a cooling account.
    feed = [r for r in rig.server.request_log() if f"/api/v1/feed/user/{busy.pk}/" in r.path]
    assert len(feed) == 2 and all(r.status == 200 for r in feed)
    catalog = Catalog(rig.settings.catalog_path)
    assert catalog.cursor("instagram", "@" + busy.username) is None  # the pass finished
    catalog.close()


def test_a_pass_stopped_mid_way_resumes_at_its_cursor(make_rig: Callable[..., Rig]) -> None:
    rig, chosen = account_rig(make_rig)
    busy = chosen["busy"]
    rig.handles_file.write_text(busy.username + "\n")  # type: ignore[union-attr]
    rig.tags_file.write_text("")
    stop = threading.Event()
    first = rig.collector(once=True, max_posts=48, stop=stop)
    pages: list[int] = []
    original = first.scheduler.next_page

    def stop_after_two(*args: object, **kwargs: object) -> object:
        task = original(*args, **kwargs)  # type: ignore[arg-type]
        pages.append(task.page)
        if len(pages) == 2:
            stop.set()  # as a SIGTERM would: finish this request, flush, exit
        return task

    first.scheduler.next_page = stop_after_two  # type: ignore[method-assign]
    first.run()
    catalog = Catalog(rig.settings.catalog_path)
    stored = catalog.cursor("instagram", "@" + busy.username)
    assert stored is not None and stored.pages == 2 and stored.posts == 24
    catalog.close()
    log_before = len(rig.server.request_log())

    rig.collector(once=True, max_posts=48).run()
    after = rig.server.request_log()[log_before:]
    assert "/api/v1/feed/user/" in after[0].path  # no second profile request: resumed
    assert stored.cursor in after[0].path or stored.cursor.replace("_", "%5F") in after[0].path
    q = LakeQuery(rig.settings.lake_dir)
    ids = {r["post_id"] for r in q.rows(
        "SELECT DISTINCT post_id FROM posts WHERE owner_id = ?", [str(busy.pk)]
    )}  # fmt: skip
    newest = [str(p.pk) for p in rig.world.social.posts_at(busy, rig.clock.time())]
    assert ids == set(newest[:48])


def test_account_post_images_go_to_the_media_store(make_rig: Callable[..., Rig]) -> None:
    rig, chosen = account_rig(make_rig)
    busy = chosen["busy"]
    rig.handles_file.write_text(busy.username + "\n")  # type: ignore[union-attr]
    stats = rig.collector(once=True, max_posts=12).run()
    q = LakeQuery(rig.settings.lake_dir)
    posts = q.rows(
        "SELECT DISTINCT post_id, media_urls FROM posts WHERE owner_id = ?", [str(busy.pk)]
    )
    urls = {u for p in posts for u in p["media_urls"]}
    assert len(posts) == 12 and urls
    assert stats.media_stored == len(urls)
    from tagpulse.collect.media import MediaStore

    with MediaStore(rig.settings.media_dir) as store:
        for post in posts:
            files = store.for_post("instagram", post["post_id"])
            assert len(files) == len(set(post["media_urls"]))
            assert all(f.mime in ("image/jpeg", "image/webp") for f in files)
        # ... and the account's profile picture, with no post, found by its URL.
        pic = q.rows(
            "SELECT DISTINCT profile_pic_url FROM profiles WHERE user_id = ? AND state = 'ok'",
            [str(busy.pk)],
        )
        assert len(pic) == 1 and pic[0]["profile_pic_url"]
        avatar = store.known_url(pic[0]["profile_pic_url"])
        assert avatar is not None and stats.avatars_stored == 1
        assert store.stats().files == len(urls) + 1 and store.stats().posts == 12
        assert avatar not in {f.sha256 for f in store.linked_files()}  # not a post's image
    # A later pass downloads only the images of posts that are new since: none twice, and the
    # unchanged profile picture not again.
    rig.clock.advance(3600)  # type: ignore[union-attr]
    again = rig.collector(once=True, max_posts=12).run()
    later = q.rows("SELECT DISTINCT media_urls FROM posts WHERE owner_id = ?", [str(busy.pk)])
    new = {u for p in later for u in p["media_urls"]} - urls
    assert again.media_stored == len(new) and again.avatars_stored == 0
    with MediaStore(rig.settings.media_dir) as store:
        assert store.stats().files == len(urls) + len(new) + 1


def test_no_media_downloads_nothing(make_rig: Callable[..., Rig]) -> None:
    rig, chosen = account_rig(make_rig)
    rig.handles_file.write_text(chosen["busy"].username + "\n")  # type: ignore[union-attr]
    stats = rig.collector(once=True, media=False).run()
    assert stats.media_stored == 0 and stats.avatars_stored == 0
    assert not rig.settings.media_dir.exists()


def test_followers_following_and_comments(make_rig: Callable[..., Rig]) -> None:
    rig, _ = account_rig(make_rig)
    social = rig.world.social
    public = [
        a for a in social.accounts
        if not a.is_private and social.resolve(a.username, rig.clock.time())[1] == "active"
    ]  # fmt: skip
    t = rig.clock.time()
    star = max(public, key=lambda a: len(social.followers(a, t)))
    assert len(social.followers(star, t)) > 30  # more than one page of 24
    rig.handles_file.write_text(star.username + "\n")  # type: ignore[union-attr]
    stats = rig.collector(
        once=True, followers=1000, comments_posts=12, comment_pages=2, likers_posts=2, media=False
    ).run()
    assert stats.snapshots == 2  # the tag and the account
    at = rig.clock.time()
    q = LakeQuery(rig.settings.lake_dir)
    into = {r["src"] for r in q.rows(
        "SELECT DISTINCT src FROM edges WHERE kind = 'follows' AND dst = ?", [str(star.pk)]
    )}  # fmt: skip
    out = {r["dst"] for r in q.rows(
        "SELECT DISTINCT dst FROM edges WHERE kind = 'follows' AND src = ?", [str(star.pk)]
    )}  # fmt: skip
    assert into == {str(a.pk) for a in social.followers(star, at)}
    assert out == {str(a.pk) for a in social.following(star, at)}
    newest = social.posts_at(star, at)[:12]
    assert any(social.comment_count(p, at) > 24 for p in newest)  # a second page was read
    comments = q.rows("SELECT post_id, comment_id FROM comments")
    by_post: dict[str, int] = {}
    for row in comments:
        by_post[row["post_id"]] = by_post.get(row["post_id"], 0) + 1
    for post in newest:
        want = min(2 * 24, social.comment_count(post, at))
        assert by_post.get(str(post.pk), 0) == want, post.pk
        # The newest ones: the truth's comments, as ids.
        truth_ids = {str(c.id) for c in social.comments_at(post, at)[-want:]} if want else set()
        got_ids = {r["comment_id"] for r in comments if r["post_id"] == str(post.pk)}
        assert got_ids == truth_ids
    liked = q.rows("SELECT post_id, src, dst FROM edges WHERE kind = 'liked' ORDER BY post_id, src")
    wanted = 0
    for post in newest[:2]:
        want = {str(a.pk) for a in social.likers(post, at)[-1000:]} - {str(star.pk)}
        got = {r["src"] for r in liked if r["post_id"] == str(post.pk)}
        assert got == want, post.pk
        wanted += len(want)
    assert wanted > 0
    assert {r["dst"] for r in liked} == {str(star.pk)}
    assert not [r for r in liked if r["post_id"] == str(newest[2].pk)]  # only the 2 newest
    catalog = Catalog(rig.settings.catalog_path)
    assert catalog.cursor("instagram", "@" + star.username) is None
    catalog.close()


def test_watched_posts_build_an_engagement_history(make_rig: Callable[..., Rig]) -> None:
    rig, chosen = account_rig(make_rig)
    social = rig.world.social
    t = rig.clock.time()
    posts = social.posts_at(chosen["busy"], t)[:2]
    codes = [shortcode_from_pk(p.pk) for p in posts]
    rig.handles_file = None
    rig.tags_file.write_text(f"https://www.instagram.com/p/{codes[0]}/\np/{codes[1]}\n")
    rig.collector(hours=3, interval_s=1800).run()
    q = LakeQuery(rig.settings.lake_dir)
    rows = q.rows(
        "SELECT post_id, shortcode, likes, comments, epoch(collected_at) AS t FROM posts "
        "WHERE seen_via = 'media' ORDER BY post_id, t"
    )
    for post, code in zip(posts, codes, strict=True):
        history = [r for r in rows if r["post_id"] == str(post.pk)]
        assert len(history) >= 6 and all(r["shortcode"] == code for r in history)
        for r in history:
            want = None if post.likes_hidden else social.like_count(post, r["t"])
            assert r["likes"] == want
            assert r["comments"] == social.comment_count(post, r["t"])
