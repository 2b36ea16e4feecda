"""`tagpulse predict`: how well will a post do, relative to its account's mean likes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
import orjson
import typer
from rich.table import Table

from tagpulse.cli import predict_models, predict_score
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.predict.evaluate import (
    BASELINES,
    INTERVAL_COVERAGE,
    SPLITS,
    Metrics,
    Predictor,
    Split,
    cross_validate,
    residual_interval,
    splits_for,
)
from tagpulse.predict.features import PROTOCOLS, Dataset, Protocol, build_dataset
from tagpulse.predict.gbm import GbmParams, fit_gbm, gbm_predictor
from tagpulse.predict.mlp import MlpParams, fit_mlp, mlp_predictor
from tagpulse.predict.models.image_models import IMAGE_MODELS, fit_image_model, image_predictor
from tagpulse.predict.models.images import ImageBatch, dataset_images
from tagpulse.predict.models.nets import ImageNetParams
from tagpulse.predict.registry import register_trained
from tagpulse.predict.scoring import model_path
from tagpulse.predict.vocabulary import (
    describe_feature,
    fit_vocabulary,
    vocabulary_predictor,
    with_vocabulary,
)

__all__ = ["app", "evaluate", "train"]

MODELS = ("gbm", "mlp", "cnn", "mixed")
#: What ``--model`` takes: one model, or ``all`` of them.
MODEL_CHOICES = (*MODELS, "all")

app = typer.Typer(
    help="Predict a post's likes relative to its account's mean (likes ratio).",
    no_args_is_help=True,
)

ModelOption = Annotated[
    str,
    typer.Option(
        "--model", help="gbm (LightGBM), mlp, cnn (image), mixed (image + features) or all"
    ),
]
ProtocolOption = Annotated[
    str,
    typer.Option("--protocol", help="grouped (every post) or study (12 newest, newest dropped)"),
]
SplitOption = Annotated[
    str, typer.Option("--split", help="grouped (by account) or random (the study's split)")
]
FoldsOption = Annotated[int, typer.Option("--folds", help="Cross-validation folds")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the splits and the model")]
PlatformOption = Annotated[str | None, typer.Option("--platform", help="Only this platform")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InputError(f"{value!r} is not one of {', '.join(allowed)}", field=option)
    return value


def _cross_validate(
    home: Path | None,
    model: str,
    protocol: str,
    split: str,
    folds: int,
    seed: int,
    platform: str | None,
    predictions: dict[str, npt.NDArray[np.float64]] | None = None,
) -> tuple[Dataset, dict[str, Metrics], Path, ImageBatch | None]:
    _choice(model, MODEL_CHOICES, "--model")
    study = _choice(protocol, PROTOCOLS, "--protocol") == "study"
    proto: Protocol = "study" if study else "grouped"
    how: Split = "random" if _choice(split, SPLITS, "--split") == "random" else "grouped"
    settings = settings_for(home)
    query = LakeQuery(settings.lake)
    data = build_dataset(query, protocol=proto, platform=platform)
    images = None
    if any(name in IMAGE_MODELS for name in _models(model)):
        images = dataset_images(settings.media_dir, query, data)
    predictors: dict[str, Predictor] = dict(BASELINES)
    for name in _models(model):
        predictors[name] = _predictor(name, seed, images)
    folds_ = splits_for(data, how, folds, seed)
    metrics = cross_validate(data, predictors, folds_, predictions=predictions)
    return data, metrics, settings.home, images


def _models(model: str) -> list[str]:
    return list(MODELS) if model == "all" else [model]


def _predictor(model: str, seed: int, images: ImageBatch | None = None) -> Predictor:
    if model in IMAGE_MODELS:
        assert images is not None
        return image_predictor(model, images, ImageNetParams(seed=seed))
    # Caption words and image labels are chosen from each fold's training rows only.
    return vocabulary_predictor(
        mlp_predictor(MlpParams(seed=seed))
        if model == "mlp"
        else gbm_predictor(GbmParams(seed=seed))
    )


def _doc(
    data: Dataset, metrics: dict[str, Metrics], split: str, folds: int, seed: int
) -> dict[str, Any]:
    return {
        "protocol": data.protocol,
        "split": split,
        "folds": folds,
        "seed": seed,
        "posts": len(data.y),
        "accounts": data.accounts,
        "metrics": {name: m.as_dict() for name, m in metrics.items()},
    }


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _print_metrics(data: Dataset, metrics: dict[str, Metrics], split: str, folds: int) -> None:
    table = Table(
        title=f"Likes ratio, {folds}-fold {split} cross-validation ({data.protocol} protocol: "
        f"{len(data.y):,} posts of {data.accounts:,} accounts)"
    )
    for col in ("model", "RMSE", "MAE", "RMSE scaled", "MAE scaled", "MAPE", "Spearman",
                "within 0.25"):  # fmt: skip
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, m in metrics.items():
        table.add_row(
            name, f"{m.rmse:.4f}", f"{m.mae:.4f}", f"{m.rmse_scaled:.5f}", f"{m.mae_scaled:.5f}",
            f"{m.mape:.1f}%", _fmt(m.spearman, ".3f"), f"{m.within_025:.1%}",
        )  # fmt: skip
    console.print(table)
    baselines = [metrics[b] for b in BASELINES]
    for name, m in metrics.items():
        if name in BASELINES:
            continue
        beats = all(m.rmse < b.rmse and m.mae < b.mae for b in baselines)
        verdict = "beats" if beats else "does NOT beat"
        console.print(f"{name} {verdict} both baselines on RMSE and MAE")


@friendly_errors
def evaluate(
    model: ModelOption = "gbm",
    protocol: ProtocolOption = "grouped",
    split: SplitOption = "grouped",
    folds: FoldsOption = 5,
    seed: SeedOption = 0,
    platform: PlatformOption = None,
    as_json: JsonOption = False,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data", help="Evaluate the trained model on this lake or import folder"),
    ] = None,
    data_format: Annotated[
        str | None, typer.Option("--data-format", help="Import format of --data, if not a lake")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="With --data: this registered version")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Cross-validated metrics of the model beside the baselines (account mean, median); with
    --data, the trained model's metrics on other data, without training on it."""
    if data_dir is not None:
        _choice(model, MODELS, "--model")
        predict_models.evaluate_data(
            home, data_dir, data_format, model, protocol, version, platform, as_json
        )
        return
    data, metrics, _, _ = _cross_validate(home, model, protocol, split, folds, seed, platform)
    if as_json:
        console.print_json(orjson.dumps(_doc(data, metrics, split, folds, seed)).decode())
        return
    _print_metrics(data, metrics, split, folds)


@friendly_errors
def train(
    model: ModelOption = "gbm",
    protocol: ProtocolOption = "grouped",
    split: SplitOption = "grouped",
    folds: FoldsOption = 5,
    seed: SeedOption = 0,
    platform: PlatformOption = None,
    as_json: JsonOption = False,
    card: Annotated[
        Path | None, typer.Option("--card", help="Also write the markdown model card here")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Cross-validate, then train on every post, save the model(s) under <home>/models with
    a model card and register each as a new version in the catalog."""
    oof: dict[str, npt.NDArray[np.float64]] = {}
    data, metrics, root, images = _cross_validate(
        home, model, protocol, split, folds, seed, platform, oof
    )
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    names = _models(model)
    docs = []
    for name in names:
        doc = _fit_and_save(name, data, metrics, oof[name], root, split, folds, seed, images)
        card_out = (
            card if card is None or len(names) == 1 else card.with_stem(f"{card.stem}-{name}")
        )
        entry = register_trained(
            catalog, root, doc, metrics, data, oof[name], lake_dir=settings.lake,
            card_out=card_out,
        )  # fmt: skip
        docs.append(doc | {"version": entry.version, "registry_path": entry.path})
    if as_json:
        out = (
            docs[0]
            if len(docs) == 1
            else _doc(data, metrics, split, folds, seed) | {"models": {d["model"]: d for d in docs}}
        )
        console.print_json(orjson.dumps(out).decode())
        return
    _print_metrics(data, metrics, split, folds)
    for doc in docs:
        if doc["importance"]:
            top = Table(title=f"{doc['model']}: feature importance (share of split gain, top 10)")
            top.add_column("feature")
            top.add_column("gain", justify="right")
            top.add_column("source")
            for item in doc["importance"][:10]:
                name = item["feature"]
                top.add_row(name, f"{item['gain_share']:.1%}", describe_feature(name))
            console.print(top)
        console.print(
            f"{doc['model']} v{doc['version']}: {doc['path']} (card: {doc['markdown_card']})"
        )


def _fit_and_save(
    model: str,
    data: Dataset,
    metrics: dict[str, Metrics],
    oof: npt.NDArray[np.float64],
    root: Path,
    split: str,
    folds: int,
    seed: int,
    images: ImageBatch | None = None,
) -> dict[str, Any]:
    """Train ``model`` on every post, save it and its JSON card; the card."""
    low, high = residual_interval(data.y, oof, INTERVAL_COVERAGE)
    path = model_path(root, data.protocol, model)
    # Every post is a training post here: the vocabulary is fitted on all of them.
    vocabulary = fit_vocabulary(data)
    full = with_vocabulary(data, vocabulary)
    specific: dict[str, Any]
    if model in IMAGE_MODELS:
        # The image models' tabular branch takes the base features (no caption words/labels).
        assert images is not None
        net = fit_image_model(model, data, images, params=ImageNetParams(seed=seed))
        net.save(path)
        specific = net.card() | {"importance": [], "image_coverage": images.coverage}
    elif model == "mlp":
        mlp = fit_mlp(full, params=MlpParams(seed=seed))
        mlp.save(path)
        specific = mlp.card() | {"importance": []}
    else:
        gbm = fit_gbm(full, params=GbmParams(seed=seed))
        gbm.save(path)
        importance = [{"feature": n, "gain_share": g} for n, g in gbm.importance()]
        specific = {"importance": importance}
    meta = path.with_suffix(".json")
    interval = {
        "coverage": INTERVAL_COVERAGE,
        "low": low,
        "high": high,
        "method": f"quantiles of the {split} cross-validated residuals (ratio - prediction)",
    }
    doc = (
        _doc(data, metrics, split, folds, seed)
        | {
            "model": model,
            "path": str(path),
            "card": str(meta),
            "trained_at": datetime.now(UTC).isoformat(),
            "features": {name: describe_feature(name) for name in full.feature_names},
            "vocab": data.vocab,
            "bow": vocabulary.as_dict(),
            "y_median": float(np.median(data.y)),
            "scaling": {n: [_finite(lo), _finite(hi)] for n, (lo, hi) in data.scaling.items()},
            "y_range": list(data.y_range),
            "interval": interval,
        }
        | specific
    )
    meta.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return doc


app.command(name="evaluate")(evaluate)
app.command(name="train")(train)

predict_score.register(app)
predict_models.register(app)
