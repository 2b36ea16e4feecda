"""The prediction dataset: one row per post whose likes are known, built from the lake.

Target: ``likes / mean likes of the account`` (the like-predictor study's ratio), with a post's
likes and comments taken at its latest observation where likes are known. Two protocols:

- ``grouped`` (default): every such post of every account with at least two of them; the
  account mean is over those posts. Evaluated with splits grouped by account.
- ``study``: the study's protocol. Per account its 12 most recent posts, the most recent one
  dropped (its likes are still growing), so at most 11; the mean is over the kept posts;
  features and target MinMax-scaled to [0, 1] over the dataset.

No feature may use the post's own likes or comments: the account's mean likes and comments are
leave-one-out means over the account's *other* kept posts (see :data:`FEATURES`, the one table
of every feature and the field it comes from). Optional tables join when present: ``post_text``
(caption sentiment and language, from ``tagpulse enrich``) and ``post_labels`` (faces, smiles
and top label of the cover image, from ``tagpulse enrich --images``); without them those
features are unknown (NaN), which the gradient-boosting model handles natively.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "PROTOCOLS",
    "STUDY_POSTS",
    "Dataset",
    "Protocol",
    "build_dataset",
    "dataset_from_rows",
    "kept_posts",
    "load_post_rows",
    "row_features",
    "scale_features",
    "scale_target",
]

Protocol = Literal["grouped", "study"]
PROTOCOLS: tuple[Protocol, ...] = ("grouped", "study")
#: The study kept an account's 12 most recent posts and dropped the newest of them.
STUDY_POSTS = 12

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Every feature, in column order, and where it comes from.
FEATURES: dict[str, str] = {
    "hour": "posts.taken_at: hour of day (UTC)",
    "hour_sin": "posts.taken_at: sin(2π·hour/24)",
    "hour_cos": "posts.taken_at: cos(2π·hour/24)",
    "hour_bucket": "posts.taken_at: 4-hour bucket, 0 (00-04) to 5 (20-24)",
    **{f"weekday_{d}": f"posts.taken_at: 1 if published on {d} (UTC), else 0" for d in _WEEKDAYS},
    "is_video": "posts.media_type: 1 for video or reel, else 0",
    "comments_disabled": "posts.comments_disabled: 1/0 (unknown: NaN)",
    "hours_since_previous": "posts.taken_at: hours since the account's previous post in the lake",
    "followers": "profiles.followers at the account's latest observation",
    "following": "profiles.following at the account's latest observation",
    "is_business": "profiles.is_business: 1/0",
    "category": "profiles.category: code (categorical)",
    "account_mean_likes": "posts.likes: mean over the account's OTHER posts (leave-one-out)",
    "account_mean_comments": "posts.comments: mean over the account's OTHER posts (leave-one-out)",
    "faces": "post_labels.faces of the cover image (RetinaFace)",
    "smiles": "post_labels.smiles of the cover image (Haar smile cascade)",
    "top_label": "post_labels.top_label of the cover image: code (categorical)",
    "sentiment": "post_text.sentiment of the caption (compound, -1 to 1)",
    "language": "post_text.language of the caption, else posts.language: code (categorical)",
    "caption_length": "posts.caption: characters",
    "hashtags": "posts.hashtags: count",
    "mentions": "posts.mentions: count",
    "age_hours": "posts.collected_at - posts.taken_at: the post's age when its likes were seen",
}
#: Features that are codes into :attr:`Dataset.vocab`, not quantities.
CATEGORICAL = ("category", "top_label", "language")

_SQL = """
WITH seen AS (
    SELECT platform, post_id, max(owner_id) AS owner_id, max(taken_at) AS taken_at
    FROM posts_all {where_platform} GROUP BY platform, post_id
), previous AS (
    SELECT platform, post_id,
           lag(taken_at) OVER (PARTITION BY platform, owner_id ORDER BY taken_at, post_id)
               AS previous_at
    FROM seen WHERE owner_id IS NOT NULL AND taken_at IS NOT NULL
), p AS (
    SELECT platform, post_id,
           arg_max(likes, collected_at) AS likes,
           arg_max(comments, collected_at) AS comments,
           max(collected_at) AS collected_at,
           arg_max(caption, collected_at) FILTER (WHERE caption IS NOT NULL) AS caption,
           arg_max(hashtags, collected_at) AS hashtags,
           arg_max(mentions, collected_at) AS mentions,
           arg_max(media_type, collected_at) AS media_type,
           arg_max(comments_disabled, collected_at)
               FILTER (WHERE comments_disabled IS NOT NULL) AS comments_disabled,
           arg_max(language, collected_at) FILTER (WHERE language IS NOT NULL) AS post_language
    FROM posts_all WHERE likes IS NOT NULL {and_platform} GROUP BY platform, post_id
), prof AS (
    SELECT platform, user_id,
           arg_max(followers, collected_at) FILTER (WHERE followers IS NOT NULL) AS followers,
           arg_max(following, collected_at) FILTER (WHERE following IS NOT NULL) AS following,
           arg_max(is_business, collected_at) FILTER (WHERE is_business IS NOT NULL)
               AS is_business,
           arg_max(category, collected_at) FILTER (WHERE category IS NOT NULL) AS category
    FROM profiles_all WHERE user_id IS NOT NULL {and_platform} GROUP BY platform, user_id
), txt AS (
    SELECT platform, post_id, arg_max(sentiment, enriched_at) AS sentiment,
           arg_max(language, enriched_at) AS language
    FROM post_text_all WHERE kind = 'caption' GROUP BY platform, post_id
), img AS (
    SELECT platform, post_id, media_index,
           arg_max(faces, enriched_at) AS faces, arg_max(smiles, enriched_at) AS smiles,
           arg_max(top_label, enriched_at) AS top_label,
           arg_max(list_transform(labels, lambda x: x.label), enriched_at) AS label_names
    FROM post_labels_all WHERE error IS NULL
    GROUP BY platform, post_id, media_sha256, media_index
), cover AS (
    SELECT platform, post_id, arg_min(faces, media_index) AS faces,
           arg_min(smiles, media_index) AS smiles, arg_min(top_label, media_index) AS top_label,
           arg_min(label_names, media_index) AS labels
    FROM img GROUP BY platform, post_id
)
SELECT p.platform, p.post_id, s.owner_id, s.taken_at, p.collected_at, p.likes, p.comments,
       p.caption, p.hashtags, p.mentions, p.media_type, p.comments_disabled,
       coalesce(txt.language, p.post_language) AS language, txt.sentiment,
       cover.faces, cover.smiles, cover.top_label, cover.labels, prev.previous_at,
       prof.followers, prof.following, prof.is_business, prof.category
FROM p
JOIN seen s USING (platform, post_id)
LEFT JOIN previous prev USING (platform, post_id)
LEFT JOIN prof ON prof.platform = p.platform AND prof.user_id = s.owner_id
LEFT JOIN txt USING (platform, post_id)
LEFT JOIN cover USING (platform, post_id)
WHERE s.owner_id IS NOT NULL AND s.taken_at IS NOT NULL
ORDER BY p.platform, s.owner_id, s.taken_at, p.post_id
"""


@dataclass(slots=True)
class Dataset:
    """Features ``X`` (NaN: unknown) and the ratio target ``y``, one row per post."""

    protocol: Protocol
    feature_names: list[str]
    X: npt.NDArray[np.float64]
    #: likes / the account's mean likes (over the kept posts): what the models predict.
    y: npt.NDArray[np.float64]
    #: ``platform:owner_id`` per row: the unit of the grouped splits.
    groups: npt.NDArray[np.str_]
    post_ids: list[str]
    likes: npt.NDArray[np.float64]
    #: The account's mean likes (the denominator of ``y``): expected likes = ratio × this.
    account_mean: npt.NDArray[np.float64]
    #: min and max of ``y``: the study's MinMax scaling of the target.
    y_range: tuple[float, float]
    #: The values behind each categorical feature's codes.
    vocab: dict[str, list[str]] = field(default_factory=dict)
    #: Per feature its (min, max) when the features were MinMax-scaled (protocol ``study``).
    scaling: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Per row its caption ("" when none) and its cover image's top labels (None: not
    #: labelled): the raw material of :mod:`tagpulse.predict.vocabulary`'s indicators.
    captions: list[str] = field(default_factory=list)
    labels: list[list[str] | None] = field(default_factory=list)

    @property
    def y_scaled(self) -> npt.NDArray[np.float64]:
        return scale_target(self.y, self.y_range)

    @property
    def accounts(self) -> int:
        return len(set(self.groups.tolist()))


def scale_target(
    values: npt.NDArray[np.float64], y_range: tuple[float, float]
) -> npt.NDArray[np.float64]:
    lo, hi = y_range
    if hi <= lo:
        return np.zeros_like(values)
    return (values - lo) / (hi - lo)


def load_post_rows(query: LakeQuery, *, platform: str | None = None) -> list[dict[str, Any]]:
    """Posts at their latest observation with likes, joined to what the lake knows of them."""
    params: list[Any] = [platform, platform] if platform else []
    sql = _SQL.format(
        where_platform="WHERE platform = ?" if platform else "",
        and_platform="AND platform = ?" if platform else "",
    )
    if platform:
        params.append(platform)
    return query.rows(sql, params)


def build_dataset(
    query: LakeQuery, *, protocol: Protocol = "grouped", platform: str | None = None
) -> Dataset:
    """The dataset of ``protocol`` over the lake (optionally one platform)."""
    return dataset_from_rows(load_post_rows(query, platform=platform), protocol=protocol)


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _hours(later: datetime | None, earlier: datetime | None) -> float:
    if later is None or earlier is None:
        return math.nan
    return (later - earlier).total_seconds() / 3600


def _loo_means(values: Sequence[float]) -> list[float]:
    """Per item the mean of the others' known values (NaN when no other is known)."""
    known = [v for v in values if not math.isnan(v)]
    total, count = sum(known), len(known)
    out = []
    for v in values:
        k = count - (0 if math.isnan(v) else 1)
        out.append((total - (0.0 if math.isnan(v) else v)) / k if k > 0 else math.nan)
    return out


def _code(vocab: list[str], value: Any) -> float:
    """The value's code; NaN when unknown or never seen in training (scoring a new value)."""
    if value is None or str(value) not in vocab:
        return math.nan
    return float(vocab.index(str(value)))


def row_features(
    row: dict[str, Any], mean_likes: float, mean_comments: float, vocab: dict[str, list[str]]
) -> list[float]:
    """One post's features in :data:`FEATURES` order, from a row shaped as
    :func:`load_post_rows` returns it and the account's means over its *other* posts."""
    taken: datetime = row["taken_at"]
    hour = taken.hour + taken.minute / 60
    angle = 2 * math.pi * hour / 24
    weekday = [1.0 if taken.weekday() == i else 0.0 for i in range(7)]
    flag = row["comments_disabled"]
    business = row["is_business"]
    return [
        float(taken.hour), math.sin(angle), math.cos(angle), float(taken.hour // 4), *weekday,
        1.0 if row["media_type"] in ("video", "reel") else 0.0,
        math.nan if flag is None else float(flag),
        _hours(taken, row["previous_at"]),
        _num(row["followers"]), _num(row["following"]),
        math.nan if business is None else float(business),
        _code(vocab["category"], row["category"]),
        mean_likes, mean_comments,
        _num(row["faces"]), _num(row["smiles"]), _code(vocab["top_label"], row["top_label"]),
        _num(row["sentiment"]), _code(vocab["language"], row["language"]),
        float(len(row["caption"] or "")), float(len(row["hashtags"] or [])),
        float(len(row["mentions"] or [])),
        _hours(row["collected_at"], taken),
    ]  # fmt: skip


def kept_posts(posts: list[dict[str, Any]], protocol: Protocol) -> list[dict[str, Any]]:
    """An account's posts (oldest first) that the protocol keeps."""
    if protocol == "grouped":
        return posts
    newest_first = sorted(posts, key=lambda r: (r["taken_at"], r["post_id"]), reverse=True)
    return sorted(newest_first[1:STUDY_POSTS], key=lambda r: (r["taken_at"], r["post_id"]))


def dataset_from_rows(
    rows: Sequence[dict[str, Any]],
    *,
    protocol: Protocol = "grouped",
    vocab: dict[str, list[str]] | None = None,
    scaling: dict[str, tuple[float, float]] | None = None,
) -> Dataset:
    """The dataset from rows shaped as :func:`load_post_rows` returns them.

    ``vocab`` and ``scaling`` (a trained model's) fix the categorical codes and the study's
    MinMax scaling, so that data a model did not see is encoded as its training data was;
    without them both are fitted on ``rows``."""
    if protocol not in PROTOCOLS:
        raise InputError(f"unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}",
                         field="--protocol")  # fmt: skip
    by_account: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_account.setdefault(f"{r['platform']}:{r['owner_id']}", []).append(r)
    kept: list[tuple[str, list[dict[str, Any]]]] = []
    for account, posts in by_account.items():
        chosen = kept_posts(posts, protocol)
        # One post is always its own mean (ratio 1): nothing to learn; a zero mean has no ratio.
        if len(chosen) >= 2 and sum(float(p["likes"]) for p in chosen) > 0:
            kept.append((account, chosen))
    if not kept:
        raise InputError(
            "no account has two or more posts with known likes in the lake: collect accounts' "
            "posts first (e.g. `tagpulse track` with accounts, or `tagpulse import`)"
        )
    if vocab is None:
        vocab = {
            name: sorted({str(p[name]) for _, ps in kept for p in ps if p[name] is not None})
            for name in CATEGORICAL
        }
    X: list[list[float]] = []
    y: list[float] = []
    groups: list[str] = []
    post_ids: list[str] = []
    likes: list[float] = []
    means: list[float] = []
    captions: list[str] = []
    labels: list[list[str] | None] = []
    for account, posts in kept:
        post_likes = [float(p["likes"]) for p in posts]
        mean = sum(post_likes) / len(post_likes)
        loo_likes = _loo_means(post_likes)
        loo_comments = _loo_means([_num(p["comments"]) for p in posts])
        for p, lk, ll, lc in zip(posts, post_likes, loo_likes, loo_comments, strict=True):
            X.append(row_features(p, ll, lc, vocab))
            y.append(lk / mean)
            groups.append(account)
            post_ids.append(str(p["post_id"]))
            likes.append(lk)
            means.append(mean)
            captions.append(str(p["caption"] or ""))
            found = p.get("labels")
            labels.append(None if found is None else [str(x) for x in found])
    target = np.asarray(y, dtype=np.float64)
    data = Dataset(
        protocol=protocol,
        feature_names=list(FEATURES),
        X=np.asarray(X, dtype=np.float64),
        y=target,
        groups=np.asarray(groups, dtype=np.str_),
        post_ids=post_ids,
        likes=np.asarray(likes, dtype=np.float64),
        account_mean=np.asarray(means, dtype=np.float64),
        y_range=(float(target.min()), float(target.max())),
        vocab=vocab,
        captions=captions,
        labels=labels,
    )
    if protocol == "study":
        if scaling is None:
            _minmax_features(data)
        else:
            data.X = scale_features(data.X, data.feature_names, scaling)
            data.scaling = dict(scaling)
    return data


def scale_features(
    X: npt.NDArray[np.float64],
    feature_names: Sequence[str],
    scaling: dict[str, tuple[float, float]],
) -> npt.NDArray[np.float64]:
    """``X`` MinMax-scaled with a trained dataset's :attr:`Dataset.scaling` (a copy)."""
    out = np.array(X, dtype=np.float64)
    for j, name in enumerate(feature_names):
        if name not in scaling:
            continue
        lo, hi = scaling[name]
        if math.isnan(lo) or math.isnan(hi):
            out[:, j] = math.nan
        elif hi > lo:
            out[:, j] = (out[:, j] - lo) / (hi - lo)
        else:
            out[:, j] = np.where(np.isnan(out[:, j]), out[:, j], 0.0)
    return out


def _minmax_features(data: Dataset) -> None:
    """Scale every feature to [0, 1] over the dataset, as the study did (unknowns stay NaN)."""
    for j, name in enumerate(data.feature_names):
        column = data.X[:, j]
        if np.isnan(column).all():
            data.scaling[name] = (math.nan, math.nan)
            continue
        lo, hi = float(np.nanmin(column)), float(np.nanmax(column))
        data.scaling[name] = (lo, hi)
        flat = np.where(np.isnan(column), column, 0.0)
        data.X[:, j] = (column - lo) / (hi - lo) if hi > lo else flat
