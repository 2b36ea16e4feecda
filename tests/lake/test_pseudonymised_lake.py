"""A pseudonymised lake over a real collection (sandbox over loopback) and an import: handles
hashed consistently, watched accounts in clear, the salt nowhere but the catalog."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import zstandard
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.imports.base import run_import
from tagpulse.imports.reparse import reparse_lake
from tagpulse.imports.zeeschuimer import ZeeschuimerImporter
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.catalog_privacy import pseudonym
from tagpulse.lake.pseudonymise import is_pseudonym
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import SCHEMAS, id_column
from tests.collect import conftest as collect_conftest
from tests.collect.conftest import Rig

make_rig = collect_conftest.make_rig  # the sandbox rig fixture, shared with tests/collect

FIXTURES = Path(__file__).parent.parent / "fixtures"
#: (table, key column, identity column) whose values a pseudonymised lake rewrites.
HANDLES = [
    ("profiles", "row_id", "handle"),
    ("posts", "row_id", "owner_handle"),
    ("comments", "row_id", "owner_handle"),
]


def tables(lake: Path) -> dict[str, list[dict[str, Any]]]:
    query = LakeQuery(lake)
    return {t: query.rows(f"SELECT * FROM {t} ORDER BY {id_column(t)}") for t in SCHEMAS}


def everything_but_the_catalog(home: Path) -> str:
    """Every byte tagpulse wrote under ``home`` except the catalog, decoded where stored packed."""
    parts = []
    for path in sorted(home.rglob("*")):
        if not path.is_file() or path.name.startswith("catalog.sqlite"):
            continue
        data = path.read_bytes()
        if path.name.endswith(".zst"):
            data = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
        elif path.suffix == ".sqlite":
            with sqlite3.connect(path) as db:
                data = "\n".join(db.iterdump()).encode()
        parts.append(data.decode("utf-8", "replace"))
    lake = home / "lake"
    parts += [orjson.dumps(rows, default=str).decode() for rows in tables(lake).values()]
    return "\n".join(parts)


def test_pseudonymised_lake(make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    rig = make_rig("paris\n")
    settings = rig.settings
    runner = CliRunner()
    out = runner.invoke(app, ["forget", "--pseudonymise-on", "--home", str(settings.home)])
    assert out.exit_code == 0, out.output
    catalog = Catalog(settings.catalog_path)
    salt = catalog.stored_salt()
    assert salt is not None and catalog.pseudonymise_enabled()
    social = rig.world.social
    t = rig.clock.time()
    watched = max(
        (
            a
            for a in social.accounts
            if not a.is_private
            and social.resolve(a.username, t)[1] == "active"
            and not a.is_verified
        ),
        key=lambda a: social.post_count(a, t),
    )
    handles = rig.tags_file.parent / "accounts.txt"
    handles.write_text(watched.username + "\n")
    rig.handles_file = handles
    rig.collector(once=True, max_posts=12, comments_posts=2, followers=30).run()
    run_import(
        ZeeschuimerImporter(),
        FIXTURES / "zeeschuimer" / "zeeschuimer-composed.ndjson",
        lake_dir=settings.lake_dir,
        catalog=catalog,
    )
    lake = settings.lake_dir
    stored = tables(lake)

    # The same lake without its catalog has no policy: a reparse of a copy gives the real rows.
    plain = tmp_path / "plain" / "lake"
    shutil.copytree(lake / "raw", plain / "raw")
    reparse_lake(plain)
    real = tables(plain)

    verified = {r["handle"] for r in real["profiles"] if r["is_verified"]}
    seen: dict[str, set[str]] = {}
    pseudonymised = 0
    for table, key, column in HANDLES:
        real_by_key = {r[key]: r for r in real[table]}
        for row in stored[table]:
            value = row[column]
            if value is None:
                continue
            if is_pseudonym(value):
                pseudonymised += 1
                match = [
                    r
                    for r in real[table]
                    if r.get("raw_id") == row["raw_id"]
                    and pseudonym(salt, r["platform"], r[column] or "", "handle") == value
                ]
                assert match, (table, value)
                seen.setdefault(f"{row['platform']}:{match[0][column].lower()}", set()).add(value)
            else:
                # In clear: the watched account, a verified one, or a row of another platform.
                assert value == watched.username or value in verified or table == "posts", value
                if table != "posts" and key in real_by_key:
                    assert real_by_key[row[key]][column] == value
    assert pseudonymised > 20
    # Posts and comments keep their row ids: each real handle maps to one stored value.
    for table in ("posts", "comments"):
        real_by_key = {r["row_id"]: r for r in real[table]}
        for row in stored[table]:
            handle = real_by_key[row["row_id"]]["owner_handle"]
            if handle is not None and handle not in verified:
                seen.setdefault(f"{row['platform']}:{handle.lower()}", set()).add(
                    row["owner_handle"]
                )
    assert all(len(v) == 1 for v in seen.values())  # one pseudonym per handle, everywhere
    profiles = [r for r in stored["profiles"] if r["handle"] == watched.username]
    assert profiles and profiles[0]["user_id"] == str(watched.pk)
    commenters = [r["owner_handle"] for r in stored["comments"]]
    assert commenters and all(
        is_pseudonym(h) or h in verified or h == watched.username for h in commenters
    )

    # Rebuilt from the raw archive through the same policy: the same pseudonyms.
    assert reparse_lake(lake, catalog=catalog).swapped
    assert tables(lake) == stored

    # The salt is nowhere but the catalog: not in the lake, the media index, or any output.
    outputs = [
        runner.invoke(app, ["reparse", "--dry-run", "--json", "--home", str(settings.home)]),
        runner.invoke(app, ["forget", "--audit", "--json", "--home", str(settings.home)]),
        runner.invoke(app, ["forget", "--pseudonymise-on", "--home", str(settings.home)]),
        runner.invoke(
            app,
            [
                "forget",
                f"instagram:{watched.username}",
                "--dry-run",
                "--json",
                "--home",
                str(settings.home),
            ],
        ),
    ]
    assert all(o.exit_code == 0 for o in outputs), [o.output for o in outputs]
    text = everything_but_the_catalog(settings.home) + "".join(o.output for o in outputs)
    assert salt.hex() not in text and salt.hex()[:16] not in text
    assert "pseudonymise_on" in outputs[1].output
    catalog.close()
