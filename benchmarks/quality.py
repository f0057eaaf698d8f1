"""``make bench-quality``: does training help, and what does Lightning cost?

Real photos (``--images``, default ``$FTI_REAL_IMAGES``, a ``styles.csv`` folder) are split by product id into
train / val / test. First come the real-photo semantic rows, which need no generated image: between *different*
real test photos (leave-one-out, one photo per product), how often the nearest one has the same ``articleType``,
and the same ``articleType`` and ``baseColour``. Then the generated-view rows, labelled as such: generated
consumer views of the test photos (the demo generator's scene, perspective, light
and noise) are the queries; the original test photos are the gallery. One table gives R@1, R@20 and category R@1
(leave-one-out over the gallery) for a random-init backbone, the offline-pretrained backbone, and the trained
model (online mining with the default category loss, and the original offline recipe with the same image
budget; ``--category-ablation`` adds an online row with ``loss.category_weight: 0``). Then the steps/s of the
Lightning loop and of a plain PyTorch loop on the same pre-built batches. CUDA is used when present (bf16).

    python -m benchmarks.quality --images ../shared/data/fashion-product-images --size 128 --epochs 3 \\
        --subset 600 --out bench.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from training.backbones import resolve_device
from training.config import TrainConfig, apply_overrides, parse_overrides
from training.data import load_styles, with_consumer_views
from training.data.base import LabelledSet
from training.evaluate import evaluate

log = logging.getLogger("benchmarks.quality")
TARGETS = {"trained_minus_pretrained_r1": 0.05, "trained_r1": 0.90, "category_r1": 0.85, "lightning_overhead": 0.05}


def build_data(args: argparse.Namespace) -> LabelledSet:
    """Photos split by id; consumer views for train/val (``--views`` each) and one per test photo (other seed)."""
    ls = load_styles(args.images, val_fraction=args.val_fraction, test_fraction=args.test_fraction, limit=args.subset)
    workers = os.cpu_count() or 1
    start = time.perf_counter()
    ls = with_consumer_views(ls, args.views, args.seed, args.view_size, ("train", "val"), workers)
    ls = with_consumer_views(ls, 1, args.seed + 1000, args.view_size, ("test",), workers)
    log.info("data: %s (views generated in %.0f s)", ls.summary(), time.perf_counter() - start)
    return ls


def train_config(
    args: argparse.Namespace, strategy: str, miner: str, limit: int | None, work: Path, weight: float | None = None
) -> TrainConfig:
    """The config of one benchmark fit: ``--set`` overrides, then ``weight`` (or ``--category-weight``) as
    ``loss.category_weight`` when given."""
    raw = {
        "seed": args.seed,
        "data": {"image_size": args.size, "num_workers": args.workers, "sets": [{"kind": "synthetic"}]},
        "model": {"backbone": args.model, "embedding_dim": args.dim, "pretrained": True},
        "mining": {"strategy": strategy, "miner": miner, "m_per_class": 4},
        "optim": {"lr": args.lr},
        "trainer": {
            "max_epochs": args.epochs, "batch_size": args.batch_size, "limit_train_batches": limit,
            "progress_bar": False, "tensorboard": False, "work_dir": str(work), "log_every_n_steps": 5,
        },
    }  # fmt: skip
    apply_overrides(raw, parse_overrides(args.set))
    weight = weight if weight is not None else args.category_weight
    if weight is not None:
        raw.setdefault("loss", {})["category_weight"] = weight
    return TrainConfig.model_validate(raw)


def base_colours(images: str | Path) -> dict[str, str]:
    """``id -> baseColour`` of a styles.csv folder (empty when the column is missing)."""
    import pandas as pd

    styles = pd.read_csv(Path(images) / "styles.csv", dtype=str).fillna("")
    return dict(zip(styles["id"], styles["baseColour"], strict=True)) if "baseColour" in styles else {}


def semantic(model, ls: LabelledSet, model_name: str, size: int, colours: dict[str, str], ev: dict) -> dict[str, Any]:
    """Real-photo semantic R@1 between different real test photos (no generated image): the nearest other photo
    has the same articleType; the same articleType and baseColour."""
    from training.evaluate import embed_table
    from training.metrics import category_recall_at_1

    test = ls.split("test")
    photos = test[test["domain"] == "shop"].reset_index(drop=True)
    vectors, _ = embed_table(model, photos, ls.source, model_name, size, ev["batch_size"], ev["device"],
                             ev["workers"])  # fmt: skip
    types = photos["category"].astype(str)
    both = types + "|" + photos["item_id"].astype(str).map(lambda i: colours.get(i, ""))
    return {"real_photos": len(photos), "real_same_type_r1": category_recall_at_1(vectors, types),
            "real_same_type_colour_r1": category_recall_at_1(vectors, both)}  # fmt: skip


def quality(args: argparse.Namespace, ls: LabelledSet, work: Path) -> tuple[list[dict], dict]:
    """Evaluate random-init, pretrained and trained models on the test split."""
    from training.model import PretrainedEmbedder
    from training.train import fit

    ev = {"batch_size": 2 * args.batch_size, "device": args.device, "workers": args.workers}
    rows: list[dict[str, Any]] = []

    colours = base_colours(args.images)

    def add(name: str, model, size: int, extra: dict | None = None) -> None:
        m = evaluate(model, ls, ("test",), args.model, size, **ev)
        real = semantic(model, ls, args.model, size, colours, ev)
        rows.append({"model": name, "size": size, **real, **m, **(extra or {})})
        print(f"  {name:<28} real photos: same type R@1 {real['real_same_type_r1']:.3f}, same type+colour R@1 "
              f"{real['real_same_type_colour_r1']:.3f} | generated views: R@1 {m['recall@1']:.3f}  R@20 "
              f"{m['recall@20']:.3f}  ({m['eval_img_per_s']:.0f} img/s)", flush=True)  # fmt: skip

    torch.manual_seed(args.seed)
    add("random-init", PretrainedEmbedder(args.model, pretrained=False), args.size)
    add("pretrained", PretrainedEmbedder(args.model, pretrained=True), args.size)
    info: dict[str, Any] = {}
    online_steps = None
    runs = [(s, None) for s in args.miners.split(",")]
    if args.category_ablation:
        runs.append(("online", 0.0))
    for strategy, weight in runs:
        miner = "semihard" if strategy == "semihard" else "batch_hard"
        kind = "offline" if strategy == "offline" else "online"
        limit = online_steps if kind == "offline" else None  # the same number of steps (and images) as online
        cfg = train_config(args, kind, miner, limit, work / f"{strategy}-{weight}", weight)
        if weight is not None:
            strategy = f"{strategy}, category_weight={weight:g}"
        net, fit_info = fit(cfg, ls, work / strategy)
        images_per_step = cfg.trainer.batch_size if kind == "online" else 3 * max(1, cfg.trainer.batch_size // 3)
        fit_info["train_img_per_s"] = round(fit_info["steps"] * images_per_step / max(fit_info["fit_seconds"], 1e-9), 1)
        if kind == "online" and online_steps is None:
            online_steps = max(1, fit_info["steps"] // max(1, args.epochs))
        info[strategy] = fit_info
        print(f"  trained ({strategy}): {fit_info['steps']} steps in {fit_info['fit_seconds']:.0f} s, "
              f"{fit_info['train_img_per_s']} img/s", flush=True)  # fmt: skip
        add(f"trained ({strategy})", net, args.size, {"fit": fit_info})
    return rows, info


def _batches(args: argparse.Namespace, ls: LabelledSet, n: int) -> list:
    from training.train import dataloaders

    cfg = train_config(args, "online", "batch_hard", None, Path(tempfile.gettempdir()))
    train, _, _ = dataloaders(cfg, ls)
    out: list = []
    while len(out) < n:
        for batch in train:
            out.append(batch)
            if len(out) == n:
                break
    return out


def loop_overhead(args: argparse.Namespace, ls: LabelledSet) -> dict[str, Any]:
    """steps/s of Lightning's fit loop vs a plain PyTorch loop on the same pre-built batches.

    Each loop's rate is the median start-to-start step interval; the best of ``--timing-repeats`` interleaved runs.
    """
    import lightning as L

    from training.train import build_module

    device = resolve_device(args.device)
    batches = _batches(args, ls, args.timing_steps + 2)
    cfg = train_config(args, "online", "batch_hard", None, Path(tempfile.gettempdir()))
    cuda = device.startswith("cuda")

    def sync() -> float:
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def rate(stamps: list[float]) -> float:
        """Steps/s from the median start-to-start interval after two warm-up steps (robust to CPU contention)."""
        gaps = sorted(b - a for a, b in zip(stamps[2:], stamps[3:], strict=False))
        return 1.0 / gaps[len(gaps) // 2]

    def plain() -> float:
        torch.manual_seed(args.seed)
        module = build_module(cfg).to(device)
        module.train()
        module.freeze_batchnorm()
        opt = torch.optim.AdamW(
            [{"params": module.net.backbone.parameters(), "lr": cfg.optim.lr * cfg.optim.backbone_lr_mult},
             {"params": module.net.head.parameters(), "lr": cfg.optim.lr}], weight_decay=cfg.optim.weight_decay,
        )  # fmt: skip
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / len(batches))))
        stamps = []
        for x, y in batches:
            stamps.append(sync())
            x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                loss, _ = module.compute_loss((x, y.to(device, non_blocking=True)))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            sched.step()
        stamps.append(sync())
        return rate(stamps)

    class Clock(L.Callback):
        stamps: list[float] = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.stamps.append(sync())

        def on_train_end(self, trainer, pl_module):
            self.stamps.append(sync())

    def lightning() -> float:
        torch.manual_seed(args.seed)
        module = build_module(cfg)
        clock = Clock()
        clock.stamps = []
        trainer = L.Trainer(
            accelerator="gpu" if cuda else "cpu", devices=1, precision="bf16-mixed" if cuda else "32-true",
            max_steps=len(batches), logger=False, enable_checkpointing=False, enable_progress_bar=False,
            enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0, callbacks=[clock],
        )  # fmt: skip
        trainer.fit(module, torch.utils.data.DataLoader(batches, batch_size=None))
        return rate(clock.stamps)

    plain_rates, lightning_rates = [], []
    for _ in range(args.timing_repeats):
        plain_rates.append(plain())
        lightning_rates.append(lightning())
    p, lt = max(plain_rates), max(lightning_rates)
    bs = len(batches[0][0])
    res = {"device": device, "steps": len(batches) - 2, "batch_size": bs,
           "plain_steps_per_s": round(p, 3), "lightning_steps_per_s": round(lt, 3),
           "plain_img_per_s": round(p * bs, 1), "lightning_img_per_s": round(lt * bs, 1),
           "overhead": round(1 - lt / p, 4), "repeats": args.timing_repeats}  # fmt: skip
    print(f"  plain {p:.3f} steps/s, lightning {lt:.3f} steps/s: overhead {res['overhead']:+.1%}", flush=True)
    return res


def table(rows: list[dict]) -> str:
    """Markdown tables of the quality rows: the real-photo semantic rows first, then the generated-view rows."""
    lines = ["Real photos (different real test photos, no generated image):", "",
             "| model | size | photos | same articleType R@1 | same articleType + baseColour R@1 |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['model']} | {r['size']} | {r['real_photos']} | {r['real_same_type_r1']:.3f} | "
                     f"{r['real_same_type_colour_r1']:.3f} |")  # fmt: skip
    lines += ["", "Generated views (queries made from the gallery photos' own pixels; not a real-photo figure):", "",
              "| model | size | generated-view R@1 | R@5 | R@20 | category R@1 |",
              "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['model']} | {r['size']} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | "
                     f"{r['recall@20']:.3f} | {r['category_recall@1']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--images", default=os.environ.get("FTI_REAL_IMAGES"), help="styles.csv folder")
    p.add_argument("--subset", type=int, default=None, help="use the first N photos (default: all)")
    p.add_argument("--size", type=int, default=224, help="training/evaluation image size")
    p.add_argument("--view-size", type=int, default=224, help="size of the generated consumer views")
    p.add_argument("--views", type=int, default=2, help="consumer views per train/val photo")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--model", default="tf_efficientnet_lite0")
    p.add_argument("--miners", default="online,offline", help="comma list of online, semihard, offline")
    p.add_argument(
        "--category-weight",
        type=float,
        default=None,
        help="loss.category_weight of the trained rows (default: the config default)",
    )
    p.add_argument(
        "--category-ablation",
        action="store_true",
        help="also train online with category_weight=0 (item loss only) for comparison",
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override for the trained rows, e.g. model.frozen_stages=6 (repeatable)")  # fmt: skip
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--device", default="auto")
    p.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: 0 on CPU, 8 on CUDA)")
    p.add_argument("--timing-steps", type=int, default=20)
    p.add_argument("--timing-repeats", type=int, default=2)
    p.add_argument("--skip-timing", action="store_true")
    p.add_argument("--out", default=None, help="write the results JSON here")
    args = p.parse_args(argv)
    if not args.images or not Path(args.images, "styles.csv").is_file():
        p.error("--images (or FTI_REAL_IMAGES) must name a folder with styles.csv and images/")
    if args.workers is None:
        args.workers = min(8, os.cpu_count() or 1) if resolve_device(args.device).startswith("cuda") else 0
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the table and write ``--out``."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("benchmarks.quality").setLevel(logging.INFO)
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU ({os.cpu_count()} cores)"
    print(f"bench-quality on {name}: {vars(args)}", flush=True)
    start = time.perf_counter()
    ls = build_data(args)
    with tempfile.TemporaryDirectory(prefix="fti-bench-") as work:
        rows, fits = quality(args, ls, Path(work))
        timing = None if args.skip_timing else loop_overhead(args, ls)
    pre = next(r for r in rows if r["model"] == "pretrained")
    trained = [r for r in rows if r["model"].startswith("trained")]
    best = max(trained, key=lambda r: r["recall@1"]) if trained else None
    checks = {}
    if best:
        checks = {
            "real-photo same-articleType R@1 >= 0.85": best["real_same_type_r1"] >= 0.85,
            "generated-view trained_r1 >= pretrained_r1 + 0.05": best["recall@1"] >= pre["recall@1"] + 0.05,
            "generated-view trained_r1 >= 0.90": best["recall@1"] >= 0.90,
            "category_r1 >= 0.85": best["category_recall@1"] >= 0.85,
        }
    if timing:
        checks["lightning overhead <= 5%"] = timing["overhead"] <= 0.05
    result = {"device": name, "args": vars(args), "data": ls.summary(), "quality": rows, "fits": fits,
              "best": best["model"] if best else None, "loop": timing, "checks": checks,
              "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    print("\n" + table(rows))
    for k, ok in checks.items():
        print(f"  {'PASS' if ok else 'MISS'}  {k}")
    print(f"total {result['seconds']:.0f} s")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, default=str))
        print(f"results: {args.out}")
    return result


if __name__ == "__main__":
    main()
