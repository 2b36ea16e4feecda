"""The lake's tables as Spark DataFrames, with the embedded engine's views' semantics.

``read_table(..., latest=False)`` is ``<table>_all`` (every stored row); the default is
``<table>``: one row per row id (the earliest stored copy, as the DuckDB views keep). Results
are written as Parquet (``write_result``) and read back as one Arrow table.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tagpulse.errors import StorageError
from tagpulse.lake.tables import id_column, schema_of, time_column
from tagpulse.scale.spark.session import pyspark_modules

__all__ = ["read_table", "spark_schema", "to_arrow", "write_result"]


def spark_schema(table: str) -> Any:
    """The Spark schema of a lake table's files plus its ``platform``/``date`` partitions."""
    from pyspark.sql.pandas.types import from_arrow_schema

    arrow = schema_of(table)
    arrow = arrow.append(pa.field("platform", pa.string())).append(pa.field("date", pa.string()))
    return from_arrow_schema(arrow)


def read_table(spark: Any, lake_dir: Path | str, table: str, *, latest: bool = True) -> Any:
    """``table`` under ``<lake_dir>/tables`` (one row per id unless ``latest=False``).

    Spark skips files whose names start with ``.`` or ``_``, as every lake reader must (a part
    file is written under a dot name and renamed). A table with no files is an empty frame.
    """
    _, F, window = pyspark_modules()
    root = f"{str(lake_dir).rstrip('/')}/tables/{table}"
    schema = spark_schema(table)
    local = "://" not in root
    if local and not any(Path(root).glob("platform=*/date=*/[!._]*.parquet")):
        frame = spark.createDataFrame([], schema)
    else:
        frame = spark.read.schema(schema).option("basePath", root).parquet(root)
    frame = frame.withColumn("date", F.col("date").cast("date"))
    if not latest:
        return frame
    key, order = id_column(table), time_column(table)
    rank = F.row_number().over(window.partitionBy(key).orderBy(F.col(order).asc_nulls_last()))
    return frame.withColumn("_rn", rank).where(F.col("_rn") == 1).drop("_rn")


def to_arrow(frame: Any) -> pa.Table:
    table: pa.Table = frame.toArrow()
    return table


def write_result(frame: Any, out: Path | str | None) -> pa.Table:
    """Write ``frame`` as Parquet under ``out`` (replaced) and return it; no ``out``: collect.

    Written once and read back, so the job runs once. A local ``out`` that is a file, or a
    non-empty folder that is not a Spark output (no ``_SUCCESS``), is refused rather than
    overwritten.
    """
    if out is None:
        return to_arrow(frame)
    target = str(out)
    if "://" not in target:
        path = Path(target)
        if path.is_file() or (
            path.is_dir() and any(path.iterdir()) and not (path / "_SUCCESS").exists()
        ):
            raise StorageError(
                f"{path}: exists and is not a Spark output folder; choose another --out"
            )
        if path.is_dir():
            shutil.rmtree(path)
    frame.write.mode("overwrite").parquet(target)
    if "://" in target:
        return to_arrow(frame)
    files = sorted(p for p in Path(target).glob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        return to_arrow(frame.limit(0))
    return pa.concat_tables([pq.read_table(p) for p in files], promote_options="default")
