"""The schedule pilot: which learning rate and length let a study's bases converge.

Runs, per schedule, one split's two bases (and the top frozen selffer BnB7, the cheapest network
that copies them) as a study of its own through the runner, then compares the schedules by
convergence, not by stability alone: each base's validation top-1 at the end (last-k, past the
drop's transient), its rise over the last fifth of its validations before the last drop (at the
rate that taught it: under 1 point reads as converged), how far consecutive validations move in
the second half before the drop (one validation's noise plus the rate's), the falls of more than
5 points there, and seconds per network. A bundled study's header names the schedule this chose.

    TRANSFER_DATA_DIR=../shared/datasets python -m benchmarks.schedule_pilot --out /tmp/pilot

writes each schedule's study under --out and prints one Markdown table (the one in
benchmarks/RESULTS-schedule-pilot.md, with the machine it ran on).
"""

import argparse
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from transferlib.records import curves, table

BASE = {"dataset": "tiny_imagenet", "image_size": 32, "width": 0.375, "classes": 10, "splits": [0],
        "treatments": ["BnB"], "layers": [7], "directions": ["AnB", "BnA"], "batch_size": 64,
        "lr_drops": [0.75], "cka_images": 0, "val_holdout": 100}
SCHEDULES = ((0.01, 600), (0.005, 600), (0.01, 1200), (0.005, 1200))  # (lr, iterations)
VALIDATIONS = 50
FALL = 0.05


def study(lr, iterations):
    name = f"pilot-lr{lr:g}-it{iterations}"
    return name, {"study": name, **BASE, "lr": lr, "iterations": iterations,
                  "val_every": iterations // VALIDATIONS}


def measure(folder, lr, iterations):
    """One row per base of the study in ``folder``."""
    df = table.read(folder)
    every = iterations // VALIDATIONS
    rows = []
    for b in df[df.kind == "base"].itertuples():
        h = np.asarray(b.history)
        taught = np.asarray(curves.before_last_drop(h, BASE["lr_drops"]))
        steps = np.diff(taught[len(taught) // 2:])
        top = df[(df.kind == "selffer") & (df.target == b.target)]
        rows.append({"lr": lr, "iterations": iterations, "base": b.cell,
                     "last-k": 100 * curves.last_k(h, BASE["lr_drops"], steps_per_validation=every),
                     "rise before drop": 100 * curves.rise(taught), "rise se": 100 * curves.rise_se(taught),
                     "step sd": 100 * steps.std(ddof=1), "falls > 5": int((steps < -FALL).sum()),
                     "BnB7 - base": 100 * (top.top1.mean() - b.top1) if len(top) else math.nan,
                     "s/base": b.train_seconds})
    return rows


def markdown(rows):
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(f"{v:g}" if k == "lr" else f"{v:.1f}" if isinstance(v, float) else str(v)
                                       for k, v in r.items()) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="a folder for the pilot's studies")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for lr, iterations in SCHEDULES:
        name, params = study(lr, iterations)
        path = out / f"{name}.yaml"
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        subprocess.run([sys.executable, "-m", "transferlib", "run", str(path), "--results", str(out),
                        "--workers", str(args.workers)], check=True)
        rows += measure(out / name, lr, iterations)
    print(markdown(rows))


if __name__ == "__main__":
    main()
