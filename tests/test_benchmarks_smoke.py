"""The benchmarks run end to end (small sizes) and write a well-formed results file."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
MEASURES = {
    "parse+normalise",
    "lake write",
    "chart query",
    "collector vs budget",
    "import zeeschuimer",
    "API timeline load",
    "forecast accuracy",
    "image labels",
    "PPR vs networkx",
    "Spark vs DuckDB",
    "predict ONNX vs torch",
    "workers 3 vs 1",
    "feed latency",
}


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.timeout(660)
def test_run_all_quick_writes_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "bench-results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Exit 0 means no benchmark broke: a missed goal is reported, but the chart query raises
    # (and run_all exits 1) when pandas and the lake query disagree.
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = orjson.loads(out.read_bytes())
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["cpu_model"]
    assert doc["machine"]["versions"]["pyarrow"]
    results = {r["name"]: r for r in doc["results"]}
    assert set(results) == MEASURES
    for result in results.values():
        for key in ("value", "baseline", "ratio", "goal"):
            value = result[key]
            assert isinstance(value, int | float) and math.isfinite(value), (result["name"], key)
        assert result["value"] > 0 and result["baseline"] > 0
        assert isinstance(result["met"], bool)
        assert result["met"] == (result["ratio"] >= result["goal"])
    chart = results["chart query"]["details"]
    assert chart["results_equal"] is True and chart["query"]["points"] > 0
    collector = results["collector vs budget"]["details"]
    assert collector["bans"] == 0
    api = results["API timeline load"]["details"]
    assert api["timeline"]["requests"] > 0 and api["timeline"]["errors"] == 0
    labels = results["image labels"]["details"]
    assert labels["same_top1"] is True and labels["max_abs_logit_diff"] < 1e-3
    ppr = results["PPR vs networkx"]["details"]
    assert ppr["l1_distance"] < 1e-6 and ppr["edges"] == 50_000
    feed = results["feed latency"]["details"]
    assert feed["edges"] == 200_000 and feed["users"] == 200
    assert feed["top10_ppr_agreement"] >= 0.8 and feed["top10_feed_agreement"] >= 0.8
    assert feed["memory"]["index_dtype"] == "int32" and feed["memory"]["csr_bytes"] > 0
    for name in MEASURES:
        assert f"{name}: " in done.stdout  # each script printed its line
