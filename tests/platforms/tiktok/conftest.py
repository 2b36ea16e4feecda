"""Composed TikTok answers (see tests/fixtures/tiktok/README.md) for the TikTok tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tiktok"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_doc(name: str) -> Any:
    return orjson.loads(fixture_bytes(name))
