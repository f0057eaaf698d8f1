"""Alerts reach a real webhook on loopback: directly, and from a failing task through Airflow's
``on_failure_callback`` with the webhook taken from the Airflow connection ``fti_alerts``."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from include.ops.notify import Alert, alert_from_context, notify, webhook_from_connection
from tests.conftest import free_port

DAGS = Path(__file__).resolve().parents[3] / "dags"


class Receiver:
    """A loopback HTTP server that records every POST (path, headers, JSON body)."""

    def __init__(self, status: int = 200) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


class _TI:
    dag_id, task_id, run_id, try_number = "embed_catalog", "embed", "manual__2026-11-01", 3
    log_url = "http://127.0.0.1:8080/dags/embed_catalog/runs/manual__2026-11-01/tasks/embed"


def test_an_alert_is_logged_and_posted_as_json(receiver, caplog):
    alert = alert_from_context({"ti": _TI(), "exception": RuntimeError("Milvus is down")})
    with caplog.at_level(logging.ERROR, logger="fti.alerts"):
        assert notify(alert, receiver.url + "/hooks/secret", {"Authorization": "Bearer t0k"}) is True
    assert "embed_catalog.embed" in caplog.text and "Milvus is down" in caplog.text
    [got] = receiver.received
    assert got["path"] == "/hooks/secret" and got["headers"]["Authorization"] == "Bearer t0k"
    body = got["body"]
    assert body["dag_id"] == "embed_catalog" and body["task_id"] == "embed" and body["try_number"] == 3
    assert body["error"] == "RuntimeError: Milvus is down"
    assert "embed_catalog.embed" in body["text"] and body["log_url"] in body["text"]


def test_a_webhook_that_fails_never_raises(caplog):
    refused = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="fti.alerts"):
        assert notify(Alert("task failed", dag_id="rank_trends"), refused) is False
    assert "alert webhook http://127.0.0.1:" in caplog.text and "/hook" not in caplog.text.split("failed")[0]
    broken = Receiver(status=500)
    try:
        assert notify(Alert("task failed"), broken.url) is False
        assert len(broken.received) == 1
    finally:
        broken.close()
    assert notify(Alert("task failed"), None) is False  # no webhook configured: logged only


@pytest.mark.parametrize(
    ("fields", "url", "headers"),
    [
        ({"host": "hooks.example.com/services/T0/B0"}, "https://hooks.example.com/services/T0/B0", {}),
        ({"host": "http://127.0.0.1:9/x", "password": "s"}, "http://127.0.0.1:9/x", {"Authorization": "Bearer s"}),
        ({"host": "alerts.local", "schema": "http", "port": 8080, "extra": {"endpoint": "/fti"}},
         "http://alerts.local:8080/fti", {}),
        ({"host": "ignored", "extra": {"url": "https://chat.example.com/hook"}}, "https://chat.example.com/hook", {}),
        ({"host": None}, None, {}),
    ],
)  # fmt: skip
def test_webhook_from_connection_fields(fields, url, headers):
    assert webhook_from_connection(**fields) == (url, headers)


@pytest.mark.slow
def test_a_failing_task_posts_one_alert_through_airflow(tmp_path, receiver):
    """``fti_freshness`` on an empty lake: its alert task fails after its retries and the callback posts once."""
    from include.ops.airflow_cli import airflow, airflow_env

    conn = {"conn_type": "http", "host": receiver.url + "/fti-alerts"}
    env = airflow_env(
        tmp_path / "airflow",
        {"FTI_LAKE": str(tmp_path / "lake"), "FTI_RETRY_DELAY_SECONDS": "0",
         "AIRFLOW_CONN_FTI_ALERTS": json.dumps(conn)},
    )  # fmt: skip
    airflow(["db", "migrate"], env)
    code = (
        "import sys; from datetime import UTC, datetime; from airflow.dag_processing.dagbag import DagBag; "
        "bag = DagBag(dag_folder=sys.argv[1]); assert not bag.import_errors, bag.import_errors; "
        "run = bag.dags['fti_freshness'].test(logical_date=datetime(2026, 11, 1, tzinfo=UTC)); "
        "print('STATE', run.state)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(DAGS / "fti_freshness.py")], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "STATE failed" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert [r["path"] for r in receiver.received] == ["/fti-alerts"]  # after the last retry only
    body = receiver.received[0]["body"]
    assert body["dag_id"] == "fti_freshness" and body["task_id"] == "alert_if_stale"
    assert body["try_number"] == 3  # retries=2: the first two failures were retried, not alerted
    assert "StaleReportError" in body["error"] and "no report was ever published" in body["error"]
