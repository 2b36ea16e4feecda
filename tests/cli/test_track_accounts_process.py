"""`tagpulse track` over an account's posts as a real process: kill -9 mid-pass, restart."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tests.cli.conftest import Sandbox

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


def cursor_pages(sandbox: Sandbox, key: str) -> int:
    catalog = Catalog(sandbox.home / "catalog.sqlite")
    try:
        row = catalog.cursor("instagram", key)
        return row.pages if row is not None else 0
    finally:
        catalog.close()


def test_kill_9_mid_pagination_resumes_at_the_checkpoint(sandbox: Sandbox) -> None:
    social = sandbox.world.social
    t = sandbox.clock.time()
    public = [
        a for a in social.accounts
        if not a.is_private and social.resolve(a.username, t)[1] == "active"
    ]  # fmt: skip
    busy = max(public, key=lambda a: social.post_count(a, t))
    assert social.post_count(busy, t) > 100
    sandbox.tags_file.write_text(f"@{busy.username}\n")
    # One slow account (2 requests per simulated hour = about one a wall second at 1800x), so a
    # pass of 9 pages takes long enough to be killed in the middle.
    alias, session = sandbox.world.accounts[0].alias, sandbox.world.accounts[0].session_id
    sandbox.accounts_file.write_text(
        f'[[account]]\nalias = "{alias}"\nsessionid = "{session}"\n'
        "requests_per_hour = 2\nburst = 1\n"
    )
    args = sandbox.track_args("--every", "7d", "--max-posts", "100", "--flush-secs", "0.1",
                              "--quiet", "--no-media")  # fmt: skip
    key = f"@{busy.username}"
    proc = subprocess.Popen(args, env=sandbox.env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # only stops a hang (CLI start-up is slow when loaded)
        while cursor_pages(sandbox, key) < 3:
            assert time.monotonic() < deadline, "no checkpoint after 180 s"
            assert proc.poll() is None, "collector exited early"
            time.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL mid-pass: no chance to flush
        proc.wait(10)
    checkpoint = cursor_pages(sandbox, key)
    assert 3 <= checkpoint < 9
    before = len(sandbox.server.request_log())

    done = subprocess.run([*args, "--once"], env=sandbox.env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert cursor_pages(sandbox, key) == 0  # the pass finished
    resumed = sandbox.server.request_log()[before:]
    assert "/api/v1/feed/user/" in resumed[0].path  # not the profile again: resumed

    feed_cursors = [
        parse_qs(urlsplit(r.path).query).get("max_id", [""])[0]
        for r in sandbox.server.request_log()
        if "/api/v1/feed/user/" in r.path and r.status == 200
    ]
    # Each page read once; only the page in flight at the kill may have been read twice.
    assert sum(n - 1 for n in Counter(feed_cursors).values()) <= 1
    q = LakeQuery(sandbox.home / "lake")
    ids = [r["post_id"] for r in q.rows(
        "SELECT DISTINCT post_id FROM posts WHERE owner_id = ?", [str(busy.pk)]
    )]  # fmt: skip
    truth = [str(p.pk) for p in social.posts_at(busy, sandbox.clock.time())]
    # No gap: what was stored is a run of the account's posts, newest first, at least 100 long
    # (posts published while it ran sit above the first page and are not part of this pass).
    positions = sorted(truth.index(i) for i in ids)
    assert len(ids) >= 100
    assert positions == list(range(positions[0], positions[0] + len(ids)))
