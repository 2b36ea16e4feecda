"""Shared CLI plumbing: settings, error display, output helpers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import click
import typer
from rich.console import Console

from tagpulse.config import Settings, load_settings
from tagpulse.errors import TagpulseError
from tagpulse.lake.storage import ObjectStorageUnsupported

__all__ = ["HomeOption", "console", "err_console", "friendly_errors", "settings_for"]

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Data directory (lake, catalog, media); env TAGPULSE_HOME, default ./tagpulse-data",
        show_default=False,
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def settings_for(home: Path | None, **overrides: object) -> Settings:
    return load_settings(home=home, **overrides)


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Show TagpulseErrors as one clear line and exit 2, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TagpulseError as exc:
            if isinstance(exc, ObjectStorageUnsupported) and exc.command is None:
                ctx = click.get_current_context(silent=True)
                exc = exc.for_command(ctx.command_path if ctx is not None else func.__name__)
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(2)

    return wrapper
