"""Untrusted image bytes: what the images pipeline accepts, refuses (counted), and strips."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from scrapy.pipelines.images import ImageException

from crawlers.pipelines import LakeImagesPipeline, inspect_image, skip_reason


def encode(fmt: str, size=(80, 60), mode="RGB", **kw) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, (10, 120, 200) if mode == "RGB" else None).save(buf, fmt, **kw)
    return buf.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_allowed_formats_are_described(fmt):
    data = encode(fmt)
    _, meta = inspect_image(data)
    assert meta["format"] == fmt and (meta["width"], meta["height"]) == (80, 60) and meta["bytes"] == len(data)
    assert len(meta["sha256"]) == 64


@pytest.mark.parametrize(
    "data, reason",
    [
        (encode("GIF", mode="P"), "unsupported-format"),
        (encode("JPEG")[:300], "undecodable"),
        (b"<html><body>Not found</body></html>", "undecodable"),
        (png_declaring(30000, 30000), "decompression-bomb"),
        (encode("JPEG", size=(16, 16)), "too-small"),
    ],
)
def test_hostile_images_are_refused_with_a_reason(data, reason):
    with pytest.raises(ImageException) as info:
        inspect_image(data, min_side=32)
    assert skip_reason(info.value) == reason


def test_stored_copy_is_rgb_jpeg_without_exif():
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS info
    source = encode("JPEG", exif=exif.tobytes())
    assert b"SecretCam" in source
    pipeline = LakeImagesPipeline.__new__(LakeImagesPipeline)
    image, _ = inspect_image(source)
    _, buf = pipeline.convert_image(image, response_body=io.BytesIO(source))
    stored = buf.getvalue()
    assert b"SecretCam" not in stored
    reopened = Image.open(io.BytesIO(stored))
    assert reopened.format == "JPEG" and reopened.mode == "RGB" and not reopened.getexif()


def test_transparent_png_is_flattened_on_white():
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    pipeline = LakeImagesPipeline.__new__(LakeImagesPipeline)
    image, _ = inspect_image(buf.getvalue())
    converted, _ = pipeline.convert_image(image, response_body=buf)
    assert converted.getpixel((5, 5)) == (255, 255, 255)
