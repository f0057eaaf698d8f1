"""``make bench-projection``: what narrower served vectors cost on real photos (1344 vs 512 vs 256 vs 128).

    python -m benchmarks.projection --images ../shared/data/fashion-product-images --dims 512,256,128 --out f.json

The real product photos (``styles.csv`` folder) are split in two halves by a stable hash of their id (A, B). Every
photo, and one generated consumer view of it (the demo generator's crop, perspective, background, light and JPEG
noise; ``--no-street`` skips them), is embedded once by the pretrained backbone as the embed stage does it
(``tf_efficientnet_lite0`` 1,280 features + the 64-bin colour histogram at ``--colour-weight``: 1,344 wide). Then,
for each served width (``--dims``; the PCA keeps ``width - 64`` feature axes, the colour bins stay), the PCA of
:mod:`embedding.projection` is fitted on one half and evaluated on the other, both
ways round:

* **category R@1**: each photo of the evaluated half, its nearest *other* photo of that half has its
  ``articleType`` (different real photos, no generated pixels),
* **street R@1**: each consumer view, its nearest photo of the evaluated half is the photo it was made from,
* **same top-1**: share of photos whose nearest other photo is the same as at full width.

The full width is the baseline; a PCA is never evaluated on the half it was fitted on.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


def nearest_other(vectors: np.ndarray) -> np.ndarray:
    """Index of each row's nearest other row (cosine on unit vectors)."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return sims.argmax(1)


def scores(photos: np.ndarray, views: np.ndarray | None, categories: np.ndarray, base_top: np.ndarray | None) -> dict:
    """Category R@1 (photos among themselves), street R@1 (view i -> photo i), same top-1 as ``base_top``."""
    top = nearest_other(photos)
    out = {"category_r1": round(float((categories[top] == categories).mean()), 4)}
    if views is not None:
        out["street_r1"] = round(float(((views @ photos.T).argmax(1) == np.arange(len(photos))).mean()), 4)
    if base_top is not None:
        out["same_top1_as_full"] = round(float((top == base_top).mean()), 4)
    return out, top


def embed_all(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, dict]:
    """Vectors of every photo (and of its consumer view), the photos' categories and half (0: A, 1: B)."""
    from embedding.encoder import Encoder
    from training.data import load_styles, with_consumer_views

    ls = load_styles(args.images, val_fraction=0.5, limit=args.limit)
    shop = ls.table[ls.table["domain"] == "shop"].reset_index(drop=True)
    timings: dict[str, float] = {}
    encoder = Encoder(args.model, colour_weight=args.colour_weight, device=args.device, workers=args.workers)
    start = time.perf_counter()
    photos, kept = encoder.embed_bytes([ls.source.read(i) for i in shop["image"]])
    timings["embed_photos_s"] = round(time.perf_counter() - start, 1)
    if len(kept) != len(shop):
        raise RuntimeError(f"{len(shop) - len(kept)} photos did not decode")
    views = None
    if args.street:
        start = time.perf_counter()
        with_views = with_consumer_views(ls, 1, args.seed, 224, ("train", "val"), os.cpu_count() or 1)
        table = with_views.table
        consumer = table[table["domain"] == "consumer"].set_index("item_id")
        order = consumer.loc[shop["item_id"], "image"].tolist()  # view i is made from photo i
        timings["views_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        views, _ = encoder.embed_bytes([with_views.source.read(i) for i in order])
        timings["embed_views_s"] = round(time.perf_counter() - start, 1)
    halves = (shop["split"] != "train").to_numpy().astype(int)
    info = {"photos": len(shop), "feature_dim": encoder.feature_dim, "full_dim": encoder.dim, **timings}
    return photos, views, shop["category"].to_numpy(), halves, info


def run(args: argparse.Namespace) -> dict:
    """Embed once, then every width fitted on each half and evaluated on the other."""
    from embedding.projection import fit_projection

    photos, views, categories, halves, info = embed_all(args)
    widths = [int(d) for d in str(args.dims).split(",") if d.strip()]
    result = {**info, "model": args.model, "colour_weight": args.colour_weight, "splits": {}}
    for fit_half, eval_half in ((0, 1), (1, 0)):
        fit_rows, eval_rows = halves == fit_half, halves == eval_half
        ev_views = views[eval_rows] if views is not None else None
        full, base_top = scores(photos[eval_rows], ev_views, categories[eval_rows], None)
        rows = {str(info["full_dim"]): full}
        for dim in widths:
            for whiten in (False, True) if args.whiten else (False,):
                start = time.perf_counter()
                pca = dim - (info["full_dim"] - info["feature_dim"])  # served width: PCA + the colour bins
                proj = fit_projection(photos[fit_rows], info["feature_dim"], pca, whiten)
                fit_s = time.perf_counter() - start
                projected = proj.apply(photos[eval_rows])
                pv = proj.apply(ev_views) if ev_views is not None else None
                row, _ = scores(projected, pv, categories[eval_rows], base_top)
                rows[f"{proj.dim}{'w' if whiten else ''}"] = {**row, "pca": pca, "fit_s": round(fit_s, 2)}
        name = f"fit {'AB'[fit_half]} ({int(fit_rows.sum())}) -> eval {'AB'[eval_half]} ({int(eval_rows.sum())})"
        result["splits"][name] = rows
    return result


def table(result: dict) -> str:
    """One line per split and width."""
    lines = [f"{'split':<34}{'width':>8}{'category R@1':>14}{'street R@1':>12}{'same top-1':>12}"]
    for split, rows in result["splits"].items():
        for width, row in rows.items():
            street = f"{row['street_r1']:.3f}" if "street_r1" in row else "-"
            same = f"{row['same_top1_as_full']:.3f}" if "same_top1_as_full" in row else "-"
            lines.append(f"{split:<34}{width:>8}{row['category_r1']:>14.3f}{street:>12}{same:>12}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default=os.environ.get("FTI_REAL_IMAGES", "../shared/data/fashion-product-images"))
    parser.add_argument("--dims", default="512,256,128", help="served widths (PCA + 64 colour bins), comma list")
    parser.add_argument("--whiten", action="store_true", help="also whitened PCAs")
    parser.add_argument("--no-street", dest="street", action="store_false", help="skip the consumer views")
    parser.add_argument("--model", default="tf_efficientnet_lite0")
    parser.add_argument("--colour-weight", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=None, help="first N photos only (quick runs)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    result = run(args)
    result["load"] = os.getloadavg()[0]
    print(table(result))
    text = json.dumps(result)
    print(text, flush=True)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
