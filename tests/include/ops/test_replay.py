"""A backfill of a past date replays the stored batches (validation, embedding, ranking, publishing) and fetches
nothing: the demo web that served the crawls counts every request it gets."""

from __future__ import annotations

import json

import pytest

from include.core.layout import LATEST, VALIDATION, batch_prefix
from include.demo.server import DemoWeb
from include.demo.world import build_world
from tests.include.trends.test_run import PORTALS, SOCIAL, crawl

pytestmark = pytest.mark.slow
DT = "2026-11-01"


def test_a_backfill_replays_stored_batches_and_fetches_nothing(monkeypatch):
    from include.core.lake import open_lake
    from include.core.settings import get_settings
    from include.core.sources import load_registry
    from include.ops.backfill import backfill_plan, replay_plan
    from include.ops.replay import replay_date

    registry = [s for s in load_registry().sources if s.enabled]
    known, replayable = [s.name for s in registry], [s.name for s in registry if s.replayable]
    chosen = [*PORTALS, *SOCIAL, "instagram_instafashion"]  # a real source never crawled into this lake
    assert backfill_plan(DT, None, chosen, known, replayable) == []  # none of them can replay a past date
    (plan,) = replay_plan(DT, None, chosen, known, replayable)
    with DemoWeb(build_world(seed=5, n_products=40, n_posts=30)) as web:
        monkeypatch.setenv("FTI_DEMO_WEB_URL", web.url)
        get_settings.cache_clear()
        lake = open_lake()
        crawl(PORTALS + SOCIAL, DT)
        lake.delete_prefix(batch_prefix("social", SOCIAL[0], DT) + VALIDATION)  # validation is re-run, not trusted
        served = web.requests
        assert served > 0
        result = replay_date(plan["dt"], plan["sources"])
        assert web.requests == served  # not one request to the sources' server
    assert set(result["validated"]) == {*PORTALS, *SOCIAL} and result["missing"] == ["instagram_instafashion"]
    assert lake.exists(batch_prefix("social", SOCIAL[0], DT) + VALIDATION)
    assert result["embedded"]["embedded"] > 0 and result["published"]["rows"] > 0
    assert json.loads(lake.read_text(LATEST))["run_id"] == result["published"]["run_id"]
