"""One training run: labelled data -> Lightning fit -> evaluation -> registry -> gate -> (promotion).

``fti train --config FILE`` and the ``train_embedder`` DAG both call :func:`run_training`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from training.config import TrainConfig, load_config
from training.data import LabelledDataError, LabelledSet, build_labelled_set

log = logging.getLogger(__name__)


def check_splits(ls: LabelledSet) -> None:
    """Refuse to train on nothing: the train split needs two items, the val split queries and a gallery."""
    train, val = ls.split("train"), ls.split("val")
    if train["item_id"].nunique() < 2:
        items = train["item_id"].nunique()
        raise LabelledDataError(f"{ls.name}: empty train split ({len(train)} images, {items} items)")
    if (val["domain"] == "consumer").sum() == 0 or (val["domain"] == "shop").sum() == 0:
        raise LabelledDataError(
            f"{ls.name}: empty validation split ({int((val['domain'] == 'consumer').sum())} consumer, "
            f"{int((val['domain'] == 'shop').sum())} shop images): the gate needs both"
        )


def build_module(cfg: TrainConfig, item_category: np.ndarray | None = None):
    """The LightningModule a config describes (miner, loss and category loss injected).

    Args:
        cfg: The config.
        item_category: Category index of every train item label (:func:`training.datasets.item_categories`);
            without it (or with ``loss.category_weight: 0``, fewer than two categories, or offline mining) there
            is no category loss.
    """
    from training.mining import make_category_loss, make_loss, make_miner
    from training.model import TripletModule, load_weights

    online = cfg.mining.strategy == "online"
    miner = make_miner(cfg.mining, cfg.loss.margin) if online else None
    n_cats = int(item_category.max()) + 1 if online and item_category is not None and len(item_category) else 0
    cat_loss, cat_miner = make_category_loss(cfg.loss, n_cats, cfg.model.embedding_dim)
    module = TripletModule(
        cfg.model.backbone, cfg.model.embedding_dim, cfg.model.pretrained, cfg.loss.margin, cfg.mining.strategy,
        miner, make_loss(cfg.loss.margin, cfg.loss.target, cfg.loss.args), cfg.optim.lr, cfg.optim.backbone_lr_mult,
        cfg.optim.weight_decay, cfg.optim.warmup_fraction, cfg.model.freeze_bn, cat_loss, cat_miner,
        cfg.loss.category_weight, item_category, cfg.loss.proxy_lr_mult, cfg.model.frozen_stages,
    )  # fmt: skip
    if cfg.model.init_from:
        load_weights(module.net, Path(cfg.model.init_from))
    return module


def served_fit() -> str:
    """The square fit of the embedding service (``FTI_IMAGE_FIT``): training and evaluation use the same one."""
    from include.core.settings import get_settings

    return get_settings().image_fit


def served_colour_weight() -> float:
    """The colour weight of the vectors the embedding service stores (``FTI_COLOUR_WEIGHT``): the gate scores
    those vectors, not the model's output alone."""
    from include.core.settings import get_settings

    return get_settings().colour_weight


def dataloaders(cfg: TrainConfig, ls: LabelledSet) -> tuple[Any, Any, np.ndarray]:
    """Train loader (M-per-class sampler or offline triplets), val loader, and the val rows that are queries."""
    from training.datasets import ImageDataset, TripletDataset, loader, m_per_class_sampler
    from training.mining import offline_triplets
    from training.transforms import consumer_transform, eval_transform, light_transform

    size, name, bs, workers = cfg.image_size(), cfg.model.backbone, cfg.trainer.batch_size, cfg.data.num_workers
    image_fit = served_fit()
    train_rows = ls.split("train")
    images = ImageDataset(
        train_rows, ls.source, light_transform(name, size, image_fit), consumer_transform(name, size, image_fit),
        cfg.data.consumer_aug_p,
    )  # fmt: skip
    if cfg.mining.strategy == "online":
        sampler = m_per_class_sampler(images.labels, cfg.mining.m_per_class, bs, cfg.seed)
        train = loader(images, sampler.batch_size, workers, sampler=sampler, seed=cfg.seed)
    else:
        triplets = offline_triplets(
            train_rows, cfg.mining.negatives_same_category, cfg.mining.negatives_other, cfg.seed
        )
        log.info("offline miner: %d triplets", len(triplets))
        train = loader(TripletDataset(images, triplets), max(1, bs // 3), workers, shuffle=True, seed=cfg.seed)
    val_rows = ls.split("val")
    val = loader(ImageDataset(val_rows, ls.source, eval_transform(name, size, image_fit)), bs, workers)
    return train, val, (val_rows["domain"] == "consumer").to_numpy()


def make_trainer(cfg: TrainConfig, work_dir: Path, **overrides: Any):
    """A Lightning Trainer: CSV (+ TensorBoard when installed) logs, best-R@1 checkpoints, bf16 on CUDA."""
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    t = cfg.trainer
    precision = t.precision
    if precision == "auto":
        cuda = torch.cuda.is_available() and t.accelerator in ("auto", "gpu", "cuda")
        precision = "bf16-mixed" if cuda else "32-true"
    loggers: list[Any] = [CSVLogger(str(work_dir), name="logs")]
    if t.tensorboard:
        try:
            import tensorboard  # noqa: F401

            loggers.append(TensorBoardLogger(str(work_dir), name="tensorboard"))
        except ImportError:
            log.info("tensorboard not installed: CSV logs only")
    checkpoint = ModelCheckpoint(
        dirpath=str(work_dir / "checkpoints"), monitor="val/recall@1", mode="max", save_last=True,
        filename="epoch{epoch:02d}-r1_{val/recall@1:.4f}", auto_insert_metric_name=False,
    )  # fmt: skip
    kwargs = dict(
        accelerator=t.accelerator, devices=1, precision=precision, max_epochs=t.max_epochs, logger=loggers,
        callbacks=[checkpoint], log_every_n_steps=t.log_every_n_steps, enable_progress_bar=t.progress_bar,
        fast_dev_run=t.fast_dev_run, num_sanity_val_steps=0, default_root_dir=str(work_dir),
        limit_train_batches=t.limit_train_batches, limit_val_batches=t.limit_val_batches,
    )  # fmt: skip
    kwargs.update(overrides)
    return L.Trainer(**kwargs), checkpoint


def fit(cfg: TrainConfig, ls: LabelledSet, work_dir: Path):
    """Train; return the best :class:`~training.model.EmbeddingNet` and what happened."""
    import lightning as L

    from training.model import load_weights

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    check_splits(ls)
    from training.datasets import item_categories

    item_category, names = item_categories(ls.split("train"))
    module = build_module(cfg, item_category)
    if module.category_loss is not None:
        log.info("category loss %s x %.2f over %d categories (%d of %d train items without one)",
                 type(module.category_loss).__name__, module.category_weight, len(names),
                 int((item_category < 0).sum()), len(item_category))  # fmt: skip
    train, val, is_query = dataloaders(cfg, ls)
    module.val_is_query = is_query
    trainer, checkpoint = make_trainer(cfg, work_dir)
    start = time.perf_counter()
    trainer.fit(module, train, val)
    seconds = time.perf_counter() - start
    best = checkpoint.best_model_path
    if best:
        load_weights(module.net, Path(best))
    info = {
        "steps": int(trainer.global_step), "epochs": int(trainer.current_epoch), "fit_seconds": round(seconds, 1),
        "best_checkpoint": best or None, "precision": str(trainer.precision),
        "category_weight": module.category_weight, "categories": len(names) if module.category_loss else 0,
    }  # fmt: skip
    return module.net.cpu(), info


def run_training(
    config: TrainConfig | str | Path | None = None, lake=None, promote: bool | None = None
) -> dict[str, Any]:
    """Train on the configured labelled data, evaluate against the champion on the same validation split, register
    the candidate and promote it when it wins the gate.

    Args:
        config: A :class:`TrainConfig` or the path of its YAML file (default config when None).
        lake: The lake (default: settings).
        promote: Override ``gate.promote``.

    Returns:
        Plain dict: version, promoted, reason, metrics, incumbent, incumbent_metrics, data_fingerprint, ...

    Raises:
        LabelledDataError: no usable labelled data (never trains silently on nothing).
    """
    from include.core.lake import open_lake
    from training import registry
    from training.evaluate import evaluate

    cfg = config if isinstance(config, TrainConfig) else load_config(config)
    lake = lake or open_lake()
    start = time.perf_counter()
    ls = build_labelled_set(cfg, lake)
    work_dir = Path(cfg.trainer.work_dir) / f"{time.strftime('%Y%m%dT%H%M%S')}-{ls.fingerprint[:8]}"
    net, info = fit(cfg, ls, work_dir)
    size = cfg.image_size()
    ev = {
        "batch_size": cfg.trainer.batch_size * 2,
        "workers": cfg.data.num_workers,
        "colour_weight": served_colour_weight(),
        "fit": served_fit(),
    }  # the served vectors, fitted as served
    metrics = evaluate(net, ls, ("val",), cfg.model.backbone, size, **ev)
    incumbent = registry.load_embedder(lake)
    inc_metrics = evaluate(incumbent, ls, ("val",), incumbent.model_name, incumbent.image_size, **ev)
    card = registry.register(
        lake, net, image_size=size, config=cfg.model_dump(mode="json", by_alias=True),
        metrics=metrics | {"train": info, "labelled": ls.summary()}, data_fingerprint=ls.fingerprint,
    )  # fmt: skip
    wins, reason = registry.gate(metrics, inc_metrics, cfg.gate.metric, cfg.gate.min_improvement, cfg.gate.guards)
    do_promote = cfg.gate.promote if promote is None else promote
    promoted = bool(wins and do_promote)
    if promoted:
        registry.promote(lake, card["version"])
    elif wins:
        reason += " (promotion disabled)"
    result = {
        "version": card["version"], "promoted": promoted, "reason": reason, "metrics": metrics,
        "incumbent": incumbent.version, "incumbent_metrics": inc_metrics, "data_fingerprint": ls.fingerprint,
        "work_dir": str(work_dir), "seconds": round(time.perf_counter() - start, 1), **info,
    }  # fmt: skip
    registry.record_attempt(lake, ls.fingerprint, result)
    log.info("training result: %s", {k: result[k] for k in ("version", "promoted", "reason")})
    return result
