#!/usr/bin/env bash
# The GPU measurement in one command, on the GPU machine (Python 3.12, JAX with CUDA, PyTorch,
# no network), from the repository root, with these two ignored folders carried beside it:
#   .whl/   the wheels of benchmarks/gpu/requirements-gpu.txt (bash benchmarks/gpu/prepare.sh)
#   .data/  tiny-imagenet-200-32px.tar.gz
# Writes RESULTS-gpu.md, results-gpu.json and run.log into $OUT (default ./gpu-results).
set -o pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-gpu-results}"; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "installing .whl/ failed" | tee "$OUT/run.log"; exit 1; }
# JUPYTER_PATH: the wheels' data files (nbconvert's HTML templates for the summary) under --target.
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 KERAS_BACKEND=jax \
    JUPYTER_PATH="/tmp/site/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export TRANSFER_DATA_DIR="${TRANSFER_DATA_DIR:-$PWD/.data}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$OUT/run.log"
python3 -m benchmarks.gpu.run --out "$OUT" "$@" 2>&1 | grep --line-buffered -v '^decode ' | tee -a "$OUT/run.log"
