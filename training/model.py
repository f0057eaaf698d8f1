"""The triplet embedding model: a timm backbone, a projection head and unit-length output, in a LightningModule.

:class:`EmbeddingNet` is what the registry stores and the embedding service loads; :class:`TripletModule` trains
it with a triplet margin loss over item ids (online mining by default, offline triplets optionally) plus a
weighted auxiliary loss over the items' categories on the same embeddings, AdamW and a warmup + cosine schedule,
in channels_last (bf16 autocast comes from the Trainer's precision on CUDA).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.backbones import create_backbone, freeze_stages, output_features


class CheckpointMismatch(RuntimeError):
    """Weights that belong to another architecture (backbone or embedding size)."""


class EmbeddingNet(nn.Module):
    """Backbone -> linear projection to ``embedding_dim`` -> L2 normalisation."""

    def __init__(self, model_name: str = "tf_efficientnet_lite0", embedding_dim: int = 256, pretrained: bool = True):
        super().__init__()
        self.model_name = model_name
        self.embedding_dim = embedding_dim
        self.backbone = create_backbone(model_name, pretrained)
        self.head = nn.Linear(output_features(self.backbone), embedding_dim)
        nn.init.orthogonal_(self.head.weight)  # a random rotation/projection: keeps pretrained neighbourhoods
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.backbone(x)).float(), dim=1)


class PretrainedEmbedder(nn.Module):
    """The offline-pretrained backbone alone (pooled features, unit length): the model when none was trained."""

    def __init__(self, model_name: str = "tf_efficientnet_lite0", pretrained: bool = True):
        super().__init__()
        self.model_name = model_name
        self.backbone = create_backbone(model_name, pretrained)
        self.embedding_dim = output_features(self.backbone)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.backbone(x).float(), dim=1)


def load_weights(net: nn.Module, source: str | Path | bytes, where: str | None = None) -> None:
    """Load a ``weights.pt`` state dict or a Lightning ``.ckpt`` into ``net``, strictly.

    Raises:
        CheckpointMismatch: the tensors do not fit ``net`` (names the file and both architectures).
    """
    where = where or (str(source) if not isinstance(source, bytes) else "weights")
    try:
        blob = torch.load(io.BytesIO(source) if isinstance(source, bytes) else source, map_location="cpu",
                          weights_only=False)  # fmt: skip
    except Exception as exc:
        raise CheckpointMismatch(f"{where}: not a torch checkpoint ({exc})") from exc
    state = blob.get("state_dict", blob) if isinstance(blob, dict) else None
    if not isinstance(state, dict):
        raise CheckpointMismatch(f"{where}: holds no state dict")
    if any(k.startswith("net.") for k in state):
        state = {k[4:]: v for k, v in state.items() if k.startswith("net.")}
    meta = blob.get("hyper_parameters", {}) if isinstance(blob, dict) else {}
    expected = f"{getattr(net, 'model_name', type(net).__name__)} (dim {getattr(net, 'embedding_dim', '?')})"
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        found = meta.get("model_name") or "another architecture"
        first = str(exc).split("\n")[1:3]
        raise CheckpointMismatch(
            f"{where}: checkpoint of {found} does not fit {expected}: {' '.join(s.strip() for s in first)[:300]}"
        ) from exc


class TripletModule(L.LightningModule):
    """Trains an :class:`EmbeddingNet` with triplet margin loss.

    Args:
        model_name: timm backbone.
        embedding_dim: Output size.
        pretrained: Start from ImageNet weights.
        margin: Triplet margin on the Euclidean distance of unit vectors.
        strategy: ``online`` (batches of ``(images, labels)``, miner picks triplets) or ``offline`` (batches of
            ``(anchor, positive, negative)``).
        miner: Online miner object (pytorch-metric-learning), ignored offline.
        loss: Loss object (default ``TripletMarginLoss(margin)``).
        category_loss: Auxiliary loss over category labels (pytorch-metric-learning; proxies get their own
            param group at ``lr * proxy_lr_mult``), or None. Online strategy only.
        category_miner: Its miner (None for proxy losses).
        category_weight: Weight of the category loss in the total (0 disables it).
        item_category: Category index of every item label (-1: none, ignored by the category loss).
        proxy_lr_mult: Learning-rate multiplier of the category loss's parameters.
        lr, backbone_lr_mult, weight_decay, warmup_fraction: AdamW and the warmup + cosine schedule.
        freeze_bn: Keep the pretrained BatchNorm running statistics (eval mode) while training.
        frozen_stages: Leading backbone stages left untrained (:func:`training.backbones.freeze_stages`); their
            BatchNorm layers always stay in eval mode.
    """

    def __init__(
        self,
        model_name: str = "tf_efficientnet_lite0",
        embedding_dim: int = 256,
        pretrained: bool = True,
        margin: float = 0.3,
        strategy: str = "online",
        miner: Any = None,
        loss: Any = None,
        lr: float = 3e-4,
        backbone_lr_mult: float = 0.3,
        weight_decay: float = 1e-4,
        warmup_fraction: float = 0.05,
        freeze_bn: bool = True,
        category_loss: Any = None,
        category_miner: Any = None,
        category_weight: float = 0.0,
        item_category: Any = None,
        proxy_lr_mult: float = 100.0,
        frozen_stages: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["miner", "loss", "category_loss", "category_miner", "item_category"])
        from training.mining import make_loss

        self.net = EmbeddingNet(model_name, embedding_dim, pretrained).to(memory_format=torch.channels_last)
        freeze_stages(self.net.backbone, frozen_stages)
        self.net.train()
        self.loss_fn = loss if loss is not None else make_loss(margin)
        self.miner = miner
        enabled = category_loss is not None and category_weight > 0 and item_category is not None
        self.category_loss = category_loss if enabled else None
        self.category_miner = category_miner if enabled else None
        self.category_weight = float(category_weight) if enabled else 0.0
        cats = torch.as_tensor(np.asarray(item_category if enabled else [], np.int64))
        self.register_buffer("item_category", cats, persistent=False)
        n_cats = int(cats.max()) + 1 if len(cats) else 0
        self.register_buffer("proxy_seen", torch.zeros(n_cats, dtype=torch.bool), persistent=False)
        self.last_losses: dict[str, float] = {}
        self.val_is_query: np.ndarray | None = None  # consumer rows of the validation loader, in order
        self._val: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def freeze_batchnorm(self) -> None:
        """Put the backbone's BatchNorm layers in eval mode when ``freeze_bn``, and those of frozen stages always
        (called each train epoch)."""
        for m in self.net.backbone.modules():
            if not isinstance(m, nn.modules.batchnorm._BatchNorm):
                continue
            params = list(m.parameters())
            if self.hparams.freeze_bn or (params and not any(p.requires_grad for p in params)):
                m.eval()

    def on_train_epoch_start(self) -> None:
        self.freeze_batchnorm()

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        def cl(t: Any) -> Any:
            return t.contiguous(memory_format=torch.channels_last) if torch.is_tensor(t) and t.ndim == 4 else t

        return [cl(t) for t in batch] if isinstance(batch, list | tuple) else cl(batch)

    def compute_loss(self, batch: Any) -> tuple[torch.Tensor, int]:
        """Loss of one batch and the number of triplets it used."""
        if self.hparams.strategy == "offline":
            a, p, n = batch
            b = a.shape[0]
            emb = self(torch.cat([a, p, n]))
            idx = torch.arange(b, device=emb.device)
            labels = torch.cat([idx, idx, idx + b])
            return self.loss_fn(emb, labels, (idx, idx + b, idx + 2 * b)), b
        images, labels = batch
        emb = self(images)
        triplets = self.miner(emb, labels) if self.miner is not None else None
        n = len(triplets[0]) if triplets is not None else -1
        loss = self.loss_fn(emb, labels, triplets)
        self.last_losses = {"item_loss": float(loss.detach())}
        if self.category_loss is not None:
            cat_loss = self.category_term(emb, labels)
            self.last_losses["category_loss"] = float(cat_loss.detach())
            loss = loss + self.category_weight * cat_loss
        return loss, n

    def category_term(self, emb: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The category loss of a batch (unweighted); images of items without a category are left out."""
        cats = self.item_category.to(labels.device)[labels]
        keep = cats >= 0
        if int(keep.sum()) < 2:
            return emb.sum() * 0.0
        emb, cats = emb[keep], cats[keep]
        self.init_proxies(emb, cats)
        tuples = self.category_miner(emb, cats) if self.category_miner is not None else None
        return self.category_loss(emb, cats, tuples)

    @torch.no_grad()
    def init_proxies(self, emb: torch.Tensor, cats: torch.Tensor) -> None:
        """Start each category's proxy at the mean embedding of its first batch instead of a random vector.

        Random proxies are nearly orthogonal to every pretrained embedding, so a proxy loss would first drag all
        embeddings towards random directions and break the pretrained neighbourhoods; starting at the category
        mean keeps them. Applies to ``ProxyAnchorLoss`` (``proxies``, C x D) and ``NormalizedSoftmaxLoss``
        (``W``, D x C); other losses are left alone.
        """
        if not self.training or len(self.proxy_seen) == 0:
            return
        proxies = getattr(self.category_loss, "proxies", None)
        transposed = proxies is None
        proxies = getattr(self.category_loss, "W", None) if transposed else proxies
        if not isinstance(proxies, torch.Tensor):
            return
        for c in torch.unique(cats[~self.proxy_seen[cats]]).tolist():
            mean = F.normalize(emb[cats == c].detach().float().mean(0), dim=0).to(proxies.dtype)
            if transposed:
                proxies[:, c] = mean * proxies[:, c].norm()
            else:
                proxies[c] = mean * proxies[c].norm()
            self.proxy_seen[c] = True

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss, n = self.compute_loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch[0]))
        if n >= 0:
            self.log("train/triplets", float(n), batch_size=len(batch[0]))
        for name, value in self.last_losses.items() if self.category_loss is not None else ():
            self.log(f"train/{name}", value, batch_size=len(batch[0]))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        images, labels = batch
        self._val.append((self(images).float().cpu(), labels.cpu()))

    def on_validation_epoch_end(self) -> None:
        from training.metrics import recall_at_k

        if not self._val or self.val_is_query is None:
            return
        emb = torch.cat([e for e, _ in self._val]).numpy()
        labels = torch.cat([lab for _, lab in self._val]).numpy()
        is_query = self.val_is_query[: len(emb)]
        if is_query.any() and (~is_query).any():
            rec = recall_at_k(emb[is_query], labels[is_query], emb[~is_query], labels[~is_query], (1, 5, 10, 20))
            for k, v in rec.items():
                self.log(f"val/{k}", v, prog_bar=k == "recall@1")
        self._val = []

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        trainable = [p for p in self.net.backbone.parameters() if p.requires_grad]
        groups = [
            {"params": trainable, "lr": hp.lr * hp.backbone_lr_mult},
            {"params": self.net.head.parameters(), "lr": hp.lr},
        ]
        if self.category_loss is not None and list(self.category_loss.parameters()):
            groups.append({"params": self.category_loss.parameters(), "lr": hp.lr * hp.proxy_lr_mult,
                           "weight_decay": 0.0})  # fmt: skip
        opt = torch.optim.AdamW(groups, lr=hp.lr, weight_decay=hp.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = int(total * hp.warmup_fraction)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)
            progress = (step - warmup) / max(1, total - warmup)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
