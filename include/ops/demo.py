"""``make demo``: the nightly pipeline through Airflow, on embedded defaults, with no network but loopback.

Starts the demo web on 127.0.0.1, runs every DAG for one logical date with ``dag.test()`` (what ``airflow dags
test`` does) in a project-local ``AIRFLOW_HOME`` with SQLite, stops the demo web, and prints the top designs,
the report's path and the planted trends' precision@10.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from include.ops.airflow_cli import REPO, airflow, airflow_env


def pipeline_dags() -> list[str]:
    """DAG ids in the order the Asset chain runs them: crawls, embed, rank."""
    from include.core.sources import load_registry

    # the demo crawls only the sources on the embedded demo web (allow_private), never the real ones
    crawls = [f"crawl_{s.name}" for s in load_registry().sources if s.enabled and s.allow_private]
    return [*crawls, "embed_catalog", "rank_trends"]


def precision_at(table: pd.DataFrame, planted: list[dict[str, Any]], k: int = 10) -> float:
    """Share of the top ``k`` designs that are planted trends (over min(k, planted) slots)."""
    skus = {p["sku"] for p in planted}
    top = table.sort_values("rank").head(k)["product_id"].astype(str)
    return sum(s in skus for s in top) / max(1, min(k, len(skus)))


def run_pipeline(dt: str, env: dict[str, str], log=print) -> dict[str, float]:
    """Run every DAG of the pipeline for ``dt`` with ``dag.test()`` in one child process.

    Returns:
        Seconds per DAG. Raises ``RuntimeError`` with the log's tail when a run does not succeed.
    """
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    airflow(["db", "migrate"], env)
    dags = pipeline_dags()
    log(f"  running {', '.join(dags)} for {dt} ...")
    proc = subprocess.run(
        [sys.executable, "-m", "include.ops.run_dags", dt, *dags], env=env, capture_output=True, text=True, check=False
    )
    runs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"dag_id"')]
    if proc.returncode != 0 or len(runs) != len(dags):
        failed = runs[-1]["dag_id"] if runs else "DAG parsing"
        raise RuntimeError(f"{failed} did not succeed for {dt}:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return {run["dag_id"]: run["seconds"] for run in runs}


def run_demo(
    dt: str = "2026-11-01", seed: int = 7, n_products: int = 1000, n_posts: int = 300,
    images_dir: str | None = None, port: int = 8765,
) -> dict[str, Any]:  # fmt: skip
    """Run the demo end to end and print its results."""
    from rich.console import Console
    from rich.table import Table

    from include.core.lake import open_lake
    from include.core.settings import get_settings
    from include.demo.server import DemoWeb
    from include.demo.world import build_world

    console = Console(width=None if sys.stdout.isatty() else 150)
    started = time.monotonic()
    world = build_world(seed=seed, n_products=n_products, n_posts=n_posts, images_dir=images_dir)
    with DemoWeb(world, port=port) as web:
        console.print(f"[bold]demo web[/] at {web.url} ({n_products} products, {n_posts} social posts)")
        os.environ["FTI_DEMO_WEB_URL"] = web.url
        get_settings.cache_clear()
        env = airflow_env(  # the demo's crawls stay on loopback, whatever else the registry holds
            REPO / ".airflow", {"FTI_DEMO_WEB_URL": web.url, "FTI_RETRY_DELAY_SECONDS": "1", "FTI_LOOPBACK_ONLY": "1"}
        )
        timings = run_pipeline(dt, env, log=console.print)
    settings = get_settings()
    lake = open_lake(settings.lake, settings.s3_endpoint_url)
    latest = json.loads(lake.read_text("reports/latest.json"))
    table = pd.read_parquet(io.BytesIO(lake.read_bytes(latest["table"])))
    precision = precision_at(table, world.truth()["planted"])
    planted = {p["sku"] for p in world.truth()["planted"]}

    view = Table(title=f"Winning designs {dt}")
    for col in ("rank", "title", "brand", "portal", "score", "current", "upcoming", "posts", "planted"):
        view.add_column(col, no_wrap=col != "title")
    for r in table.head(10).itertuples():
        view.add_row(str(r.rank), str(r.title), str(r.brand), str(r.portal), f"{r.score:.2f}",
                     f"{r.current_score:.2f}", f"{r.upcoming_score:.2f}", str(r.support_posts),
                     "yes" if str(r.product_id) in planted else "")  # fmt: skip
    console.print(view)
    elapsed = time.monotonic() - started
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024  # fmt: skip
    console.print(f"report: [bold]{lake.uri(latest['report'])}[/]")
    console.print(f"planted-trend precision@10: [bold]{precision:.2f}[/]")
    console.print(f"demo took {elapsed:.0f} s, peak process memory {peak_mb:.0f} MiB; per DAG: {timings}")
    return {"precision_at_10": precision, "report": lake.uri(latest["report"]), "seconds": elapsed,
            "peak_mb": peak_mb, "timings": timings}  # fmt: skip
