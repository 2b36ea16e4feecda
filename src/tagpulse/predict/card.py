"""The model card: a markdown page beside a trained model, and its calibration plot.

It says what the model was trained on (the data snapshot), which features it reads and where
each comes from, its cross-validated metrics beside the baselines (account mean, median), and
whether it *counts*: a model counts only where it beats both baselines, judged per metric on
the same out-of-fold predictions. The calibration plot (PNG, matplotlib's Agg canvas) bins the
out-of-fold predictions into deciles and sets each decile's mean predicted ratio against its
mean observed ratio; a calibrated model lies on the diagonal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.errors import InputError
from tagpulse.predict.evaluate import BASELINES, Metrics

__all__ = [
    "LOWER_IS_BETTER",
    "CalibrationBin",
    "calibration_bins",
    "card_markdown",
    "counts_verdict",
    "write_calibration_png",
]

#: Metrics where lower is better; the others (Spearman, within 0.25) are better higher.
LOWER_IS_BETTER = ("rmse", "mae", "rmse_scaled", "mae_scaled", "mape")
_HIGHER_IS_BETTER = ("spearman", "within_025")
_LABELS = {
    "rmse": "RMSE", "mae": "MAE", "rmse_scaled": "RMSE scaled", "mae_scaled": "MAE scaled",
    "mape": "MAPE %", "spearman": "Spearman", "within_025": "within 0.25",
}  # fmt: skip


@dataclass(slots=True, frozen=True)
class CalibrationBin:
    posts: int
    predicted: float
    observed: float


def calibration_bins(
    y_true: npt.NDArray[np.float64], y_pred: npt.NDArray[np.float64], bins: int = 10
) -> list[CalibrationBin]:
    """Posts ordered by prediction, cut into ``bins`` groups of (nearly) equal size; per group
    the mean predicted and the mean observed ratio. Rows without a prediction are left out."""
    known = ~np.isnan(y_pred)
    truth, pred = y_true[known], y_pred[known]
    if len(pred) == 0:
        raise InputError("no out-of-fold prediction to calibrate")
    order = np.argsort(pred, kind="stable")
    return [
        CalibrationBin(len(part), float(pred[part].mean()), float(truth[part].mean()))
        for part in np.array_split(order, min(bins, len(pred)))
        if len(part)
    ]


def write_calibration_png(bins: Sequence[CalibrationBin], path: Path, *, title: str) -> Path:
    """Predicted against observed ratio per decile, with the diagonal, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    xs = [b.predicted for b in bins]
    ys = [b.observed for b in bins]
    lo, hi = min(xs + ys), max(xs + ys)
    pad = (hi - lo) * 0.05 or 0.05
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#999999", linestyle="--",
            label="calibrated")  # fmt: skip
    ax.plot(xs, ys, marker="o", color="#1f77b4", label="deciles of the prediction")
    ax.set_xlabel("mean predicted likes ratio")
    ax.set_ylabel("mean observed likes ratio")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    figure.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def _better(metric: str, model: float | None, baseline: float | None) -> bool:
    if model is None:
        return False
    if baseline is None:
        return True
    return model < baseline if metric in LOWER_IS_BETTER else model > baseline


def counts_verdict(model: str, metrics: Mapping[str, Metrics]) -> tuple[bool, str]:
    """Whether ``model`` counts — beats both baselines on RMSE and MAE — and the sentence that
    says so, naming every metric where it beats both and every one where it does not."""
    mine = metrics[model].as_dict()
    bases = [metrics[b].as_dict() for b in BASELINES if b in metrics]
    wins: list[str] = []
    losses: list[str] = []
    for metric in (*LOWER_IS_BETTER, *_HIGHER_IS_BETTER):
        beats = all(_better(metric, mine[metric], b[metric]) for b in bases)
        (wins if beats else losses).append(_LABELS[metric])
    counts = all(_LABELS[m] in wins for m in ("rmse", "mae"))
    verdict = (
        f"{model} counts: it beats both baselines on RMSE and MAE"
        if counts
        else f"{model} does NOT count: it does not beat both baselines on RMSE and MAE"
    )
    detail = f" (beats both on: {', '.join(wins) or 'nothing'}"
    detail += f"; not on: {', '.join(losses)})" if losses else ")"
    return counts, verdict + detail


def _fmt(value: Any, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _metrics_table(metrics: Mapping[str, Metrics]) -> list[str]:
    cols = (*LOWER_IS_BETTER, *_HIGHER_IS_BETTER)
    lines = [
        "| model | " + " | ".join(_LABELS[c] for c in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for name, m in metrics.items():
        d = m.as_dict()
        cells = [
            _fmt(d[c], ".1f" if c == "mape" else ".1%" if c == "within_025" else ".4f")
            for c in cols
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def card_markdown(
    doc: Mapping[str, Any],
    metrics: Mapping[str, Metrics],
    bins: Sequence[CalibrationBin],
    png_name: str,
) -> str:
    """The card of the model ``doc`` describes (the JSON card ``predict train`` writes)."""
    model = str(doc["model"])
    version = doc.get("version")
    snap: Mapping[str, Any] = doc.get("snapshot", {})
    title = f"# Model card: {model}" + (f" v{version}" if version is not None else "")
    out = [
        title,
        "",
        "Predicts a post's likes ratio: likes / the account's mean likes (1.0 = an average post).",
        "",
        f"- Trained: {doc.get('trained_at', '?')}",
        f"- Protocol: {doc['protocol']}; cross-validation: {doc['folds']}-fold {doc['split']} "
        f"split; seed {doc['seed']}",
        f"- Artefact: `{Path(str(doc['path'])).name}`",
        "",
        "## Data snapshot",
        "",
        f"- Posts: {doc['posts']:,} of {doc['accounts']:,} accounts",
        f"- Lake: {snap.get('lake_files', '?')} Parquet files, latest observation "
        f"{snap.get('latest_observation') or '?'}, fingerprint `{snap.get('fingerprint', '?')}`",
        "",
        "## Metrics (out-of-fold) against the baselines",
        "",
        "Baselines: *account mean* predicts a ratio of 1.0; *median* predicts the median ratio "
        "of the training posts. A model counts only where it beats both.",
        "",
        *_metrics_table(metrics),
        "",
        counts_verdict(model, metrics)[1] + ".",
        "",
        "## Calibration",
        "",
        f"![calibration: predicted vs observed ratio by decile]({png_name})",
        "",
        "| decile | posts | mean predicted | mean observed |",
        "|---:|---:|---:|---:|",
        *(
            f"| {i} | {b.posts} | {b.predicted:.3f} | {b.observed:.3f} |"
            for i, b in enumerate(bins, 1)
        ),
        "",
    ]
    interval = doc.get("interval")
    if interval:
        out += [
            f"Prediction interval ({interval['coverage']:.0%}): ratio "
            f"{interval['low']:+.3f} / {interval['high']:+.3f} around the prediction "
            f"({interval['method']}).",
            "",
        ]
    gain = {i["feature"]: i["gain_share"] for i in doc.get("importance", [])}
    out += ["## Features", "", "| feature | source | gain share |", "|---|---|---:|"]
    for name, source in dict(doc["features"]).items():
        share = gain.get(name)
        out.append(f"| {name} | {source} | {_fmt(share, '.1%')} |")
    return "\n".join(out) + "\n"
