"""`tagpulse reparse` and `tagpulse forget`: rebuilding the tables, erasing an account."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.config import Settings
from tagpulse.errors import InputError
from tagpulse.imports.reparse import ReparseSummary, reparse_lake
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.forget import ForgetSummary, current_actor, forget_account, parse_account

__all__ = ["forget", "reparse"]


def _progress(disabled: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=disabled or not console.is_terminal,
    )


def _reparse_table(summary: ReparseSummary) -> Table:
    title = "reparse (dry run: nothing changed)" if summary.dry_run else "reparse"
    table = Table(title=title, show_header=False)
    table.add_row("archive files", str(summary.files))
    table.add_row("answers read", str(summary.envelopes))
    table.add_row("parsed", str(summary.parsed))
    table.add_row("skipped", str(sum(summary.skipped.values())))
    for reason, n in sorted(summary.skipped.items()):
        table.add_row(f"  {reason}", str(n))
    table.add_row("failed (quarantined)", str(sum(summary.failed.values())))
    for reason, n in sorted(summary.failed.items()):
        table.add_row(f"  {reason}", str(n))
    table.add_row("rows per table", "before → after (kept as they were)")
    for name in sorted(set(summary.rows_before) | set(summary.rows_after)):
        before, after = summary.rows_before.get(name, 0), summary.rows_after.get(name, 0)
        carried = summary.carried.get(name, 0)
        table.add_row(f"  {name}", f"{before} → {after}" + (f" ({carried})" if carried else ""))
    if summary.caught_up:
        table.add_row("answers archived meanwhile, parsed after", str(summary.caught_up))
    return table


@friendly_errors
def reparse(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Rebuild aside and compare row counts; change nothing"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    home: HomeOption = None,
) -> None:
    """Rebuild the tables from the raw archive with today's parsers (after a parser improves)."""
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    try:
        with _progress(as_json) as progress:
            task = progress.add_task("reparsing the raw archive", total=None)
            summary = reparse_lake(
                settings.lake_dir,
                catalog=catalog,
                dry_run=dry_run,
                on_total=lambda n: progress.update(task, total=n),
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        catalog.close()
    if as_json:
        console.print_json(orjson.dumps(asdict(summary)).decode())
    else:
        console.print(_reparse_table(summary))


def _forget_table(summary: ForgetSummary) -> Table:
    title = "forget (dry run: nothing changed)" if summary.dry_run else "forget"
    table = Table(title=f"{title}: {summary.subject}", show_header=False)
    table.add_row("handles (with former names)", str(summary.handles))
    table.add_row("user ids", str(summary.user_ids))
    table.add_row("posts", str(summary.posts))
    for name in sorted(set(summary.rows_removed) | set(summary.rows_redacted)):
        removed, redacted = summary.rows_removed.get(name, 0), summary.rows_redacted.get(name, 0)
        table.add_row(f"  {name}", f"{removed} rows removed, {redacted} mentions redacted")
    table.add_row("table files rewritten", str(summary.table_files_rewritten))
    table.add_row("raw answers dropped", str(summary.raw_answers_dropped))
    table.add_row("raw files rewritten", str(summary.raw_files_rewritten))
    table.add_row("media files removed", str(summary.media_files_removed))
    for name, n in sorted(summary.catalog_rows_removed.items()):
        table.add_row(f"  catalog {name}", f"{n} removed")
    table.add_row("quarantined files removed", str(summary.quarantine_files_removed))
    if summary.audit_id is not None:
        table.add_row("audit log entry", str(summary.audit_id))
    return table


def _audit(catalog: Catalog, as_json: bool) -> None:
    entries = catalog.audit_entries()
    if as_json:
        docs = [asdict(e) | {"at": e.at.isoformat()} for e in entries]
        console.print_json(orjson.dumps(docs).decode())
        return
    table = Table(title="audit log")
    for column in ("id", "at (UTC)", "action", "subject", "actor", "details"):
        table.add_column(column)
    for e in entries:
        details = orjson.dumps(e.details).decode()
        table.add_row(
            str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", e.action, e.subject or "", e.actor, details
        )
    console.print(table)


def _confirm(account: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError(
            "forget erases data for good: add --yes to confirm (or --dry-run to see what it "
            "would remove)",
            field="--yes",
        )
    typer.confirm(f"Erase {account} from this lake for good?", abort=True)


def _forget_one(
    settings: Settings, catalog: Catalog, account: str, dry_run: bool, yes: bool
) -> ForgetSummary:
    platform, handle = parse_account(account)
    if not dry_run:
        _confirm(account, yes)
    media = None
    if (settings.media_dir / "index.sqlite").is_file():
        from tagpulse.collect.media import MediaStore

        media = MediaStore(settings.media_dir)
    try:
        return forget_account(
            settings.lake_dir,
            catalog,
            platform,
            handle,
            media=media,
            actor=current_actor(),
            dry_run=dry_run,
        )
    finally:
        if media is not None:
            media.close()


@friendly_errors
def forget(
    account: Annotated[
        str | None, typer.Argument(help="PLATFORM:HANDLE, e.g. instagram:some.account")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be removed; change nothing")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    pseudonymise_on: Annotated[
        bool,
        typer.Option(
            "--pseudonymise-on",
            help="From now on, store non-public handles as salted pseudonyms (for research)",
        ),
    ] = False,
    audit: Annotated[bool, typer.Option("--audit", help="Show the audit log")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    home: HomeOption = None,
) -> None:
    """Erase an account everywhere (tables, raw archive, media, catalog) and keep it erased."""
    if account is None and not (pseudonymise_on or audit):
        raise InputError("name an account (PLATFORM:HANDLE), or use --pseudonymise-on or --audit")
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    try:
        if pseudonymise_on:
            changed = catalog.enable_pseudonymise(actor=current_actor())
            if not as_json:
                console.print(
                    ("pseudonymisation is now on" if changed else "pseudonymisation was already on")
                    + ": handles and ids other than watchlist and verified accounts are stored as "
                    "salted pseudonyms from now on; run `tagpulse reparse` to rewrite what is "
                    "already stored"
                )
        if account is not None:
            summary = _forget_one(settings, catalog, account, dry_run, yes)
            if as_json:
                console.print_json(orjson.dumps(asdict(summary)).decode())
            else:
                console.print(_forget_table(summary))
        if audit:
            _audit(catalog, as_json)
        elif pseudonymise_on and as_json and account is None:
            doc: dict[str, Any] = {"pseudonymise": catalog.pseudonymise_enabled()}
            console.print_json(orjson.dumps(doc).decode())
    finally:
        catalog.close()
