"""twarc2 JSONL: one X API v2 answer a line, with twarc's ``__twarc`` (url, retrieved_at).

Each line is archived as a raw answer and parsed by the X parser (includes expanded: authors,
referenced tweets, media, places). A line that is not JSON (a truncated stream, for one) is
quarantined with its line number; the others are kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from tagpulse.errors import PayloadError
from tagpulse.imports.base import ImportItem, LineParser, envelope
from tagpulse.imports.lines import count_lines
from tagpulse.lake.raw import content_hash
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


def _read_line(body: bytes, raw_id: str, fallback: datetime) -> RawEnvelope:
    """A line's envelope; PayloadError (the reason) when it is not a JSON object."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"not JSON ({exc})") from None
    if not isinstance(doc, Mapping):
        raise PayloadError("line is not a JSON object")
    meta = doc.get("__twarc")
    url = meta.get("url") if isinstance(meta, Mapping) else None
    return envelope(
        platform="x",
        endpoint="import:twarc2",
        body=body,
        body_is_json=True,
        collected_at=_retrieved_at(doc) or fallback,
        url=url if isinstance(url, str) else "",
        raw_id=raw_id,
    )


@dataclass(slots=True, frozen=True)
class _LineParser:
    #: The collection time of lines without ``__twarc.retrieved_at``: the file's time.
    fallback: datetime

    def __call__(self, body: bytes, raw_id: str) -> tuple[RawEnvelope, ParsedRecords]:
        env = _read_line(body, raw_id, self.fallback)
        return env, parse_twarc2_envelope(env)


class Twarc2Importer:
    name = "twarc2"
    worker_modules = ("tagpulse.platforms.x.parse",)

    def size(self, path: Path) -> int | None:
        return count_lines(path)

    def line_parser(self, path: Path) -> LineParser:
        return _LineParser(datetime.fromtimestamp(path.stat().st_mtime, tz=UTC))

    def items(self, path: Path) -> Iterator[ImportItem]:
        fallback = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                body = line.rstrip(b"\r\n")
                if not body.strip():
                    continue
                location = f"{path.name}:{number}"
                try:
                    env = _read_line(body, content_hash(body), fallback)
                except PayloadError as exc:
                    yield ImportItem(location, error=str(exc), broken=body)
                    continue
                yield ImportItem(location, envelope=env, parse=parse_twarc2_envelope)
