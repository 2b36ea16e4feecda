"""The sandbox social world's last 8 days as a lake, from its truth: public posts (counts,
captions and hashtags as of ``seen``), their likers (``liked`` edges, first seen when liked) and
every account's followings."""

from __future__ import annotations

from pathlib import Path

from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, World
from tagpulse.records import Edge, ParsedRecords, Post

IG = "instagram"


def write_social_lake(home: Path, world: World, seen: float) -> None:
    social = world.social
    posts, edges = [], []
    at = utc_from_epoch(seen)
    for account in social.accounts:
        if account.ever_deleted:
            continue
        edges += [
            Edge(IG, account.id, other.id, "follows", at, "truth")
            for other in social.following(account, seen)
        ]
        if account.is_private:
            continue
        for p in social.iter_posts(account, seen):
            if p.taken_at < seen - 8 * DAY:
                break
            posts.append(Post(
                IG, str(p.pk), at, "truth", owner_id=account.id,
                owner_handle=account.username_at(seen), taken_at=utc_from_epoch(p.taken_at),
                likes=None if p.likes_hidden else social.like_count(p, seen),
                comments=social.comment_count(p, seen), caption=p.caption,
                hashtags=list(p.hashtags),
            ))  # fmt: skip
            eng = social.engagement(p.pk)
            edges += [
                Edge(IG, social.accounts[u].id, account.id, "liked", utc_from_epoch(t), "truth",
                     post_id=str(p.pk))
                for t, u in zip(eng.liker_times, eng.likers, strict=True)
                if t <= seen
            ]  # fmt: skip
    LakeWriter(home / "lake").append_records(ParsedRecords(posts=posts, edges=edges))
