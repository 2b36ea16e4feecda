"""A live API on loopback over a small lake: two workspaces, every role, sessions and keys."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from tagpulse.config import load_settings
from tagpulse.lake.tables import LakeWriter
from tagpulse.records import Edge, HashtagSnapshot, ParsedRecords, Post, Profile
from tagpulse.service.app import ServiceOptions, create_app
from tagpulse.service.watchlists import WatchlistStore

T0 = datetime(2026, 11, 1, tzinfo=UTC)
PASSWORD = "correct horse battery"
# Workspace "brand" watches nike, adidas and @nikefan; "rival" watches puma. Both watch
# @feedfan, who posts nothing but follows and likes (the feed route's account).
WATCH = {
    "brand": ["nike", "adidas", "@nikefan", "shared", "@feedfan"],
    "rival": ["puma", "shared", "@feedfan"],
}


def build_lake(home: Path) -> None:
    writer = LakeWriter(home / "lake")
    snaps, slots = [], []
    for tag, step in (("nike", 300), ("adidas", 100), ("puma", 50)):
        for h in range(48):
            at = T0 + timedelta(hours=h)
            snaps.append(
                HashtagSnapshot("instagram", tag, 10_000 + step * h, [], [], at, "a", None)
            )
            slots.append(at)
    writer.append_snapshots(snaps, slots)
    posts = []
    for i in range(30):
        tag = ("nike", "adidas", "puma")[i % 3]
        owner = "nikefan" if i % 10 == 0 else f"user{i % 4}"
        posts.append(
            Post("instagram", f"p{i:02d}", T0 + timedelta(hours=20), "r", owner_id=owner,
                 owner_handle=owner, hashtags=[tag], likes=10 + i, comments=i % 5,
                 caption=f"post {i} #{tag}", taken_at=T0 + timedelta(hours=i))
        )  # fmt: skip
    profiles = [
        Profile("instagram", "u-nikefan", "nikefan", T0 + timedelta(hours=h), "r",
                followers=1000 + 10 * h)
        for h in range(3)
    ]  # fmt: skip
    edges = [
        Edge("instagram", "feedfan", f"user{u}", "follows", T0, "f", src_handle="feedfan")
        for u in (1, 2)
    ] + [Edge("instagram", "feedfan", "user1", "liked", T0, "l", post_id="p05")]
    writer.append_records(ParsedRecords(posts=posts, profiles=profiles, edges=edges))


def add_picture_and_label(home: Path) -> str:
    """A stored picture for p00 and its (hand-written) image labels; returns its sha256."""
    from PIL import Image

    from tagpulse.collect.media import MediaStore
    from tagpulse.lake.post_labels import POST_LABELS, PostLabel, post_labels_table

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    with MediaStore(home / "media") as store:
        media = store.store_bytes(buffer.getvalue(), platform="instagram", post_id="p00",
                                  url="https://cdn.example/p00.jpg", fetched_at=T0)  # fmt: skip
    label = PostLabel("instagram", "p00", "nikefan", media.sha256, 0, T0, "m1",
                      [("tabby", 0.7), ("tiger cat", 0.2)], 0, 0, 0, None, T0)  # fmt: skip
    LakeWriter(home / "lake").write_table(
        POST_LABELS, "instagram", post_labels_table([label]), "enriched_at"
    )
    return media.sha256


@dataclass
class Api:
    base: str
    home: Path
    #: (user, workspace) → role
    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: name → API key
    keys: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base + "/api/v1", timeout=30)

    def session(self, user: str) -> tuple[httpx.Client, str]:
        """A signed-in client (cookie) and its CSRF token."""
        client = self.client()
        answer = client.post("/auth/login", json={"user": user, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return client, answer.json()["csrf"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_api(home: Path, options: ServiceOptions) -> Iterator[str]:
    settings = load_settings(home=home, sandbox=True)
    app = create_app(settings, options)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "API did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("api-home")
    build_lake(home)
    add_picture_and_label(home)
    store = WatchlistStore(home / "catalog.sqlite")
    result = Api("", home)
    for workspace, entries in WATCH.items():
        for role in ("admin", "analyst", "viewer"):
            name = f"{role}-{workspace}"
            store.create_user(name, PASSWORD, workspace=workspace, role=role)  # type: ignore[arg-type]
            result.users[name] = (workspace, role)
            for scope in ("read", "write"):
                result.keys[f"{name}:{scope}"] = store.create_key(
                    name,
                    workspace=workspace,
                    scope=scope,  # type: ignore[arg-type]
                )
        for entry in entries:
            store.add(workspace, entry, interval_s=900, user="setup")
    options = ServiceOptions(rate_per_minute=100_000, burst=10_000, secure_cookies=False)
    for base in start_api(home, options):
        result.base = base
        yield result
