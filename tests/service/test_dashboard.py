"""The dashboard in a real browser: Playwright driving Debian's Chromium over loopback.

It logs in, opens every page, checks the charts' data points against the API's own answers,
adds a tag to the watchlist and sees it listed. Screenshots land in the test's folder and, when
TAGPULSE_SCREENSHOTS names a folder, there too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import PASSWORD, Api

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("TAGPULSE_REQUIRE_BROWSER"),
        reason="Debian's chromium is not installed (make test installs it and requires it)",
    ),
]
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _shot(page: object, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    extra = os.environ.get("TAGPULSE_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)


def _open(page: object, url: str, name: str) -> None:
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.body.dataset.page === {name!r} && document.body.dataset.ready"
    )


def test_dashboard_pages_show_the_apis_data(api: Api, browser: object, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(api.base + "/")
    page.wait_for_selector("form.login")
    _shot(page, tmp_path, "login")
    page.fill("input[name=user]", "analyst-brand")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    page.wait_for_selector("p.error:has-text('wrong user name or password')")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.page === 'timelines'")
    page.wait_for_selector("svg[data-kind=line] path.series")

    # The line chart has one path per watched tag, with as many points as the API's series.
    with httpx.Client(base_url=api.base + "/api/v1") as client:
        client.headers["Authorization"] = "Bearer " + api.keys["analyst-brand:read"]
        series = client.get("/workspaces/brand/timelines", params={"interval": "1h"}).json()[
            "series"
        ]
        share = client.get("/workspaces/brand/insights/share", params={"interval": "1d"}).json()
        posts_total = len(
            client.get("/workspaces/brand/posts", params={"limit": 100}).json()["items"]
        )
    drawn = page.eval_on_selector_all(
        "svg[data-kind=line] path.series",
        "ps => ps.map(p => [p.dataset.label, Number(p.dataset.points)])",
    )
    assert sorted(map(tuple, drawn)) == sorted((k, len(v)) for k, v in series.items())
    assert dict(map(tuple, drawn)) == {"adidas": 48, "nike": 48, "shared": 0}
    _shot(page, tmp_path, "timelines")

    _open(page, api.base + "/#/share", "share")
    slices = page.eval_on_selector_all(
        "svg[data-kind=pie] path.slice",
        "ps => ps.map(p => [p.dataset.label, Number(p.dataset.share)])",
    )
    # "shared" has no counts: no slice, and no share.
    expected = {
        "#" + t["tag"]: t["posts_share"] for t in share["platforms"][0]["tags"] if t["posts_share"]
    }
    assert {k: round(v, 3) for k, v in slices} == {k: round(v, 3) for k, v in expected.items()}
    assert set(expected) == {"#nike", "#adidas"}
    assert page.locator("svg[data-kind=area] polygon.band").count() == 3
    _shot(page, tmp_path, "share")

    _open(page, api.base + "/#/spikes", "spikes")
    assert page.locator("h2:has-text('Hashtag count anomalies')").count() == 1
    _shot(page, tmp_path, "spikes")

    _open(page, api.base + "/#/posts", "posts")
    # Every post the workspace sees fits on the first page (21 of 25), so no "More".
    assert page.locator("#post-rows tr").count() == posts_total == 21
    assert page.locator("#more").is_hidden()
    _shot(page, tmp_path, "posts")

    _open(page, api.base + "/#/watchlist", "watchlist")
    page.fill("#new-entry", "reebok")
    page.click("#add-entry button[type=submit]")
    page.wait_for_selector("#watchlist td:text-is('reebok')")
    _shot(page, tmp_path, "watchlist")
    page.click("button[data-entry=reebok]")
    page.wait_for_function(
        "![...document.querySelectorAll('#watchlist td')].some(td => td.textContent === 'reebok')"
    )
    assert errors == []
    context.close()


def test_viewer_cannot_change_the_watchlist(api: Api, browser: object) -> None:
    context = browser.new_context(bypass_csp=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(api.base + "/#/login")
    page.wait_for_selector("form.login")
    page.fill("input[name=user]", "viewer-brand")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.page === 'timelines'")
    _open(page, api.base + "/#/watchlist", "watchlist")
    assert page.locator("#add-entry").count() == 0
    assert page.locator("text=Viewers cannot change the watchlist").count() == 1
    csp = httpx.get(api.base + "/").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    context.close()


def test_campaign_influencer_sentiment_and_post_pages(
    api: Api, browser: object, tmp_path: Path
) -> None:
    from tagpulse.config import load_settings
    from tagpulse.enrich.runner import enrich_text

    enrich_text(load_settings(home=api.home))
    context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(api.base + "/#/login")
    page.wait_for_selector("form.login")
    page.fill("input[name=user]", "analyst-brand")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.page === 'timelines'")

    _open(page, api.base + "/#/campaigns", "campaigns")
    page.fill("#campaign-name", "launch")
    page.fill("#campaign-tags", "nike")
    page.fill("#campaign-start", "2026-11-01")
    page.fill("#campaign-end", "2026-11-02")
    page.click("#new-campaign button[type=submit]")
    page.wait_for_selector("#campaign-detail svg[data-kind=line] path.series", state="attached")
    with httpx.Client(base_url=api.base + "/api/v1") as client:
        client.headers["Authorization"] = "Bearer " + api.keys["analyst-brand:read"]
        report = client.get("/workspaces/brand/campaigns/launch/report").json()
        accounts = client.get("/workspaces/brand/insights/influencers?top=25").json()["accounts"]
        mood = client.get("/workspaces/brand/insights/sentiment?interval=1d").json()
    drawn = page.eval_on_selector(
        "#campaign-detail path.series[data-label='new posts per day']",
        "p => Number(p.dataset.points)",
    )
    assert drawn == len(report["rates_per_day"]) > 0
    assert page.locator("#campaign-list button[data-campaign=launch]").count() == 1
    _shot(page, tmp_path, "campaigns")

    _open(page, api.base + "/#/influencers", "influencers")
    assert page.locator("#influencer-table tbody tr").count() == len(accounts) > 0
    first = page.locator("#influencer-table tbody tr").first.locator("td").nth(1).inner_text()
    top = accounts[0]
    assert first == ("@" + top["handle"] if top["handle"] else top["account"])
    _shot(page, tmp_path, "influencers")

    _open(page, api.base + "/#/sentiment", "sentiment")
    points = page.eval_on_selector(".sentiment-chart path.series", "p => Number(p.dataset.points)")
    assert points == len(mood["platforms"][0]["points"]) > 0
    _shot(page, tmp_path, "sentiment")

    _open(page, api.base + "/#/post/instagram/p00", "post")
    page.wait_for_selector("#label-table td:text-is('tabby')")
    page.wait_for_function(
        "(() => { const i = document.querySelector('.thumbs img');"
        " return i && i.complete && i.naturalWidth > 0; })()"
    )
    assert page.eval_on_selector(".thumbs img", "img => img.naturalWidth") == 64
    _shot(page, tmp_path, "post")
    assert errors == []
    context.close()


def test_feed_page_lists_the_apis_items(api: Api, browser: object, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(api.base + "/#/login")
    page.wait_for_selector("form.login")
    page.fill("input[name=user]", "viewer-brand")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.page === 'timelines'")
    _open(page, api.base + "/#/feed", "feed")
    # brand watches two accounts; @feedfan follows user1 and user2 and liked p05.
    options = page.eval_on_selector_all("#feed-account option", "os => os.map(o => o.value)")
    assert sorted(options) == ["instagram/@feedfan", "instagram/@nikefan"]
    page.select_option("#feed-account", "instagram/@feedfan")
    page.wait_for_function(
        "document.getElementById('feed-items').dataset.shown === 'instagram/@feedfan blend'"
    )

    def shown() -> list[list[str]]:
        rows: list[list[str]] = page.eval_on_selector_all(
            "#feed-table tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
        )
        return [[r[1], r[5], r[6]] for r in rows]  # post, source, reason

    with httpx.Client(base_url=api.base + "/api/v1") as client:
        client.headers["Authorization"] = "Bearer " + api.keys["viewer-brand:read"]

        def expected(source: str) -> list[list[str]]:
            doc = client.get(
                "/workspaces/brand/feed/@feedfan",
                params={"n": 20, "source": source, "platform": "instagram"},
            ).json()
            return [[i["post_id"], i["source"], i["reason"]] for i in doc["items"]]

        blend = expected("blend")
        assert blend and shown() == blend
        assert "p05" not in {row[0] for row in blend}  # liked already
        _shot(page, tmp_path, "feed")
        page.select_option("#feed-source", "network")
        page.wait_for_function(
            "document.getElementById('feed-items').dataset.shown === 'instagram/@feedfan network'"
        )
        network = expected("network")
        assert network and shown() == network
        assert {row[1] for row in network} == {"network"}
    assert errors == []
    context.close()
