"""Watchlist parsing, errors that name the line, and reloading on change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tagpulse.collect.watchlist import WatchEntry, Watchlist, normalise_tag, parse_watchlist
from tagpulse.errors import InputError


def tags(text: str) -> list[str]:
    return [e.tag for e in parse_watchlist(text)]


def test_rules() -> None:
    text = "\n".join(
        [
            "# brands we watch",
            "",
            "#Nike",
            "adidas   # competitor",
            "nike",
            "  #PUMA  ",
            "東京",
            "मुंबई",
            "straße_2026",
            "#",
        ]
    )
    assert tags(text) == ["nike", "adidas", "puma", "東京", "मुंबई", "straße_2026"]


def test_duplicates_keep_first_line() -> None:
    entries = parse_watchlist("a\nb\n#A\n")
    assert entries == [WatchEntry("instagram", "a", 1), WatchEntry("instagram", "b", 2)]


def test_platform_prefix_and_handles() -> None:
    assert parse_watchlist("instagram:#nike") == [WatchEntry("instagram", "nike", 1)]
    entries = parse_watchlist("nike\nx:#Nike\ntiktok:#nike\n@Nike\nx:@nike\n")
    assert [(e.platform, e.tag) for e in entries] == [
        ("instagram", "nike"),
        ("x", "nike"),
        ("tiktok", "nike"),
        ("instagram", "@nike"),
        ("x", "@nike"),
    ]
    assert entries[3].is_account and not entries[0].is_account
    with pytest.raises(InputError, match="unknown platform") as err:
        parse_watchlist("nike\nmyspace:#nike", "tags.txt")
    assert err.value.line == 2
    with pytest.raises(InputError, match="not allowed in a handle") as err:
        parse_watchlist("ok\n@bad handle!", "tags.txt")
    assert err.value.line == 2 and err.value.path == "tags.txt"
    # In an accounts file every line is a handle.
    accounts = parse_watchlist("nike\n@adidas\n# comment\n", accounts=True)
    assert [e.tag for e in accounts] == ["@nike", "@adidas"]
    with pytest.raises(InputError, match="30"):
        parse_watchlist("a" * 31, "accounts.txt", accounts=True)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("new york", "spaces"),
        ("rock&roll", "'&'"),
        ("hello-world", "'-'"),
        ("a" * 101, "101 characters"),
        ("#tag!", "'!'"),
        ("😀", "not allowed"),
    ],
)
def test_invalid_tag_names_the_line(line: str, reason: str) -> None:
    text = f"ok\n# fine\n{line}\n"
    with pytest.raises(InputError) as err:
        parse_watchlist(text, "tags.txt")
    assert err.value.line == 3
    assert err.value.path == "tags.txt"
    assert str(err.value).startswith("tags.txt:3: ")
    assert reason in str(err.value)


def test_100_chars_is_fine() -> None:
    assert tags("a" * 100) == ["a" * 100]


def test_normalise_tag() -> None:
    assert normalise_tag("#Paris") == "paris"
    with pytest.raises(InputError):
        normalise_tag("two words")


def test_reload_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "tags.txt"
    path.write_text("nike\n")
    wl = Watchlist(path)
    assert [e.tag for e in wl.load()] == ["nike"]
    assert wl.reload_if_changed() is False
    path.write_text("nike\nadidas\n")
    assert wl.reload_if_changed() is True
    assert [e.tag for e in wl.entries] == ["nike", "adidas"]
    # A comment-only edit changes the file but not the entries.
    path.write_text("nike\n# note\nadidas\n")
    assert wl.reload_if_changed() is False


def test_bad_edit_keeps_previous_entries(tmp_path: Path) -> None:
    path = tmp_path / "tags.txt"
    path.write_text("nike\n")
    wl = Watchlist(path)
    wl.load()
    path.write_text("nike\nbad tag\n")
    with pytest.raises(InputError, match=r"tags.txt:2"):
        wl.reload_if_changed()
    assert [e.tag for e in wl.entries] == ["nike"]


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read watchlist"):
        Watchlist(tmp_path / "nope.txt").load()
    path = tmp_path / "bin.txt"
    path.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(InputError, match="UTF-8") as err:
        Watchlist(path).load()
    assert err.value.line == 2
    os.chmod(path, 0o644)


def test_post_links_are_watch_entries() -> None:
    text = "https://www.instagram.com/p/CAnqPB-Jzcj/\np/B7eUksNFA-K\nreel/CPv3UqsBFvg\nnike\n"
    entries = parse_watchlist(text)
    assert [(e.tag, e.is_post) for e in entries] == [
        ("p/CAnqPB-Jzcj", True),
        ("p/B7eUksNFA-K", True),
        ("p/CPv3UqsBFvg", True),
        ("nike", False),
    ]
