"""Fixtures of the scale-out tests: a real S3 server (SeaweedFS), and one Spark session per test
module (the JVM starts once: about 6-10 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.scale.s3_server import s3_server

__all__ = ["s3_server", "spark"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="needs the 'spark' extra")
    from tagpulse.scale.spark.session import spark_session

    session = spark_session("local[2]", app_name="tagpulse-tests")
    yield session
    session.stop()
