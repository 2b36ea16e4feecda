"""Campaign definitions in the catalog: validation, storage, uniqueness, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tagpulse.errors import InputError
from tagpulse.lake.campaigns import (
    CampaignStore,
    campaign_dict,
    make_campaign,
    parse_moment,
    split_list,
)
from tagpulse.lake.catalog import Catalog

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 8, tzinfo=UTC)


def test_input_is_normalised() -> None:
    c = make_campaign(
        " nike ", tags=["#Nike", "justdoit", "nike"], handles=["@Nike_Official"], start=START,
        end=END, platform="Instagram",
    )  # fmt: skip
    assert (c.name, c.tags, c.handles, c.platform) == (
        "nike", ("nike", "justdoit"), ("nike_official",), "instagram",
    )  # fmt: skip
    assert c.duration_s == 7 * 86_400
    assert split_list("nike, #JustDoIt  puma") == ["nike", "#JustDoIt", "puma"]
    assert split_list(None) == []
    assert parse_moment("2026-11-04T09:00", field="--start") == START + timedelta(days=3, hours=9)
    assert parse_moment("2026-11-04T10:00+01:00", field="--start") == START + timedelta(
        days=3, hours=9
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"end": START}, "--end", "after the start"),
        ({"end": START - timedelta(days=1)}, "--end", "after the start"),
        ({"tags": [], "handles": []}, "--tags", "at least one tag or handle"),
        ({"tags": ["#", " "]}, "--tags", "at least one tag or handle"),
        ({"name": "no spaces"}, "NAME", "not a campaign name"),
        ({"name": ""}, "NAME", "not a campaign name"),
        ({"platform": "insta gram"}, "--platform", "not a platform"),
    ],
)
def test_bad_definitions_name_the_field(kwargs: dict[str, object], field: str, words: str) -> None:
    args: dict[str, object] = {"name": "c", "tags": ["nike"], "start": START, "end": END}
    args.update(kwargs)
    name = args.pop("name")
    with pytest.raises(InputError) as info:
        make_campaign(name, **args)  # type: ignore[arg-type]
    assert info.value.field == field and words in str(info.value)


def test_a_bad_date_says_how_to_write_one() -> None:
    with pytest.raises(InputError) as info:
        parse_moment("11/04/2026", field="--start")
    assert info.value.field == "--start" and "2026-11-01" in str(info.value)


def test_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    store = CampaignStore(Catalog(path))
    assert store.all() == []
    nike = store.add(make_campaign("nike", tags=["nike", "justdoit"], start=START, end=END))
    assert nike.created_at is not None
    store.add(make_campaign("early", tags=[], handles=["puma"], start=START - timedelta(days=9),
                            end=START, platform="tiktok"))  # fmt: skip
    with pytest.raises(InputError, match="exists already") as info:
        store.add(make_campaign("nike", tags=["other"], start=START, end=END))
    assert info.value.field == "NAME"
    # A fresh connection (another process) sees the same definitions.
    again = CampaignStore(Catalog(path))
    assert [c.name for c in again.all()] == ["early", "nike"]  # by start
    got = again.get("nike")
    assert got == nike
    assert campaign_dict(got)["tags"] == ["nike", "justdoit"]
    assert campaign_dict(got)["start"] == "2026-11-01T00:00:00Z"
    assert again.get("early").platform == "tiktok"
    again.delete("nike")
    with pytest.raises(InputError, match=r"no campaign named 'nike'.*known: early"):
        store.get("nike")
    with pytest.raises(InputError, match="no campaign named 'nike'"):
        store.delete("nike")
