"""The sandbox world: deterministic, monotonic counts with visible seasonality and bursts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagpulse.errors import ConfigError
from tagpulse.platforms.sandbox.payloads import shortcode_from_pk
from tagpulse.platforms.sandbox.world import (
    DAY,
    DEFAULT_START,
    HOUR,
    AccountSpec,
    Burst,
    TagSpec,
    World,
    default_accounts,
    default_tags,
)

WORLD = World()
START = WORLD.start


def test_default_start_is_2026_11_01() -> None:
    assert DEFAULT_START == 1793491200.0
    assert START == DEFAULT_START


def test_default_tags_cover_the_demo_behaviours() -> None:
    tags = {spec.name: spec for spec in default_tags()}
    assert {"paris", "nike", "adidas", "puma", "justdoit", "sunset", "newyears", "slowtag"} <= set(
        tags
    )
    assert tags["paris"].base_count > 100_000_000
    assert tags["newyears"].count_hidden
    assert not any(spec.count_hidden for name, spec in tags.items() if name != "newyears")
    assert tags["nike"].bursts and tags["justdoit"].bursts
    assert tags["sunset"].weekly_amplitude >= 0.5
    assert tags["slowtag"].rate_per_hour == 0.5


def test_same_seed_same_world() -> None:
    a, b = World(seed=11), World(seed=11)
    times = [START + k * 1234.5 for k in range(-50, 400)]
    for tag in a.tags:
        assert [a.true_count(tag, t) for t in times] == [b.true_count(tag, t) for t in times]
    t = START + 5 * DAY + 0.3 * HOUR
    assert a.top_posts("paris", t) == b.top_posts("paris", t)
    assert a.recent_posts("nike", t) == b.recent_posts("nike", t)
    # Built in another order (backwards first), the tables agree too.
    c = World(seed=11)
    assert [c.true_count("paris", t) for t in reversed(times)] == [
        a.true_count("paris", t) for t in reversed(times)
    ]


def test_other_seed_other_world() -> None:
    a, b = World(seed=1), World(seed=2)
    t = START + 2 * DAY
    assert a.true_count("paris", t) != b.true_count("paris", t)
    assert a.top_posts("paris", t) != b.top_posts("paris", t)


def test_count_at_start_is_base_count() -> None:
    for spec in WORLD.tags.values():
        assert WORLD.true_count(spec.name, START) == spec.base_count


def test_counts_never_decrease_on_a_fine_grid() -> None:
    for tag in ("paris", "slowtag", "nike"):
        t = START - 3 * HOUR
        previous = WORLD.true_count(tag, t)
        while t < START + 3 * HOUR:
            t += 7.3
            current = WORLD.true_count(tag, t)
            assert current >= previous, (tag, t)
            previous = current


@settings(max_examples=300, deadline=None)
@given(
    tag=st.sampled_from(sorted(WORLD.tags)),
    a=st.floats(min_value=START - 60 * DAY, max_value=START + 90 * DAY),
    delta=st.floats(min_value=0.0, max_value=3 * DAY),
)
def test_counts_are_monotonic(tag: str, a: float, delta: float) -> None:
    assert WORLD.true_count(tag, a) <= WORLD.true_count(tag, a + delta)


def test_counts_follow_the_rate() -> None:
    # Over a week, the growth is close to the integral of the expected rate.
    for tag in ("paris", "adidas"):
        total = WORLD.true_count(tag, START + 7 * DAY) - WORLD.true_count(tag, START)
        expected = sum(WORLD.rate(tag, START + (h + 0.5) * HOUR) for h in range(7 * 24))
        assert abs(total - expected) < 0.02 * expected


def test_nike_burst_is_visible() -> None:
    spec = WORLD.tag("nike")
    begin_offset, duration, extra = spec.bursts[0]
    begin = START + begin_offset
    during = WORLD.true_count("nike", begin + duration) - WORLD.true_count("nike", begin)
    # Same weekly phase one week later, no campaign.
    later = begin + 7 * DAY
    baseline = WORLD.true_count("nike", later + duration) - WORLD.true_count("nike", later)
    assert during > 4 * baseline
    assert WORLD.rate("nike", begin + duration / 2) > WORLD.rate("nike", later + duration / 2) + (
        0.9 * extra
    )
    # Competitors have no burst at that time.
    adidas_during = WORLD.true_count("adidas", begin + duration) - WORLD.true_count("adidas", begin)
    adidas_later = WORLD.true_count("adidas", later + duration) - WORLD.true_count("adidas", later)
    assert 0.5 < adidas_during / adidas_later < 2


def test_sunset_weekly_seasonality() -> None:
    saturday = START + 6 * DAY  # 2026-11-07, a Saturday
    tuesday = START + 2 * DAY
    weekend = WORLD.true_count("sunset", saturday + DAY) - WORLD.true_count("sunset", saturday)
    weekday = WORLD.true_count("sunset", tuesday + DAY) - WORLD.true_count("sunset", tuesday)
    assert weekend > 2.5 * weekday


def test_slowtag_is_slow() -> None:
    day = WORLD.true_count("slowtag", START + DAY) - WORLD.true_count("slowtag", START)
    assert 2 <= day <= 30


def test_count_hidden_tag_still_has_a_true_count() -> None:
    assert WORLD.tag("newyears").count_hidden
    assert WORLD.true_count("newyears", START + DAY) > WORLD.tag("newyears").base_count


def test_unknown_tag_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="unknown tag"):
        WORLD.true_count("nosuchtag", START)
    with pytest.raises(KeyError):
        WORLD.top_posts("nosuchtag", START)


def test_tag_lookup_ignores_case() -> None:
    assert WORLD.true_count("Paris", START + HOUR) == WORLD.true_count("paris", START + HOUR)


def test_far_or_invalid_times_are_refused() -> None:
    with pytest.raises(ValueError):
        WORLD.true_count("paris", START + 200 * 365 * DAY)
    with pytest.raises(ValueError):
        WORLD.true_count("paris", float("nan"))


_ITEM_KEYS = {
    "pk",
    "id",
    "code",
    "taken_at",
    "media_type",
    "like_count",
    "comment_count",
    "caption",
    "user",
    "image_versions2",
}


def _check_item(item: dict[str, Any], tag: str, before: float) -> None:
    assert set(item) >= _ITEM_KEYS
    assert item["id"] == f"{item['pk']}_{item['user']['pk']}"
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", item["code"])
    assert item["code"] == shortcode_from_pk(item["pk"])
    assert isinstance(item["taken_at"], int) and item["taken_at"] < before
    assert item["media_type"] in (1, 2, 8)
    assert f"#{tag}" in item["caption"]["text"]
    assert {"pk", "username", "full_name", "is_private", "is_verified"} <= set(item["user"])
    candidate = item["image_versions2"]["candidates"][0]
    assert {"url", "width", "height"} <= set(candidate)
    if item["media_type"] == 2:
        assert item["play_count"] >= item["view_count"] >= 0
    if item["media_type"] == 8:
        assert item["carousel_media_count"] == len(item["carousel_media"]) >= 2


def test_top_posts_shape_and_stability() -> None:
    t = START + 2 * DAY + 10 * 60
    posts = WORLD.top_posts("paris", t)
    assert len(posts) == 9
    for item in posts:
        _check_item(item, "paris", t)
    # Fixed within the hour, different in the next one.
    assert WORLD.top_posts("paris", t + 40 * 60) == posts
    assert WORLD.top_posts("paris", t + HOUR) != posts
    assert len({item["pk"] for item in posts}) == 9


def test_recent_posts_are_before_t_and_newest_first() -> None:
    t = START + 3 * DAY + 123.0
    posts = WORLD.recent_posts("slowtag", t)
    for item in posts:
        _check_item(item, "slowtag", t)
    taken = [item["taken_at"] for item in posts]
    assert taken == sorted(taken, reverse=True)


def test_posts_vary_media_types_languages_and_emoji() -> None:
    items = [item for h in range(40) for item in WORLD.top_posts("sunset", START + h * HOUR)]
    assert {item["media_type"] for item in items} == {1, 2, 8}
    captions = [item["caption"]["text"] for item in items]
    assert all(any(ord(ch) > 0x2000 for ch in text) for text in captions)
    markers = {
        "en": ("never", "vibes", "believe", "drop", "Throwback"),
        "fr": ("Quelle", "Toujours", "moment", "retourne"),
        "es": ("Qué", "nada", "Recuerdos"),
        "de": ("Was für", "Einfach", "Mehr davon"),
    }
    found = {
        lang
        for lang, words in markers.items()
        if any(word in text for text in captions for word in words)
    }
    assert found == set(markers)
    assert len({item["user"]["username"] for item in items}) > 50


def test_authors_are_unique() -> None:
    names = [author.username for author in WORLD.authors]
    assert len(names) == len(set(names))


def test_accounts() -> None:
    accounts = default_accounts(3)
    assert [a.alias for a in accounts] == ["acct01", "acct02", "acct03"]
    assert [a.session_id for a in accounts] == ["sess-acct01", "sess-acct02", "sess-acct03"]
    assert all(a.capacity == 10 and a.refill_per_hour == 200 for a in accounts)
    world = World(accounts=accounts)
    assert world.account_by_session("sess-acct02") == accounts[1]
    assert world.account_by_session("nope") is None
    with pytest.raises(ConfigError):
        World(accounts=[AccountSpec("a", "s"), AccountSpec("b", "s")])


def test_tag_spec_validation() -> None:
    with pytest.raises(ConfigError):
        TagSpec("x", 0, 1.0, weekly_amplitude=0.8, daily_amplitude=0.3)
    with pytest.raises(ConfigError):
        TagSpec("#Paris", 0, 1.0)
    with pytest.raises(ConfigError):
        World(tags=[TagSpec("x", 0, 1.0), TagSpec("x", 0, 2.0)])
    spec = TagSpec("x", 5, 1.0, bursts=[(0, 60, 10)])
    assert isinstance(spec.bursts[0], Burst)
    assert spec.bursts[0] == (0.0, 60.0, 10.0)


def test_custom_world() -> None:
    world = World(seed=3, start=0.0, tags=[TagSpec("steady", 100, 3600.0)])
    assert list(world.tags) == ["steady"]
    # 3600/hour = one a second on average.
    assert 3300 < world.true_count("steady", HOUR) - 100 < 3900
