"""Embedding throughput and memory, measured in one run (``make bench-embed``).

    python -m benchmarks.embed --images 512 --batch-size 32 [--device cuda] [--workers 8] [--out bench.json]
    python -m benchmarks.embed --memory-images 10000      # + peak memory of embedding 10k images

Three paths over the same synthetic product photos (JPEG files in a temporary lake, ``--image-side`` pixels):

* **full path**: files → DataLoader workers read, decode, resize → model (channels_last, inference_mode, bf16
  autocast on CUDA) → unit vectors + colour histogram → upserted into a Milvus Lite collection (what the embed
  stage does);
* **raw forward**: timm's forward alone on a pre-decoded batch already on the device, same batch size
  (alternated with the full path in ``--rounds`` slices, so that load from other processes hits both alike);
* **naive**: one image at a time (read, decode, forward, upsert).

Then each stage of the full path alone, to name its bottleneck: the DataLoader without the model (read, decode,
resize in the same workers: ``decode_img_s``), and storing ready vectors of the same width in the same batches
(``store_rows_s``); the raw forward is the model's stage. ``--uri`` stores into that Milvus (a server:
``http://127.0.0.1:19530``) instead of a temporary Milvus Lite file; its ``bench_embed_*`` collections are dropped.

Prints one JSON object (also written to ``--out``): img/s of each, ``full_vs_raw`` (goal ≥ 0.9 on CPU, ≥ 0.7
on a GPU), ``full_vs_naive``, ``stages`` with the ``bottleneck``, and with ``--memory-images`` the peak RSS of a
separate process embedding that many images through the full path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PREFIX = "bench_embed_"  # the benchmark's collections


def synthetic_images(n: int, seed: int = 0, side: int | None = None) -> list[bytes]:
    """``n`` distinct product shots as JPEG bytes (longest side ``side`` when given), rendered on every core."""
    from concurrent.futures import ProcessPoolExecutor

    chunks = [(min(256, n - start), seed * 100_003 + start, side) for start in range(0, n, 256)]
    if len(chunks) == 1:
        return _render(chunks[0])
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        return [blob for part in pool.map(_render, chunks) for blob in part]


def _render(job: tuple[int, int, int | None]) -> list[bytes]:
    from PIL import Image

    from include.synth.apparel import jpeg_bytes, random_design, render_product

    n, seed, side = job
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        image = render_product(random_design(rng))
        if side:
            scale = side / max(image.size)
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
        out.append(jpeg_bytes(image, 90))
    return out


def write_lake(root: Path, blobs: list[bytes]) -> tuple[object, list[str]]:
    """A local lake with one image file per blob; returns it and the keys."""
    from include.core.lake import LocalLake

    lake = LocalLake(root)
    keys = []
    for i, data in enumerate(blobs):
        key = f"images/full/{i:08d}.jpg"
        lake.write_bytes(key, data)
        keys.append(key)
    return lake, keys


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def raw_forward(encoder, batch: np.ndarray, rounds: int) -> float:
    """img/s of the model alone on a batch already on the device (after one warm-up pass)."""
    import torch

    x = torch.from_numpy(batch).to(encoder.device).contiguous(memory_format=torch.channels_last)
    cuda = encoder.device.startswith("cuda")
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
        encoder.model(x)
        _sync(encoder.device)
        start = time.perf_counter()
        for _ in range(rounds):
            encoder.model(x)
        _sync(encoder.device)
    return rounds * len(batch) / (time.perf_counter() - start)


def full_path(encoder, lake, keys: list[str], uri: str, collection: str) -> tuple[float, int]:
    """img/s of files → vectors stored, and the rows stored."""
    from embedding.catalog import BackgroundWriter
    from embedding.index import CatalogIndex
    from embedding.loader import LakeReader

    with CatalogIndex(uri, collection, encoder.dim) as index:
        index.ensure()
        start = time.perf_counter()
        with BackgroundWriter(index) as writer:
            for indices, vectors, _ in encoder.embed_stream(keys, LakeReader(lake)):
                writer.upsert([{"sha256": key_id(keys[i])} for i in indices], vectors)
        seconds = time.perf_counter() - start
        return len(keys) / seconds, index.count()


def decode_only(encoder, lake, keys: list[str]) -> float:
    """img/s of the full path's input pipeline alone: the same DataLoader and workers, no model."""
    from embedding.loader import LakeReader

    start = time.perf_counter()
    done = sum(len(batch.indices) for batch in encoder.loader(keys, LakeReader(lake)))
    return done / (time.perf_counter() - start)


def store_only(uri: str, collection: str, dim: int, n: int, batch_size: int) -> float:
    """rows/s of upserting ``n`` ready unit vectors of width ``dim`` in batches of ``batch_size``."""
    from embedding.index import CatalogIndex

    vectors = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with CatalogIndex(uri, collection, dim) as index:
        index.ensure()
        start = time.perf_counter()
        for s in range(0, n, batch_size):
            index.upsert([{"sha256": key_id(f"store/{i}")} for i in range(s, min(n, s + batch_size))],
                         vectors[s : s + batch_size])  # fmt: skip
        return n / (time.perf_counter() - start)


def bottleneck(stages: dict[str, float]) -> str:
    """The slowest stage (``decode_img_s``, ``raw_forward_img_s``, ``store_rows_s``): what caps the full path."""
    return min(stages, key=stages.__getitem__)


def drop_collections(uri: str, names: list[str]) -> None:
    """Drop the benchmark's collections from a server (a temporary Milvus Lite file goes with its folder)."""
    from embedding.connection import MilvusConnection

    with MilvusConnection(uri) as conn:
        for name in names:
            conn.client.drop_collection(name)


def key_id(key: str) -> str:
    """A 64-hex row id for a benchmark image key."""
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


def interleaved(encoder, lake, keys: list[str], batch: np.ndarray, uri: str, rounds: int) -> tuple[float, float, int]:
    """Full path and raw forward, alternated over ``rounds`` slices of the images (so that a shared machine's
    load drifts over both alike); returns their img/s and the rows stored."""
    full_s = raw_s = 0.0
    rows = n_raw = 0
    for part in np.array_split(np.arange(len(keys)), rounds):
        if not len(part):
            continue
        n_batches = max(1, len(part) // len(batch))
        raw_s += n_batches * len(batch) / raw_forward(encoder, batch, n_batches)
        n_raw += n_batches * len(batch)
        rate, rows = full_path(encoder, lake, [keys[i] for i in part], uri, f"{PREFIX}full")
        full_s += len(part) / rate
    return len(keys) / full_s, n_raw / raw_s, rows


def naive(encoder, lake, keys: list[str], uri: str) -> float:
    """img/s of one image at a time: read, decode, forward, upsert."""
    from embedding.index import CatalogIndex
    from embedding.pixels import decode

    with CatalogIndex(uri, f"{PREFIX}naive", encoder.dim) as index:
        index.ensure()
        start = time.perf_counter()
        for key in keys:
            vector = encoder.forward(decode(lake.read_bytes(key), encoder.prep)[None])
            index.upsert([{"sha256": key_id(key)}], vector)
        _sync(encoder.device)
        return len(keys) / (time.perf_counter() - start)


def make_encoder(args: argparse.Namespace):
    from embedding.encoder import Encoder

    return Encoder(args.model, True, args.device, args.batch_size, colour_weight=0.5, workers=args.workers)


def memory_child(args: argparse.Namespace) -> None:
    """Embed ``--memory-images`` files through the full path in this process; print the peak RSS."""
    encoder = make_encoder(args)
    blobs = synthetic_images(min(args.memory_images, 200), seed=1, side=args.image_side)
    with tempfile.TemporaryDirectory() as tmp:
        lake, keys = write_lake(Path(tmp) / "lake", [blobs[i % len(blobs)] for i in range(args.memory_images)])
        del blobs
        rate, rows = full_path(encoder, lake, keys, str(Path(tmp) / "m.db"), "memory")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"images": rows, "img_s": round(rate, 1), "peak_rss_mib": round(peak), "worker_peak_rss_mib":
                      round(workers)}))  # fmt: skip


def run(args: argparse.Namespace) -> dict:
    """All three paths (and the memory run when asked) in one process run; returns the results."""
    import torch

    encoder = make_encoder(args)
    blobs = synthetic_images(args.images, side=args.image_side)
    batch = np.stack([_decode(b, encoder) for b in blobs[: args.batch_size]])
    with tempfile.TemporaryDirectory() as tmp:
        lake, keys = write_lake(Path(tmp) / "lake", blobs)
        uri = args.uri or str(Path(tmp) / "m.db")
        names = [f"{PREFIX}{name}" for name in ("warmup", "full", "naive", "store")]
        if args.uri:
            drop_collections(uri, names)  # a run that stopped half way left rows behind
        try:
            full_path(encoder, lake, keys[: args.batch_size * 2], uri, f"{PREFIX}warmup")  # warm-up
            full, raw, rows = interleaved(encoder, lake, keys, batch, uri, args.rounds)
            slow = naive(encoder, lake, keys[: args.naive_images], uri)
            stages = {
                "decode_img_s": round(decode_only(encoder, lake, keys), 1), "raw_forward_img_s": round(raw, 1),
                "store_rows_s": round(store_only(uri, f"{PREFIX}store", encoder.dim, len(keys), args.batch_size), 1),
            }  # fmt: skip
        finally:
            if args.uri:
                drop_collections(uri, names)
    result = {
        "device": encoder.device, "gpu": torch.cuda.get_device_name() if encoder.device.startswith("cuda") else None,
        "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "model": args.model,
        "batch_size": args.batch_size, "workers": args.workers, "images": args.images, "image_side": args.image_side,
        "stored": rows, "full_path_img_s": round(full, 1), "raw_forward_img_s": round(raw, 1),
        "naive_img_s": round(slow, 1), "full_vs_raw": round(full / raw, 3), "full_vs_naive": round(full / slow, 2),
        "store": "milvus-lite" if not args.uri else args.uri, "stages": stages, "bottleneck": bottleneck(stages),
    }  # fmt: skip
    if args.memory_images:
        cmd = [sys.executable, "-m", "benchmarks.embed", "--memory-child", *_forward_flags(args)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result["memory"] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _decode(data: bytes, encoder) -> np.ndarray:
    from embedding.pixels import decode

    return decode(data, encoder.prep)


def _forward_flags(args: argparse.Namespace) -> list[str]:
    return [
        "--memory-images", str(args.memory_images), "--batch-size", str(args.batch_size), "--device", args.device,
        "--workers", str(args.workers), "--model", args.model, "--image-side", str(args.image_side),
    ]  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``argv``; default ``sys.argv``)."""
    from include.core.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1024, help="images of the full-path run")
    parser.add_argument("--batch-size", type=int, default=32)
    workers = get_settings().embed_workers
    parser.add_argument("--workers", type=int, default=workers, help="decoding processes (-1: auto)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default="tf_efficientnet_lite0")
    parser.add_argument("--image-side", type=int, default=600, help="longest side of the synthetic photos")
    parser.add_argument("--rounds", type=int, default=8, help="full/raw alternations (load drift hits both)")
    parser.add_argument("--naive-images", type=int, default=32, help="images of the one-at-a-time loop")
    parser.add_argument("--memory-images", type=int, default=0, help="also measure peak RSS embedding this many")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--uri", default=None, help="store into this Milvus (default: a temporary Milvus Lite file)")
    parser.add_argument("--out", default=None, help="write the JSON result here too")
    return parser.parse_args(argv)


def main() -> None:
    """Command-line entry point."""
    args = parse_args()
    if args.memory_child:
        memory_child(args)
        return
    result = run(args)
    text = json.dumps(result)
    print(text, flush=True)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
