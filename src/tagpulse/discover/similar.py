"""Tags similar to a tag, by co-occurrence on the lake's posts, by caption embeddings, or both
(the mean of the two cosines; a tag missing from one method counts 0 there)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tagpulse.discover.interests import TagSimilarity, cooccurrence_similarity
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = ["METHODS", "SimilarTag", "similar_tags"]

Method = Literal["cooccurrence", "embedding", "both"]
METHODS: tuple[str, ...] = ("cooccurrence", "embedding", "both")


@dataclass(frozen=True, slots=True)
class SimilarTag:
    tag: str
    score: float
    cooccurrence: float | None
    embedding: float | None
    #: Posts in the lake with the tag.
    posts: int

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "score": self.score,
            "cooccurrence": self.cooccurrence,
            "embedding": self.embedding,
            "posts": self.posts,
        }


def _posts(query: LakeQuery, platform: str | None) -> tuple[dict[str, list[str]], dict[str, str]]:
    extra = "AND platform = ?" if platform else ""
    rows = query.rows(
        "SELECT post_id, arg_max(hashtags, collected_at) AS hashtags, "
        "arg_max(caption, collected_at) AS caption FROM posts "
        f"WHERE hashtags IS NOT NULL {extra} GROUP BY platform, post_id",
        [platform] if platform else [],
    )
    tags: dict[str, list[str]] = {}
    captions: dict[str, str] = {}
    for row in rows:
        pid = str(row["post_id"])
        found = list(dict.fromkeys(str(t).lower().lstrip("#") for t in row["hashtags"] or ()))
        if found:
            tags[pid] = found
            if row["caption"]:
                captions[pid] = str(row["caption"])
    return tags, captions


def similar_tags(
    query: LakeQuery,
    tag: str,
    *,
    n: int = 10,
    method: str = "cooccurrence",
    cache_dir: Path | None = None,
    platform: str | None = None,
) -> list[SimilarTag]:
    """The ``n`` tags most similar to ``tag`` (``#tag`` or ``tag``)."""
    if method not in METHODS:
        raise InputError(f"--method {method}: choose one of {', '.join(METHODS)}", field="method")
    if n < 1:
        raise InputError(f"--n {n}: ask for at least one tag", field="n")
    name = tag.lower().lstrip("#")
    post_tags, captions = _posts(query, platform)
    counts: dict[str, int] = {}
    for tags in post_tags.values():
        for t in tags:
            counts[t] = counts.get(t, 0) + 1
    if name not in counts:
        raise InputError(f"#{name} is on no post in the lake: track or import posts with it "
                         "first", field="tag")  # fmt: skip
    scores: dict[str, dict[str, float]] = {}
    methods = ["cooccurrence", "embedding"] if method == "both" else [method]
    for m in methods:
        sim: TagSimilarity
        if m == "cooccurrence":
            sim = cooccurrence_similarity(post_tags)
        else:
            from tagpulse.discover.embed import CaptionCache, MiniLM, embedding_similarity

            if cache_dir is None:
                raise InputError("embedding similarity needs a cache folder", field="cache_dir")
            vectors = CaptionCache(cache_dir, MiniLM()).vectors(captions)
            sim = embedding_similarity(post_tags, vectors)
        for other, s in sim.neighbours(name, len(sim.tags)):
            scores.setdefault(other, {})[m] = s
    result = [
        SimilarTag(
            tag=other,
            score=sum(by.get(m, 0.0) for m in methods) / len(methods),
            cooccurrence=by.get("cooccurrence", 0.0) if "cooccurrence" in methods else None,
            embedding=by.get("embedding", 0.0) if "embedding" in methods else None,
            posts=counts[other],
        )
        for other, by in scores.items()
    ]
    result.sort(key=lambda s: (-s.score, s.tag))
    return result[:n]
