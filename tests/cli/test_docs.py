"""Docs that cannot rot: every command and option is in the README, which starts with the two
make commands, and the Makefile has those targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main

from tagpulse.cli.app import app

ROOT = Path(__file__).resolve().parents[2]


def walk(command: Any, prefix: str = "") -> list[tuple[str, Any]]:
    name = f"{prefix} {command.name}".strip() if command.name != "tagpulse" else ""
    out = [(name, command)] if name else []
    if hasattr(command, "commands"):
        for sub in command.commands.values():
            out += walk(sub, name)
    return out


def test_every_command_and_option_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    root = typer.main.get_command(app)
    commands = walk(root)
    assert {"track", "status", "chart", "export", "compact", "demo", "sandbox serve"} <= {
        n for n, _ in commands
    }
    missing = []
    for name, command in commands:
        if hasattr(command, "commands"):
            continue
        if f"tagpulse {name}" not in readme:
            missing.append(f"command `tagpulse {name}`")
        for param in command.params:
            if type(param).__name__.endswith("Option"):
                for opt in param.opts:
                    if opt.startswith("--") and opt not in ("--help",) and opt not in readme:
                        missing.append(f"{name} {opt}")
    assert missing == []


def test_readme_starts_with_the_two_commands() -> None:
    lines = [x for x in (ROOT / "README.md").read_text().splitlines() if x.strip()]
    block = lines[1:5]
    assert block[0] == "```sh"
    assert block[1].startswith("make demo") and block[2].startswith("make test")
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo:", "test:", "bench:", "lint:"):
        assert f"\n{target}" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
