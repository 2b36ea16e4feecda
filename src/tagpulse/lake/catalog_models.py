"""The catalog's model registry: every model ``tagpulse predict train`` saved, by version.

One row per trained model: its kind (``gbm``, ``mlp``, any later kind), a version counting up
from 1 per kind, when it was trained, the protocol, split and seed, the cross-validated metrics
of the model and its baselines (JSON), its feature names (JSON), a snapshot of the data it was
trained on (JSON: posts, accounts, the lake's fingerprint) and where its artefact lies
(relative to the tagpulse home). The registry knows nothing of the model formats: scoring
resolves a version to a path here and loads the file by its kind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

__all__ = ["MODELS_SCHEMA", "ModelsCatalog", "RegisteredModel"]

MODELS_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_registry (
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at REAL NOT NULL,
    protocol TEXT NOT NULL,
    split TEXT NOT NULL,
    seed INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    features TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (kind, version)
);
"""

_COLUMNS = "kind, version, created_at, protocol, split, seed, metrics, features, snapshot, path"


@dataclass(slots=True, frozen=True)
class RegisteredModel:
    kind: str
    version: int
    created_at: datetime
    protocol: str
    split: str
    seed: int
    metrics: dict[str, Any]
    features: list[str]
    snapshot: dict[str, Any]
    #: The artefact, relative to the tagpulse home.
    path: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "protocol": self.protocol,
            "split": self.split,
            "seed": self.seed,
            "metrics": self.metrics,
            "features": self.features,
            "snapshot": self.snapshot,
            "path": self.path,
        }


def _row(r: Sequence[Any]) -> RegisteredModel:
    return RegisteredModel(
        kind=r[0],
        version=int(r[1]),
        created_at=datetime.fromtimestamp(r[2], tz=UTC),
        protocol=r[3],
        split=r[4],
        seed=int(r[5]),
        metrics=orjson.loads(r[6]),
        features=orjson.loads(r[7]),
        snapshot=orjson.loads(r[8]),
        path=r[9],
    )


class ModelsCatalog:
    """Registry methods of :class:`~tagpulse.lake.catalog.Catalog` (it provides the SQL)."""

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def register_model(
        self,
        kind: str,
        *,
        protocol: str,
        split: str,
        seed: int,
        metrics: dict[str, Any],
        features: Sequence[str],
        snapshot: dict[str, Any],
        place: Callable[[int], str],
        at: datetime | None = None,
    ) -> RegisteredModel:
        """Register a model as the next version of ``kind``. ``place(version)`` puts the
        artefact where that version lives and returns its path (relative to the home); it runs
        inside the transaction, so two trainings never get one version and a failed copy
        registers nothing."""
        created = at or datetime.now(UTC)
        with self._tx() as db:
            (last,) = db.execute(
                "SELECT coalesce(max(version), 0) FROM model_registry WHERE kind = ?", (kind,)
            ).fetchone()
            version = int(last) + 1
            path = place(version)
            db.execute(
                f"INSERT INTO model_registry ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind, version, created.timestamp(), protocol, split, seed,
                    orjson.dumps(metrics).decode(), orjson.dumps(list(features)).decode(),
                    orjson.dumps(snapshot).decode(), path,
                ),
            )  # fmt: skip
        return RegisteredModel(
            kind, version, created, protocol, split, seed, metrics, list(features), snapshot, path
        )

    def registered_models(
        self, kind: str | None = None, protocol: str | None = None
    ) -> list[RegisteredModel]:
        """Registered models, oldest first (by kind, then version)."""
        where, params = [], []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if protocol is not None:
            where.append("protocol = ?")
            params.append(protocol)
        sql = f"SELECT {_COLUMNS} FROM model_registry"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_row(r) for r in self.query(sql + " ORDER BY kind, version", params)]

    def registered_model(
        self, kind: str, version: int | None = None, protocol: str | None = None
    ) -> RegisteredModel | None:
        """Version ``version`` of ``kind``, or (None) its latest version of ``protocol``."""
        if version is not None:
            rows = self.query(
                f"SELECT {_COLUMNS} FROM model_registry WHERE kind = ? AND version = ?",
                (kind, version),
            )
            return _row(rows[0]) if rows else None
        found = self.registered_models(kind, protocol)
        return found[-1] if found else None
