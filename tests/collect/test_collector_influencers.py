"""From the sandbox over loopback to the influencer ranking: an account that buys followers while
the collector watches it is flagged for the jump, with the counts the server answered."""

from __future__ import annotations

from collections.abc import Callable

from tagpulse.analysis.influencers import rank_influencers
from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.world import HOUR
from tests.collect.conftest import Rig


def test_a_follower_jump_seen_by_the_collector_is_flagged(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("")
    social = rig.world.social
    t0 = rig.clock.time()
    idx, bought = min(social.bought.items(), key=lambda item: item[1].at)
    buyer = social.accounts[idx]
    assert t0 < bought.at < t0 + 36 * HOUR  # the jump happens while the collector runs
    honest = [
        a for a in social.accounts
        if a.idx not in social.bought and not (a.is_private or a.ever_deleted or a.old_username)
        and social.post_count(a, t0) > 20 and social.followers(a, t0)
    ][:4]  # fmt: skip
    handles = rig.tags_file.parent / "accounts.txt"
    handles.write_text("".join(a.username + "\n" for a in [buyer, *honest]))
    rig.handles_file = handles
    rig.collector(interval_s=12 * HOUR, hours=48, max_posts=12).run()

    query = LakeQuery(rig.settings.lake_dir)
    seen = query.rows(
        "SELECT collected_at, followers FROM profiles WHERE user_id = ? ORDER BY collected_at",
        [buyer.id],
    )
    assert len(seen) >= 3
    for row in seen:  # what the server answered is the truth at that time
        assert row["followers"] == social.follower_count(buyer, row["collected_at"].timestamp())
    assert seen[0]["followers"] * 5 < seen[-1]["followers"]

    result = rank_influencers(query)
    assert {a.account for a in result.accounts} == {a.id for a in [buyer, *honest]}
    assert [a.account for a in result.suspicious] == [buyer.id]
    (flag,) = result.suspicious[0].flags
    assert flag.kind == "follower_jump" and flag.at is not None
    assert flag.at.timestamp() - 12 * HOUR <= bought.at <= flag.at.timestamp()
