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
    assert all(n == 48 for _, n in drawn)
    _shot(page, tmp_path, "timelines")

    _open(page, api.base + "/#/share", "share")
    slices = page.eval_on_selector_all(
        "svg[data-kind=pie] path.slice",
        "ps => ps.map(p => [p.dataset.label, Number(p.dataset.share)])",
    )
    expected = {"#" + t["tag"]: t["posts_share"] for t in share["platforms"][0]["tags"]}
    assert {k: round(v, 3) for k, v in slices} == {k: round(v, 3) for k, v in expected.items()}
    assert page.locator("svg[data-kind=area] polygon.band").count() == 2
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
