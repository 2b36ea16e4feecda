"""Shared CLI plumbing: settings, error display, output helpers."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

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


def _command_path(default: str) -> str:
    """``tagpulse <group> <command>`` of the running command, whatever the program was called."""
    ctx: Any = None
    # typer 0.29 runs commands on its own vendored click, whose context stack is not click's.
    for module in ("typer._click.globals", "click.globals"):
        try:
            ctx = importlib.import_module(module).get_current_context(silent=True)
        except (ImportError, AttributeError):
            continue
        if ctx is not None:
            break
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["tagpulse", *reversed(names)]) if names else f"tagpulse {default}"


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Show TagpulseErrors as one clear line and exit 2, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TagpulseError as exc:
            if isinstance(exc, ObjectStorageUnsupported) and exc.command is None:
                exc = exc.for_command(_command_path(func.__name__))
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(2)

    return wrapper
