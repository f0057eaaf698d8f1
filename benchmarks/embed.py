"""Embedding throughput and memory, measured in one run (``make bench-embed``).

    python -m benchmarks.embed --images 512 --batch-size 32 [--device cuda] [--workers 8] [--out bench.json]
    python -m benchmarks.embed --memory-images 10000      # + peak memory of embedding 10k images

Three paths over the same synthetic product photos (JPEG files in a temporary lake, ``--image-side`` pixels):

* **full path**: files → read, decode, resize (Pillow in DataLoader workers on a CPU; reader threads and nvJPEG
  batches on the model's GPU with ``--decode device``, the default on CUDA) → model (channels_last,
  inference_mode, bf16 autocast on CUDA and on CPUs with native bf16 (``--precision``), forward calls of
  ``forward_batch`` images) → unit vectors + colour histogram → stored by the background writer in insert
  batches sized by bytes (what the embed stage does);
* **raw forward**: timm's forward alone on a pre-decoded batch already on the device, called on the same chunks
  as the full path (alternated with it in ``--rounds`` slices, so that load from other processes hits both
  alike); ``raw_forward_whole_batch_img_s`` is one call on the whole batch, for reference;
* **naive**: one image at a time (read, decode, forward, upsert).

Then each stage of the full path alone, to name its bottleneck: reading the bytes (``read_img_s``), decoding
bytes already in memory with the full path's loader (``decode_img_s``), the raw forward, and storing ready
vectors of the same width through the same writer (``store_rows_s``). ``full_vs_slowest_stage`` says how well
the stages overlap (1.0: the full path runs at the speed of its slowest stage). ``--uri`` stores into that
Milvus (a server: ``http://127.0.0.1:19530``) instead of a temporary Milvus Lite file; its ``bench_embed_*``
collections are dropped.

Prints one JSON object (also written to ``--out``): img/s of each, ``full_vs_raw``, ``full_vs_naive``,
``stages`` with the ``bottleneck``, and with ``--memory-images`` the peak RSS of a separate process embedding
that many images through the full path.
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


def raw_forward(encoder, batch: np.ndarray, rounds: int, chunk: int | None = None) -> float:
    """img/s of the model alone on a batch already on the device (after one warm-up pass), called on chunks of
    ``chunk`` images (default: the encoder's ``forward_batch``, the calls the full path makes)."""
    import torch

    x = torch.from_numpy(batch).to(encoder.device).contiguous(memory_format=torch.channels_last)
    parts = x.split(chunk or encoder.forward_batch)
    with torch.inference_mode(), encoder.autocast():
        for part in parts:
            encoder.model(part)
        _sync(encoder.device)
        start = time.perf_counter()
        for _ in range(rounds):
            for part in parts:
                encoder.model(part)
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


def read_only(encoder, lake, keys: list[str]) -> float:
    """img/s of reading the encoded bytes alone, by the threads device decoding reads with."""
    from embedding.device_decode import read_batches
    from embedding.loader import LakeReader

    start = time.perf_counter()
    done = sum(len(ix) for ix, _, _ in read_batches(keys, LakeReader(lake), encoder.batch_size, encoder.read_threads))
    return done / (time.perf_counter() - start)


def decode_only(encoder, blobs: list[bytes]) -> float:
    """img/s of the full path's decoding alone on bytes already in memory: the same loader (DataLoader workers
    with Pillow, or nvJPEG batches on the device), no reads, no model."""
    start = time.perf_counter()
    done = sum(len(batch.indices) for batch in encoder.loader(blobs))
    _sync(encoder.device)
    return done / (time.perf_counter() - start)


def store_only(uri: str, collection: str, dim: int, n: int, batch_size: int) -> float:
    """rows/s of storing ``n`` ready unit vectors of width ``dim``, handed over in batches of ``batch_size`` to
    the full path's writer (background thread, insert batches sized by bytes)."""
    from embedding.catalog import BackgroundWriter
    from embedding.index import CatalogIndex

    vectors = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with CatalogIndex(uri, collection, dim) as index:
        index.ensure()
        start = time.perf_counter()
        with BackgroundWriter(index) as writer:
            for s in range(0, n, batch_size):
                writer.upsert([{"sha256": key_id(f"store/{i}")} for i in range(s, min(n, s + batch_size))],
                              vectors[s : s + batch_size])  # fmt: skip
        return n / (time.perf_counter() - start)


def bottleneck(stages: dict[str, float]) -> str:
    """The slowest stage (``read_img_s``, ``decode_img_s``, ``raw_forward_img_s``, ``store_rows_s``): what caps
    the full path."""
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

    return Encoder(
        args.model, not args.random_init, args.device, args.batch_size, colour_weight=0.5, workers=args.workers,
        decode=args.decode, forward_batch=args.forward_batch, read_threads=args.read_threads,
        precision=args.precision,
    )  # fmt: skip


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
    """All three paths (and the memory run when asked) in one process run; returns the results.

    With ``--start-server`` the run stores into a Milvus standalone it starts for itself (the ``milvus``
    package's ``milvus-server``) and stops afterwards.
    """
    if args.start_server:
        from embedding.milvus_server import MilvusServer

        with tempfile.TemporaryDirectory() as tmp, MilvusServer(Path(tmp) / "server", grace=5) as server:
            return {**run(argparse.Namespace(**{**vars(args), "start_server": False, "uri": server.uri})),
                    "store": "milvus-server (started by the benchmark)"}  # fmt: skip
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
                "read_img_s": read_only(encoder, lake, keys), "decode_img_s": decode_only(encoder, blobs),
                "raw_forward_img_s": raw,
                "store_rows_s": store_only(uri, f"{PREFIX}store", encoder.dim, len(keys), args.batch_size),
            }  # fmt: skip
            whole = raw_forward(encoder, batch, max(1, args.images // args.batch_size // args.rounds), len(batch))
        finally:
            if args.uri:
                drop_collections(uri, names)
    result = {
        "device": encoder.device, "gpu": torch.cuda.get_device_name() if encoder.device.startswith("cuda") else None,
        "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "model": args.model,
        "batch_size": args.batch_size, "forward_batch": encoder.forward_batch, "decode": encoder.decode,
        "precision": encoder.precision,
        "workers": args.workers, "images": args.images, "image_side": args.image_side,
        "stored": rows, "full_path_img_s": sig(full), "raw_forward_img_s": sig(raw),
        "raw_forward_whole_batch_img_s": sig(whole), "naive_img_s": sig(slow),
        "full_vs_raw": round(full / raw, 3), "full_vs_naive": round(full / slow, 3),
        "full_vs_slowest_stage": round(full / min(stages.values()), 3),
        "store": "milvus-lite" if not args.uri else args.uri, "stages": {k: sig(v) for k, v in stages.items()},
        "bottleneck": bottleneck(stages),
        "pretrained": not args.random_init,
    }  # fmt: skip
    if args.memory_images:
        cmd = [sys.executable, "-m", "benchmarks.embed", "--memory-child", *_forward_flags(args)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result["memory"] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def sig(value: float) -> float:
    """A rate to 4 significant digits (ratios are taken before rounding)."""
    return float(f"{value:.4g}")


def _decode(data: bytes, encoder) -> np.ndarray:
    from embedding.pixels import decode

    return decode(data, encoder.prep)


def _forward_flags(args: argparse.Namespace) -> list[str]:
    return [
        "--memory-images", str(args.memory_images), "--batch-size", str(args.batch_size), "--device", args.device,
        "--workers", str(args.workers), "--model", args.model, "--image-side", str(args.image_side),
        "--decode", args.decode, "--forward-batch", str(args.forward_batch), "--precision", args.precision,
        "--read-threads", str(args.read_threads),
        *(["--random-init"] if args.random_init else []),
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
    parser.add_argument(
        "--decode",
        default="auto",
        choices=["auto", "cpu", "device"],
        help="Pillow in DataLoader workers (cpu), nvJPEG batches on the model's device, or auto",
    )
    parser.add_argument("--forward-batch", type=int, default=0, help="images per forward call (0: the encoder's auto)")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"], help="forward precision")
    parser.add_argument("--read-threads", type=int, default=8, help="threads reading bytes (device decoding)")
    parser.add_argument(
        "--random-init",
        action="store_true",
        help="speed only: the same model without loading its weights (a machine without the weights)",
    )
    parser.add_argument("--model", default="tf_efficientnet_lite0")
    parser.add_argument("--image-side", type=int, default=600, help="longest side of the synthetic photos")
    parser.add_argument("--rounds", type=int, default=8, help="full/raw alternations (load drift hits both)")
    parser.add_argument("--naive-images", type=int, default=32, help="images of the one-at-a-time loop")
    parser.add_argument("--memory-images", type=int, default=0, help="also measure peak RSS embedding this many")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--uri", default=None, help="store into this Milvus (default: a temporary Milvus Lite file)")
    parser.add_argument(
        "--start-server", action="store_true", help="store into a Milvus standalone started for the run"
    )
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
