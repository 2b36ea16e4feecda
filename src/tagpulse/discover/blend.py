"""Blending the feed's sources: weighted sampling without duplicates, each item keeping its source
and reason.

Each source ranks its own candidates. The blend fills the feed slot by slot: it draws a source
with probability proportional to its weight among the sources that still have a post not yet in
the feed (``random.Random(seed)``, so the same data and seed give the same feed), and takes that
source's best remaining post. A post proposed by several sources appears once, credited to the
source that placed it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import datetime

from tagpulse.discover.als import als_source
from tagpulse.discover.feed import Feed, FeedItem
from tagpulse.discover.feeddata import FeedData, eligible_posts, load_feed_data
from tagpulse.discover.graph import SocialGraph
from tagpulse.discover.interests import interests_source
from tagpulse.discover.sources import Candidate, fof_source, network_source, popular_source
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = [
    "DEFAULT_WEIGHTS",
    "SOURCES",
    "blend",
    "blended",
    "build_source_feed",
    "parse_weights",
    "source_candidates",
]

Source = Callable[[FeedData, str, int], list[Candidate]]

#: The sources by name, in the order ``--weights`` lists them.
SOURCES: dict[str, Source] = {
    "network": network_source,
    "fof": fof_source,
    "interests": interests_source,
    "als": als_source,
    "popular": popular_source,
}

#: The blend's default weights (relative): ``tagpulse feed-eval --tune``'s choice on the
#: sandbox world's validation users (network 61 %, popular 30 %, the others 3 % each).
DEFAULT_WEIGHTS: dict[str, float] = {
    "network": 1.0,
    "fof": 0.05,
    "interests": 0.05,
    "als": 0.05,
    "popular": 0.5,
}


def parse_weights(text: str | None) -> dict[str, float]:
    """``network=0.4,als=0.2`` → weights; unnamed sources keep their default weights."""
    weights = dict(DEFAULT_WEIGHTS)
    if not text:
        return weights
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in SOURCES:
            raise InputError(
                f"{part.strip()!r}: write SOURCE=WEIGHT with SOURCE one of {', '.join(SOURCES)}",
                field="weights",
            )
        try:
            weights[name] = float(value)
        except ValueError:
            raise InputError(f"{part.strip()!r}: the weight must be a number",
                             field="weights") from None  # fmt: skip
        if not weights[name] >= 0:
            raise InputError(f"{part.strip()!r}: weights must not be negative", field="weights")
    if not any(weights.values()):
        raise InputError("every weight is 0: give at least one source a weight", field="weights")
    return weights


def blend(
    ranked: Mapping[str, list[Candidate]],
    weights: Mapping[str, float],
    n: int,
    *,
    seed: int = 0,
) -> list[Candidate]:
    """Up to ``n`` distinct posts drawn from the ranked lists by weighted sampling."""
    rng = random.Random(seed)
    names = [s for s in ranked if weights.get(s, 0.0) > 0]
    position = dict.fromkeys(names, 0)
    chosen: list[Candidate] = []
    seen: set[str] = set()
    while len(chosen) < n:
        # skip each source's posts already placed by another source
        for name in names:
            items, i = ranked[name], position[name]
            while i < len(items) and items[i].post.post_id in seen:
                i += 1
            position[name] = i
        live = [s for s in names if position[s] < len(ranked[s])]
        if not live:
            break
        name = rng.choices(live, weights=[weights[s] for s in live])[0]
        item = ranked[name][position[name]]
        position[name] += 1
        seen.add(item.post.post_id)
        chosen.append(item)
    return chosen


def source_candidates(data: FeedData, user: str, source: str, n: int) -> list[Candidate]:
    """One source's ranked list (``source`` a key of :data:`SOURCES`)."""
    if source not in SOURCES:
        raise InputError(f"--source {source}: choose one of blend, {', '.join(SOURCES)}",
                         field="source")  # fmt: skip
    return SOURCES[source](data, user, n)


def blended(
    data: FeedData,
    user: str,
    n: int,
    *,
    source: str = "blend",
    weights: Mapping[str, float] | None = None,
    seed: int = 0,
) -> list[Candidate]:
    """The feed's candidates: one source's top ``n``, or the blend of every weighted source."""
    if source != "blend":
        return source_candidates(data, user, source, n)
    w = weights if weights is not None else DEFAULT_WEIGHTS
    # each source ranks enough posts to fill the feed even if the others take its best ones
    ranked = {s: source_candidates(data, user, s, n * len(SOURCES)) for s in SOURCES if w.get(s)}
    return blend(ranked, w, n, seed=seed)


def _item(data: FeedData, c: Candidate) -> FeedItem:
    p = c.post
    return FeedItem(
        post_id=p.post_id,
        platform=p.platform,
        author=p.owner,
        author_handle=p.owner_handle or data.names.handles.get(p.owner),
        taken_at=p.taken_at,
        likes=p.likes,
        comments=p.comments,
        age_seconds=max(0.0, (data.at - p.taken_at).total_seconds()),
        ppr=c.ppr,
        weight=c.weight,
        score=float(c.score),
        why=(c.reason,),
        url=p.url,
        source=c.source,
    )


def build_source_feed(
    query: LakeQuery,
    handle: str,
    *,
    n: int = 10,
    at: datetime | None = None,
    platform: str | None = None,
    source: str = "blend",
    weights: Mapping[str, float] | None = None,
    seed: int = 0,
    graph: SocialGraph | None = None,
    data: FeedData | None = None,
) -> Feed:
    """``handle``'s feed from one source or the blend (``discover.feed.build_feed`` is the
    network source alone, with its fuller reasons). ``graph``: the lake's graph when the caller
    keeps one (``discover.graph_store``); ``data``: the feed data already loaded for ``at`` and
    ``platform`` (the API keeps it per lake state), else it is read from the lake."""
    if n < 1:
        raise InputError(f"--n {n}: ask for at least one post", field="n")
    if source != "blend" and source not in SOURCES:
        raise InputError(f"--source {source}: choose one of blend, {', '.join(SOURCES)}",
                         field="source")  # fmt: skip
    if data is None:
        data = load_feed_data(query, at=at, platform=platform, graph=graph)
    if data is None:
        raise InputError("the lake has no posts: collect or import some first", field="handle")
    user = data.resolve(handle)
    if user is None:
        raise InputError(
            f"no account {handle!r} in the lake: collect its profile, posts or followings first, "
            "or give its id",
            field="handle",
        )
    items = blended(data, user, n, source=source, weights=weights, seed=seed)
    candidates = len(eligible_posts(data, user))
    feed = Feed(user, data.names.handles.get(user), data.at, candidates)
    feed.items.extend(_item(data, c) for c in items)
    return feed
