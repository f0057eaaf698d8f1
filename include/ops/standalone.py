"""A project-local ``airflow standalone`` (scheduler, dag-processor, triggerer, API server and UI) and its REST API.

``make airflow`` (``python -m include.ops.standalone``) serves the UI on 127.0.0.1:8080 with the project's DAGs, an
``AIRFLOW_HOME`` of ``.airflow/``, SQLite and the LocalExecutor. The ops tests use the same pieces on a free port
in a temporary home. Nothing here imports Airflow: it drives the ``airflow`` CLI and the REST API (``/api/v2``,
JWT from the simple auth manager's ``/auth/token``).

Stopping: ``airflow standalone`` shuts its components down on SIGINT (Ctrl-C) only; SIGTERM kills the parent and
orphans its children. :meth:`Standalone.stop` sends SIGINT to the standalone process (which stops each component),
then reports (and kills) any process that still carries this instance's marker in its environment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from include.core.ports import free_port
from include.ops.airflow_cli import REPO, airflow, airflow_env

MILVUS_POOL = "fti_milvus"
MARKER = "FTI_STANDALONE_ID"
ADMIN = "admin"


def standalone_env(home: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a project-local standalone Airflow on ``127.0.0.1:port``.

    The venv's ``bin`` goes first on ``PATH`` (standalone starts its components as ``airflow ...``); the admin's
    password lives in ``<home>/passwords.json``; one API worker and a small task parallelism keep it light.
    """
    bindir = str(Path(sys.executable).parent)
    return airflow_env(
        home,
        {
            "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONUNBUFFERED": "1",  # the log shows each component's lines as they come
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            # the log servers of the scheduler and triggerer: free ports, so two instances can run side by side
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
            **(extra or {}),
        },
    )


def prepare_home(home: Path, env: dict[str, str]) -> str:
    """Migrate the metadata DB, create the ``fti_milvus`` pool and the admin's password; returns the password.

    Idempotent: an existing password (``<home>/passwords.json``) and JWT secret (``<home>/jwt_secret``) are kept.
    """
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    if not passwords.exists():
        passwords.write_text(json.dumps({ADMIN: secrets.token_urlsafe(12)}) + "\n")
        passwords.chmod(0o600)
    secret = home / "jwt_secret"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(32))
        secret.chmod(0o600)
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secret.read_text())
    airflow(["db", "migrate"], env)
    airflow(["pools", "set", MILVUS_POOL, "1", "Milvus Lite allows one process per .db file"], env)
    return json.loads(passwords.read_text())[ADMIN]


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default action.

    A process started in the background of a non-interactive shell inherits SIGINT *ignored*, and Python then
    never installs its KeyboardInterrupt handler, so ``airflow standalone`` would never see Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class AirflowApi:
    """A small client of Airflow's REST API (``/api/v2``) with a simple-auth-manager JWT."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url, self.username, self.password = base_url.rstrip("/"), username, password
        self._token: str | None = None

    def token(self) -> str:
        """A JWT from ``POST /auth/token`` (cached)."""
        if self._token is None:
            body = {"username": self.username, "password": self.password}
            self._token = self._call("POST", "/auth/token", body, auth=False)["access_token"]
        return self._token

    def _call(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{method} {path} -> HTTP {err.code}: {err.read()[:2000]!r}") from err
        return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        """``GET /api/v2<path>``."""
        return self._call("GET", "/api/v2" + path)

    def post(self, path: str, body: dict) -> Any:
        """``POST /api/v2<path>``."""
        return self._call("POST", "/api/v2" + path, body)

    def patch(self, path: str, body: dict) -> Any:
        """``PATCH /api/v2<path>``."""
        return self._call("PATCH", "/api/v2" + path, body)

    def health(self) -> dict:
        """``/api/v2/monitor/health`` (no auth needed)."""
        return self._call("GET", "/api/v2/monitor/health", auth=False)

    def unpause(self, dag_id: str) -> dict:
        """Unpause one DAG."""
        return self.patch(f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, logical_date: str, conf: dict | None = None) -> dict:
        """Trigger a run of ``dag_id`` for ``logical_date`` (ISO-8601, UTC)."""
        return self.post(f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": conf or {}})

    def runs(self, dag_id: str) -> list[dict]:
        """The DAG's runs, newest first."""
        return self.get(f"/dags/{dag_id}/dagRuns?order_by=-run_after&limit=100")["dag_runs"]


class Standalone:
    """``airflow standalone`` in its own process group, as a context manager.

    Example:
        >>> env = standalone_env(Path("/tmp/af"), 8080)  # doctest: +SKIP
        >>> with Standalone(env, log_path=Path("/tmp/af/standalone.log")) as af:  # doctest: +SKIP
        ...     af.api.unpause("embed_catalog")
    """

    def __init__(self, env: dict[str, str], log_path: Path, password: str | None = None) -> None:
        self.marker = uuid.uuid4().hex
        self.env = {**env, MARKER: self.marker}
        self.port = int(env["AIRFLOW__API__PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        home = Path(env["AIRFLOW_HOME"])
        self.password = password or json.loads((home / "passwords.json").read_text())[ADMIN]
        self.api = AirflowApi(self.url, ADMIN, self.password)
        self.proc: subprocess.Popen | None = None
        self.sid = -1  # the session of the standalone process (its pid) once started
        self.leftovers: list[str] = []

    def start(self, timeout: float = 180) -> Standalone:
        """Start the components and wait until the API answers and every component heartbeats."""
        exe = Path(sys.executable).with_name("airflow")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(exe), "standalone"], env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(REPO), preexec_fn=_default_sigint,
        )  # fmt: skip
        self.sid = self.proc.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"airflow standalone exited ({self.proc.returncode}); see {self.log_path}")
            try:
                health = self.api.health()
                if all(
                    health.get(c, {}).get("status") == "healthy"
                    for c in ("scheduler", "dag_processor", "triggerer", "metadatabase")
                ):
                    self.api.token()
                    return self
            except (OSError, RuntimeError, ValueError):
                pass
            time.sleep(1)
        self.stop()
        raise TimeoutError(f"airflow standalone not ready after {timeout:.0f} s; see {self.log_path}")

    def processes(self) -> list[Any]:
        """Live processes started by this instance: members of its session (it runs as a session leader) or
        carriers of its marker in their environment (``setproctitle`` can hide the environment; ``setsid`` the
        session: each check catches what the other misses)."""
        import psutil

        found = []
        for proc in psutil.process_iter(["pid"]):
            try:
                if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                if os.getsid(proc.pid) == self.sid or proc.environ().get(MARKER) == self.marker:
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ProcessLookupError):
                continue
        return found

    def stop(self, timeout: float = 60) -> list[str]:
        """SIGINT (Ctrl-C) to ``airflow standalone``, wait for it and its components, then kill what is left.

        The signal goes to the standalone process, which then stops each component with SIGTERM and waits for it
        (a SIGINT to the whole group can leave a component or the parent hanging). When the parent has not begun
        shutting down a few seconds later (its log lacks "Shutting down components": the signal landed outside
        its main loop), Ctrl-C is pressed again.

        Returns:
            ``"pid name cmdline"`` of every process still alive ``timeout`` seconds after SIGINT (empty when the
            shutdown was clean); they are killed before returning.
        """
        if self.proc is None:
            return self.leftovers
        if self.proc.poll() is None:
            offset = self.log_path.stat().st_size
            self.proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    with open(self.log_path, "rb") as fh:
                        fh.seek(offset)
                        if b"Shutting down components" not in fh.read():
                            self.proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        alive = self.processes()
        while alive and time.monotonic() < deadline:  # grandchildren may need a moment after the parent
            time.sleep(0.5)
            alive = self.processes()
        self.leftovers = [f"{p.pid} {p.name()} {' '.join(p.cmdline())[:200]}" for p in alive]
        for p in alive:
            with contextlib.suppress(Exception):  # already gone
                p.kill()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        self.proc = None
        return self.leftovers

    def __enter__(self) -> Standalone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m include.ops.standalone [--port 8080] [--home .airflow]``: serve the UI until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--home", default=str(REPO / ".airflow"))
    args = parser.parse_args(argv)
    home = Path(args.home).resolve()
    env = standalone_env(home, args.port)
    password = prepare_home(home, env)
    print(f"Airflow UI: http://127.0.0.1:{args.port}  user: {ADMIN}  password: {password}  (home {home})")
    print("DAGs are paused at creation: unpause them in the UI. Ctrl-C stops every component.")
    # Its own session: a terminal's Ctrl-C (SIGINT to the whole foreground group) reaching the scheduler and its
    # LocalExecutor workers directly can hang the scheduler's shutdown; one SIGINT to standalone stops it cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.default_int_handler)
    af = Standalone(env, log_path=home / "standalone.log", password=password)
    af.start(timeout=600)
    print(f"running (log: {af.log_path}); Ctrl-C stops it")
    try:
        while af.proc is not None and af.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        print("stopping airflow standalone ...")
    leftovers = af.stop()
    if leftovers:
        print(f"killed processes that outlived the shutdown: {leftovers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
