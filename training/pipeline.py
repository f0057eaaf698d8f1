"""The stages of the ``train_embedder`` DAG, without Airflow: plain values in, plain dicts out.

:func:`plan_training` decides quickly (no image is read, no model is built) whether the labelled data changed
since the champion was trained; :func:`train_and_gate` trains, evaluates and promotes when the gate is passed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _config_path(config: str | Path | None) -> Path | None:
    if config:
        return Path(config)
    from include.core.settings import get_settings

    return get_settings().train_config


def plan_training(config: str | Path | None = None, force: bool = False, lake=None) -> dict[str, Any]:
    """Fingerprint the configured labelled data and compare it with the champion's.

    Args:
        config: Training YAML (default ``FTI_TRAIN_CONFIG``, else the built-in config).
        force: Train even when nothing changed.
        lake: The lake (default: settings).

    Returns:
        ``{"skip": bool, "reason": str, "fingerprint": str, "champion": version | None, "config": path | None}``.
        ``skip`` is true when the data equals the champion's, or when a candidate was already trained on exactly
        this data and lost the gate.
    """
    from include.core.lake import open_lake
    from training import registry
    from training.config import load_config
    from training.data import data_fingerprint

    lake = lake or open_lake()
    path = _config_path(config)
    cfg = load_config(path)
    fingerprint = data_fingerprint(cfg, lake)
    champ = registry.champion(lake)
    plan = {"skip": False, "reason": "labelled data changed", "fingerprint": fingerprint,
            "champion": champ["version"] if champ else None, "config": str(path) if path else None}  # fmt: skip
    if force:
        plan["reason"] = "forced"
    elif champ and champ.get("data_fingerprint") == fingerprint:
        plan.update(skip=True, reason=f"labelled data unchanged since champion {champ['version']}")
    elif (previous := registry.attempt(lake, fingerprint)) is not None and not previous.get("promoted"):
        plan.update(skip=True, reason=f"already trained on this data: {previous.get('version')} lost the gate")
    elif champ is None:
        plan["reason"] = "no champion yet"
    log.info("train plan: %s", plan)
    return plan


def train_and_gate(config: str | Path | None = None, lake=None) -> dict[str, Any]:
    """Train on the configured labelled data and promote the model when it beats the champion.

    Returns:
        The result of :func:`training.train.run_training` (``version``, ``promoted``, ``reason``, ``metrics``...).
    """
    from training.train import run_training

    return run_training(_config_path(config), lake=lake)
