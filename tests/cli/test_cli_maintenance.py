"""`tagpulse reparse` and `tagpulse forget` as a user runs them, over an imported lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from tagpulse.cli.app import app

FIXTURES = Path(__file__).parent.parent / "fixtures"
runner = CliRunner()


def run(home: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--home", str(home)])
    assert result.exit_code == code, result.output
    return result.output


def imported(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    run(
        home, "import", "zeeschuimer", str(FIXTURES / "zeeschuimer" / "zeeschuimer-composed.ndjson")
    )
    return home


def as_json(text: str) -> Any:
    return orjson.loads(text)


def test_reparse(tmp_path: Path) -> None:
    home = imported(tmp_path)
    dry = as_json(run(home, "reparse", "--dry-run", "--json"))
    assert dry["dry_run"] and not dry["swapped"] and dry["parsed"] > 0
    assert dry["rows_before"] == dry["rows_after"] and dry["rows_before"]["posts"] > 0
    done = as_json(run(home, "reparse", "--json"))
    assert done["swapped"] and done["rows_after"] == dry["rows_after"]
    table = run(home, "reparse")
    assert "answers read" in table and "posts" in table


def test_forget(tmp_path: Path) -> None:
    home = imported(tmp_path)
    before = as_json(run(home, "reparse", "--dry-run", "--json"))["rows_before"]["posts"]
    err = run(home, "forget", "instagram:noholita", code=2)
    assert "--yes" in err
    assert "PLATFORM:HANDLE" in run(home, "forget", "noholita", "--yes", code=2)
    assert "--audit" in run(home, "forget", code=2)
    dry = as_json(run(home, "forget", "instagram:noholita", "--dry-run", "--json"))
    assert dry["dry_run"] and dry["rows_removed"]["posts"] == 12 and dry["audit_id"] is None
    done = as_json(run(home, "forget", "instagram:@NoHolita", "--yes", "--json"))
    assert done["rows_removed"] == dry["rows_removed"]
    assert done["raw_answers_dropped"] == dry["raw_answers_dropped"] > 0
    assert "noholita" not in orjson.dumps(done).decode()
    [entry] = as_json(run(home, "forget", "--audit", "--json"))
    assert entry["action"] == "forget" and entry["subject"] == done["subject"]
    assert "audit log" in run(home, "forget", "--audit")
    jlo = as_json(run(home, "forget", "instagram:jlo", "--yes", "--json"))
    assert "forget" in run(home, "forget", "instagram:jlo", "--yes")  # again: nothing left
    # Reparse after forget: the forgotten stay out (deny list), the others' rows stay in.
    after = as_json(run(home, "reparse", "--json"))
    assert after["rows_after"] == after["rows_before"]
    assert after["rows_after"]["posts"] == before - 12 - jlo["rows_removed"]["posts"]
    assert "now on" in run(home, "forget", "--pseudonymise-on")
    assert "already on" in run(home, "forget", "--pseudonymise-on")
    assert as_json(run(home, "forget", "--pseudonymise-on", "--json")) == {"pseudonymise": True}
