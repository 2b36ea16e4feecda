"""A Spark session for the lake's jobs: any master URL, UTC, quiet.

``local[2]`` (the default) runs in this process's JVM on two cores; ``spark://host:7077``,
``yarn`` or ``k8s://…`` hand the jobs to a cluster that can read the lake's path.
"""

from __future__ import annotations

import os
from typing import Any

from tagpulse.errors import InputError, MissingExtra

__all__ = ["DEFAULT_MASTER", "pyspark_modules", "spark_session"]

DEFAULT_MASTER = "local[2]"

#: Settings every job relies on: buckets and dates in UTC, and no UI or progress bars.
_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Partition values stay strings ("2026-01-05"), cast where they are used.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Arrow and pyarrow read these back as UTC timestamps (INT96 comes back naive, in ns).
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def pyspark_modules() -> tuple[Any, Any, Any]:
    """``(SparkSession, functions, Window)``, or which extra to install."""
    try:
        from pyspark.sql import SparkSession, Window
        from pyspark.sql import functions as F
    except ImportError as exc:
        raise MissingExtra("spark", "pyspark") from exc
    return SparkSession, F, Window


def spark_session(
    master: str = DEFAULT_MASTER,
    *,
    app_name: str = "tagpulse",
    conf: dict[str, str] | None = None,
) -> Any:
    """A (possibly shared) Spark session on ``master``; local masters bind to loopback.

    Spark reuses a running session in this process: its master cannot change until it is
    stopped, so a different ``master`` than the running one is refused.
    """
    if not master.strip():
        raise InputError(
            "the Spark master URL is empty (e.g. local[2], spark://host:7077)", field="--master"
        )
    spark_cls, _, _ = pyspark_modules()
    builder = spark_cls.builder.master(master).appName(app_name)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Lake jobs shuffle little: Spark's 200 default partitions cost more than they split.
        builder = builder.config("spark.sql.shuffle.partitions", "4")
    for key, value in (_CONF | (conf or {})).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    running = session.sparkContext.master
    if running != master:
        raise InputError(
            f"a Spark session on {running!r} is already running in this process; "
            f"stop it before asking for {master!r}",
            field="--master",
        )
    session.sparkContext.setLogLevel("ERROR")
    return session
