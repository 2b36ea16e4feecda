"""`tagpulse spark` without the extra says which one to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app


def test_missing_extra_names_spark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    done = CliRunner().invoke(app, ["spark", "timeline", "--home", str(tmp_path)])
    assert done.exit_code == 2
    assert "'spark' extra" in done.output and "uv sync --extra spark" in done.output


def test_unknown_job_is_refused(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["spark", "pagerank", "--home", str(tmp_path)])
    assert done.exit_code == 2
