"""What a media file is: its type from magic bytes, its size and a thumbnail from Pillow.

File names and ``Content-Type`` headers lie (platforms serve WebP under ``.jpg`` names and
``image/jpeg`` headers, CDNs send ``application/octet-stream``), so the media store decides the
type, and so the extension it stores under, from magic bytes alone. Images are then decoded once,
here, so that truncated files and decompression bombs are refused before anything is written.
Nothing in this module touches the disk or the network.
"""

from __future__ import annotations

import io
import logging
import struct
import threading
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageFile, UnidentifiedImageError

__all__ = [
    "EXTENSIONS",
    "SNIFF_BYTES",
    "Inspected",
    "Refused",
    "RejectReason",
    "inspect_image",
    "is_type_mismatch",
    "normalise_type",
    "sniff_mime",
]

log = logging.getLogger(__name__)

#: How many leading bytes :func:`sniff_mime` may look at (an ``ftyp`` box lists its brands early).
SNIFF_BYTES = 256

#: The extension each sniffed type is stored under.
EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/heic": "heic",
    "image/heif": "heif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
}

# ISO base media file format (``ftyp``) brands. AVIF and HEIC files usually carry a generic
# HEIF brand too (``mif1``), so the specific brands are looked for first.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"miaf"})
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"mp4v", b"avc1", b"dash"}
    | {b"M4V ", b"M4VH", b"M4VP", b"MSNV", b"f4v "}
)
_QUICKTIME_BRANDS = frozenset({b"qt  "})


def _ftyp_brands(data: bytes) -> tuple[bytes, list[bytes]] | None:
    """(major brand, compatible brands) of a leading ``ftyp`` box, or None if there is none."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    (box_size,) = struct.unpack(">I", data[:4])
    if box_size < 16:
        return None
    end = min(box_size, len(data), SNIFF_BYTES)
    compatible = [data[i : i + 4] for i in range(16, end - 3, 4)]
    return data[8:12], compatible


def _sniff_ftyp(data: bytes) -> str | None:
    found = _ftyp_brands(data)
    if found is None:
        return None
    major, compatible = found
    # The major brand says what the file mainly is; only a generic or unknown major brand
    # sends us to the compatible list (``mif1`` + ``avif`` is an AVIF, ``isom`` is an MP4).
    for brands, mime in (
        (_AVIF_BRANDS, "image/avif"),
        (_HEIC_BRANDS, "image/heic"),
        (_MP4_BRANDS, "video/mp4"),
        (_QUICKTIME_BRANDS, "video/quicktime"),
    ):
        if major in brands:
            return mime
    for brands, mime in (
        (_AVIF_BRANDS, "image/avif"),
        (_HEIC_BRANDS, "image/heic"),
        (_HEIF_BRANDS, "image/heif"),
    ):
        if major in brands or brands.intersection(compatible):
            return mime
    if _MP4_BRANDS.intersection(compatible):
        return "video/mp4"
    if _QUICKTIME_BRANDS.intersection(compatible):
        return "video/quicktime"
    return None


def sniff_mime(data: bytes) -> str | None:
    """The media type ``data`` is, from its magic bytes; None when it is none we store.

    Never consults a name or a declared type: those are what a lying server controls.
    """
    head = data[:SNIFF_BYTES]
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return _sniff_ftyp(head)


#: Why the store refused a file: a stable code a collector can turn into an event.
RejectReason = Literal["too_large", "empty", "unknown_type", "bomb", "truncated", "corrupt"]

# The Pillow reader each image type is opened with, and no other: a file sniffed as PNG is never
# handed to some other decoder Pillow happens to accept it with.
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# Types every Pillow reads; failing to decode one of these means the file is broken. Types
# outside it (HEIC without a plugin, AVIF on an old Pillow, video) are stored without dimensions.
_PILLOW_CORE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Declared types that say nothing (so disagreeing with the magic bytes is no lie).
_UNSPECIFIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}

# warnings.catch_warnings() swaps process-wide state; serialising our header parses keeps two
# store threads from restoring each other's filters. Held only for the header, not the decode.
_bomb_guard = threading.Lock()


@dataclass(slots=True, frozen=True)
class Inspected:
    """An image's dimensions as displayed and its JPEG thumbnail (None where Pillow can't)."""

    width: int | None
    height: int | None
    thumbnail: bytes | None


class Refused(Exception):
    """A file the store must refuse; the store adds the URL and raises ``MediaRejected``."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason: RejectReason = reason
        self.detail = detail


def normalise_type(declared: str | None) -> str:
    """A Content-Type reduced to its lower-case base type, with common misspellings fixed."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    return _TYPE_ALIASES.get(base, base)


def is_type_mismatch(declared: str | None, sniffed: str) -> bool:
    """Whether a server declared a specific type other than the bytes are (a lie, not a shrug)."""
    base = normalise_type(declared)
    return base not in _UNSPECIFIC_TYPES and base != sniffed


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception as exc:  # a broken EXIF block must not cost us the picture
        log.debug("unreadable EXIF, orientation ignored: %s", exc)
        return 1
    return value if isinstance(value, int) else 1


def _flatten(frame: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency composited on white, palettes and greys expanded."""
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return frame if frame.mode == "RGB" else frame.convert("RGB")


def _open(data: bytes, mime: str) -> ImageFile.ImageFile | None:
    """Pillow's view of ``data`` restricted to its sniffed format; None where Pillow has none."""
    name = _PILLOW_FORMATS.get(mime)
    if name is None:
        return None
    Image.init()
    if name not in Image.OPEN:
        log.debug("Pillow has no %s reader; storing %s without dimensions", name, mime)
        return None
    try:
        with _bomb_guard, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[name])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused("bomb", f"decompression bomb: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        if mime in _PILLOW_CORE:
            raise Refused("corrupt", f"not a readable {mime}: {exc}") from exc
        log.debug("Pillow cannot read this %s, storing without dimensions: %s", mime, exc)
        return None


def inspect_image(data: bytes, mime: str, *, max_pixels: int, thumb_size: int) -> Inspected:
    """Dimensions (as displayed, EXIF orientation applied) and a thumbnail; refuses bad files."""
    image = _open(data, mime)
    if image is None:
        return Inspected(None, None, None)
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise Refused("bomb", f"{width}x{height} is over the limit of {max_pixels} pixels")
        orientation = _orientation(image)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        # JPEG decodes straight to a fraction of its size; the full stream is still read, so a
        # truncated file still fails here.
        image.draft("RGB", (thumb_size, thumb_size))
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Refused("bomb", f"decompression bomb: {exc}") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            reason: RejectReason = "truncated" if "truncated" in str(exc) else "corrupt"
            raise Refused(reason, f"{mime} does not decode: {exc}") from exc
        try:
            frame: Image.Image = image
            if orientation in _TRANSPOSE:
                frame = frame.transpose(_TRANSPOSE[orientation])
            frame = _flatten(frame)
            frame.thumbnail((thumb_size, thumb_size), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            frame.save(out, "JPEG", quality=82, optimize=True)
            thumbnail: bytes | None = out.getvalue()
        except (OSError, ValueError) as exc:
            # The picture itself is sound (it decoded); only the dashboard preview is lost.
            log.warning("no thumbnail for a %s (%s): %s", mime, image.mode, exc)
            thumbnail = None
    return Inspected(width, height, thumbnail)
