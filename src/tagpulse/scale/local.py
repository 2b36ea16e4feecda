"""A local cluster for tests, benchmarks and trying it out: a throw-away ``redis-server`` on a
free loopback port, and worker processes started with the ``tagpulse scale worker`` command."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tagpulse.errors import ConfigError
from tagpulse.scale.queue import redis_client

__all__ = ["LocalRedis", "free_port", "spawn_worker"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRedis:
    """``redis-server`` (Debian's package) on 127.0.0.1, no persistence, in a temp folder."""

    def __init__(self, executable: str | None = None) -> None:
        found = executable or shutil.which("redis-server")
        if found is None:
            raise ConfigError(
                "redis-server is not installed: `apt-get install redis-server` "
                "(make test runs scripts/ensure-debian.sh)"
            )
        self.executable = found
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="tagpulse-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> LocalRedis:
        args = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", self._dir.name, "--save", "", "--appendonly", "no"]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        client = redis_client(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except Exception as exc:  # redis' ConnectionError until it listens
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise ConfigError(f"redis-server did not start on {self.url}: {exc}") from exc
                time.sleep(0.02)
        client.close()
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        self._dir.cleanup()

    def __enter__(self) -> LocalRedis:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def spawn_worker(
    redis_url: str,
    *,
    home: Path,
    accounts: Path,
    base_url: str,
    heartbeat_timeout_s: float = 60.0,
    extra: list[str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """``tagpulse scale worker`` as a child process (sandbox clock, the given accounts), started
    through ``python -m tagpulse.scale`` so that it does not import the whole CLI."""
    args = [sys.executable, "-m", "tagpulse.scale", "worker", "--redis", redis_url]
    args += ["--accounts", str(accounts), "--base-url", base_url, "--sandbox-clock"]
    args += ["--heartbeat-timeout", str(heartbeat_timeout_s), "--home", str(home)]
    args += extra or []
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    finally:
        if log is not None and not isinstance(out, int):
            out.close()
