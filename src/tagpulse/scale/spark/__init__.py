"""Spark jobs over the lake's Parquet that compute the embedded engine's derived tables.

Each job reads the same hive-partitioned files as :class:`~tagpulse.lake.query.LakeQuery`,
with the same semantics (one row per row id, a post at its latest observation, UTC buckets),
writes its result as Parquet and returns it as an Arrow table. Needs the ``spark`` extra.
"""
