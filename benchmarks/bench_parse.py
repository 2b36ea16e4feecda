"""Parse + normalise hashtag payloads, against ``orjson.loads`` of the same NDJSON lines.

The file holds N ``web_info`` answers as the sandbox serves them (built from the sandbox's own
world and payload builders, one per tag and hour), with the two recorded hashtag payloads of
``tests/fixtures/instagram_web`` re-serialised on one line mixed in every 1,000 lines. Both
sides read the file from disk (OS cache warm: it is read once before timing) line by line;
the baseline only decodes each line, tagpulse decodes it *and* turns it into a
``HashtagSnapshot`` (count, top posts as summaries, related tags) — what the tracker stores per
observation, and all that ``track --no-tag-posts`` reads. Best of three runs each.

Reported beside it (details, no goal): the full read the tracker does by default, which also
turns every top and recent post of the payload (about 15) into a :class:`Post` record.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from common import Result, best_of, main, report
from tagpulse.platforms.instagram.parse import parse_hashtag
from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.payloads import web_info_payload
from tagpulse.platforms.sandbox.world import HOUR, World
from tagpulse.records import HashtagSnapshot

NAME = "parse+normalise"
GOAL = 0.5
RUNS = 3
FULL_N = 20_000
QUICK_N = 500
_RECORDED_EVERY = 1_000
_FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "instagram_web"


def _recorded() -> list[tuple[str, bytes]]:
    """The recorded hashtag payloads, one line each, with the tag they answer for."""
    out: list[tuple[str, bytes]] = []
    for name in ("hashtag.json", "web_info-composed.json"):
        path = _FIXTURES / name
        if not path.exists():
            continue
        doc: Any = orjson.loads(path.read_bytes())
        data = doc.get("data", {})
        tag = (data.get("hashtag") or data).get("name", "unknown")
        out.append((str(tag).lower(), orjson.dumps(doc)))
    return out


def build_ndjson(path: Path, n: int) -> tuple[list[str], list[datetime]]:
    """Write ``n`` payload lines to ``path``; returns each line's tag and collection time."""
    world = World(seed=7)
    names = list(world.tags)
    recorded = _recorded()
    tags: list[str] = []
    times: list[datetime] = []
    with path.open("wb") as fh:
        for i in range(n):
            t = world.start + (i // len(names)) * HOUR + 60.0 * (i % 60)
            if recorded and i % _RECORDED_EVERY == _RECORDED_EVERY - 1:
                tag, line = recorded[(i // _RECORDED_EVERY) % len(recorded)]
            else:
                tag = names[i % len(names)]
                spec = world.tag(tag)
                count = None if spec.count_hidden else world.true_count(tag, t)
                payload = web_info_payload(
                    world.hashtag_id(tag),
                    tag,
                    count,
                    world.top_posts(tag, t),
                    world.recent_posts(tag, t),
                )
                line = orjson.dumps(payload)
            fh.write(line + b"\n")
            tags.append(tag)
            times.append(utc_from_epoch(t))
    return tags, times


def _baseline(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        for line in fh:
            orjson.loads(line)
            n += 1
    return n


def _ours(
    path: Path, tags: list[str], times: list[datetime], posts: bool = False
) -> list[HashtagSnapshot]:
    snapshots: list[HashtagSnapshot] = []
    with path.open("rb") as fh:
        for line, tag, at in zip(fh, tags, times, strict=True):
            snapshots.append(parse_hashtag(line, tag=tag, collected_at=at, posts=posts).snapshot)
    return snapshots


def run(quick: bool = False) -> list[Result]:
    n = QUICK_N if quick else FULL_N
    with tempfile.TemporaryDirectory(prefix="tagpulse-bench-parse-") as tmp:
        path = Path(tmp) / "hashtags.ndjson"
        start = time.perf_counter()
        tags, times = build_ndjson(path, n)
        build_s = time.perf_counter() - start
        size = path.stat().st_size
        path.read_bytes()  # warm the OS cache

        base_s, lines = best_of(RUNS, lambda: _baseline(path))
        ours_s, snapshots = best_of(RUNS, lambda: _ours(path, tags, times))
        full_s, full = best_of(RUNS, lambda: _ours(path, tags, times, posts=True))
        if [s.post_count for s in full] != [s.post_count for s in snapshots]:
            raise AssertionError("the full read and the snapshot read disagree")
        if lines != n or len(snapshots) != n:
            raise AssertionError(
                f"expected {n} lines, got {lines} decoded, {len(snapshots)} parsed"
            )
        with_count = sum(1 for s in snapshots if s.post_count is not None)
        top_posts = sum(len(s.top_posts) for s in snapshots)
        if top_posts < 9 * (n - n // _RECORDED_EVERY):
            raise AssertionError(f"only {top_posts} top posts parsed from {n} payloads")

    base_rate = n / base_s
    ours_rate = n / ours_s
    return [
        report(
            Result(
                name=NAME,
                value=ours_rate,
                baseline=base_rate,
                ratio=ours_rate / base_rate,
                goal=GOAL,
                unit="payloads/s",
                higher_is_better=True,
                baseline_name="orjson.loads",
                details={
                    "payloads": n,
                    "file_bytes": size,
                    "mean_payload_bytes": round(size / n),
                    "recorded_payloads_mixed_in": n // _RECORDED_EVERY,
                    "baseline_best_s": base_s,
                    "ours_best_s": ours_s,
                    "with_posts_payloads_per_s": n / full_s,
                    "with_posts_ratio": (n / full_s) / base_rate,
                    "ours_MB_per_s": size / ours_s / 1e6,
                    "baseline_MB_per_s": size / base_s / 1e6,
                    "snapshots_with_count": with_count,
                    "top_posts_parsed": top_posts,
                    "build_file_s": build_s,
                    "runs": RUNS,
                },
            )
        )
    ]


if __name__ == "__main__":
    main(run)
