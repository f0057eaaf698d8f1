"""One real ``airflow standalone`` for the ops tests: project-local home in tmp, a small demo web, the demo crawls
triggered through the REST API with the night's ``rank_trends`` run, the Asset chain and the readiness sensor left
to the scheduler.

The stack is package-scoped: the browser test (``test_browser.py``) and the scheduler test (``test_scheduler.py``,
which stops it last and checks no process is left) share one instance.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from include.core.sources import load_registry
from include.demo.server import DemoWeb
from include.demo.world import build_world
from include.ops.demo import pipeline_dags
from include.ops.standalone import Standalone, prepare_home, standalone_env
from tests.conftest import free_port

CHAIN_TIMEOUT = 600  # seconds for crawls -> validate -> embed -> rank -> publish on 2 shared cores
TERMINAL = {"success", "failed"}


@dataclass
class Stack:
    """The running instance and what the pipeline did on it."""

    af: Standalone
    home: Path
    lake: Path
    dt: str
    crawls: list[str]
    chain: list[str]
    runs: dict[str, list[dict]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    leftovers: list[str] | None = None

    def stop(self) -> list[str]:
        """Stop Airflow (SIGINT to its process group) once; returns the processes that outlived it."""
        if self.leftovers is None:
            start = time.monotonic()
            self.leftovers = self.af.stop()
            self.timings["stop"] = round(time.monotonic() - start, 1)
        return self.leftovers


def wait_for_dags(af: Standalone, dag_ids: list[str], timeout: float = 120) -> None:
    """Until the dag-processor has serialized every DAG of ``dag_ids``."""
    deadline = time.monotonic() + timeout
    while True:
        known = {d["dag_id"] for d in af.api.get("/dags?limit=1000")["dags"]}
        if set(dag_ids) <= known:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"DAGs not parsed after {timeout} s: {sorted(set(dag_ids) - known)}")
        time.sleep(1)


def chain_done(stack: Stack) -> bool:
    """Published, every run of the chain finished, or a crawl failed (then nothing more will come)."""
    stack.runs = {d: stack.af.api.runs(d) for d in stack.chain}
    states = [r["state"] for runs in stack.runs.values() for r in runs]
    if any(r["state"] == "failed" for d in stack.crawls for r in stack.runs[d]):
        return True
    published = (stack.lake / "reports/latest.json").exists()
    ranked = any(r["state"] == "success" for r in stack.runs["rank_trends"])
    return published and ranked and all(s in TERMINAL for s in states)


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    """Airflow standalone + demo web; the demo crawls of one logical date triggered, the chain awaited."""
    tmp = tmp_path_factory.mktemp("ops")
    started = time.monotonic()
    world = build_world(seed=5, n_products=120, n_posts=60)
    with DemoWeb(world, port=0) as web:
        home, lake = tmp / "airflow", tmp / "lake"
        env = standalone_env(
            home, free_port(),
            {"FTI_LAKE": str(lake), "FTI_DEMO_WEB_URL": web.url, "FTI_RETRY_DELAY_SECONDS": "1",
             # rank_trends waits for the demo sources (the real ones are never crawled here), re-reading the lake
             # every 5 s; the cut-off is out of reach, so the ranking can only start after the last input
             "FTI_READINESS_SOURCES": json.dumps([s.name for s in load_registry().sources if s.allow_private]),
             "FTI_READINESS_POKE_SECONDS": "5", "FTI_RANK_CUTOFF_HOURS": "72",
             # unpausing a cron DAG schedules its latest past slot, which before 01:00 UTC is yesterday's: the
             # test's one ranking is the run triggered below (the cron itself: tests/dags/test_dagbag.py)
             "FTI_RANK_SCHEDULE": ""},
        )  # fmt: skip
        prepare_home(home, env)
        af = Standalone(env, log_path=tmp / "standalone.log").start()
        dags = pipeline_dags()
        crawls = [d for d in dags if d.startswith("crawl_")]
        st = Stack(af=af, home=home, lake=lake, dt="", crawls=crawls, chain=dags)
        try:
            st.timings["ready"] = round(time.monotonic() - started, 1)
            wait_for_dags(af, [*dags, "fti_freshness"])
            # The slot each crawl is due for now (its next logical date): a manual run on that very date means
            # unpausing creates no second, scheduled run of the same crawl.
            slots = {d: af.api.get(f"/dags/{d}")["next_dagrun_logical_date"] for d in crawls}
            st.dt = min(slots.values())[:10]
            for dag_id in crawls:
                af.api.trigger(dag_id, slots[dag_id])
            # The night's ranking starts with the crawls (as its 01:00 cron run would) and waits for them.
            af.api.trigger("rank_trends", min(slots.values()))
            for dag_id in dags:
                af.api.unpause(dag_id)
            deadline = time.monotonic() + CHAIN_TIMEOUT
            while not chain_done(st) and time.monotonic() < deadline:
                time.sleep(3)
            st.timings["chain"] = round(time.monotonic() - started, 1)
            yield st
        finally:
            st.stop()
            print(f"ops stack timings (s): {json.dumps(st.timings)}; Airflow log: {af.log_path}")
