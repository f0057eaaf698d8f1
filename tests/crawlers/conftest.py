"""Crawler test plumbing: every crawl of these tests may reach loopback hosts only, and sources are tmp files."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def loopback_only(isolated_settings, monkeypatch):
    """``FTI_LOOPBACK_ONLY=1``: the guard refuses every non-loopback host, whatever a test registry says."""
    from include.core.settings import get_settings

    monkeypatch.setenv("FTI_LOOPBACK_ONLY", "1")
    get_settings.cache_clear()
