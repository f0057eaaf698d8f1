"""Alerts: every failure is logged, and posted to a webhook when one is configured.

The Airflow side (``include.ops.airflow_support.on_failure``, every task's ``on_failure_callback``) turns the failed
task's context into an :class:`Alert` and resolves the webhook from the Airflow connection ``fti_alerts``
(``FTI_ALERTS_CONN_ID``); this module never imports Airflow. The body is JSON with a Slack-compatible ``text``
line plus the structured fields, so a Slack or Teams incoming webhook, Alertmanager-style relays and a plain
HTTP endpoint all accept it. A notifier that cannot reach its webhook logs a warning and never raises: the
task's own failure must stay what the scheduler sees.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("fti.alerts")


@dataclass
class Alert:
    """One alert: what failed, where, and how to look at it."""

    title: str
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    try_number: int | None = None
    error: str | None = None
    log_url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def text(self) -> str:
        """One human line (what a chat webhook shows)."""
        where = ".".join(p for p in (self.dag_id, self.task_id) if p)
        parts = [f":rotating_light: FTI {self.title}", where, self.run_id or "", (self.error or "")[:300]]
        line = " | ".join(p for p in parts if p)
        return f"{line} | logs: {self.log_url}" if self.log_url else line

    def payload(self) -> dict[str, Any]:
        """The JSON body posted to the webhook."""
        return {"text": self.text, **asdict(self)}


def alert_from_context(context: dict[str, Any], title: str = "task failed") -> Alert:
    """An :class:`Alert` from an Airflow task context (read by attribute, so no Airflow import is needed)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    error = context.get("exception")
    return Alert(
        title=title,
        dag_id=getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None),
        task_id=getattr(ti, "task_id", None),
        run_id=getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None),
        try_number=getattr(ti, "try_number", None),
        error=f"{type(error).__name__}: {error}" if error is not None else None,
        log_url=getattr(ti, "log_url", None),
    )


def post_webhook(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None, timeout: float = 10) -> int:
    """POST ``payload`` as JSON to ``url``; returns the HTTP status.

    Raises:
        OSError: the endpoint could not be reached or answered with an HTTP error.
    """
    body = json.dumps(payload, default=str).encode()
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status


def notify(alert: Alert, webhook_url: str | None = None, headers: dict[str, str] | None = None) -> bool:
    """Log the alert and post it to ``webhook_url`` when given; True when a webhook accepted it.

    Never raises: a webhook that fails is logged as a warning.
    """
    log.error("ALERT %s", alert.text)
    if not webhook_url:
        return False
    try:
        status = post_webhook(webhook_url, alert.payload(), headers)
    except (OSError, ValueError) as exc:  # URLError/HTTPError are OSErrors; a malformed URL is a ValueError
        log.warning("alert webhook %s failed: %s", _redact(webhook_url), exc)
        return False
    log.info("alert posted to %s (HTTP %d)", _redact(webhook_url), status)
    return 200 <= status < 300


def webhook_from_connection(
    host: str | None, schema: str | None = None, port: int | None = None, password: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[str | None, dict[str, str]]:  # fmt: skip
    """Webhook URL and headers from an Airflow connection's fields.

    ``extra.url`` wins; else ``host`` when it is a full URL; else ``<schema or https>://host[:port]``, with
    ``extra.endpoint`` appended. A password becomes ``Authorization: Bearer <password>``.
    """
    extra = extra or {}
    url = extra.get("url") or extra.get("webhook_url")
    if not url and host:
        url = host if "://" in host else f"{schema or 'https'}://{host}" + (f":{port}" if port else "")
        if extra.get("endpoint"):
            url = url.rstrip("/") + "/" + str(extra["endpoint"]).lstrip("/")
    headers = {"Authorization": f"Bearer {password}"} if password else {}
    return url, headers


def _redact(url: str) -> str:
    """Scheme and host of a URL only (webhook paths are secrets)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/…" if rest else "…"
