"""The X parser on tweets/counts/recent: a popularity series as TagCount records."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import orjson
import pytest

from tagpulse.platforms.x.parse import parse_response, parse_twarc2_line, tag_of_query
from tests.platforms.x.conftest import twarc2_lines

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_counts_dogs_hourly() -> None:
    (line,) = twarc2_lines("counts.jsonl")
    records = parse_twarc2_line(line, raw_id="raw-counts")
    counts = records.tag_counts
    assert len(counts) == 169
    assert {c.tag for c in counts} == {"dogs"}
    assert {c.platform for c in counts} == {"x"}
    assert sum(c.count for c in counts) == 771_665
    first = counts[0]
    assert first.bucket_start == datetime(2021, 10, 16, 18, 21, 34, tzinfo=UTC)
    assert first.bucket_end == datetime(2021, 10, 16, 19, tzinfo=UTC)
    assert first.count == 3_961
    peak = max(counts, key=lambda c: c.count)
    assert peak.count == 8_600
    assert peak.bucket_start == datetime(2021, 10, 17, 15, tzinfo=UTC)
    assert peak.bucket_end == datetime(2021, 10, 17, 16, tzinfo=UTC)
    assert counts[-1].count == 2_773
    assert all(a.bucket_end == b.bucket_start for a, b in itertools.pairwise(counts))
    assert {c.collected_at for c in counts} == {datetime(2021, 10, 23, 18, 21, 44, tzinfo=UTC)}
    assert {c.raw_id for c in counts} == {"raw-counts"}
    assert records.posts == [] and records.profiles == []
    assert records.warnings == []


def _counts_body() -> dict[str, object]:
    (line,) = twarc2_lines("counts.jsonl")
    doc = orjson.loads(line)
    del doc["__twarc"]
    assert isinstance(doc, dict)
    return doc


def test_counts_tag_from_the_query() -> None:
    doc = _counts_body()
    records = parse_response(doc, collected_at=NOW, query="#Dogs")
    assert {c.tag for c in records.tag_counts} == {"dogs"}
    other = parse_response(doc, collected_at=NOW, query="dogs -is:retweet")
    assert {c.tag for c in other.tag_counts} == {"dogs -is:retweet"}


def test_counts_without_query_warn_instead_of_guessing() -> None:
    records = parse_response(_counts_body(), collected_at=NOW)
    assert records.tag_counts == []
    assert records.warnings == ["169 count buckets skipped: the query (the tag) is unknown"]


def test_counts_total_mismatch_and_bad_bucket() -> None:
    doc = _counts_body()
    data = doc["data"]
    assert isinstance(data, list)
    data[0] = {"start": "yesterday", "end": data[0]["end"], "tweet_count": 3961}
    records = parse_response(doc, collected_at=NOW, query="dogs")
    assert len(records.tag_counts) == 168
    assert records.warnings[0].startswith("count bucket 0 start: expected an ISO 8601 time")
    assert records.warnings[-1] == "meta.total_tweet_count 771665 != sum of buckets 767704"


@pytest.mark.parametrize(
    ("query", "tag"),
    [
        ("#Brexit", "brexit"),
        ("dogs", "dogs"),
        (" #Paris ", "paris"),
        ("(#POIUYTREWQ)", "poiuytrewq"),
        ("#zostańwdomu", "zostańwdomu"),
        ("dogs -is:retweet", "dogs -is:retweet"),
        ("#a OR #b", "#a OR #b"),
    ],
)
def test_tag_of_query(query: str, tag: str) -> None:
    assert tag_of_query(query) == tag
