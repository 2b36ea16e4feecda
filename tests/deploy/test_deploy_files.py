"""The deployment files (deploy/Dockerfile, deploy/compose.yaml) stay in step with the code.

No container engine runs on the project's machine, so the images are not built here; what can
rot without one is checked: every ``tagpulse`` command line in the compose file names real
commands and options, every extra the Dockerfile installs exists in pyproject, and the Spark
services call a launcher that pyspark ships.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from tagpulse.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def _services() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(COMPOSE.read_text())
    services: dict[str, dict[str, Any]] = doc["services"]
    return services


def _tagpulse_lines() -> list[tuple[str, list[str]]]:
    """(service, argv after `tagpulse`) of every service that runs the tagpulse entrypoint."""
    lines = []
    for name, service in _services().items():
        if service.get("image") != "tagpulse:latest" or service.get("entrypoint"):
            continue
        lines.append((name, [str(a) for a in service["command"]]))
    return lines


def _check_argv(argv: list[str]) -> None:
    """Resolve argv's sub-commands and check each option exists (raises on anything unknown)."""
    # typer may bring its own copy of click: go by the objects' attributes, not click's classes.
    command: Any = typer.main.get_command(app)
    args = list(argv)
    while getattr(command, "commands", None) and args and not args[0].startswith("-"):
        sub = command.commands.get(args[0])
        assert sub is not None, f"unknown command {args[0]!r} in {argv}"
        command, args = sub, args[1:]
    options = {
        o for p in command.params if getattr(p, "param_type_name", "") == "option" for o in p.opts
    }
    options.add("--help")
    for arg in args:
        if arg.startswith("--"):
            assert arg.split("=")[0] in options, f"{arg} is not an option of {argv}"


def test_every_compose_command_is_a_real_tagpulse_command_line() -> None:
    lines = _tagpulse_lines()
    assert {name for name, _ in lines} >= {"api", "scheduler", "worker", "spark-job"}
    for _, argv in lines:
        _check_argv(argv)


def test_the_checker_catches_a_renamed_option() -> None:
    with pytest.raises(AssertionError):
        _check_argv(["scale", "worker", "--redis-url", "redis://redis:6379/0"])
    with pytest.raises(AssertionError):
        _check_argv(["scale", "wrker"])


def test_workers_and_scheduler_share_the_queue_and_the_api_listens_outside() -> None:
    services = _services()
    urls = set()
    for name in ("scheduler", "worker"):
        argv = services[name]["command"]
        urls.add(argv[argv.index("--redis") + 1])
    assert urls == {"redis://redis:6379/0"}
    api = services["api"]["command"]
    assert api[api.index("--host") + 1] == "0.0.0.0"
    assert services["spark-job"]["command"][
        services["spark-job"]["command"].index("--master") + 1
    ] == ("spark://spark-master:7077")


def test_dockerfile_extras_exist_and_spark_launcher_ships_with_pyspark() -> None:
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    text = DOCKERFILE.read_text()
    wanted = set(re.findall(r"--extra (\w+)", text))
    assert wanted and wanted <= extras
    pyspark = pytest.importorskip("pyspark")
    home = Path(pyspark.__file__).parent
    assert (home / "bin" / "spark-class").is_file()
    assert "SPARK_HOME=/opt/tagpulse/lib/python3.11/site-packages/pyspark" in text
    for name in ("spark-master", "spark-worker"):
        assert "$$SPARK_HOME/bin/spark-class" in " ".join(_services()[name]["entrypoint"])
