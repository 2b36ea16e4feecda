"""Post counts over time, per tag: the series behind ``tagpulse chart``.

Also the small parsers the CLI needs to say "which window, which buckets": durations such as
``30m``, ``1h``, ``1d12h`` and starting points such as ``7d`` (ago) or an ISO date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery, TimelinePoint

__all__ = [
    "Series",
    "describe_interval",
    "format_duration",
    "growth_series",
    "normalise_tag",
    "parse_duration",
    "parse_since",
    "timeline_points",
    "timeline_series",
    "utc_or_none",
]

#: Series label (``tag``, or ``platform:tag`` when several platforms are present) to its points
#: ``(bucket start in UTC, max post count in that bucket)``, oldest first.
Series = dict[str, list[tuple[datetime, int]]]

_UNITS: dict[str, int] = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_UNIT_NAMES: dict[int, str] = {60: "minute", 3_600: "hour", 86_400: "day", 604_800: "week"}
_DURATION = re.compile(r"(?:\d+[wdhms])+")
_PART = re.compile(r"(\d+)([wdhms])")


def normalise_tag(text: str) -> str:
    """A tag as the lake stores it: trimmed, without leading ``#``, lower case."""
    return text.strip().lstrip("#").strip().lower()


def parse_duration(text: str, *, field: str = "duration") -> int:
    """Seconds in ``"90s"``, ``"30m"``, ``"1h"``, ``"7d"``, ``"2w"`` or a sum like ``"1d12h"``."""
    compact = text.strip().lower().replace(" ", "")
    if not _DURATION.fullmatch(compact):
        raise InputError(
            f"{text!r} is not a duration; write a number and a unit (s, m, h, d, w), "
            "e.g. 30m, 1h, 7d or 1d12h",
            field=field,
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(compact))
    if seconds <= 0:
        raise InputError(f"{text!r} is zero; a duration must be positive", field=field)
    return seconds


def format_duration(seconds: int) -> str:
    """The inverse of :func:`parse_duration`: ``5400`` -> ``"1h30m"``."""
    if seconds <= 0:
        return "0s"
    parts: list[str] = []
    rest = seconds
    for unit, size in _UNITS.items():
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)


def describe_interval(seconds: int) -> str:
    """``3600`` -> ``"hour"``, ``5400`` -> ``"1h30m"``: what follows "max post count per"."""
    return _UNIT_NAMES.get(seconds, format_duration(seconds))


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_or_none(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC (a naive one is taken as UTC); None stays None."""
    return None if moment is None else _as_utc(moment)


def parse_since(text: str, now: datetime, *, field: str = "since") -> datetime:
    """A point in time from a duration ago (``"7d"`` = now - 7 days) or an ISO date/datetime.

    Naive datetimes (and ``now``) are taken as UTC; the result is always timezone-aware UTC.
    """
    stripped = text.strip()
    if stripped and _DURATION.fullmatch(stripped.lower().replace(" ", "")):
        return _as_utc(now) - timedelta(seconds=parse_duration(stripped, field=field))
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise InputError(
            f"{text!r} is neither a duration (e.g. 7d, 12h) nor an ISO date or datetime "
            "(e.g. 2026-11-01 or 2026-11-01T12:00:00Z)",
            field=field,
        ) from None
    return _as_utc(moment)


def timeline_points(
    query: LakeQuery,
    tags: Sequence[str],
    *,
    interval_s: int,
    since: datetime | None,
    until: datetime | None,
    platform: str | None = None,
) -> dict[str, list[TimelinePoint]]:
    """The buckets of :func:`timeline_series` with their latest snapshot times, by label."""
    if interval_s <= 0:
        raise InputError(f"interval must be positive, got {interval_s}s", field="interval")
    wanted = list(dict.fromkeys(t for t in (normalise_tag(t) for t in tags) if t))
    points = query.timeline(
        wanted,
        interval_s=interval_s,
        since=_as_utc(since) if since is not None else None,
        until=_as_utc(until) if until is not None else None,
        platform=platform,
    )
    by_key: dict[tuple[str, str], list[TimelinePoint]] = {}
    for point in points:
        by_key.setdefault((point.tag, point.platform), []).append(point)
    several = len({plat for _, plat in by_key}) > 1
    entries: list[tuple[str, str | None]] = []
    for tag in wanted:
        found = sorted(plat for t, plat in by_key if t == tag)
        entries += [(tag, plat) for plat in found] or [(tag, None)]
    asked = set(wanted)
    entries += sorted(key for key in by_key if key[0] not in asked)
    out: dict[str, list[TimelinePoint]] = {}
    for tag, plat in entries:
        label = f"{plat}:{tag}" if several and plat is not None else tag
        out[label] = sorted(by_key[(tag, plat)], key=lambda p: p.bucket) if plat else []
    return out


def timeline_series(
    query: LakeQuery,
    tags: Sequence[str],
    *,
    interval_s: int,
    since: datetime | None,
    until: datetime | None,
    platform: str | None = None,
) -> Series:
    """Max post count per tag and ``interval_s`` bucket, ready to chart.

    Tags are normalised; every requested tag is present, with an empty list when it has no data.
    With no tags, every tag in the lake is charted. Labels are ``platform:tag`` when the result
    spans several platforms, else the bare tag.
    """
    found = timeline_points(
        query, tags, interval_s=interval_s, since=since, until=until, platform=platform
    )
    return {label: [(p.bucket, p.post_count) for p in pts] for label, pts in found.items()}


def growth_series(series: Series) -> Series:
    """Each series minus its first point: posts added since the start of the range.

    Tags of very different sizes share one axis this way, and bursts (a campaign) stand out.
    """
    return {
        label: [(at, count - points[0][1]) for at, count in points] if points else []
        for label, points in series.items()
    }
