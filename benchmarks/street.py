"""``make bench-street``: matching garments in street scenes made of real product photos, whole photo vs regions.

Real photos (``--images``, default ``$FTI_REAL_IMAGES``, a ``styles.csv`` folder) are split by product id: most
form the gallery (the original photos, embedded as the catalog is), the rest are distractors that are never in the
gallery. Each scene (:func:`include.synth.street.compose_street`) holds one to three gallery products cut out of
their white studio backgrounds and one or two distractor cut-outs on a cluttered street-like background, at 15-60 %
of the frame's height, in perspective, partly occluded, lit unevenly, with sensor noise. No scene pixel is a
gallery photo's pixel as it is: each cut-out is rescaled, warped, occluded, relit and noised.

One table: whole-photo R@1/R@20 (today's path: the scene as one vector; a planted product counts at K when it is
among the photo's K nearest), localised R@1/R@20 (:mod:`embedding.regions`; a planted product counts at K when
some region of its scene has it among its K nearest), localisation AP@0.5 and box recall at IoU 0.5 over every
placed cut-out (products and distractors: all are garments), regions per scene, and the img/s of both social
paths (decode, localise, embed; the search is excluded: exact numpy). The last line is the summary.

    python -m benchmarks.street --images ../shared/data/fashion-product-images --scenes 300 --out street.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from embedding.regions import Localiser, embed_regions, iou
from include.synth.apparel import jpeg_bytes
from include.synth.street import Placed, compose_street

TARGETS = {"localised_r1": 0.85, "localised_minus_whole_r1": 0.20, "box_recall": 0.90}


def split_ids(ids: list[str], distractor_fraction: float, salt: str = "street") -> tuple[list[str], list[str]]:
    """Gallery and distractor product ids, by a stable hash of the id (a distractor is never in the gallery)."""

    def u(i: str) -> float:
        return int(hashlib.sha1(f"{salt}:{i}".encode()).hexdigest()[:8], 16) / 2**32

    gallery = [i for i in ids if u(i) >= distractor_fraction]
    return gallery, [i for i in ids if u(i) < distractor_fraction]


def scenes(root: Path, gallery: list[str], distractors: list[str], n: int, seed: int, size: tuple[int, int]):
    """``n`` composed scenes: (JPEG bytes, placed cut-outs)."""
    rng = np.random.default_rng(seed)
    out: list[tuple[bytes, list[Placed]]] = []
    for _ in range(n):
        k, d = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        picks = [(str(i), Image.open(root / "images" / f"{i}.jpg")) for i in rng.choice(gallery, k, replace=False)]
        others = [(str(i), Image.open(root / "images" / f"{i}.jpg"))
                  for i in rng.choice(distractors, min(d, len(distractors)), replace=False)]  # fmt: skip
        image, placed = compose_street(picks, others, rng, size)
        out.append((jpeg_bytes(image, 90), placed))
    return out


def deepfashion2(root: Path, limit: int) -> tuple[list[str], list[bytes], list[tuple[bytes, list[Placed]]]]:
    """A DeepFashion2 folder (``image/<n>.jpg``, ``annos/<n>.json`` with ``source``, ``pair_id`` and ``itemN``
    boxes and styles): the gallery is every shop item (style > 0) cropped to its box, keyed ``pair-style``; the
    scenes are the first ``limit`` user photos, each item a placed box (a distractor when its style is 0 or no
    shop item has its key)."""
    import io

    shop: dict[str, bytes] = {}
    users: list[tuple[bytes, list[tuple[str, tuple[int, int, int, int]]]]] = []
    for anno in sorted((root / "annos").glob("*.json")):
        meta = json.loads(anno.read_text())
        data = (root / "image" / f"{anno.stem}.jpg").read_bytes()
        items = [(f"{meta['pair_id']}-{v['style']}" if v.get("style") else "", tuple(int(c) for c in
                  v["bounding_box"])) for k, v in sorted(meta.items()) if k.startswith("item")]  # fmt: skip
        if meta.get("source") == "shop":
            photo = Image.open(io.BytesIO(data)).convert("RGB")
            for key, box in items:
                if key and key not in shop:
                    shop[key] = jpeg_bytes(photo.crop(box), 92)
        elif len(users) < limit:
            users.append((data, items))
    composed = [(data, [Placed(key or f"unpaired-{n}", box, key not in shop) for key, box in items])
                for n, (data, items) in enumerate(users)]  # fmt: skip
    return list(shop), list(shop.values()), composed


def ranks(queries: np.ndarray, gallery: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` nearest gallery vectors of every query (exact cosine: unit vectors)."""
    sims = queries @ gallery.T
    k = min(k, gallery.shape[0])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def average_precision(found: list[tuple[float, int, tuple]], truth: list[list[tuple]], thr: float = 0.5) -> float:
    """VOC-style AP (all points) of scored boxes ``(score, scene, box)`` against each scene's true boxes."""
    total = sum(len(t) for t in truth)
    if not total:
        return 0.0
    used = [np.zeros(len(t), bool) for t in truth]
    tp = []
    for _, scene, box in sorted(found, key=lambda f: -f[0]):
        ious = [iou(box, t) for t in truth[scene]]
        best = int(np.argmax(ious)) if ious else -1
        hit = best >= 0 and ious[best] >= thr and not used[scene][best]
        if hit:
            used[scene][best] = True
        tp.append(hit)
    tp_c = np.cumsum(tp)
    recall = tp_c / total
    precision = tp_c / np.arange(1, len(tp) + 1)
    mrec = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:]))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Compose, embed, localise and score; returns the JSON-able result."""
    from embedding.encoder import Encoder

    if args.deepfashion2:
        root = Path(args.deepfashion2)
        gallery_ids, gallery_blobs, composed = deepfashion2(root, args.scenes)
        distractor_ids: list[str] = sorted({p.key for _, ps in composed for p in ps if p.distractor})
    else:
        root = Path(args.images)
        styles = pd.read_csv(root / "styles.csv", dtype={"id": str})
        ids = [i for i in styles["id"] if (root / "images" / f"{i}.jpg").is_file()]
        gallery_ids, distractor_ids = split_ids(ids, args.distractor_fraction)
        gallery_blobs = [(root / "images" / f"{i}.jpg").read_bytes() for i in gallery_ids]
    encoder = Encoder(args.model, True, device=args.device, colour_weight=args.colour_weight, workers=0)
    localiser = Localiser(args.model, args.region_size, args.max_regions, args.min_score, device=args.device)
    start = time.perf_counter()
    gvec, kept = encoder.embed_bytes(gallery_blobs)
    gallery_ids = [gallery_ids[i] for i in kept]
    gallery_s = time.perf_counter() - start
    index = {g: n for n, g in enumerate(gallery_ids)}
    if not args.deepfashion2:
        composed = scenes(root, gallery_ids, distractor_ids, args.scenes, args.seed, (args.width, args.height))
    blobs = [b for b, _ in composed]
    start = time.perf_counter()
    whole, _ = encoder.embed_bytes(blobs)
    whole_s = time.perf_counter() - start
    start = time.perf_counter()
    regions = embed_regions(encoder, localiser, blobs)
    region_s = time.perf_counter() - start
    k = 20
    whole_top = ranks(whole, gvec, k)
    region_top = ranks(regions.vectors, gvec, k) if len(regions.vectors) else np.zeros((0, k), int)
    by_scene: dict[int, list[np.ndarray]] = {}
    for row, (scene, _) in enumerate(regions.owners):
        by_scene.setdefault(scene, []).append(region_top[row])
    hits = {"whole@1": 0, "whole@20": 0, "localised@1": 0, "localised@20": 0}
    planted = 0
    for s, (_, placed) in enumerate(composed):
        for p in placed:
            if p.distractor:
                continue
            planted += 1
            g = index.get(p.key, -1)
            hits["whole@1"] += int(whole_top[s, 0] == g)
            hits["whole@20"] += int(g in whole_top[s, :k])
            tops = by_scene.get(s, [])
            hits["localised@1"] += int(any(t[0] == g for t in tops))
            hits["localised@20"] += int(any(g in t[:k] for t in tops))
    truth = [[p.box for p in placed] for _, placed in composed]
    found = [(r.score, s, r.box) for s, loc in enumerate(regions.localised) for r in loc.regions]
    recalled = sum(any(iou(r.box, t) >= 0.5 for r in regions.localised[s].regions)
                   for s, boxes in enumerate(truth) for t in boxes)  # fmt: skip
    n_boxes = sum(len(t) for t in truth)
    result = {
        "data": str(root), "format": "deepfashion2" if args.deepfashion2 else "composed styles.csv scenes",
        "gallery": len(gallery_ids), "distractor_products": len(distractor_ids),
        "scenes": len(composed), "planted": planted, "boxes": n_boxes,
        "whole_r1": hits["whole@1"] / max(1, planted), "whole_r20": hits["whole@20"] / max(1, planted),
        "localised_r1": hits["localised@1"] / max(1, planted), "localised_r20": hits["localised@20"] / max(1, planted),
        "ap50": average_precision(found, truth), "box_recall": recalled / max(1, n_boxes),
        "regions_per_scene": len(regions.owners) / max(1, len(composed)), "outcomes": regions.outcomes,
        "whole_img_per_s": len(blobs) / max(whole_s, 1e-9), "social_img_per_s": len(blobs) / max(region_s, 1e-9),
        "gallery_img_per_s": len(gallery_ids) / max(gallery_s, 1e-9),
        "params": {k: v for k, v in vars(args).items() if k != "out"}, "targets": TARGETS,
        "load": _load(), "device": encoder.device,
    }  # fmt: skip
    return result


def _load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        return f"loadavg {os.getloadavg()}"


def table(r: dict[str, Any]) -> str:
    """The printed table, the summary line last."""
    rows = [
        ("whole-photo R@1 / R@20 (today)", f"{r['whole_r1']:.3f} / {r['whole_r20']:.3f}"),
        ("localised R@1 / R@20 (regions)", f"{r['localised_r1']:.3f} / {r['localised_r20']:.3f}"),
        ("localisation AP@0.5", f"{r['ap50']:.3f}"),
        ("box recall @ IoU 0.5", f"{r['box_recall']:.3f}"),
        ("regions per scene", f"{r['regions_per_scene']:.2f}"),
        ("social path img/s (regions | whole)", f"{r['social_img_per_s']:.1f} | {r['whole_img_per_s']:.1f}"),
    ]
    head = (f"bench-street: {r['scenes']} scenes, {r['planted']} planted products ({r['boxes']} cut-outs), "
            f"gallery {r['gallery']} real photos, {r['distractor_products']} distractor products")  # fmt: skip
    lines = [head, *(f"  {name:<38} {value}" for name, value in rows)]
    lines.append(f"street: whole R@1 {r['whole_r1']:.2f}, localised R@1 {r['localised_r1']:.2f}, "
                 f"box recall {r['box_recall']:.2f}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", default=os.environ.get("FTI_REAL_IMAGES", "../shared/data/fashion-product-images"))
    p.add_argument("--scenes", type=int, default=300)
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--height", type=int, default=640)
    p.add_argument("--distractor-fraction", type=float, default=0.2)
    p.add_argument("--model", default="tf_efficientnet_lite0")
    p.add_argument("--colour-weight", type=float, default=0.5)
    p.add_argument("--region-size", type=int, default=448)
    p.add_argument("--max-regions", type=int, default=6)
    p.add_argument("--min-score", type=float, default=0.25)
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--deepfashion2",
        default=None,
        metavar="DIR",
        help="user photos of a DeepFashion2 folder (image/, annos/) against its shop items instead",
    )
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    result = run(args)
    print(table(result), flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
