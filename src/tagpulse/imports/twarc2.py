"""twarc2 JSONL: one X API v2 answer a line, with twarc's ``__twarc`` (url, retrieved_at).

Each line is archived as a raw answer and parsed by the X parser (includes expanded: authors,
referenced tweets, media, places). A line that is not JSON (a truncated stream, for one) is
quarantined with its line number; the others are kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import orjson

from tagpulse.imports.base import ImportItem, envelope
from tagpulse.records import ParsedRecords, RawEnvelope

__all__ = ["Twarc2Importer", "parse_twarc2_envelope"]


def parse_twarc2_envelope(env: RawEnvelope) -> ParsedRecords:
    from tagpulse.platforms.x.parse import parse_twarc2_line

    return parse_twarc2_line(env.body, raw_id=env.content_hash)


def _retrieved_at(doc: Mapping[str, object]) -> datetime | None:
    meta = doc.get("__twarc")
    value = meta.get("retrieved_at") if isinstance(meta, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Twarc2Importer:
    name = "twarc2"

    def size(self, path: Path) -> int | None:
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())

    def items(self, path: Path) -> Iterator[ImportItem]:
        fallback = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                body = line.rstrip(b"\r\n")
                if not body.strip():
                    continue
                location = f"{path.name}:{number}"
                try:
                    doc = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    yield ImportItem(location, error=f"not JSON ({exc})", broken=body)
                    continue
                if not isinstance(doc, Mapping):
                    yield ImportItem(location, error="line is not a JSON object", broken=body)
                    continue
                meta = doc.get("__twarc")
                url = meta.get("url") if isinstance(meta, Mapping) else None
                env = envelope(
                    platform="x",
                    endpoint="import:twarc2",
                    body=body,
                    body_is_json=True,
                    collected_at=_retrieved_at(doc) or fallback,
                    url=url if isinstance(url, str) else "",
                )
                yield ImportItem(location, envelope=env, parse=parse_twarc2_envelope)
