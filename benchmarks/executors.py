"""The smoke study's wall time under the local and the ray executor, and Ray's memory.

    TRANSFER_DATA_DIR=../shared/datasets python benchmarks/executors.py

Each executor runs the smoke study (transferlib/studies/smoke.yaml) once into a fresh temporary folder (the decoded dataset
already cached, so neither pays for decoding): local with --workers 2, Ray on a local instance
that the driver starts (all cores). Then Ray's memory overhead: the resident memory of the
processes that ray.init() starts (GCS, raylet, dashboard, agents, idle workers) plus what
importing and joining Ray adds to the driver, a few seconds after init.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "transferlib" / "studies" / "smoke.yaml"


def smoke_seconds(*args):
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "transferlib", "run", str(SMOKE), "--results", out, *args],
                       cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start


def ray_memory_mb(settle=5.0):
    """Ray's memory in MB after ray.init() in a fresh process: the processes it starts (their
    RSS summed, which counts pages they share once per process, and their USS, which does not)
    and what importing and joining Ray adds to the driver's RSS."""
    code = f"""
import time, psutil
me = psutil.Process()
before = me.memory_info().rss
import ray
ray.init(log_to_driver=False)
time.sleep({settle})
started = [p.memory_full_info() for p in me.children(recursive=True)]
print(sum(m.rss for m in started) / 2**20, sum(m.uss for m in started) / 2**20,
      (me.memory_info().rss - before) / 2**20)
ray.shutdown()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(zip(("rss", "uss", "driver"), map(float, out.stdout.split())))


def main():
    from transferlib import data as datasets
    from transferlib.driver import params
    smoke = params.load_params(SMOKE)
    datasets.load(smoke.dataset, datasets.stored_size(smoke.image_size))  # decoded into the cache
    local = smoke_seconds("--executor", "local", "--workers", "2")
    on_ray = smoke_seconds("--executor", "ray")
    print(f"smoke study, {psutil.cpu_count()} CPUs: local executor (--workers 2) {local:.0f} s, "
          f"ray executor {on_ray:.0f} s, ratio {on_ray / local:.2f}")
    mb = ray_memory_mb()
    print(f"Ray's memory after init: the processes it starts {mb['rss']:.0f} MB RSS summed, "
          f"{mb['uss']:.0f} MB USS; the driver +{mb['driver']:.0f} MB")


if __name__ == "__main__":
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    main()
