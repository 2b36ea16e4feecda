"""Lakes for the Spark tests: the sandbox world's truth, written as a collector would."""

from __future__ import annotations

from pathlib import Path

from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.records import Edge, HashtagSnapshot, ParsedRecords, Post, Profile

__all__ = ["IG", "TAGS", "sandbox_lake"]

IG = "instagram"
TAGS = ("nike", "adidas", "puma", "justdoit")


def sandbox_lake(home: Path, world: World, *, accounts: int = 80) -> None:
    """Ten days of counts (every 20 min, the first day written twice, a TikTok series too);
    ``accounts`` public accounts' posts observed twice (their counts grow in between; some
    later observations know the owner only by handle), their daily profiles, likers, the
    follow graph among them and mentions by ``@handle``."""
    writer = LakeWriter(home / "lake")
    snaps: list[HashtagSnapshot] = []
    for i in range(10 * 72):
        t = world.start + i * 20 * 60
        at = utc_from_epoch(t + 7)
        for tag in TAGS:
            snaps.append(HashtagSnapshot(IG, tag, world.true_count(tag, t), [], [], at, "a", None))
        if i % 6 == 0:
            snaps.append(
                HashtagSnapshot(
                    "tiktok", "nike", world.true_count("nike", t) // 3, [], [], at, "b", None
                )
            )
    writer.append_snapshots(snaps)
    writer.append_snapshots(snaps[: len(snaps) // 10])  # the same snapshots again

    social = world.social
    chosen = [a for a in social.accounts if not a.is_private and not a.ever_deleted][:accounts]
    members = {a.id for a in chosen}
    posts: list[Post] = []
    profiles: list[Profile] = []
    edges: list[Edge] = []
    for account in chosen:
        for d in range(-3, 13):
            t = world.start + d * DAY
            profiles.append(
                Profile(
                    IG,
                    account.id,
                    account.username_at(t),
                    utc_from_epoch(t),
                    f"p{d}",
                    followers=social.follower_count(account, t),
                )
            )
        for seen_day, by_handle in ((10, False), (12, True)):
            seen = world.start + seen_day * DAY
            at = utc_from_epoch(seen)
            for n, p in enumerate(social.iter_posts(account, seen)):
                if p.taken_at < world.start:
                    break
                if p.taken_at >= world.start + 10 * DAY:
                    continue
                handle_only = by_handle and n % 3 == 0
                posts.append(
                    Post(
                        IG,
                        str(p.pk),
                        at,
                        f"r{seen_day}",
                        owner_id=None if handle_only else account.id,
                        owner_handle=account.username_at(seen),
                        taken_at=utc_from_epoch(p.taken_at),
                        hashtags=list(p.hashtags),
                        mentions=list(p.mentions),
                        media_type="video" if p.is_video else "image",
                        likes=None if p.likes_hidden else social.like_count(p, seen),
                        comments=social.comment_count(p, seen),
                        views=social.view_count(p, seen) if p.is_video else None,
                    )
                )
                if seen_day == 10:
                    edges += [
                        Edge(IG, liker.id, account.id, "liked", at, "truth", post_id=str(p.pk))
                        for liker in social.likers(p, seen)
                    ]
                    edges += [
                        Edge(
                            IG,
                            account.id,
                            "@" + m.upper(),
                            "mentioned",
                            at,
                            "truth",
                            post_id=str(p.pk),
                        )
                        for m in p.mentions
                    ]
        seen = world.start + 10 * DAY
        edges += [
            Edge(IG, account.id, other.id, "follows", utc_from_epoch(seen + h * HOUR), "truth")
            for other in social.following(account, seen)
            if other.id in members
            for h in (0, 1)  # the same follow seen twice
        ]
    writer.append_records(ParsedRecords(posts=posts, profiles=profiles, edges=edges))
