"""Synthetic consumer/shop pairs from the demo generator (:mod:`include.synth`).

* :func:`synthetic_designs`: random garments, each rendered as a studio packshot (shop) and as consumer photos.
* :func:`with_consumer_views`: consumer-style views (scene, perspective, light, noise) of the shop photos of
  any set - e.g. real photos in the ``styles.csv`` layout - seeded per image, so reruns give the same views.
"""

from __future__ import annotations

import io
import zlib
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
from PIL import Image

from training.data.base import ImageSource, LabelledSet, MemorySource, MultiSource, hash_split, rng_for, sha256_bytes


def _design_images(args: tuple[int, int, int, int]) -> tuple[bytes, list[bytes], str]:
    from include.synth.apparel import jpeg_bytes, random_design, render_consumer_view, render_product

    seed, index, views, size = args
    design = random_design(rng_for("design", seed, index))
    shop = render_product(design, (size, size))
    rng = rng_for("view", seed, index)
    consumer = [jpeg_bytes(render_consumer_view(design, rng, (size, size)), 85) for _ in range(views)]
    return jpeg_bytes(shop, 90), consumer, design.silhouette


def _map(fn, jobs: list, workers: int) -> list:
    if workers <= 1 or len(jobs) < 16:
        return [fn(j) for j in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(fn, jobs, chunksize=8))


def synthetic_designs(
    n_items: int = 200, views: int = 2, seed: int = 7, size: int = 224, val_fraction: float = 0.2, workers: int = 1
) -> LabelledSet:
    """``n_items`` generated garments: one shop packshot and ``views`` consumer photos each."""
    images: dict[str, bytes] = {}
    rows = []
    results = _map(_design_images, [(seed, i, views, size) for i in range(n_items)], workers)
    for i, (shop, consumer, category) in enumerate(results):
        item = f"d{i:05d}"
        images[f"{item}/shop.jpg"] = shop
        rows.append((f"{item}/shop.jpg", item, category, "shop"))
        for v, data in enumerate(consumer):
            images[f"{item}/consumer_{v}.jpg"] = data
            rows.append((f"{item}/consumer_{v}.jpg", item, category, "consumer"))
    table = pd.DataFrame(rows, columns=["image", "item_id", "category", "domain"])
    table["split"] = hash_split(table["item_id"], val_fraction)
    fp = sha256_bytes(f"designs:{n_items}:{views}:{seed}:{size}:{val_fraction}".encode())
    return LabelledSet("synthetic", table, MemorySource(images), fp)


def _view_job(args: tuple[bytes, str, int, int, int]) -> list[bytes]:
    from include.synth.apparel import consumer_view_of_photo, jpeg_bytes

    data, ref, seed, views, size = args
    rng = rng_for("photo-view", seed, zlib.crc32(ref.encode()))
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        return [jpeg_bytes(consumer_view_of_photo(img, rng, (size, size)), 85) for _ in range(views)]


def with_consumer_views(
    ls: LabelledSet, views: int = 1, seed: int = 7, size: int = 224, splits: tuple[str, ...] | None = None,
    workers: int = 1,
) -> LabelledSet:  # fmt: skip
    """``ls`` plus ``views`` generated consumer views of each of its shop images (in ``splits``, default all).

    The views are new ``consumer`` rows of the same item; the shop rows stay as they are.
    """
    shop = ls.table[(ls.table["domain"] == "shop") & (ls.table["split"].isin(splits or ("train", "val", "test")))]
    jobs = [(ls.source.read(r.image), r.image, seed, views, size) for r in shop.itertuples()]
    memory: dict[str, bytes] = {}
    rows = []
    for r, generated in zip(shop.itertuples(), _map(_view_job, jobs, workers), strict=True):
        for v, data in enumerate(generated):
            ref = f"{r.image}#view{v}"
            memory[ref] = data
            rows.append((f"1:{ref}", r.item_id, r.category, "consumer", r.split))
    base = ls.table.copy()
    base["image"] = "0:" + base["image"]
    extra = pd.DataFrame(rows, columns=["image", "item_id", "category", "domain", "split"])
    table = pd.concat([base, extra], ignore_index=True)
    source: ImageSource = MultiSource([ls.source, MemorySource(memory)])
    fp = sha256_bytes(ls.fingerprint.encode(), f"views:{views}:{seed}:{size}:{splits}".encode())
    return LabelledSet(ls.name, table, source, fp)


__all__ = ["hash_split", "synthetic_designs", "with_consumer_views"]
