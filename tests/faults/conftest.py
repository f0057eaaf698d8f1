"""Fault suite plumbing: every test here is marked ``faults`` (``make test-faults``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.crawlers.loopback import LoopbackSite
from tests.faults.shop import shop_routes, source_entry


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def shop(use_sources, monkeypatch, tmp_path):
    """A 6-product loopback shop registered as source ``fault_shop``; ``shop.routes`` can be swapped."""
    monkeypatch.setenv("FTI_CRAWL_LOCK_DIR", str(tmp_path / "locks"))
    with LoopbackSite(shop_routes(6)) as site:
        use_sources(source_entry("fault_shop", site.url))
        yield site


@pytest.fixture
def lake_path():
    from include.core.settings import get_settings

    return Path(get_settings().lake)


def readonly_wrap(path: Path) -> list[str] | None:
    """A command prefix running its command with ``path`` mounted read-only (a private mount namespace)."""
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount --bind -o ro '{path}' '{path}'"],
                           capture_output=True, check=False)  # fmt: skip
    if probe.returncode != 0:
        return None
    return ["unshare", "-rm", "sh", "-c", f"mount --bind -o ro '{path}' '{path}' && exec \"$@\"", "sh"]
