"""Crawler test plumbing: every crawl of these tests may reach loopback hosts only, and sources are tmp files."""

from __future__ import annotations

import pytest
import yaml


@pytest.fixture(autouse=True)
def loopback_only(isolated_settings, monkeypatch):
    """``FTI_LOOPBACK_ONLY=1``: the guard refuses every non-loopback host, whatever a test registry says."""
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_LOOPBACK_ONLY", "1")
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
