from __future__ import annotations

import json

import pytest

from include.core.lake import LocalLake
from include.core.layout import LATEST
from include.reports.publishing import publish_report
from tests.include.reports.test_publishing import INPUTS, table_for


def test_a_run_without_social_posts_says_so_and_publishes_nothing(tmp_path):
    from include.core.settings import get_settings
    from include.ops.stages import rank_and_publish
    from include.trends.run import RankError

    lake = LocalLake(get_settings().lake)
    good = publish_report(lake, table_for(lake), "2026-11-01", INPUTS)
    before = lake.list("reports/")
    with pytest.raises(RankError, match="no validated social images for 2026-11-02.*latest.json unchanged"):
        rank_and_publish("2026-11-02", lake)
    assert json.loads(lake.read_text(LATEST))["run_id"] == good["run_id"]
    assert lake.list("reports/") == before and not lake.list("history/")
