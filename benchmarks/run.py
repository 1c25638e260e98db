"""transferlib's speed, measured side by side in one run; writes benchmarks/RESULTS.md.

    TRANSFER_DATA_DIR=../shared/datasets python -m benchmarks.run            # everything, ~35 min
    TRANSFER_DATA_DIR=../shared/datasets python -m benchmarks.run --no-study # skip the quick study

Needs `pip install -r benchmarks/requirements.txt` (PyTorch CPU) besides requirements.txt.
Each training measurement runs in its own process, transferlib and PyTorch alternating.
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
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BATCH, WARMUP, STEPS, CLASSES, WIDTH = 64, 20, 150, 10, 0.375


def subset_and_stats():
    from transferlib import sources
    from transferlib.cell import data
    dataset = sources.load("tiny_imagenet", sources.stored_size(32))
    subset = data.select(dataset, dataset.classes[:CLASSES])
    return subset, data.channel_stats(subset.train_images)


def measure_transferlib(kind):
    """Training img/s of transferlib (TensorFlow backend, tf.data) after warm-up."""
    import keras
    from transferlib.cell import data, models, train
    subset, _ = subset_and_stats()
    train_ds, _ = data.pipelines(subset, image_size=32, batch_size=BATCH, seed=0, kind=kind)
    model = models.caffenet(CLASSES, 32, WIDTH)
    train.compile_model(model, lr=0.01, lr_drops=(), total_steps=1)
    marks = {}

    class Clock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == WARMUP:
                marks["start"] = time.perf_counter()

        def on_train_end(self, logs=None):
            marks["end"] = time.perf_counter()

    feed = train_ds.repeat() if kind == "tf" else train_ds
    model.fit(feed, steps_per_epoch=WARMUP + STEPS, epochs=1, verbose=0, callbacks=[Clock()])
    return STEPS * BATCH / (marks["end"] - marks["start"])


def measure_torch():
    """Training img/s of the idiomatic PyTorch loop on the same data."""
    import torch
    from benchmarks import torch_caffenet
    from transferlib.cell import models
    torch.set_num_threads(os.cpu_count())
    subset, (mean, std) = subset_and_stats()
    convs = tuple(models.scaled(f, WIDTH) for f in (96, 256, 384, 384, 256))
    return torch_caffenet.images_per_second(subset, convs, models.scaled(1024, WIDTH), batch_size=BATCH,
                                            warmup=WARMUP, steps=STEPS, mean=mean, std=std)


def measure_pipeline(kind):
    """img/s the training pipeline delivers alone (crop, mirror, standardise, batch)."""
    from transferlib.cell import data
    subset, _ = subset_and_stats()
    train_ds, _ = data.pipelines(subset, image_size=32, batch_size=BATCH, seed=0, kind=kind)
    batches = iter(train_ds.repeat()) if kind == "tf" else (train_ds[i % len(train_ds)] for i in range(10**9))
    for _ in range(WARMUP):
        next(batches)
    start = time.perf_counter()
    for _ in range(4 * STEPS):
        next(batches)
    return 4 * STEPS * BATCH / (time.perf_counter() - start)


MEASURES = {"transferlib": lambda: measure_transferlib("tf"), "torch": measure_torch,
            "pipeline-tf": lambda: measure_pipeline("tf"), "pipeline-numpy": lambda: measure_pipeline("numpy")}


def in_subprocess(name):
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--measure", name], cwd=ROOT,
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    return float(out.stdout.strip().splitlines()[-1])


def run_study(params, results, cache, workers=1):
    """Wall seconds of `python -m transferlib run` and its results table."""
    from transferlib import table
    env = dict(os.environ, TRANSFER_CACHE_DIR=str(cache), TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "transferlib", "run", str(params), "--results", str(results),
                    "--workers", str(workers)], cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    study = yaml.safe_load(Path(params).read_text())["study"]
    return wall, table.read(Path(results) / study)


def step_seconds(notebook, call):
    """Seconds the code cells of an executed ``notebook`` that make ``call`` took (papermill's record)."""
    import nbformat
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(c.metadata.get("papermill", {}).get("duration") or 0.0 for c in cells
               if c.cell_type == "code" and call in c.source)


def variant(tmp, name, **changes):
    values = {**yaml.safe_load((ROOT / "transferlib" / "studies" / "quick.yaml").read_text()), "reduced_images_per_class": [],
              **changes, "study": name}
    path = Path(tmp) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def machine():
    import keras
    import tensorflow as tf
    import torch
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}, PyTorch {torch.__version__}, {platform.system()} {platform.release()}")


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", choices=MEASURES, help=argparse.SUPPRESS)
    parser.add_argument("--no-study", action="store_true", help="skip the quick study and the scaling runs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", help="keep the studies' results here (default: a temporary folder)")
    args = parser.parse_args()
    if args.measure:
        print(MEASURES[args.measure]())
        return
    lines = [f"# Benchmarks\n\nCommand: `TRANSFER_DATA_DIR=../shared/datasets python -m benchmarks.run`  ",
             f"Date: {datetime.date.today()}  ", f"Machine: {machine()}  ",
             f"Model: 32 px CaffeNet, width {WIDTH}, {CLASSES} Tiny ImageNet classes, batch {BATCH}; "
             f"{WARMUP} warm-up steps, then {STEPS} timed steps (medians of {args.rounds} rounds, "
             "each in a fresh process, frameworks alternating).\n"]
    samples = {name: [] for name in MEASURES}
    for _ in range(args.rounds):
        for name in MEASURES:
            samples[name].append(in_subprocess(name))
    rate = {name: statistics.median(v) for name, v in samples.items()}
    ratio = rate["transferlib"] / rate["torch"]
    lines += ["## Training throughput\n", "| | img/s | samples |", "|---|---|---|",
              f"| transferlib (Keras 3, TensorFlow, tf.data) | {rate['transferlib']:.0f} | "
              f"{', '.join(f'{v:.0f}' for v in samples['transferlib'])} |",
              f"| PyTorch loop | {rate['torch']:.0f} | {', '.join(f'{v:.0f}' for v in samples['torch'])} |",
              f"\nRatio transferlib / PyTorch: **{ratio:.2f}x** (target >= 1.0x: {verdict(ratio >= 1.0)}).\n",
              "## Input pipeline alone\n", "| pipeline | img/s | multiple of training rate |", "|---|---|---|"]
    for kind in ("tf", "numpy"):
        r = rate[f"pipeline-{kind}"]
        lines.append(f"| {kind} | {r:.0f} | {r / rate['transferlib']:.1f}x |")
    multiple = rate["pipeline-tf"] / rate["transferlib"]
    lines.append(f"\nTarget >= 3x on 32 px (tf.data, the TensorFlow backend's pipeline): {verdict(multiple >= 3)}.\n")
    if not args.no_study:
        with tempfile.TemporaryDirectory() as tmp:
            lines += study_section(Path(tmp), Path(args.results or tmp) / "results")
    (ROOT / "benchmarks" / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def study_section(tmp, results):
    """The quick study from a cold start, then the scaling runs (their studies kept in ``results``)."""
    wall, df = run_study(ROOT / "transferlib" / "studies" / "quick.yaml", results, tmp / "cold-cache")
    cka = sum(step_seconds(results / "quick" / "cells" / f"{cell}.ipynb", "layer_similarity") for cell in df.cell)
    overhead = float((df.wall_seconds - df.train_seconds).sum()) - cka
    share = overhead / wall
    untrained = (wall - float(df.train_seconds.sum())) / wall
    lines = ["## The quick study, from a cold start\n",
             f"`params/quick.yaml` ({len(df)} cells), empty decode cache and results folder: "
             f"**{wall / 60:.1f} min** (target <= 20 min: {verdict(wall <= 1200)}).\n",
             "Cell overhead (wall time of each cell's notebook run minus its training and its layer "
             "similarity measurement: papermill, data, model build, saving; kernels start warm): "
             f"{overhead:.0f} s in all, {overhead / len(df):.1f} s a cell, **{share:.0%}** of the study's "
             f"wall time (target <= 10%: {verdict(share <= 0.10)}). The fine-tuned cells' CKA took "
             f"{cka:.0f} s ({cka / wall:.0%}). Everything but training (the above, CKA, the cold decode, "
             f"the first kernel's start, the summary): {untrained:.0%} of the wall time.\n",
             "## Scaling\n", "Time per cell against the training images (2 epochs, baseA, baseB, A2B):\n",
             "| images per half | cell wall s | cell training s |", "|---|---|---|"]
    cache = tmp / "cold-cache"
    for factor in (1, 2, 4):
        params = variant(tmp, f"images-x{factor}", classes=8 * factor, epochs=2, treatments=["AnB"], layers=[2])
        _, cells = run_study(params, results, cache)
        lines.append(f"| {4 * factor * 500:,} | {cells.wall_seconds.mean():.1f} | {cells.train_seconds.mean():.1f} |")
    lines += ["\nStudy wall time against `--workers` (16 classes, 2 epochs, baseA, baseB, A2B, A2B+):\n",
              "| workers | study wall s | mean cell training s |", "|---|---|---|"]
    for workers in (1, 2):
        params = variant(tmp, f"workers-{workers}", classes=16, epochs=2, treatments=["AnB", "AnB+"], layers=[2])
        wall, cells = run_study(params, results, cache, workers=workers)
        lines.append(f"| {workers} | {wall:.0f} | {cells.train_seconds.mean():.1f} |")
    return lines + [""]


if __name__ == "__main__":
    main()
