"""Throughput at 227 px on this machine: the ImageNet input pipeline, and a CaffeNet training step.

The pipeline is ``data.record_pipelines`` over a fake ImageNet of real JPEGs at ImageNet's
typical sizes (300-500 px a side), prepared by tfds's own imagenet2012 builder: training
batches of random 227 px crops (decode-and-crop, mirror, mean subtraction), counted in img/s
after a warm-up. The step is one SGD step of the full-width CaffeNet (61M parameters) on
random 227 px inputs, float32 on the CPU.

    PYTHONPATH=. python benchmarks/imagenet_pipeline.py [--classes 20 --per-class 40 --batch 64]
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402

from fake_imagenet import write_fake_imagenet  # noqa: E402
from transferlib import data as datasets  # noqa: E402
from transferlib.cell import architectures, data, train  # noqa: E402


def pipeline_rate(data_dir, wnids, batch, batches):
    """Training img/s of the 227 px record pipeline over the classes ``wnids``."""
    subset = data.select(datasets.load("imagenet2012", 256, data_dir=data_dir), wnids)
    train_ds, _ = data.record_pipelines(subset, image_size=227, batch_size=batch, seed=0)
    stream = iter(train_ds.repeat())
    for _ in range(3):  # warm-up: tfds file reads, autotuning
        next(stream)
    start = time.perf_counter()
    for _ in range(batches):
        next(stream)
    return batch * batches / (time.perf_counter() - start)


def step_rate(batch, steps):
    """Training img/s of the full-width 227 px CaffeNet (1000 classes), float32."""
    model = architectures.caffenet(1000, 227)
    train.compile_model(model, lr=0.01, lr_drops=(), total_steps=steps)
    x = np.random.default_rng(0).normal(0, 50, (batch, 227, 227, 3)).astype(np.float32)
    y = np.arange(batch) % 1000
    model.train_on_batch(x, y)  # builds and traces
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return batch * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--step-batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wnids = write_fake_imagenet(Path(tmp) / "downloads" / "manual", args.classes, args.per_class)
        pipeline = pipeline_rate(tmp, wnids, args.batch, args.batches)
    step = step_rate(args.step_batch, args.steps)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, no GPU use")
    print(f"227 px input pipeline (train crops, batch {args.batch}): {pipeline:.0f} img/s")
    print(f"227 px CaffeNet training step, width 1.0, float32, batch {args.step_batch}: {step:.1f} img/s "
          f"({args.step_batch / step:.2f} s a step)")


if __name__ == "__main__":
    main()
