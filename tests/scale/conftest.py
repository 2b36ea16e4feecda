"""Fixtures of the scale-out tests: a real S3 server (SeaweedFS), one Spark session per test
module (the JVM starts once: about 6-10 s), and redis-server on a free loopback port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tagpulse.scale.local import LocalRedis
from tests.scale.s3_server import s3_server

__all__ = ["s3_server", "spark"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="needs the 'spark' extra")
    from tagpulse.scale.spark.session import spark_session

    session = spark_session("local[2]", app_name="tagpulse-tests")
    yield session
    session.stop()


@pytest.fixture
def local_redis() -> Iterator[LocalRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it with apt)")
    with LocalRedis() as server:
        yield server


def write_accounts(path: Path, accounts: list[tuple[str, str, float, float]]) -> Path:
    """An accounts file: (alias, sessionid, requests_per_hour, burst) each."""
    lines = []
    for alias, session, per_hour, burst in accounts:
        lines += [
            "[[account]]",
            f'alias = "{alias}"',
            f'sessionid = "{session}"',
            f"requests_per_hour = {per_hour}",
            f"burst = {burst}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path
