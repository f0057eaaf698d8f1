"""Embedding throughput: the full path (encoded bytes → decode → model → unit vectors) against the model's raw
forward on pre-decoded tensors, at the same batch size, in one run.

    python -m embedding.benchmark --images 512 --batch-size 64 [--device cuda]

Prints one JSON line: img/s of both, their ratio, and the device. Images are synthetic garments from the demo
web's generator (no data set needed).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def synthetic_images(n: int, seed: int = 0) -> list[bytes]:
    """``n`` distinct product shots as JPEG bytes."""
    from include.demoweb.apparel import jpeg_bytes, random_design, render_product

    rng = np.random.default_rng(seed)
    return [jpeg_bytes(render_product(random_design(rng)), 90) for _ in range(n)]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def run(n_images: int = 256, batch_size: int = 32, device: str = "auto", model: str = "tf_efficientnet_lite0") -> dict:
    """Measure both paths; the first batch of each is a warm-up and not timed."""
    from embedding.encoder import Encoder, decode

    encoder = Encoder(model, pretrained=True, device=device, batch_size=batch_size)
    blobs = synthetic_images(n_images)
    batch = np.stack([decode(b, encoder.prep) for b in blobs[:batch_size]])
    encoder.forward(batch)
    _sync(encoder.device)
    start = time.perf_counter()
    for _ in range(max(1, n_images // batch_size)):
        encoder.forward(batch)
    _sync(encoder.device)
    raw = max(1, n_images // batch_size) * batch_size / (time.perf_counter() - start)
    encoder.embed_bytes(blobs[:batch_size])
    start = time.perf_counter()
    vectors, _ = encoder.embed_bytes(blobs)
    _sync(encoder.device)
    full = len(vectors) / (time.perf_counter() - start)
    return {
        "device": encoder.device, "model": model, "batch_size": batch_size, "images": n_images,
        "full_path_img_s": round(full, 1), "raw_forward_img_s": round(raw, 1), "ratio": round(full / raw, 3),
    }  # fmt: skip


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default="tf_efficientnet_lite0")
    args = parser.parse_args()
    print(json.dumps(run(args.images, args.batch_size, args.device, args.model)), flush=True)


if __name__ == "__main__":
    main()
