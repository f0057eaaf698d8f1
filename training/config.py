"""The training configuration: one YAML file, validated by pydantic.

Parts can be injected by config in the lightning-hydra style: wherever a block has a ``_target_`` (a dotted
import path), :func:`instantiate` builds that object with the block's other keys as arguments - e.g. a custom
miner ``{_target_: pytorch_metric_learning.miners.MultiSimilarityMiner, epsilon: 0.1}`` or a custom labelled
set loader ``{kind: custom, _target_: mypkg.load_my_pairs, root: /data}``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.yaml"
CATEGORY_LOSSES = ("proxy_anchor", "normalized_softmax", "triplet")


class ConfigError(ValueError):
    """The configuration file is missing or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DataSetSpec(_Strict):
    """One labelled set."""

    kind: Literal["deepfashion", "pairs", "styles", "synthetic", "custom"]
    root: str | None = Field(None, description="deepfashion/styles: folder; env vars and ~ are expanded.")
    prefix: str = Field("labels/pairs/", description="pairs: lake prefix of the pairs files.")
    category_column: str = "articleType"
    limit: int | None = Field(None, ge=1, description="styles: keep only the first N photos.")
    n_items: int = Field(200, ge=1, description="synthetic: generated garments.")
    consumer_views: int = Field(0, ge=0, description="Generated consumer views added per shop image.")
    target: str | None = Field(None, alias="_target_", description="custom: loader returning a LabelledSet.")
    args: dict[str, Any] = Field(default_factory=dict, description="custom: loader arguments.")

    @model_validator(mode="after")
    def _needs_root(self) -> DataSetSpec:
        if self.kind in ("deepfashion", "styles") and not self.root:
            raise ValueError(f"data set of kind {self.kind!r} needs a root folder")
        if self.kind == "custom" and not self.target:
            raise ValueError("data set of kind 'custom' needs a _target_")
        return self


class DataConfig(_Strict):
    sets: list[DataSetSpec] = Field(default_factory=lambda: [DataSetSpec(kind="pairs")], min_length=1)
    val_fraction: float = Field(0.1, ge=0, lt=1)
    image_size: int | None = Field(None, ge=16, description="Default: the backbone's input size.")
    verify: Literal["decode", "exists", "none"] = "decode"
    max_bad_fraction: float = Field(0.0, ge=0, le=1)
    num_workers: int = Field(0, ge=0)
    consumer_aug_p: float = Field(0.7, ge=0, le=1, description="Share of shop images turned consumer-like.")
    seed: int = 7


class ModelConfig(_Strict):
    backbone: str = "tf_efficientnet_lite0"
    pretrained: bool = True
    embedding_dim: int = Field(256, ge=8)
    freeze_bn: bool = Field(True, description="Keep the backbone's BatchNorm statistics (small batches).")
    frozen_stages: int = Field(
        0, ge=0, description="Leading backbone stages not trained (timm's coarse groups: stem, then block stages)."
    )
    init_from: str | None = Field(None, description="A weights.pt / Lightning checkpoint to start from.")


class MiningConfig(_Strict):
    strategy: Literal["online", "offline"] = "online"
    miner: str | dict[str, Any] = Field("batch_hard", description="batch_hard | semihard | all | {_target_: ...}")
    m_per_class: int = Field(4, ge=2)
    negatives_same_category: int = Field(3, ge=0)
    negatives_other: int = Field(2, ge=0)


class LossConfig(_Strict):
    """The item loss (triplet margin, or a ``_target_``) plus an auxiliary category loss on the same embeddings."""

    margin: float = Field(0.3, gt=0)
    target: str | None = Field(None, alias="_target_")
    args: dict[str, Any] = Field(default_factory=dict)
    category_weight: float = Field(
        0.5, ge=0, description="Weight of the category loss (0 disables it; ignored when the data has < 2 categories)."
    )
    category_loss: str | dict[str, Any] = Field(
        "triplet", description="triplet | proxy_anchor | normalized_softmax | {_target_: ..., ...}"
    )
    category_margin: float = Field(0.1, gt=0, description="proxy_anchor / triplet margin of the category loss.")
    proxy_lr_mult: float = Field(100.0, gt=0, description="Learning rate of the category proxies, x optim.lr.")

    @model_validator(mode="after")
    def _known_category_loss(self) -> LossConfig:
        if isinstance(self.category_loss, str) and self.category_loss not in CATEGORY_LOSSES:
            raise ValueError(f"unknown category_loss {self.category_loss!r} (one of {', '.join(CATEGORY_LOSSES)} "
                             "or a {_target_: ...} block)")  # fmt: skip
        if isinstance(self.category_loss, dict) and "_target_" not in self.category_loss:
            raise ValueError("a category_loss block needs a _target_")
        return self


class OptimConfig(_Strict):
    lr: float = Field(3e-4, gt=0)
    backbone_lr_mult: float = Field(0.3, ge=0)
    weight_decay: float = Field(1e-4, ge=0)
    warmup_fraction: float = Field(0.05, ge=0, lt=1)


class TrainerConfig(_Strict):
    max_epochs: int = Field(5, ge=1)
    batch_size: int = Field(32, ge=2)
    limit_train_batches: int | float | None = None
    limit_val_batches: int | float | None = None
    fast_dev_run: bool | int = False
    accelerator: str = "auto"
    precision: str = Field("auto", description="auto: bf16-mixed on CUDA, 32-true on CPU.")
    log_every_n_steps: int = Field(10, ge=1)
    tensorboard: bool = Field(True, description="Also log to TensorBoard when it is installed.")
    progress_bar: bool = True
    work_dir: str = Field(".fti/training", description="Local folder for checkpoints and logs.")


class GateConfig(_Strict):
    metric: str = "recall@1"
    min_improvement: float = Field(0.0, description="Promote only if candidate >= champion + this (and >).")
    guards: dict[str, float] = Field(
        default_factory=lambda: {"category_recall@1": 0.01},
        description="Metrics the candidate may not lose: refused when one falls more than this below the champion.",
    )
    promote: bool = True


class TrainConfig(_Strict):
    """The whole training run."""

    seed: int = 7
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    mining: MiningConfig = Field(default_factory=MiningConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    trainer: TrainerConfig = Field(default_factory=TrainerConfig)
    gate: GateConfig = Field(default_factory=GateConfig)

    def image_size(self) -> int:
        """The training/evaluation input size."""
        from training.backbones import preprocessing_for

        return self.data.image_size or preprocessing_for(self.model.backbone).size


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read and validate a YAML config (default: ``training/configs/default.yaml``).

    Args:
        path: The YAML file.
        overrides: Dotted keys to set after reading, e.g. ``{"trainer.max_epochs": 1}``.

    Raises:
        ConfigError: missing file, YAML error or invalid values (pydantic's message names the field).
    """
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"training config {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    apply_overrides(raw, overrides or {})
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys (``{"model.frozen_stages": 6}``) in a raw config dict, in place; returns it."""
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return raw


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["model.frozen_stages=6", "loss.category_loss=normalized_softmax"]`` -> dotted keys, YAML values.

    Raises:
        ConfigError: an item without ``=``.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} is not KEY=VALUE (e.g. trainer.max_epochs=10)")
        out[key.strip()] = yaml.safe_load(value)
    return out


def locate(dotted: str) -> Any:
    """The object at ``package.module.attr``."""
    module, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"cannot import _target_ {dotted!r}: {exc}") from exc


def instantiate(spec: dict[str, Any], **extra: Any) -> Any:
    """Build ``spec["_target_"](**other keys, **extra)``."""
    spec = dict(spec)
    target = spec.pop("_target_", None)
    if not target:
        raise ConfigError(f"no _target_ in {spec}")
    return locate(target)(**spec, **extra)
