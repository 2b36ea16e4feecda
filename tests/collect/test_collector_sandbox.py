"""The collector against the sandbox platform over loopback HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from itertools import pairwise

from tagpulse.collect.breaker import BackoffPolicy
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.raw import read_raw_file
from tagpulse.platforms.sandbox.server import Limits
from tests.collect.conftest import Rig


def snapshots(rig: Rig) -> list[dict[str, object]]:
    return LakeQuery(rig.settings.lake_dir).rows(
        "SELECT tag, post_count, epoch(collected_at) AS at, epoch(slot_at) AS slot, account, "
        "raw_id, len(top_posts) AS n_top FROM hashtag_snapshots ORDER BY collected_at"
    )


def test_counts_equal_ground_truth(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    stats = rig.collector(hours=6).run()
    rows = snapshots(rig)
    # 4 tags, a slot every 30 min over 6 h, none skipped.
    per_tag = Counter(r["tag"] for r in rows)
    assert set(per_tag) == {"paris", "nike", "newyears", "slowtag"}
    assert all(11 <= n <= 13 for n in per_tag.values()), per_tag
    for tag in per_tag:
        tag_slots = sorted(float(r["slot"]) for r in rows if r["tag"] == tag)  # type: ignore[arg-type]
        assert {b - a for a, b in pairwise(tag_slots)} == {1800.0}
    assert stats.acknowledged == len(rows)
    served = [r for r in rig.server.request_log() if r.outcome == "ok"]
    assert len(served) == len(rows)
    hidden = {t for t, spec in rig.world.tags.items() if spec.count_hidden}
    by_answer = Counter(
        (r.tag, r.account, None if r.tag in hidden else r.media_count) for r in served
    )
    for rec in served:
        # What the server served is the world's truth at the instant it computed it …
        if rec.media_count is not None:
            assert rec.media_count == rig.world.true_count(rec.tag, rec.sim_time)
    for row in rows:
        # … and each stored snapshot is exactly one such answer, before it was stored.
        key = (row["tag"], row["account"], row["post_count"])
        assert by_answer[key] >= 1, (key, [k for k in by_answer if k[0] == row["tag"]][:3])
        if row["tag"] == "newyears":
            assert row["post_count"] is None
        else:
            lo = rig.world.true_count(str(row["tag"]), float(row["at"]) - 600)  # type: ignore[arg-type]
            assert (
                lo
                <= int(row["post_count"])
                <= rig.world.true_count(  # type: ignore[arg-type]
                    str(row["tag"]),
                    float(row["at"]),  # type: ignore[arg-type]
                )
            )
        assert row["n_top"] == 9
    # Slots are one interval apart; none twice.
    slots = Counter((r["tag"], r["slot"]) for r in rows)
    assert max(slots.values()) == 1
    # Missing count: kept, with a warning event per snapshot.
    catalog = Catalog(rig.settings.catalog_path)
    warnings = catalog.events(tag="newyears", kind="payload_warning")
    assert len(warnings) == per_tag["newyears"]
    assert all("did not report a post count" in e.message for e in warnings)


def test_raw_answers_archived_once_each(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("paris\nnike\n")
    rig.collector(hours=2).run()
    files = sorted((rig.settings.lake_dir / "raw").rglob("*.ndjson.zst"))
    envelopes = [env for f in files for env in read_raw_file(f)]
    hashes = [e["content_hash"] for e in envelopes]
    assert len(hashes) == len(set(hashes))
    rows = snapshots(rig)
    assert {r["raw_id"] for r in rows} <= set(hashes)
    first = envelopes[0]
    assert first["endpoint"] == "tags/web_info" and first["status"] == 200
    assert first["params"]["tag_name"] in ("paris", "nike")
    assert "sess-" not in str(first)  # no session ids in the archive
    assert first["account"].startswith("acct")


def test_legacy_endpoint(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("paris\n")
    rig.collector(hours=1, endpoint="legacy").run()
    rows = snapshots(rig)
    assert rows and all(r["post_count"] for r in rows)
    assert all(r.path.startswith("/explore/tags/paris/") for r in rig.server.request_log())


def test_throttled_account_rotated_and_left_alone(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("paris\nnike\nsunset\n")
    rig.server.script_faults("acct01", ["429"])
    rig.server.script_faults("acct02", ["401"])
    policy = BackoffPolicy(rate_limited_s=3 * 3600, jitter=0.0)
    stats = rig.collector(hours=4, policy=policy).run()
    log = rig.server.request_log()
    assert stats.throttles == 2
    for alias in ("acct01", "acct02"):
        first_fail = next(r for r in log if r.account == alias and r.outcome.startswith("fault"))
        later = [r for r in log if r.account == alias and r.sim_time > first_fail.sim_time]
        # Nothing is sent to a cooling account: its next request comes after the cool-down.
        assert all(r.sim_time >= first_fail.sim_time + 3 * 3600 for r in later), later[:3]
    # The third account served meanwhile, and every slot was still collected.
    rows = snapshots(rig)
    per_tag = Counter(r["tag"] for r in rows)
    assert all(n >= 8 for n in per_tag.values()), per_tag
    totals = rig.server.stats()["totals"]
    assert totals["violations"] == 0 and totals["banned"] == 0
    catalog = Catalog(rig.settings.catalog_path)
    assert len(catalog.events(kind="breaker_open")) == 2


def test_budget_exhaustion_backs_off_without_violations(make_rig: Callable[..., Rig]) -> None:
    """A collector configured 3x above the sandbox budget gets real 429s and never hammers."""
    tags = "\n".join(["paris", "nike", "adidas", "puma", "justdoit", "sunset", "slowtag"])
    rig = make_rig(tags, accounts=1)
    collector = rig.collector(interval_s=60, hours=2, rate_factor=3.0)
    stats = collector.run()
    server = rig.server.stats()
    assert stats.throttles >= 1
    assert server["totals"]["throttled"] >= 1
    assert server["totals"]["violations"] == 0
    assert server["totals"]["banned"] == 0


def test_all_accounts_cooling_sleeps_and_says_so(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("paris\n", accounts=2)
    rig.server.script_faults("acct01", ["checkpoint"])
    rig.server.script_faults("acct02", ["login"])
    policy = BackoffPolicy(checkpoint_s=2 * 3600, login_s=2 * 3600, jitter=0.0)
    stats = rig.collector(hours=4, policy=policy).run()
    catalog = Catalog(rig.settings.catalog_path)
    cooling = catalog.events(kind="all_cooling")
    assert len(cooling) == 1 and "sleeping" in cooling[0].message
    log = rig.server.request_log()
    fails = [r for r in log if r.outcome.startswith("fault")]
    assert len(fails) == 2
    for fail in fails:
        after = [r for r in log if r.account == fail.account and r.sim_time > fail.sim_time]
        assert after, f"{fail.account} never used again"
        assert after[0].sim_time >= fail.sim_time + 2 * 3600
        assert after[0].outcome == "ok"
    assert stats.snapshots >= 3


def test_broken_answers_quarantined_then_retried(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("paris\n", accounts=1)
    rig.server.script_faults("acct01", ["malformed", "truncated", "reset"])
    stats = rig.collector(hours=2).run()
    catalog = Catalog(rig.settings.catalog_path)
    quarantined = catalog.quarantined()
    assert len(quarantined) == 2 and stats.quarantined == 2
    reasons = " ".join(q[2] for q in quarantined)
    assert "not valid JSON" in reasons
    # The broken bodies are in the raw archive under the quarantined raw ids.
    files = sorted((rig.settings.lake_dir / "raw").rglob("*.ndjson.zst"))
    archived = {env["content_hash"]: env["body"] for f in files for env in read_raw_file(f)}
    for q in quarantined:
        assert q[3] in archived
    assert archived[quarantined[0][3]].startswith(b"{error")
    # The first slot was still collected, by a retry.
    rows = snapshots(rig)
    assert rows[0]["slot"] == rows[0]["slot"] and len(rows) >= 4


def test_watchlist_change_picked_up_without_restart(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("paris\n", speed=3600, stepped=False)
    stop = threading.Event()
    collector = rig.collector(hours=100, stop=stop, watch_check_wall_s=0.1)
    thread = threading.Thread(target=collector.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not snapshots_exist(rig) and time.monotonic() < deadline:
            time.sleep(0.1)
        rig.tags_file.write_text("paris\n#Nike\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(r["tag"] == "nike" for r in snapshots(rig)):
                break
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    tags = {r["tag"] for r in snapshots(rig)}
    assert tags == {"paris", "nike"}
    events = Catalog(rig.settings.catalog_path).events(kind="watchlist_reloaded")
    assert events and "#nike" in events[0].message


def snapshots_exist(rig: Rig) -> bool:
    return LakeQuery(rig.settings.lake_dir).has_data("hashtag_snapshots")


def test_readers_work_while_collector_writes_and_compacts(make_rig: Callable[..., Rig]) -> None:
    from tagpulse.lake.tables import LakeWriter

    rig = make_rig("paris\nnike\nsunset\npuma\n", speed=6 * 3600, stepped=False)
    stop = threading.Event()
    collector = rig.collector(hours=200, stop=stop, interval_s=600, flush_every=5)
    collector.options.flush_wall_s = 0.05
    thread = threading.Thread(target=collector.run)
    thread.start()
    errors: list[Exception] = []
    reads = 0
    seen: list[int] = []
    query = LakeQuery(rig.settings.lake_dir)
    writer = LakeWriter(rig.settings.lake_dir)
    try:
        # Read (and compact every 10th time) until 30 reads are done and the collector has
        # written between them, however slow the machine; the wall limit only stops a hang.
        deadline = time.monotonic() + 120
        while (reads < 30 or len(set(seen)) < 3) and time.monotonic() < deadline:
            try:
                rows = query.rows("SELECT count(*) AS n FROM hashtag_snapshots")
                query.timeline(["paris"], interval_s=3600)
                reads += 1
                seen.append(rows[0]["n"])
                if reads % 10 == 0:
                    writer.compact()
            except Exception as exc:
                errors.append(exc)
    finally:
        stop.set()
        thread.join(10)
    assert errors == []
    assert reads >= 30
    assert len(set(seen)) >= 3, "the collector wrote nothing while the readers read"
    ids = query.rows("SELECT snapshot_id, count(*) AS n FROM hashtag_snapshots GROUP BY 1")
    assert ids and all(r["n"] == 1 for r in ids)


def test_per_ip_budget_is_respected_with_source_addresses(make_rig: Callable[..., Rig]) -> None:
    """Accounts bound to different loopback addresses spread over the sandbox's per-IP budgets."""
    rig = make_rig("paris\nnike\n", accounts=2, limits=Limits(ip_capacity=5, ip_refill_per_hour=60))
    from tagpulse.collect.accounts import AccountSpec
    from tagpulse.collect.build import build_collector
    from tagpulse.collect.runner import CollectorOptions

    specs = [
        AccountSpec(
            a.alias, a.session_id, source_address=f"127.0.0.{i + 2}", requests_per_hour=55, burst=5
        )
        for i, a in enumerate(rig.world.accounts)
    ]
    options = CollectorOptions(
        interval_s=600, until=rig.clock.time() + 2 * 3600, max_wall_sleep_s=0.05, seed=1
    )
    collector = build_collector(
        rig.settings, rig.tags_file, accounts=specs, options=options, clock=rig.clock
    )
    collector.run()
    ips = rig.server.stats()["ips"]
    assert set(ips) == {"127.0.0.2", "127.0.0.3"}
    assert rig.server.stats()["totals"]["violations"] == 0
