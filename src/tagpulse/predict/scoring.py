"""Scoring with a trained model: an existing post, or a post not yet made.

The model and its card are what ``tagpulse predict train`` saved under ``<home>/models``
(``gbm-<protocol>.txt``, or ``mlp``/``cnn``/``mixed-<protocol>.onnx``, each beside its ``.json``
card; the image models take an existing post's pictures from the media store, and a post not
yet made scores with no picture, see :mod:`tagpulse.predict.models.images`). A
post's features are built exactly as :mod:`tagpulse.predict.features` builds them for training;
the account's mean likes and comments are over its *other* posts (the protocol's kept posts),
so an existing post's likes never reach its own score. A post not yet made takes its account's
profile and history, the given time and caption; what only exists once it is published is
unknown (NaN): image faces, smiles and label, caption sentiment and language, comments
disabled. Its age when its likes are seen (``age_hours``) is the median age at which the
account's posts were seen, so the ratio is comparable with theirs.

Expected likes = predicted ratio × the account's mean likes. The interval adds the card's
quantiles of the cross-validated residuals to the ratio (clipped at 0).
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from tagpulse.enrich.extract import extract_hashtags, extract_mentions
from tagpulse.errors import InputError
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.features import (
    PROTOCOLS,
    Protocol,
    kept_posts,
    load_post_rows,
    row_features,
    scale_features,
)
from tagpulse.predict.gbm import load_booster
from tagpulse.predict.mlp import OnnxMlp
from tagpulse.predict.models.image_models import IMAGE_MODELS, load_image_model
from tagpulse.predict.models.images import ImageBatch, post_images
from tagpulse.predict.vocabulary import Vocabulary

__all__ = [
    "MODEL_FILES",
    "AccountHistory",
    "Score",
    "StoredModel",
    "account_history",
    "hypothetical_row",
    "load_model",
    "load_stored",
    "model_path",
    "post_score",
]


#: Each model's file suffix under ``<home>/models`` (its card: the same name, ``.json``).
MODEL_FILES = {"gbm": ".txt", "mlp": ".onnx", "cnn": ".onnx", "mixed": ".onnx"}


def model_path(home: Path, protocol: Protocol = "grouped", model: str = "gbm") -> Path:
    if model not in MODEL_FILES:
        raise InputError(f"unknown model {model!r}; use one of {', '.join(MODEL_FILES)}",
                         field="--model")  # fmt: skip
    return home / "models" / f"{model}-{protocol}{MODEL_FILES[model]}"


@dataclass(slots=True)
class Score:
    """A predicted ratio and expected likes, with the interval when the card has one."""

    ratio: float
    account_mean_likes: float
    ratio_low: float | None = None
    ratio_high: float | None = None
    coverage: float | None = None

    @property
    def expected_likes(self) -> float:
        return self.ratio * self.account_mean_likes

    def as_dict(self) -> dict[str, Any]:
        mean = self.account_mean_likes
        low, high = self.ratio_low, self.ratio_high
        return {
            "ratio": self.ratio,
            "ratio_low": low,
            "ratio_high": high,
            "coverage": self.coverage,
            "account_mean_likes": mean,
            "expected_likes": self.expected_likes,
            "likes_low": None if low is None else low * mean,
            "likes_high": None if high is None else high * mean,
        }


class StoredModel:
    """A model saved by ``predict train`` (a LightGBM booster, or the MLP run by onnxruntime)
    and its JSON card."""

    def __init__(self, path: Path, card: dict[str, Any], predictor: Any) -> None:
        self.path = path
        self.card = card
        self._predictor = predictor
        self.protocol: Protocol = card["protocol"]
        self.feature_names: list[str] = list(card["features"])
        self.vocab: dict[str, list[str]] = card.get("vocab", {})
        self.scaling = {
            name: (math.nan if lo is None else lo, math.nan if hi is None else hi)
            for name, (lo, hi) in card.get("scaling", {}).items()
        }
        interval = card.get("interval")
        self.interval: tuple[float, float] | None = (
            (float(interval["low"]), float(interval["high"])) if interval else None
        )
        self.coverage: float | None = float(interval["coverage"]) if interval else None
        #: Caption words and image labels that are columns (empty for older models).
        self.vocabulary = Vocabulary.from_dict(card.get("bow"))
        #: The registry's version; None for a model trained before the registry.
        self.version: int | None = card.get("version")

    def row_vector(
        self, row: dict[str, Any], mean_likes: float, mean_comments: float
    ) -> list[float]:
        """A row's unscaled features in the model's column order (see :meth:`features`)."""
        base = row_features(row, mean_likes, mean_comments, self.vocab)
        return base + self.vocabulary.indicators(row.get("caption"), row.get("labels"))

    def features(self, rows: list[list[float]]) -> npt.NDArray[np.float64]:
        X = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(self.feature_names))
        return scale_features(X, self.feature_names, self.scaling) if self.scaling else X

    @property
    def needs_images(self) -> bool:
        """An image model (``cnn``, ``mixed``): scores best with the post's pictures."""
        return bool(getattr(self._predictor, "needs_images", False))

    def predict(
        self, X: npt.NDArray[np.float64], images: ImageBatch | None = None
    ) -> npt.NDArray[np.float64]:
        """Ratios of ``X``; an image model takes ``images`` (None: no pictures, as for a post
        not yet made)."""
        if self.needs_images:
            return np.asarray(self._predictor.predict(X, images), dtype=np.float64)
        return np.asarray(self._predictor.predict(X), dtype=np.float64)

    def score(self, ratio: float, account_mean_likes: float) -> Score:
        if self.interval is None:
            return Score(ratio, account_mean_likes)
        low, high = self.interval
        return Score(
            ratio, account_mean_likes, max(ratio + low, 0.0), max(ratio + high, 0.0), self.coverage
        )


def load_model(
    home: Path,
    protocol: str = "grouped",
    model: str = "gbm",
    *,
    version: int | None = None,
    catalog: Catalog | None = None,
) -> StoredModel:
    """The stored model; a clear error naming the command to run when there is none.

    With a ``catalog``: version ``version`` of ``model`` from its registry, or (None) the latest
    registered version of that protocol; a home trained before the registry existed falls back
    to ``<home>/models/<model>-<protocol>.<suffix>``."""
    if protocol not in PROTOCOLS:
        raise InputError(f"unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}",
                         field="--protocol")  # fmt: skip
    proto: Protocol = "study" if protocol == "study" else "grouped"
    path = model_path(home, proto, model)
    extra = (" --protocol study" if proto == "study" else "") + (
        f" --model {model}" if model != "gbm" else ""
    )
    if catalog is not None:
        entry = catalog.registered_model(model, version, None if version else proto)
        if entry is not None:
            path = home / entry.path
        elif version is not None:
            raise InputError(
                f"no version {version} of the {model} model: `tagpulse predict models` lists them",
                field="--version",
            )
    elif version is not None:
        raise InputError("--version needs the catalog's model registry", field="--version")
    return load_stored(path, model, extra)


def load_stored(path: Path, model: str, extra: str = "") -> StoredModel:
    """The model of kind ``model`` saved at ``path``, with the JSON card beside it."""
    card_path = path.with_suffix(".json")
    if not path.is_file() or not card_path.is_file():
        raise InputError(
            f"no trained model here: run `tagpulse predict train{extra}` first", path=str(path)
        )
    try:
        card = orjson.loads(card_path.read_bytes())
        features = card["features"]
        card["protocol"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(
            f"unreadable model card ({exc}): run `tagpulse predict train{extra}` again",
            path=str(card_path),
        ) from exc
    predictor: Any
    if model == "mlp":
        predictor = OnnxMlp.load(path, card)
        names = predictor.feature_names
    elif model in IMAGE_MODELS:
        predictor = load_image_model(path, card, model)
        names = predictor.feature_names
    else:
        predictor = load_booster(path)
        names = list(predictor.feature_name())
    if names != list(features):
        raise InputError(
            f"the model's features differ from its card's: run `tagpulse predict train{extra}` "
            "again",
            path=str(path),
        )
    return StoredModel(path, card, predictor)


def _mean(values: list[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return sum(known) / len(known) if known else math.nan


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(slots=True)
class AccountHistory:
    """An account's posts with known likes (oldest first), as the protocol keeps them."""

    platform: str
    owner_id: str
    posts: list[dict[str, Any]]

    @property
    def mean_likes(self) -> float:
        return _mean([float(p["likes"]) for p in self.posts])

    @property
    def mean_comments(self) -> float:
        return _mean([_num(p["comments"]) for p in self.posts])

    def median_age(self) -> timedelta:
        ages = [p["collected_at"] - p["taken_at"] for p in self.posts if p["collected_at"]]
        return statistics.median(ages) if ages else timedelta(0)

    def median_gap(self) -> timedelta:
        times = sorted(p["taken_at"] for p in self.posts)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return statistics.median(gaps) if gaps else timedelta(days=1)


def _account_rows(query: LakeQuery, platform: str, owner_id: str) -> list[dict[str, Any]]:
    return [r for r in load_post_rows(query, platform=platform) if r["owner_id"] == owner_id]


def _resolve_handle(query: LakeQuery, handle: str, platform: str | None) -> tuple[str, str]:
    name = handle.removeprefix("@")
    if ":" in name and platform is None:
        platform, name = name.split(":", 1)
    where = "AND platform = ?" if platform else ""
    one: list[Any] = [name, platform] if platform else [name]
    params = one + one
    found = query.rows(
        f"SELECT DISTINCT platform, user_id FROM profiles_all WHERE lower(handle) = lower(?) "
        f"AND user_id IS NOT NULL {where} UNION SELECT DISTINCT platform, owner_id FROM posts_all "
        f"WHERE lower(owner_handle) = lower(?) AND owner_id IS NOT NULL {where}",
        params,
    )
    if not found:
        raise InputError(
            f"no account @{name} in the lake: collect its profile and posts first",
            field="--account",
        )
    if len(found) > 1:
        places = ", ".join(f"{r['platform']}:{r['user_id']}" for r in found)
        raise InputError(f"@{name} names several accounts ({places}): pass --platform",
                         field="--account")  # fmt: skip
    return str(found[0]["platform"]), str(found[0]["user_id"])


def account_history(
    query: LakeQuery, handle: str, protocol: Protocol, platform: str | None = None
) -> AccountHistory:
    """The account named by ``handle`` (``@name`` or ``platform:name``) and its kept posts."""
    plat, owner = _resolve_handle(query, handle, platform)
    posts = kept_posts(_account_rows(query, plat, owner), protocol)
    if not posts:
        raise InputError(
            f"@{handle.removeprefix('@')} has no post with known likes in the lake: its mean "
            "likes (the ratio's denominator) is unknown; collect its posts first",
            field="--account",
        )
    return AccountHistory(plat, owner, posts)


def hypothetical_row(
    history: AccountHistory,
    at: datetime,
    caption: str | None = None,
    *,
    video: bool = False,
    previous_at: datetime | None = None,
) -> dict[str, Any]:
    """A row as :func:`load_post_rows` returns it, for a post ``history``'s account would make
    at ``at`` (previous post: the account's latest before ``at`` unless given)."""
    latest = history.posts[-1]
    if previous_at is None:
        before = [p["taken_at"] for p in history.posts if p["taken_at"] < at]
        previous_at = max(before) if before else None
    text = caption or ""
    return {
        "platform": history.platform, "post_id": "", "owner_id": history.owner_id,
        "taken_at": at, "collected_at": at + history.median_age(), "likes": None,
        "comments": None, "caption": caption, "hashtags": extract_hashtags(text),
        "mentions": extract_mentions(text), "media_type": "video" if video else "image",
        "comments_disabled": None, "language": None, "sentiment": None, "faces": None,
        "smiles": None, "top_label": None, "labels": None, "previous_at": previous_at,
        "followers": latest["followers"], "following": latest["following"],
        "is_business": latest["is_business"], "category": latest["category"],
    }  # fmt: skip


def post_score(
    query: LakeQuery, model: StoredModel, post: str, media_dir: Path | None = None
) -> tuple[Score, dict[str, Any]]:
    """The score of an existing post ``platform:post_id`` and its row (an image model takes
    the post's pictures from the media store ``media_dir``)."""
    platform, sep, post_id = post.partition(":")
    if not sep or not platform or not post_id:
        raise InputError(f"{post!r} is not PLATFORM:POST_ID", field="--post")
    rows = load_post_rows(query, platform=platform)
    row = next((r for r in rows if str(r["post_id"]) == post_id), None)
    if row is None:
        raise InputError(
            f"no post {post} with known likes and owner in the lake: collect it first",
            field="--post",
        )
    others = [r for r in rows if r["owner_id"] == row["owner_id"] and r is not row]
    kept = kept_posts(others, model.protocol)
    if not kept:
        raise InputError(
            f"{post}'s account has no other post with known likes: its mean likes (the ratio's "
            "denominator) is unknown",
            field="--post",
        )
    history = AccountHistory(platform, str(row["owner_id"]), kept)
    mean_likes = history.mean_likes
    X = model.features([model.row_vector(row, mean_likes, history.mean_comments)])
    images = None
    if model.needs_images and media_dir is not None:
        images = post_images(media_dir, query, [(platform, post_id, str(row["owner_id"]))])
    return model.score(float(model.predict(X, images)[0]), mean_likes), row
