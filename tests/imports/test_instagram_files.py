"""`tagpulse import instaloader` and `tagpulse import instagram-json` on recorded payloads."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from tagpulse.collect.media import MediaStore
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tests.imports.conftest import FIXTURES, import_json

INSTALOADER = FIXTURES / "instaloader" / "robertdowneyjr"
IG = FIXTURES / "instagram_web"


def test_instaloader_directory(home: Path) -> None:
    summary = import_json("instaloader", INSTALOADER, home)
    # profile + 3 posts + 1 comments file read; 1 file is not xz.
    assert summary["items"] == 6
    assert summary["imported"] == 5
    assert summary["quarantined"] == 1
    # 3 post files, and the posts embedded in the profile node (legacy/cd4bec8): 12 timeline
    # and 12 IGTV edges, 20 distinct ids (counted from the file).
    assert summary["records"]["posts"] == 23
    assert summary["records"]["profiles"] == 1
    # 12 comments of media-comments.json, plus the one answer build.py nests under the first.
    assert summary["records"]["comments"] == 13
    assert summary["media_stored"] == 4 and summary["media_rejected"] == 0

    q = LakeQuery(home / "lake")
    profile = q.rows("SELECT * FROM profiles")[0]
    assert profile["handle"] == "robertdowneyjr" and profile["followers"] == 52_979_346
    first = q.rows("SELECT * FROM posts WHERE shortcode = 'B7eUksNFA-K'")[0]
    assert first["likes"] == 695_047 and first["comments"] == 1_939
    answers = q.rows("SELECT * FROM comments WHERE parent_id IS NOT NULL")
    assert len(answers) == 1
    assert {r["post_id"] for r in q.rows("SELECT post_id FROM comments")} == {first["post_id"]}

    with MediaStore(home / "media") as store:
        files = store.for_post("instagram", first["post_id"])
        assert len(files) == 2 and {f.mime for f in files} == {"image/jpeg"}
    catalog = Catalog(home / "catalog.sqlite")
    rows = catalog.quarantined()
    catalog.close()
    assert [r[4] for r in rows] == ["2020-01-10_00-00-00_UTC.json.xz"]
    assert "decompress" in rows[0][2]

    again = import_json("instaloader", INSTALOADER, home)
    assert again["imported"] == 0 and again["already_known"] == 5


def test_instaloader_no_media(home: Path) -> None:
    summary = import_json("instaloader", INSTALOADER, home, "--no-media")
    assert summary["media_stored"] == 0
    assert not (home / "media").exists()


def _payload_files() -> dict[str, bytes]:
    return {
        "profile.json": (IG / "profile.json").read_bytes(),
        "nested/medias.json": (IG / "medias.json").read_bytes(),
        "media.json": (IG / "media.json").read_bytes(),
        "hashtag.json": (IG / "hashtag.json").read_bytes(),
        "broken.json": (IG / "medias-error.json").read_bytes(),
    }


def test_instagram_json_directory_zip_and_tar_agree(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    for name, body in _payload_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
    summary = import_json("instagram-json", folder, home)
    assert summary["items"] == 5 and summary["imported"] == 4 and summary["quarantined"] == 1
    # profile.json: robertdowneyjr, no embedded posts; medias.json: 12 posts; media.json: 1;
    # hashtag.json: #paris snapshot with 9 top + 34 recent posts.
    assert summary["records"]["profiles"] >= 1
    assert summary["records"]["snapshots"] == 1
    q = LakeQuery(home / "lake")
    assert q.rows("SELECT post_count FROM hashtag_snapshots") == [{"post_count": 125_782_874}]
    posts = q.rows("SELECT count(DISTINCT post_id) AS n FROM posts")[0]["n"]
    assert posts == 12 + 1 + 9 + 34

    archive = tmp_path / "saved.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, body in _payload_files().items():
            zf.writestr(name, body)
    again = import_json("instagram-json", archive, home)
    assert again["imported"] == 0 and again["already_known"] == 4  # same bodies

    tar_path = tmp_path / "saved.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tf:
        for name, body in _payload_files().items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    other_home = tmp_path / "other"
    from_tar = import_json("instagram-json", tar_path, other_home)
    assert from_tar["records"] == summary["records"]
