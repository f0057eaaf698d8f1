"""The ``airflow`` CLI of this interpreter's environment, in a project-local home with the project's DAGs.

``make demo``, ``make airflow`` (:mod:`include.ops.standalone`), :mod:`include.ops.run_dags` and the ops tests
all run Airflow this way: SQLite in ``AIRFLOW_HOME``, ``dags/`` of this checkout, no example DAGs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def airflow_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a project-local Airflow (SQLite, the project's dags/, no examples)."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **(extra or {}),
    }


def airflow(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """Run the ``airflow`` CLI of this interpreter's environment."""
    exe = Path(sys.executable).with_name("airflow")
    proc = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}"
                           f"\n{proc.stderr[-3000:]}")  # fmt: skip
    return proc
