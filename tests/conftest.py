"""Shared fixtures: a real moto S3 server on loopback, isolated settings, small images."""

from __future__ import annotations

import io
import os

import pytest
import yaml
from PIL import Image

from include.core.ports import free_port


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own lake and Milvus file; the settings cache is cleared around it."""
    from include.core.settings import get_settings

    for key in list(os.environ):
        if key.startswith("FTI_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FTI_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("FTI_LOOPBACK_ONLY", "1")  # crawls in tests never leave 127.0.0.0/8, whatever a registry says
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def use_sources(tmp_path, monkeypatch):
    """Point ``FTI_SOURCES_FILE`` at a registry holding the given source dicts."""
    from include.core.settings import get_settings

    def write(*sources: dict) -> None:
        path = tmp_path / "sources.yaml"
        path.write_text(yaml.safe_dump({"sources": list(sources)}))
        monkeypatch.setenv("FTI_SOURCES_FILE", str(path))
        get_settings.cache_clear()

    return write


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server on 127.0.0.1 (real HTTP), yielding its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """A fresh bucket on the moto server, with dummy credentials in the environment."""
    import uuid

    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"fti-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=name)
    return name


def jpeg_bytes(color=(200, 30, 30), size=(96, 96)) -> bytes:
    """A small solid JPEG."""
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="session", autouse=True)
def release_milvus_lite():
    """Stop Milvus Lite's servers while pytest's log capture is still open (its atexit hook logs)."""
    yield
    try:
        from milvus_lite.server_manager import server_manager_instance
    except ImportError:
        return
    server_manager_instance.release_all()
