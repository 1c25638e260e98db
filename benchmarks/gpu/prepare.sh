#!/usr/bin/env bash
# Here, with network, before a GPU call: fetch the wheels of requirements-gpu.txt for the GPU
# machine's Python 3.12 into .whl/ and copy the 32 px Tiny ImageNet archive into .data/ (both
# ignored by git; they travel as the run's `carry`, ~45 MiB with the working tree).
#   TRANSFER_DATA_DIR=../shared/datasets bash benchmarks/gpu/prepare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
mkdir -p .whl .data
grep -v '^#' benchmarks/gpu/requirements-gpu.txt | grep . | xargs "$PY" -m pip download -q --no-deps \
    --only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .whl
cp -n "${TRANSFER_DATA_DIR:-../shared/datasets}/tiny-imagenet-200-32px.tar.gz" .data/
du -sh .whl .data
