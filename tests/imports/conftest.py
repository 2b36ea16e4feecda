from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app

FIXTURES = Path(__file__).parent.parent / "fixtures"
runner = CliRunner()


def import_json(fmt: str, path: Path, home: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["import", fmt, str(path), "--home", str(home), "--json", *extra])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.output)
    return doc


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"
