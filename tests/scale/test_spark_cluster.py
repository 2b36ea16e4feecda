"""`tagpulse spark --master spark://…` on a real standalone Spark cluster: a master and a worker
started from pyspark's own launcher (``spark-class``, as deploy/compose.yaml does) on loopback,
the job run by the CLI in its own process, its result equal to DuckDB's on the same lake."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tagpulse.lake.query import LakeQuery
from tagpulse.platforms.sandbox.world import World
from tests.scale.spark_lakes import sandbox_lake

pytestmark = [pytest.mark.slow, pytest.mark.subprocess, pytest.mark.timeout(600)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env() -> dict[str, str]:
    pyspark = pytest.importorskip("pyspark", reason="needs the 'spark' extra")
    return os.environ | {
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_NO_DAEMONIZE": "1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = _env()
    launcher = str(Path(env["SPARK_HOME"]) / "bin" / "spark-class")
    work = tmp_path_factory.mktemp("spark-cluster")
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    logs = [work / "master.log", work / "worker.log"]
    commands = [
        [launcher, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
         str(port), "--webui-port", str(_free_port())],
        [launcher, "org.apache.spark.deploy.worker.Worker", url, "--cores", "2", "--memory",
         "1g", "--webui-port", str(_free_port()), "--work-dir", str(work / "w")],
    ]  # fmt: skip
    procs = []
    try:
        for command, log in zip(commands, logs, strict=True):
            procs.append(
                subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + 180
        while "Successfully registered with master" not in logs[1].read_text(errors="replace"):
            assert all(p.poll() is None for p in procs), logs[1].read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the Spark worker never joined its master"
            time.sleep(0.5)
        yield url
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_timeline_on_a_standalone_cluster_equals_duckdb(cluster: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    sandbox_lake(home, World(seed=7), accounts=20)
    done = subprocess.run(
        [sys.executable, "-m", "tagpulse", "spark", "timeline", "--master", cluster, "--home",
         str(home), "--interval", "6h", "--out", str(tmp_path / "out"), "--json"],
        env=_env(), capture_output=True, text=True, timeout=500,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    got = sorted(
        (r["tag"], r["platform"], r["bucket"], r["post_count"]) for r in orjson.loads(done.stdout)
    )
    expected = LakeQuery(home / "lake").timeline([], interval_s=6 * 3600)
    assert len(expected) > 10
    assert got == sorted((p.tag, p.platform, p.bucket.isoformat(), p.post_count) for p in expected)
