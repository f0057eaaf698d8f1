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
    colour = {"RGB": (10, 120, 200), "CMYK": (10, 120, 200, 0)}.get(mode)
    Image.new(mode, size, colour).save(buf, fmt, **kw)
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


def test_rgb_jpeg_is_stored_losslessly_without_metadata_or_trailing_payload():
    from crawlers.images import strip_jpeg_metadata

    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    buf = io.BytesIO()
    Image.effect_noise((90, 70), 60).convert("RGB").save(
        buf, "JPEG", exif=exif.tobytes(), icc_profile=b"\0" * 200, progressive=True, comment=b"by someone", quality=80
    )
    source = buf.getvalue() + b"PK\x03\x04hidden zip after the image"
    pipeline = LakeImagesPipeline.__new__(LakeImagesPipeline)
    image, meta = inspect_image(source)
    _, stored = pipeline.convert_image(image, response_body=io.BytesIO(source))
    data = stored.getvalue()
    for secret in (b"SecretCam", b"Exif", b"ICC_PROFILE", b"by someone", b"hidden zip"):
        assert secret not in data
    assert data == strip_jpeg_metadata(source) and data.endswith(b"\xff\xd9")
    reopened = Image.open(io.BytesIO(data))
    assert reopened.format == "JPEG" and reopened.mode == "RGB" and not reopened.getexif()
    assert reopened.tobytes() == Image.open(io.BytesIO(source)).tobytes()  # the same pixels: no re-encoding


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_non_rgb_jpeg_is_re_encoded_as_rgb(mode):
    data = encode("JPEG", mode=mode)
    image, _ = inspect_image(data)
    _, stored = LakeImagesPipeline.__new__(LakeImagesPipeline).convert_image(image, response_body=io.BytesIO(data))
    assert Image.open(stored).mode == "RGB"


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff\xe1\x00", b"\xff\xd8\x00\x00", encode("JPEG")[:-2], b"\x89PNG"])
def test_broken_jpeg_structure_falls_back_to_re_encoding(data):
    from crawlers.images import strip_jpeg_metadata

    assert strip_jpeg_metadata(data) is None


def test_multi_picture_jpeg_counts_as_jpeg():
    buf = io.BytesIO()
    first, second = Image.new("RGB", (80, 60), (200, 0, 0)), Image.new("RGB", (80, 60), (0, 0, 200))
    first.save(buf, "MPO", save_all=True, append_images=[second])
    image, meta = inspect_image(buf.getvalue())
    assert image.format == "MPO" and meta["format"] == "JPEG"
    _, stored = LakeImagesPipeline.__new__(LakeImagesPipeline).convert_image(image, response_body=buf)
    assert Image.open(stored).getpixel((5, 5))[0] > 150  # the first picture
