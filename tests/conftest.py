"""Shared fixtures: recorded payload paths and temporary tagpulse homes."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def ig_fixture() -> Path:
    return FIXTURES / "instagram_web"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    monkeypatch.setenv("TAGPULSE_HOME", str(h))
    monkeypatch.setenv("TAGPULSE_SECRET_KEY", "test-secret-key-not-a-default-0123456789")
    return h
