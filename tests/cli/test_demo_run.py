"""The demo's collection end to end (short): accounts re-read while the tags are tracked, so the
influencer insight sees the bought audiences the sandbox planted arrive."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagpulse.analysis.influencers import rank_influencers
from tagpulse.demo import DEMO_FAULTS, PROFILE_INTERVAL_S, run_demo
from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.world import DAY, World


@pytest.mark.slow
def test_demo_rereads_profiles_and_flags_bought_followers(tmp_path: Path) -> None:
    days = 5.0
    result = run_demo(tmp_path, days=days, wall_seconds=20.0, faults=DEMO_FAULTS)
    assert result.account_stats is not None and result.stats.acknowledged > 0
    query = LakeQuery(result.home / "lake")
    seen = query.rows(
        "SELECT user_id, count(DISTINCT collected_at) AS n, min(collected_at) AS first, "
        "max(collected_at) AS last FROM profiles GROUP BY 1"
    )
    # Every demo account is read at the start, every two days and by the final pass.
    assert len(seen) == 24
    assert all(r["n"] >= days * DAY / PROFILE_INTERVAL_S for r in seen)
    social = World(seed=7).social
    by_id = {a.id: a for a in social.accounts}
    window = {r["user_id"]: (r["first"].timestamp(), r["last"].timestamp()) for r in seen}
    bought_in_view = {
        by_id[uid].id
        for uid, (first, last) in window.items()
        if by_id[uid].idx in social.bought and first < social.bought[by_id[uid].idx].at <= last
    }
    assert bought_in_view, "no planted purchase fell inside the demo's window"
    jumped = {
        a.account
        for a in rank_influencers(query).accounts
        if any(f.kind == "follower_jump" for f in a.flags)
    }
    assert jumped == bought_in_view
