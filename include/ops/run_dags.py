"""Run DAGs for one logical date in one process, as ``airflow dags test`` does for one DAG.

``python -m include.ops.run_dags 2026-11-01 crawl_a crawl_b embed_catalog rank_trends`` loads the DAG folder once
and calls each DAG's ``dag.test()`` in order (the order the Asset chain would trigger them), printing one JSON
line per run. One process for the whole chain saves Airflow's start-up, the DAG parse and the heavy imports per
DAG; Milvus Lite's file lock is released when the process exits.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime


def main(argv: list[str] | None = None) -> int:
    """Run the named DAGs for the date; exit status 1 at the first run that does not succeed."""
    argv = sys.argv[1:] if argv is None else argv
    dt, dag_ids = argv[0], argv[1:]
    from airflow.dag_processing.dagbag import DagBag

    from include.ops.airflow_cli import REPO

    bag = DagBag(dag_folder=str(REPO / "dags"))
    if bag.import_errors:
        print(json.dumps({"import_errors": {k: str(v)[:2000] for k, v in bag.import_errors.items()}}), flush=True)
        return 1
    logical_date = datetime.strptime(dt, "%Y-%m-%d").replace(tzinfo=UTC)
    for dag_id in dag_ids:
        start = time.monotonic()
        run = bag.dags[dag_id].test(logical_date=logical_date)
        state = str(getattr(run, "state", "unknown"))
        print(json.dumps({"dag_id": dag_id, "state": state, "seconds": round(time.monotonic() - start, 1)}), flush=True)
        if "success" not in state:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
