"""`tagpulse import FORMAT PATH`: bring in the files users already hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.errors import InputError
from tagpulse.imports.base import ImportSummary, run_import
from tagpulse.imports.registry import IMPORT_FORMATS, importer_for
from tagpulse.lake.catalog import Catalog

__all__ = ["import_command"]


def _summary_table(summary: ImportSummary) -> Table:
    table = Table(title=f"import {summary.source}: {summary.path.name}", show_header=False)
    table.add_row("items read", str(summary.items))
    table.add_row("imported", str(summary.imported))
    table.add_row("already in the lake", str(summary.already_known))
    table.add_row("quarantined", str(summary.quarantined))
    table.add_row("payload warnings", str(summary.warnings))
    for name, count in sorted(summary.records.items()):
        table.add_row(f"  {name}", str(count))
    if summary.media_stored or summary.media_rejected:
        table.add_row("images stored", str(summary.media_stored))
        table.add_row("images refused", str(summary.media_rejected))
    return table


@friendly_errors
def import_command(
    fmt: Annotated[str, typer.Argument(help="zeeschuimer, instaloader, twarc2 or instagram-json")],
    path: Annotated[Path, typer.Argument(help="The file, directory or archive to import")],
    no_media: Annotated[
        bool, typer.Option("--no-media", help="Do not copy images into the media store")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    home: HomeOption = None,
) -> None:
    """Import a file users already hold; idempotent (re-importing adds nothing)."""
    importer = importer_for(fmt)
    if importer is None:
        raise InputError(
            f"unknown import format {fmt!r}; choose one of {', '.join(IMPORT_FORMATS)}",
            field="FORMAT",
        )
    if not path.exists():
        raise InputError("no such file or directory", path=str(path))
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    media = None
    if not no_media and fmt == "instaloader":
        from tagpulse.collect.media import MediaStore

        media = MediaStore(settings.media_dir)
    try:
        total = importer.size(path)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=as_json or not console.is_terminal,
        ) as progress:
            task = progress.add_task(f"importing {path.name}", total=total)
            summary = run_import(
                importer,
                path,
                lake_dir=settings.lake_dir,
                catalog=catalog,
                media=media,
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        catalog.close()
        if media is not None:
            media.close()
    if as_json:
        doc = {
            "format": fmt,
            "path": str(path),
            "items": summary.items,
            "imported": summary.imported,
            "already_known": summary.already_known,
            "quarantined": summary.quarantined,
            "warnings": summary.warnings,
            "records": summary.records,
            "media_stored": summary.media_stored,
            "media_rejected": summary.media_rejected,
        }
        console.print_json(orjson.dumps(doc).decode())
    else:
        console.print(_summary_table(summary))
