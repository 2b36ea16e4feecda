"""Profile pictures into the media store: once per distinct URL, paced like post images."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tagpulse.collect.media import MediaStore
from tagpulse.collect.media_fetch import MediaFetcher, MediaWant, wanted_avatars, wanted_images
from tagpulse.records import Post, Profile
from tests.collect.test_media import MediaServer, Route, jpeg

AT = datetime(2026, 3, 1, tzinfo=UTC)


def profile(url: str | None, *, user: str = "1", state: str = "ok") -> Profile:
    return Profile("instagram", user, f"h{user}", AT, None, profile_pic_url=url, state=state)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[MediaServer]:
    srv = MediaServer()
    for i in range(4):
        srv.routes[f"/u{i}.jpg"] = Route(body=jpeg((150, 150), seed=i))
        srv.routes[f"/p{i}.jpg"] = Route(body=jpeg((320, 240), seed=10 + i))
    yield srv
    srv.close()


def test_wanted_avatars_one_per_url_of_observed_accounts() -> None:
    got = wanted_avatars(
        [
            profile("a"),
            profile("a", user="2"),  # the same URL twice in a flush: one download
            profile(None, user="3"),
            profile("b", user="4", state="not_found"),
            profile("c", user="5"),
        ]
    )
    assert got == [MediaWant("instagram", None, "a"), MediaWant("instagram", None, "c")]
    assert all(w.is_avatar for w in got)
    post = Post("instagram", "9", AT, None, seen_via="profile:x", media_urls=["p"])
    assert [w.is_avatar for w in wanted_images([post])] == [False]


def test_a_picture_is_downloaded_once_per_distinct_url(server: MediaServer, tmp_path: Path) -> None:
    fetcher = MediaFetcher(tmp_path / "media")
    base = server.base
    wants = [
        *wanted_avatars([profile(f"{base}/u0.jpg")]),
        MediaWant("instagram", "p0", f"{base}/p0.jpg"),
    ]
    first = fetcher.fetch(wants, 0.0, lambda: AT)
    assert (first.stored, first.avatars_stored, first.known) == (2, 1, 0)
    # The next pass sees the same URL: linked, not downloaded again.
    again = fetcher.fetch(wanted_avatars([profile(f"{base}/u0.jpg")]), 1.0, lambda: AT)
    assert (again.stored, again.avatars_stored, again.known) == (0, 0, 1)
    assert server.hits["/u0.jpg"] == 1
    # A changed URL is a new picture.
    changed = fetcher.fetch(wanted_avatars([profile(f"{base}/u1.jpg")]), 2.0, lambda: AT)
    assert (changed.stored, changed.avatars_stored) == (1, 1)
    fetcher.close()
    with MediaStore(tmp_path / "media") as store:
        old, new = store.known_url(f"{base}/u0.jpg"), store.known_url(f"{base}/u1.jpg")
        assert old is not None and new is not None and old != new
        assert store.stats().files == 3 and store.stats().posts == 1  # avatars are no posts
        assert store.lookup(new).read_bytes() == server.routes["/u1.jpg"].body


def test_a_cdn_429_on_a_picture_pauses_all_media(server: MediaServer, tmp_path: Path) -> None:
    server.routes["/u0.jpg"] = Route(429, b"slow down", "text/plain")
    fetcher = MediaFetcher(tmp_path / "media", cooldown_s=600)
    posts = [MediaWant("instagram", f"p{i}", f"{server.base}/p{i}.jpg") for i in range(3)]
    wants = [*wanted_avatars([profile(f"{server.base}/u0.jpg")]), *posts]
    out = fetcher.fetch(wants, 0.0, lambda: AT)
    assert out.stored == 0 and len(out.failed) == 1 and out.deferred == 3
    assert sum(server.hits[f"/p{i}.jpg"] for i in range(3)) == 0
    assert fetcher.fetch(wants, 300.0, lambda: AT).deferred == 4  # still cooling down
    server.routes["/u0.jpg"] = Route(body=jpeg((150, 150), seed=0))
    later = fetcher.fetch(wants, 601.0, lambda: AT)
    assert (later.stored, later.avatars_stored, later.failed) == (4, 1, [])
    fetcher.close()


def test_the_per_flush_budget_counts_pictures_and_defers_the_rest(
    server: MediaServer, tmp_path: Path
) -> None:
    fetcher = MediaFetcher(tmp_path / "media", per_flush=2)
    wants = wanted_avatars([profile(f"{server.base}/u{i}.jpg", user=str(i)) for i in range(3)])
    out = fetcher.fetch(wants, 0.0, lambda: AT)
    assert (out.stored, out.avatars_stored, out.deferred) == (2, 2, 1)
    fetcher.close()


def test_forgetting_pictures_keeps_files_something_else_uses(tmp_path: Path) -> None:
    own, shared, posted = jpeg((60, 60), seed=1), jpeg((60, 60), seed=2), jpeg((60, 60), seed=3)
    with MediaStore(tmp_path / "media") as store:
        for url, data in (
            ("https://cdn.test/a.jpg", own),
            ("https://cdn.test/b.jpg", shared),
            ("https://cdn.test/c.jpg", shared),
            ("https://cdn.test/d.jpg", posted),
        ):
            store.store_bytes(data, platform="instagram", post_id=None, url=url, fetched_at=AT)
        store.store_bytes(posted, platform="instagram", post_id="p1", url="https://cdn.test/p.jpg",
                          fetched_at=AT)  # fmt: skip
        forgotten = ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg", "https://cdn.test/d.jpg"]
        assert store.forget_pictures("instagram", forgotten, dry_run=True) == 1
        assert store.known_url("https://cdn.test/a.jpg") is not None
        assert store.forget_pictures("instagram", forgotten) == 1  # only ``own`` is nobody's
        assert [store.known_url(u) for u in forgotten] == [None, None, None]
        assert store.known_url("https://cdn.test/c.jpg") is not None  # same bytes as b
        assert len(store.for_post("instagram", "p1")) == 1  # same bytes as d
        assert store.stats().files == 2
        assert len([p for p in (tmp_path / "media").glob("??/*") if p.is_file()]) == 2
