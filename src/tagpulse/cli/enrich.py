"""`tagpulse enrich`: run the enrichment models over what the lake holds and has not enriched.

Each kind of enrichment is a :class:`Step` (text, images), run in turn with its own progress
bar, then one summary table (or ``--json``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, err_console, friendly_errors, settings_for
from tagpulse.config import Settings

__all__ = ["Step", "enrich"]

#: ``run(settings, limit=…, batch_size=…, progress=…)`` → a summary with ``as_dict()``.
StepRunner = Callable[..., Any]


@dataclass(slots=True, frozen=True)
class Step:
    name: str
    label: str
    run: StepRunner


def _text_step(settings: Settings, **kwargs: Any) -> Any:
    from tagpulse.enrich.runner import enrich_text  # the models load only when asked for

    return enrich_text(settings, **kwargs)


@dataclass(slots=True, frozen=True)
class _ImageDoc:
    doc: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.doc


def _images_step(settings: Settings, *, batch_size: int, **kwargs: Any) -> _ImageDoc:
    from tagpulse.enrich.images import enrich_images  # torch/onnxruntime load only when asked

    s = enrich_images(settings, batch_size=min(batch_size, _IMAGE_BATCH), **kwargs)
    return _ImageDoc({
        "pending": s.stored - s.already, "enriched": s.labelled + s.reused + s.failed,
        "batches": s.batches, "seconds": s.seconds, "per_second": s.images_per_s,
        "model": s.model, "failed": s.failed, "missing": s.missing, "remaining": s.remaining,
        "errors": s.errors[:10],
    })  # fmt: skip


#: Images per batch at most: a batch is decoded and held in memory at once.
_IMAGE_BATCH = 32


def _steps(*, text: bool, images: bool) -> list[Step]:
    steps = []
    if text:
        steps.append(Step("text", "captions and comments", _text_step))
    if images:
        steps.append(Step("images", "stored pictures", _images_step))
    return steps


def _run_step(step: Step, settings: Settings, limit: int | None, batch_size: int) -> Any:
    columns = (
        TextColumn(f"[bold]{step.name}[/] {step.label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(step.name, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return step.run(settings, limit=limit, batch_size=batch_size, progress=progress)


def _row(name: str, doc: dict[str, Any]) -> tuple[str, ...]:
    rate = doc.get("per_second")
    top = ", ".join(f"{k} {v}" for k, v in list(doc.get("languages", {}).items())[:5])
    return (
        name,
        str(doc.get("pending", 0)),
        str(doc.get("enriched", 0)),
        str(doc.get("batches", 0)),
        f"{doc.get('seconds', 0.0):.1f}",
        "—" if rate is None else f"{rate:,.0f}",
        str(doc.get("model", "")),
        top or "—",
    )


@friendly_errors
def enrich(
    text: Annotated[
        bool, typer.Option("--text/--no-text", help="Captions and comments → post_text")
    ] = True,
    images: Annotated[
        bool,
        typer.Option(
            "--images/--no-images",
            help="Stored pictures → post_labels (ImageNet labels, faces, smiles; vision extra)",
        ),
    ] = True,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many items per step this run")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Items per batch (each batch is saved at once)")
    ] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    home: HomeOption = None,
) -> None:
    """Enrich what is not enriched yet: language, sentiment, hashtags, mentions, emoji and
    keywords of captions and comments; labels, faces and smiles of stored pictures.
    Incremental and resumable."""
    settings = settings_for(home)
    summaries: dict[str, dict[str, Any]] = {}
    for step in _steps(text=text, images=images):
        summaries[step.name] = _run_step(step, settings, limit, batch_size).as_dict()
    if as_json:
        console.print_json(orjson.dumps(summaries).decode())
        return
    if not summaries:
        console.print("nothing to do: every step is switched off")
        return
    table = Table(title="Enrichment")
    for col in ("step", "to do", "done", "batches", "seconds", "items/s", "model", "languages"):
        table.add_column(col, justify="right" if col in ("to do", "done", "batches") else "left")
    for name, doc in summaries.items():
        table.add_row(*_row(name, doc))
    console.print(table)
