"""A cell's start-up under KERAS_BACKEND=jax, with and without the persistent compilation cache.

    KERAS_BACKEND=jax python -m benchmarks.gpu.startup [--rounds 3] [--write benchmarks/gpu/STARTUP-cpu.md]

Start-up is what a cell's kernel spends before its training runs at speed, the imports aside:
``devices.setup``, the arrays on the device (``DeviceBatches``), the model built and compiled,
and its first training steps (the XLA compilation of the step, jit_compile as in the GPU
studies, and of the input functions).
Each measurement is a fresh process: the cache off (``JAX_ENABLE_COMPILATION_CACHE=false``), on
and empty (the first cell of a study), on and warm (every next cell of the same shape).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = ("cache off", "cache on, empty", "cache on, warm")


def measure(image_size=32, width=0.375, classes=100, batch=128, steps=3, precision="float32"):
    """{seconds, import_seconds, hits, misses} of one cell's start-up in this process."""
    start = time.perf_counter()
    import jax
    import keras
    import numpy as np

    from transferlib import data as datasets
    from transferlib.cell import architectures, data, devices, train
    imported = time.perf_counter()
    events = Counter()
    jax.monitoring.register_event_listener(lambda name, **_: events.update([name]))
    devices.setup(precision=precision)
    rng = np.random.default_rng(0)
    stored = datasets.stored_size(image_size)
    images = rng.integers(0, 256, (batch * steps, stored, stored, 3), dtype=np.uint8)
    labels = rng.integers(0, classes, batch * steps).astype(np.int32)
    subset = data.Subset(tuple(range(classes)), images, labels, images[:batch], labels[:batch])
    train_ds, _ = data.pipelines(subset, image_size=image_size, batch_size=batch, seed=0, kind="device")
    model = architectures.caffenet(classes, image_size, width)
    train.compile_model(model, lr=0.01, lr_drops=(), total_steps=steps, jit_compile=True)
    model.fit(train_ds, epochs=1, verbose=0)
    keras.ops.convert_to_numpy(model.get_layer("fc8").kernel)  # wait for the device
    return {"seconds": time.perf_counter() - imported, "import_seconds": imported - start,
            "hits": events["/jax/compilation_cache/cache_hits"],
            "misses": events["/jax/compilation_cache/cache_misses"]}


def in_process(env, base=None, **options):
    """``measure`` in a fresh process with ``env`` added to ``base`` (default: this one's environment)."""
    code = f"import json; from benchmarks.gpu.startup import measure; print(json.dumps(measure(**{options!r})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**(base or os.environ), "KERAS_BACKEND": "jax", **env})
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(rounds=3, env=None, **options):
    """{case: [measure() of each round]}: per round, the cache off, then on and empty, then warm
    (each round in a new, empty cache folder; ``env``: the processes' environment)."""
    samples = {case: [] for case in CASES}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            new = {"TRANSFER_CACHE_DIR": cache}
            samples["cache off"].append(in_process({**new, "JAX_ENABLE_COMPILATION_CACHE": "false"}, env, **options))
            samples["cache on, empty"].append(in_process(new, env, **options))
            samples["cache on, warm"].append(in_process(new, env, **options))
    return samples


def table(samples):
    """Markdown rows: case, median start-up s, samples, cache hits / misses (of the median run)."""
    rows = ["| | start-up s (median) | samples s | cache hits / misses |", "|---|---|---|---|"]
    for case, runs in samples.items():
        seconds = [r["seconds"] for r in runs]
        mid = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        rows.append(f"| {case} | {statistics.median(seconds):.2f} | {', '.join(f'{s:.2f}' for s in seconds)} "
                    f"| {mid['hits']} / {mid['misses']} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", help="write the figures as Markdown here")
    args = parser.parse_args()
    options = dict(image_size=32, width=0.375, classes=100, batch=128, steps=3)
    samples = compare(args.rounds, **options)
    import jax
    lines = ["# A cell's start-up under JAX: the persistent compilation cache\n",
             f"Command: `KERAS_BACKEND=jax python -m benchmarks.gpu.startup --write {args.write}`  ",
             f"Date: {datetime.date.today()}  ",
             f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, JAX {jax.__version__} "
             f"on {jax.default_backend()}, Python {platform.python_version()}  ",
             f"Load average when done: {', '.join(f'{v:.1f}' for v in os.getloadavg())} (a shared machine: the "
             "absolute seconds vary with it, the cache's effect is the comparison within a round)  ",
             f"Cell: 32 px CaffeNet, width {options['width']}, {options['classes']} classes, batch "
             f"{options['batch']}: `devices.setup`, arrays to the device, model built and compiled, "
             f"{options['steps']} training steps; imports excluded; each a fresh process, {args.rounds} rounds.\n",
             *table(samples), ""]
    off = statistics.median(r["seconds"] for r in samples["cache off"])
    warm = statistics.median(r["seconds"] for r in samples["cache on, warm"])
    lines.append(f"A warm cache saves {off - warm:.2f} s of a cell's start-up ({1 - warm / off:.0%}).\n")
    text = "\n".join(lines)
    print(text)
    if args.write:
        Path(args.write).write_text(text)


if __name__ == "__main__":
    main()
