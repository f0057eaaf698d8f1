"""Untrusted image bytes: safe decoding, and the stored copy without metadata.

Only JPEG/PNG/WEBP are decoded (MPO, the multi-picture JPEG phones write, counts as JPEG: its first picture),
Pillow's decompression-bomb warning is an error, and truncated files are refused. The stored copy is always an RGB
JPEG without EXIF/XMP/IPTC/ICC, comments or bytes hidden after the image: an RGB JPEG keeps its compressed data
as is (its metadata segments and trailing bytes are cut: lossless and cheap); anything else is re-encoded.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from typing import Any

from PIL import Image
from scrapy.pipelines.images import ImageException

ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
KEPT_APP_SEGMENTS = {0xE0, 0xEE}  # APP0 (JFIF) and APP14 (Adobe colour transform); every other APPn goes
COMMENT = 0xFE
START_OF_SCAN, END_OF_IMAGE = 0xDA, 0xD9


def inspect_image(body: bytes, min_side: int = 1) -> tuple[Image.Image, dict[str, Any]]:
    """Decode untrusted image bytes safely.

    Returns:
        The decoded image and its manifest metadata (sha256 of the bytes as served, format, size).

    Raises:
        ImageException: with a ``reason: detail`` message (unsupported-format, decompression-bomb,
            undecodable, too-small).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(body))
            fmt = image.format
            if fmt not in ALLOWED_FORMATS:
                raise ImageException(f"unsupported-format: {fmt}")
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageException(f"decompression-bomb: {exc}") from exc
        except ImageException:
            raise
        except Exception as exc:  # UnidentifiedImageError, truncated data, broken chunks
            raise ImageException(f"undecodable: {exc}") from exc
    width, height = image.size
    if min(width, height) < min_side:
        raise ImageException(f"too-small: {width}x{height} < {min_side}")
    meta = {
        "sha256": hashlib.sha256(body).hexdigest(),
        "format": "JPEG" if fmt == "MPO" else fmt,
        "width": width,
        "height": height,
        "bytes": len(body),
    }
    return image, meta


def _scan_end(data: bytes, start: int) -> int | None:
    """Index of the marker ending the entropy-coded data that starts at ``start`` (stuffing and RSTn skipped)."""
    j = start
    while True:
        j = data.find(b"\xff", j)
        if j < 0 or j + 1 >= len(data):
            return None
        following = data[j + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            j += 1 if following == 0xFF else 2
            continue
        return j


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG without APP1-APP13/APP15 (EXIF, XMP, ICC, IPTC, MPF...), comments and bytes after its first image.

    Returns:
        The stripped JPEG, or ``None`` when the marker structure is not what a JPEG's must be (then re-encode).
    """
    if data[:2] != b"\xff\xd8":
        return None
    out, i, n, scanned = bytearray(b"\xff\xd8"), 2, len(data), False
    while i < n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker == END_OF_IMAGE:
            return bytes(out + b"\xff\xd9") if scanned else None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # standalone markers
            out += bytes((0xFF, marker))
            continue
        if i + 2 > n or (length := int.from_bytes(data[i : i + 2], "big")) < 2 or i + length > n:
            return None
        segment = data[i : i + length]
        i += length
        if marker == START_OF_SCAN:
            end = _scan_end(data, i)
            if end is None:
                return None
            out += b"\xff\xda" + segment + data[i:end]
            i, scanned = end, True
        elif (0xE0 <= marker <= 0xEF and marker not in KEPT_APP_SEGMENTS) or marker == COMMENT:
            continue  # metadata: dropped
        else:
            out += bytes((0xFF, marker)) + segment
    return None  # no end-of-image marker


def stored_jpeg(image: Image.Image, body: bytes, size: tuple[int, int] | None = None) -> tuple[Image.Image, io.BytesIO]:
    """The copy to store: the source JPEG stripped of metadata when it is RGB, else an RGB JPEG re-encoding."""
    if not size and image.format in ("JPEG", "MPO") and image.mode == "RGB":
        stripped = strip_jpeg_metadata(body)
        if stripped is not None:
            return image, io.BytesIO(stripped)
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        image = background
    image = image.convert("RGB")
    if size:
        image = image.copy()
        image.thumbnail(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92)  # re-encoding drops EXIF and trailing payloads
    buf.seek(0)
    return image, buf
