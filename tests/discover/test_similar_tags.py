"""Tag similarity: co-occurrence on a hand-built lake, MiniLM caption embeddings, the cache and
the command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from tagpulse.cli.app import app
from tagpulse.discover.interests import cooccurrence_similarity
from tagpulse.discover.similar import similar_tags
from tagpulse.errors import InputError
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import ParsedRecords, Post

AT = datetime(2026, 11, 1, tzinfo=UTC)
CAPTIONS = {
    "football": ["Great football match tonight, what a goal", "Football training with the team"],
    "soccer": ["Soccer game in the park, scored a goal", "Watching the soccer league final"],
    "cake": ["Baked a chocolate cake with cream", "Birthday cake and sweet desserts"],
}


def test_cooccurrence_by_hand() -> None:
    # x always comes with y; y also appears alone and with z.
    sim = cooccurrence_similarity({"1": ["x", "y"], "2": ["x", "y"], "3": ["y"], "4": ["y", "z"],
                                   "5": ["z"], "6": ["z", "w"]})  # fmt: skip
    assert sim.neighbours("x", 3) == [("y", pytest.approx(2 / np.sqrt(2 * 4)))]
    assert [t for t, _ in sim.neighbours("#Y", 3)] == ["x", "z"]
    assert sim.neighbours("nope", 3) == []


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("tags")
    posts = []
    for tag, texts in CAPTIONS.items():
        for i, text in enumerate(texts):
            extra = ["sport"] if tag == "football" else []
            posts.append(Post("instagram", f"{tag}{i}", AT, "r", owner_id="o", taken_at=AT,
                              caption=f"{text} #{tag}", hashtags=[tag, *extra]))  # fmt: skip
    LakeWriter(home / "lake").append_records(ParsedRecords(posts=posts))
    return home


def test_similar_tags_cooccurrence(lake: Path) -> None:
    found = similar_tags(LakeQuery(lake / "lake"), "#sport")
    assert [(s.tag, s.score, s.posts) for s in found] == [("football", 1.0, 2)]
    with pytest.raises(InputError, match="#nothing"):
        similar_tags(LakeQuery(lake / "lake"), "nothing")
    with pytest.raises(InputError, match="method"):
        similar_tags(LakeQuery(lake / "lake"), "sport", method="magic")


def test_minilm_puts_football_near_soccer() -> None:
    from tagpulse.discover.embed import MiniLM

    v = MiniLM().embed(["football", "soccer", "cake", "a much longer sentence about baking"])
    assert v.shape == (4, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    # batching and padding do not change a text's vector
    assert np.allclose(MiniLM().embed(["cake"])[0], v[2], atol=1e-5)


def test_similar_tags_embedding_and_cache(lake: Path, tmp_path: Path) -> None:
    query = LakeQuery(lake / "lake")
    found = similar_tags(query, "football", method="embedding", cache_dir=tmp_path)
    # #sport is on the same posts as #football: the same vector
    assert [s.tag for s in found] == ["sport", "soccer", "cake"]
    assert found[0].score == pytest.approx(1.0, abs=1e-6)
    scores = {s.tag: s.embedding for s in found}
    assert scores["soccer"] is not None and scores["cake"] is not None
    assert scores["soccer"] > scores["cake"]
    cache_files = list(tmp_path.glob("caption-embeddings-*.parquet"))
    assert len(cache_files) == 1
    from tagpulse.discover.embed import CaptionCache, MiniLM

    cache = CaptionCache(tmp_path, MiniLM())
    captions = {"football0": CAPTIONS["football"][0] + " #football", "new": "a new caption"}
    vectors = cache.vectors(captions)
    assert cache.embedded == 1  # only the new caption
    assert np.allclose(vectors["new"], MiniLM().embed(["a new caption"])[0], atol=1e-5)
    both = similar_tags(query, "football", method="both", cache_dir=tmp_path)
    by_tag = {s.tag: s for s in both}
    assert by_tag["sport"].cooccurrence == 1.0
    assert by_tag["soccer"].cooccurrence == 0.0 and by_tag["soccer"].embedding
    runner = CliRunner()
    done = runner.invoke(app, ["similar-tags", "#football", "--method", "both", "--json",
                               "--n", "2", "--home", str(lake)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert len(orjson.loads(done.output)) == 2
    table = runner.invoke(app, ["similar-tags", "sport", "--home", str(lake)])
    assert table.exit_code == 0 and "#football" in table.output
