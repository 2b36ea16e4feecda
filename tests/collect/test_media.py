"""The media store against real files and a real HTTP server on loopback (no mocks of httpx)."""

from __future__ import annotations

import hashlib
import io
import socket
import sqlite3
import struct
import threading
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image, features

from tagpulse.collect.media import (
    MediaNotFound,
    MediaRejected,
    MediaStore,
    media_client,
    sniff_mime,
)
from tagpulse.errors import (
    InputError,
    NotFound,
    PayloadError,
    PlatformError,
    RateLimited,
    TransportError,
)

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MIB = 1024 * 1024


# -- generated images ------------------------------------------------------------------------
def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def photo(size: tuple[int, int] = (640, 480), seed: int = 0) -> Image.Image:
    """A noisy picture (noise keeps JPEGs from compressing to nothing)."""
    noise = Image.effect_noise(size, 40 + seed).convert("RGB")
    return Image.blend(noise, Image.new("RGB", size, (30 * seed % 255, 120, 200)), 0.5)


def jpeg(size: tuple[int, int] = (640, 480), seed: int = 0) -> bytes:
    return encode(photo(size, seed), "JPEG", quality=85)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` with almost no data: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    brands = b"".join(compatible)
    box = struct.pack(">I", 16 + len(brands)) + b"ftyp" + major + b"\0\0\0\0" + brands
    return box + struct.pack(">I", 16) + b"mdat" + b"\0" * 8


def stored_files(root: Path) -> list[Path]:
    """Every file in the store except the index (and its WAL companions)."""
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not p.name.startswith("index.sqlite")
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MediaStore]:
    with MediaStore(tmp_path / "media") as s:
        yield s


# -- a real server ---------------------------------------------------------------------------
@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "image/jpeg"
    headers: dict[str, str] = field(default_factory=dict)


class MediaServer:
    """Serves routes; ``/endless`` and ``/huge-declared`` stream until the client hangs up."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.sent: dict[str, int] = {}
        self.finished: dict[str, threading.Event] = {
            "/endless": threading.Event(),
            "/huge-declared": threading.Event(),
        }
        media = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                media.hits[self.path] += 1
                if self.path in media.finished:
                    self._stream(declared=self.path == "/huge-declared")
                    return
                route = media.routes.get(self.path, Route(404, b"no such media", "text/plain"))
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def _stream(self, *, declared: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                if declared:
                    self.send_header("Content-Length", str(1024 * MIB))
                self.end_headers()
                chunk = b"\xff\xd8\xff\xe0" + b"\0" * (64 * 1024 - 4)
                sent = 0
                try:
                    while sent < 1024 * MIB:  # 1 GiB: far past any limit under test
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except OSError:
                    pass  # the client hung up, which is the point
                finally:
                    media.sent[self.path] = sent
                    media.finished[self.path].set()
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[MediaServer]:
    srv = MediaServer()
    yield srv
    srv.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with media_client(timeout=10) as c:
        yield c


# -- sniffing --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "mime", "mode"),
    [
        ("JPEG", "image/jpeg", "RGB"),
        ("PNG", "image/png", "RGBA"),
        ("GIF", "image/gif", "P"),
        ("WEBP", "image/webp", "RGB"),
        ("AVIF", "image/avif", "RGB"),
    ],
)
def test_sniff_generated_images(fmt: str, mime: str, mode: str) -> None:
    if fmt == "AVIF" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF encoder")
    data = encode(photo((64, 48)).convert(mode), fmt)
    assert sniff_mime(data) == mime


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"mif1", b"heic"), "image/heic"),
        (ftyp(b"mif1", b"miaf"), "image/heif"),
        (ftyp(b"avif", b"mif1", b"miaf"), "image/avif"),
        (ftyp(b"mif1", b"avif", b"miaf"), "image/avif"),
        (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
        (ftyp(b"mp42", b"mp42", b"isom"), "video/mp4"),
        (ftyp(b"XXXX", b"isom"), "video/mp4"),
        (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
        (ftyp(b"XXXX", b"YYYY"), None),
    ],
)
def test_sniff_ftyp_brands(data: bytes, mime: str | None) -> None:
    assert sniff_mime(data) == mime


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"<!DOCTYPE html><html><body>login</body></html>",
        b'{"message": "Please wait a few minutes"}',
        b"RIFF\x24\x00\x00\x00WAVEfmt ",
        b"\x00\x00\x00\x08ftyp",  # an ftyp box too short to hold a brand
    ],
)
def test_sniff_refuses_what_is_no_media(data: bytes) -> None:
    assert sniff_mime(data) is None


# -- storing ---------------------------------------------------------------------------------
def test_store_writes_content_addressed_file_and_thumbnail(store: MediaStore) -> None:
    data = jpeg((640, 480))
    media = store.store_bytes(
        data, platform="instagram", post_id="p1", url="http://cdn.test/a.jpg", fetched_at=AT
    )
    sha = hashlib.sha256(data).hexdigest()
    assert (media.sha256, media.mime, media.size) == (sha, "image/jpeg", len(data))
    assert (media.width, media.height) == (640, 480)
    assert (media.platform, media.post_id, media.fetched_at) == ("instagram", "p1", AT)
    path = store.lookup(sha)
    assert path == store.root / sha[:2] / f"{sha}.jpg"
    assert path.read_bytes() == data
    thumb = store.thumbnail_path(sha)
    assert thumb == store.root / "thumbs" / sha[:2] / f"{sha}.jpg"
    assert stored_files(store.root) == sorted([path, thumb])  # no temp files left behind
    assert store.for_post("instagram", "p1") == [media]
    assert store.known_url("http://cdn.test/a.jpg") == sha


def test_same_bytes_twice_is_one_file_linked_to_two_posts(store: MediaStore) -> None:
    data = jpeg(seed=1)
    first = store.store_bytes(data, platform="instagram", post_id="p1", url=None, fetched_at=AT)
    path = store.lookup(first.sha256)
    before = path.stat()
    second = store.store_bytes(data, platform="instagram", post_id="p2", url=None, fetched_at=AT)
    assert second.sha256 == first.sha256
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # untouched
    assert len([p for p in stored_files(store.root) if "thumbs" not in p.parts]) == 1
    assert [m.sha256 for m in store.for_post("instagram", "p1")] == [first.sha256]
    assert [m.sha256 for m in store.for_post("instagram", "p2")] == [first.sha256]
    stats = store.stats()
    assert (stats.files, stats.bytes, stats.posts) == (1, len(data), 2)


def test_over_the_size_limit_is_refused_and_nothing_written(tmp_path: Path) -> None:
    with MediaStore(tmp_path / "media", max_bytes=10_000) as store:
        data = jpeg((800, 600))
        assert len(data) > 10_000
        with pytest.raises(MediaRejected) as caught:
            store.store_bytes(
                data, platform="x", post_id="p", url="http://cdn.test/big.jpg", fetched_at=AT
            )
        assert caught.value.reason == "too_large"
        assert isinstance(caught.value, PayloadError)
        assert "http://cdn.test/big.jpg" in str(caught.value)
        assert "10000" in str(caught.value)
        assert stored_files(store.root) == []
        assert store.stats().files == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"<html><body>Log in to see this photo</body></html>", "unknown_type"),
        (jpeg()[:5000], "truncated"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 50, "corrupt"),
    ],
)
def test_bad_bodies_are_refused_with_reason(store: MediaStore, data: bytes, reason: str) -> None:
    with pytest.raises(MediaRejected) as caught:
        store.store_bytes(data, platform="x", post_id="p9", url=None, fetched_at=AT)
    assert caught.value.reason == reason
    assert "p9" in str(caught.value)  # without a URL, the post is named
    assert stored_files(store.root) == []
    assert store.for_post("x", "p9") == []


def test_decompression_bombs_are_refused(tmp_path: Path) -> None:
    filters_before = list(warnings.filters)
    with MediaStore(tmp_path / "media") as store:
        # Over twice Pillow's limit: Pillow raises.
        with pytest.raises(MediaRejected) as caught:
            store.store_bytes(
                png_header_only(100_000, 100_000), platform="x", post_id=None, url=None,
                fetched_at=AT,
            )  # fmt: skip
        assert caught.value.reason == "bomb"
    # Between Pillow's limit and twice it, Pillow only warns: the warning must refuse too,
    # even when our own pixel limit would let it through.
    assert Image.MAX_IMAGE_PIXELS is not None
    side = int((Image.MAX_IMAGE_PIXELS * 1.2) ** 0.5)
    with MediaStore(tmp_path / "media", max_pixels=10**12) as store:
        with pytest.raises(MediaRejected) as caught:
            store.store_bytes(
                png_header_only(side, side), platform="x", post_id=None, url=None, fetched_at=AT
            )
        assert caught.value.reason == "bomb"
    # Our own limit, on a real (tiny on disk) image.
    flat = encode(Image.new("L", (2000, 2000), 128), "PNG")
    with MediaStore(tmp_path / "media", max_pixels=1_000_000) as store:
        with pytest.raises(MediaRejected, match="2000x2000") as caught:
            store.store_bytes(flat, platform="x", post_id=None, url=None, fetched_at=AT)
        assert caught.value.reason == "bomb"
        assert stored_files(store.root) == []
    assert warnings.filters == filters_before  # the process's warning filters are untouched


def test_thumbnail_fits_thumb_size_and_never_upscales(tmp_path: Path) -> None:
    with MediaStore(tmp_path / "media", thumb_size=320) as store:
        wide = encode(photo((1000, 500)).convert("RGBA"), "PNG")
        media = store.store_bytes(wide, platform="x", post_id="w", url=None, fetched_at=AT)
        thumb = store.thumbnail_path(media.sha256)
        assert thumb is not None
        with Image.open(thumb) as im:
            assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (320, 160))
        small = encode(photo((100, 80)), "WEBP")
        media = store.store_bytes(small, platform="x", post_id="s", url=None, fetched_at=AT)
        assert media.mime == "image/webp"
        thumb = store.thumbnail_path(media.sha256)
        assert thumb is not None
        with Image.open(thumb) as im:
            assert im.size == (100, 80)


def test_thumbnail_applies_exif_orientation(store: MediaStore) -> None:
    # Stored 400x200, left half red, right half blue, tagged "rotate 90° clockwise to view":
    # displayed it is 200x400 with red on top.
    image = Image.new("RGB", (400, 200), (255, 0, 0))
    image.paste((0, 0, 255), (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(image, "JPEG", exif=exif, quality=95)
    media = store.store_bytes(data, platform="x", post_id="o", url=None, fetched_at=AT)
    assert (media.width, media.height) == (200, 400)
    thumb = store.thumbnail_path(media.sha256)
    assert thumb is not None
    with Image.open(thumb) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (160, 320)
        top = rgb.getpixel((80, 20))
        bottom = rgb.getpixel((80, 300))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60  # red
    assert bottom[2] > 200 and bottom[0] < 60  # blue
    assert store.lookup(media.sha256).read_bytes() == data  # the original is kept as it came


def test_types_pillow_cannot_read_are_kept_without_dimensions(store: MediaStore) -> None:
    heic = ftyp(b"heic", b"mif1", b"heic") + b"\0" * 100
    media = store.store_bytes(heic, platform="x", post_id="h", url=None, fetched_at=AT)
    assert (media.mime, media.width, media.height) == ("image/heic", None, None)
    assert store.lookup(media.sha256).suffix == ".heic"
    assert store.thumbnail_path(media.sha256) is None
    mp4 = ftyp(b"isom", b"isom", b"mp41") + b"\0" * 100
    media = store.store_bytes(mp4, platform="x", post_id="v", url=None, fetched_at=AT)
    assert (media.mime, media.width) == ("video/mp4", None)
    assert store.lookup(media.sha256).suffix == ".mp4"


def test_concurrent_stores_of_the_same_bytes_leave_one_good_file(store: MediaStore) -> None:
    data = jpeg((1024, 768), seed=3)
    sha = hashlib.sha256(data).hexdigest()
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[str] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            media = store.store_bytes(data, platform="x", post_id=f"p{i}", url=None, fetched_at=AT)
            results.append(media.sha256)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [sha] * workers
    files = stored_files(store.root)
    assert [p.name for p in files] == [f"{sha}.jpg", f"{sha}.jpg"]  # the file and its thumb
    assert hashlib.sha256(store.lookup(sha).read_bytes()).hexdigest() == sha
    stats = store.stats()
    assert (stats.files, stats.posts) == (1, workers)


def test_lookup_checks_the_sha(store: MediaStore) -> None:
    with pytest.raises(InputError):
        store.lookup("../../etc/passwd")
    with pytest.raises(InputError):
        store.thumbnail_path("ABC")
    with pytest.raises(MediaNotFound):
        store.lookup("0" * 64)
    assert store.thumbnail_path("0" * 64) is None


def test_index_is_its_own_wal_sqlite_and_survives_reopening(tmp_path: Path) -> None:
    root = tmp_path / "media"
    data = jpeg(seed=4)
    with MediaStore(root) as store:
        media = store.store_bytes(data, platform="x", post_id="p", url="u", fetched_at=AT)
    with sqlite3.connect(root / "index.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with MediaStore(root) as store:
        assert store.for_post("x", "p") == [media]
        assert store.known_url("u") == media.sha256


# -- fetching over HTTP ----------------------------------------------------------------------
def test_fetch_jpeg_and_png(store: MediaStore, server: MediaServer, client: httpx.Client) -> None:
    jpg = jpeg(seed=5)
    png = encode(photo((300, 200)), "PNG")
    server.routes["/a.jpg"] = Route(body=jpg)
    server.routes["/b.png"] = Route(body=png, content_type="image/png")
    a = store.fetch(client, f"{server.base}/a.jpg", platform="x", post_id="p", fetched_at=AT)
    b = store.fetch(client, f"{server.base}/b.png", platform="x", post_id="p", fetched_at=AT)
    assert (a.mime, b.mime) == ("image/jpeg", "image/png")
    assert (b.width, b.height) == (300, 200)
    assert store.lookup(a.sha256).read_bytes() == jpg
    assert store.lookup(b.sha256).read_bytes() == png
    assert [m.sha256 for m in store.for_post("x", "p")] == [a.sha256, b.sha256]
    assert store.mismatches() == []


def test_a_webp_named_jpg_is_a_webp(
    store: MediaStore, server: MediaServer, client: httpx.Client
) -> None:
    webp = encode(photo((200, 150)), "WEBP")
    server.routes["/photo.jpg"] = Route(body=webp, content_type="image/jpeg")
    url = f"{server.base}/photo.jpg"
    media = store.fetch(client, url, platform="x", post_id="p", fetched_at=AT)
    assert media.mime == "image/webp"
    assert store.lookup(media.sha256).suffix == ".webp"
    [mismatch] = store.mismatches()
    assert (mismatch.url, mismatch.declared, mismatch.sniffed) == (url, "image/jpeg", "image/webp")


def test_a_known_url_is_not_downloaded_again(
    store: MediaStore, server: MediaServer, client: httpx.Client
) -> None:
    server.routes["/a.jpg"] = Route(body=jpeg(seed=6))
    url = f"{server.base}/a.jpg"
    first = store.fetch(client, url, platform="x", post_id="p1", fetched_at=AT)
    second = store.fetch(client, url, platform="x", post_id="p2", fetched_at=AT)
    assert server.hits["/a.jpg"] == 1
    assert second.sha256 == first.sha256
    assert second.post_id == "p2"
    assert store.stats().posts == 2
    store.lookup(first.sha256).unlink()  # deleted by hand: the next fetch downloads again
    assert store.known_url(url) is None
    store.fetch(client, url, platform="x", post_id="p3", fetched_at=AT)
    assert server.hits["/a.jpg"] == 2
    assert store.lookup(first.sha256).is_file()


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (404, NotFound, "404"),
        (410, NotFound, "410"),
        (429, RateLimited, "Retry-After 30"),
        (403, PlatformError, "expire"),
        (503, TransportError, "503"),
    ],
)
def test_http_failures_map_to_the_error_tree(
    store: MediaStore,
    server: MediaServer,
    client: httpx.Client,
    status: int,
    error: type[PlatformError],
    text: str,
) -> None:
    server.routes["/e.jpg"] = Route(status, b"nope", "text/plain", {"Retry-After": "30"})
    url = f"{server.base}/e.jpg"
    with pytest.raises(error) as caught:
        store.fetch(client, url, platform="x", post_id="p", fetched_at=AT)
    assert type(caught.value) is error
    assert (caught.value.status, caught.value.url) == (status, url)
    assert text in str(caught.value) and url in str(caught.value)
    assert stored_files(store.root) == []


def test_redirects_are_followed(
    store: MediaStore, server: MediaServer, client: httpx.Client
) -> None:
    data = jpeg(seed=7)
    server.routes["/final.jpg"] = Route(body=data)
    server.routes["/short"] = Route(302, b"", None, {"Location": "/final.jpg"})
    media = store.fetch(client, f"{server.base}/short", platform="x", post_id="p", fetched_at=AT)
    assert store.lookup(media.sha256).read_bytes() == data


def test_a_refused_connection_is_a_transport_error(store: MediaStore, client: httpx.Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nobody listens
    with pytest.raises(TransportError, match="ConnectError"):
        store.fetch(client, f"http://127.0.0.1:{port}/a.jpg", platform="x", post_id="p",
                    fetched_at=AT)  # fmt: skip


def test_a_truncated_download_is_refused(
    store: MediaStore, server: MediaServer, client: httpx.Client
) -> None:
    server.routes["/cut.jpg"] = Route(body=jpeg(seed=8)[:-2000])
    url = f"{server.base}/cut.jpg"
    with pytest.raises(MediaRejected) as caught:
        store.fetch(client, url, platform="x", post_id="p", fetched_at=AT)
    assert caught.value.reason == "truncated"
    assert url in str(caught.value)
    assert stored_files(store.root) == []
    assert store.known_url(url) is None


@pytest.mark.parametrize("path", ["/endless", "/huge-declared"])
def test_an_oversized_body_is_abandoned_early(
    tmp_path: Path, server: MediaServer, client: httpx.Client, path: str
) -> None:
    """The server would send 1 GiB; the fetch stops near the 1 MiB limit and returns fast."""
    with MediaStore(tmp_path / "media", max_bytes=MIB) as store:
        started = time.monotonic()
        with pytest.raises(MediaRejected) as caught:
            store.fetch(client, f"{server.base}{path}", platform="x", post_id="p", fetched_at=AT)
        elapsed = time.monotonic() - started
        assert caught.value.reason == "too_large"
        assert elapsed < 5
        assert server.finished[path].wait(10), "the server never saw the client hang up"
        # What the kernel's socket buffers absorbed on top of the limit, far below 1 GiB.
        assert server.sent[path] < 64 * MIB
        assert stored_files(store.root) == []


def test_a_url_that_now_serves_other_bytes_points_at_the_latest(store: MediaStore) -> None:
    old = store.store_bytes(jpeg(seed=9), platform="x", post_id="p", url="u", fetched_at=AT)
    new = store.store_bytes(jpeg(seed=10), platform="x", post_id="p", url="u", fetched_at=AT)
    assert old.sha256 != new.sha256
    assert store.known_url("u") == new.sha256
    assert [m.sha256 for m in store.for_post("x", "p")] == [old.sha256, new.sha256]
