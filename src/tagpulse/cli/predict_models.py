"""`tagpulse predict models` (the registry) and `predict evaluate --data DIR`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.lake.catalog import Catalog
from tagpulse.predict.card import counts_verdict
from tagpulse.predict.evaluate import BASELINES
from tagpulse.predict.external import evaluate_on_lake, lake_of
from tagpulse.predict.scoring import load_model

__all__ = ["evaluate_data", "models_command", "register"]


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


@friendly_errors
def models_command(
    kind: Annotated[
        str | None, typer.Option("--model", help="Only this kind of model (gbm, mlp, ...)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    home: HomeOption = None,
) -> None:
    """The registered models: every version `predict train` made, with metrics and data."""
    settings = settings_for(home)
    entries = Catalog(settings.catalog_path).registered_models(kind)
    if as_json:
        console.print_json(orjson.dumps([e.as_dict() for e in entries]).decode())
        return
    if not entries:
        console.print("no registered model: run `tagpulse predict train` first")
        return
    table = Table(title="Registered models (likes ratio)")
    for col in ("model", "version", "trained", "protocol", "split", "seed", "posts", "accounts",
                "RMSE", "vs account mean", "Spearman", "path"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("model", "path", "trained") else "right")
    for e in entries:
        mine = e.metrics.get(e.kind, {})
        base = e.metrics.get("account mean", {})
        table.add_row(
            e.kind, str(e.version), f"{e.created_at:%Y-%m-%d %H:%M}", e.protocol, e.split,
            str(e.seed), f"{e.snapshot.get('posts', 0):,}", f"{e.snapshot.get('accounts', 0):,}",
            _fmt(mine.get("rmse"), ".4f"), _fmt(base.get("rmse"), ".4f"),
            _fmt(mine.get("spearman"), ".3f"), e.path,
        )  # fmt: skip
    console.print(table)


def evaluate_data(
    home: Path | None,
    data: Path,
    data_format: str | None,
    model_name: str,
    protocol: str,
    version: int | None,
    platform: str | None,
    as_json: bool,
) -> None:
    """Evaluate a trained model on ``data`` without training on it, and print the metrics."""
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    model = load_model(settings.home, protocol, model_name, version=version, catalog=catalog)
    with tempfile.TemporaryDirectory(prefix="tagpulse-evaluate-") as work:
        lake = lake_of(data, data_format, Path(work))
        result = evaluate_on_lake(model, model_name, lake, platform=platform)
    doc = result.as_dict() | {
        "model": model_name,
        "version": model.version,
        "protocol": model.protocol,
        "data": str(data),
        "model_path": str(model.path),
    }
    if as_json:
        console.print_json(orjson.dumps(doc).decode())
        return
    title = (
        f"{model_name}" + (f" v{model.version}" if model.version else "") + f" on {data} "
        f"({model.protocol} protocol: {result.posts:,} posts of {result.accounts:,} accounts, "
        "not trained on)"
    )
    table = Table(title=title)
    for col in ("model", "RMSE", "MAE", "RMSE scaled", "MAPE", "Spearman", "within 0.25"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, m in result.metrics.items():
        table.add_row(
            name, f"{m.rmse:.4f}", f"{m.mae:.4f}", f"{m.rmse_scaled:.5f}", f"{m.mape:.1f}%",
            _fmt(m.spearman, ".3f"), f"{m.within_025:.1%}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"baselines: {', '.join(BASELINES)} (the median is the training posts' median ratio)"
    )
    console.print(counts_verdict(model_name, result.metrics)[1])


def register(app: typer.Typer) -> None:
    app.command(name="models")(models_command)
