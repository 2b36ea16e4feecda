"""Recorded X API v2 answers (twarc2 JSONL, see tests/fixtures/README.md) for the X tests."""

from __future__ import annotations

from pathlib import Path

import pytest

TWARC2 = Path(__file__).resolve().parents[2] / "fixtures" / "twarc2"


def twarc2_lines(name: str) -> list[bytes]:
    """The lines of a recorded twarc2 file, as bytes, without their line ends."""
    return (TWARC2 / name).read_bytes().splitlines()


@pytest.fixture
def twarc2() -> Path:
    return TWARC2
