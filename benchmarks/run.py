"""transferlib's speed, measured side by side in one run; writes benchmarks/RESULTS-<cpu>.md, whole.

    TRANSFER_DATA_DIR=../shared/datasets python -m benchmarks.run            # ~30 min on 2 cores
    TRANSFER_DATA_DIR=../shared/datasets python -m benchmarks.run --no-study # skip the study
    ... --study smoke                                                        # time the smoke study instead
    ... --scaling                                                            # and time per cell
                                                                             # against images, workers

Needs `pip install -r benchmarks/requirements.txt` (PyTorch CPU) besides requirements.txt.
Every sentence of the results file is written here. There is one file per CPU model, named by
``cpu_name`` (RESULTS-intel-xeon.md, RESULTS-amd-epyc.md): a run replaces its own CPU's file
whole and leaves the others. Each throughput measurement runs in its own process; after one
warm-up round whose figures are discarded, transferlib and PyTorch alternate, in at least
``MIN_PAIRS`` pairs, and a ratio is the median of the pairs' ratios with a distribution-free 95%
interval (``median_interval``): parity only where the interval holds 1.0. A cell's overhead is
defined once, in ``OVERHEAD_PARTS``.
"""

import argparse
import datetime
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BATCH, WARMUP, STEPS, CLASSES, WIDTH = 64, 20, 150, 10, 0.375
MIN_PAIRS = 9  # the fewest whose median interval leaves out the lowest and highest ratio


def subset_and_stats():
    from transferlib import data as datasets
    from transferlib.cell import data, images
    dataset = datasets.load("tiny_imagenet", datasets.stored_size(32))
    subset = data.select(dataset, dataset.classes[:CLASSES])
    return subset, images.channel_stats(subset.train_images)


def measure_transferlib(kind):
    """Training img/s of transferlib (TensorFlow backend, tf.data) after warm-up."""
    from transferlib.cell import architectures, data, train  # first: its settings precede TensorFlow's start
    import keras
    subset, _ = subset_and_stats()
    train_ds, _ = data.pipelines(subset, image_size=32, batch_size=BATCH, seed=0, kind=kind)
    model = architectures.caffenet(CLASSES, 32, WIDTH)
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
    from transferlib.cell import architectures
    torch.set_num_threads(os.cpu_count())
    subset, (mean, std) = subset_and_stats()
    convs = tuple(architectures.scaled(f, WIDTH) for f in (96, 256, 384, 384, 256))
    return torch_caffenet.images_per_second(subset, convs, architectures.scaled(1024, WIDTH), batch_size=BATCH,
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
            "transferlib-eigen": lambda: measure_transferlib("tf"),
            "pipeline-tf": lambda: measure_pipeline("tf"), "pipeline-numpy": lambda: measure_pipeline("numpy")}
# A measurement's environment besides the machine's: transferlib with TensorFlow's Eigen kernels
# (oneDNN off, TensorFlow's own default on CPUs without AVX-512) beside its oneDNN default.
ENVIRONMENT = {"transferlib-eigen": {"TF_ENABLE_ONEDNN_OPTS": "0"}}

# A cell's overhead: everything its wall time (the runner's clock, from asking for a kernel to
# the metrics written) holds besides the training loop (``train.train``'s ``model.fit``: the
# steps and the validations). Each part is the papermill duration of the notebook cells whose
# code makes the call named; "kernel and papermill" is the rest of the wall time outside every
# notebook cell (waiting for the warm kernel, papermill writing the notebook, shutting down).
OVERHEAD_PARTS = (
    ("parameters", "parameters"),  # the cells tagged parameters and injected-parameters
    ("imports and devices.setup", "devices.setup("),
    ("data (inputs.load_data)", "inputs.load_data("),
    ("model build", "model = "),
    ("compile, before the training loop", "train.train("),  # the cell's time less train_seconds
    ("layer similarity (layer_similarity.layer_similarity)", "layer_similarity.layer_similarity("),
    ("saving (files.save)", "files.save("),
    ("first-layer filters figure", "conv1_figure.first_filters("),
)
KERNEL = "kernel and papermill"


def cell_overhead(notebook, wall_seconds, train_seconds):
    """{part: seconds} of one cell's overhead (``OVERHEAD_PARTS`` and ``KERNEL``); they sum to
    ``wall_seconds - train_seconds``."""
    import nbformat
    parts = dict.fromkeys([name for name, _ in OVERHEAD_PARTS] + [KERNEL], 0.0)
    inside = 0.0
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        seconds = cell.metadata.get("papermill", {}).get("duration") or 0.0
        inside += seconds
        tags = cell.metadata.get("tags", [])
        name = next((name for name, call in OVERHEAD_PARTS
                     if call in cell.source or call in (tag.removeprefix("injected-") for tag in tags)), None)
        if name is None:
            raise ValueError(f"{notebook}: a code cell of no overhead part: {cell.source[:60]!r}")
        parts[name] += seconds - (train_seconds if name.startswith("compile") else 0.0)
    parts[KERNEL] = wall_seconds - inside
    return parts


def in_subprocess(name):
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--measure", name], cwd=ROOT,
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **ENVIRONMENT.get(name, {})))
    return float(out.stdout.strip().splitlines()[-1])


def run_study(params, results, cache, workers=1):
    """Wall seconds of `python -m transferlib run` and its results table."""
    from transferlib.records import table
    env = dict(os.environ, TRANSFER_CACHE_DIR=str(cache), TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "transferlib", "run", str(params), "--results", str(results),
                    "--workers", str(workers)], cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    study = yaml.safe_load(Path(params).read_text())["study"]
    return wall, table.read(Path(results) / study)


def variant(tmp, name, **changes):
    values = {**yaml.safe_load((ROOT / "transferlib" / "studies" / "quick.yaml").read_text()), "reduced_images_per_class": [],
              **changes, "study": name}
    path = Path(tmp) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def cpuinfo(field):
    """The first value of ``field`` in /proc/cpuinfo ("" where there is none)."""
    return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.split(":", 1)[0].strip() == field), "")


def cpu_model():
    return cpuinfo("model name") or platform.processor()


def cpu_name(model):
    """The results file's CPU name for a /proc/cpuinfo model name: vendor and family where known
    ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz" -> "intel-xeon", "AMD EPYC 7B13" ->
    "amd-epyc"), else the model name slugified, trademarks, "CPU", "Processor" and clock left out."""
    plain = re.sub(r"\((r|tm)\)|\bcpu\b|\bprocessor\b|@.*", " ", model.lower())
    for family, name in (("xeon", "intel-xeon"), ("epyc", "amd-epyc")):
        if family in plain.split():
            return name
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "unknown-cpu"


def results_file():
    return ROOT / "benchmarks" / f"RESULTS-{cpu_name(cpu_model())}.md"


def machine():
    """The Machine line: cores, CPU, its widest vector instructions, the oneDNN setting that the
    cells' TensorFlow runs with (``transferlib.cell``'s default where the caller set none), versions."""
    import transferlib.cell  # noqa: F401  (sets TF_ENABLE_ONEDNN_OPTS's default, as in every cell)
    import keras
    import tensorflow as tf
    import torch
    flags = cpuinfo("flags").split()
    vector = "AVX-512" if "avx512f" in flags else "AVX2, no AVX-512" if "avx2" in flags else "no AVX2"
    return (f"{os.cpu_count()} cores ({cpu_model()}; {vector}), {platform.system()} {platform.release()}; "
            f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', '(unset)')}; Python "
            f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
            f"PyTorch {torch.__version__}")


class Sharing:
    """How much of the machine other processes took while this run measured: CPU seconds of the
    whole machine (/proc/stat) minus this process's and its waited-for children's."""

    def __init__(self):
        self.start, self.own, self.wall = self._busy(), self._own(), time.monotonic()
        self.loads = [os.getloadavg()]

    @staticmethod
    def _busy():
        fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # not idle, not iowait

    @staticmethod
    def _own():
        return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                      resource.getrusage(resource.RUSAGE_CHILDREN)))

    def note(self):
        self.loads.append(os.getloadavg())

    def report(self):
        self.note()
        wall = time.monotonic() - self.wall
        others = max(0.0, (self._busy() - self.start) - (self._own() - self.own))
        ones = [load[0] for load in self.loads]
        share = min(1.0, others / (os.cpu_count() * wall))
        return (f"Sharing: over the run's {wall / 60:.1f} min, processes other than this benchmark's used "
                f"{others / 60:.1f} CPU-minutes of the {os.cpu_count() * wall / 60:.1f} that the "
                f"{os.cpu_count()} cores offer ({share:.0%}: "
                f"{'a shared machine, so the figures above are lower than an idle one would give' if share > 0.05 else 'an otherwise idle machine'}"
                f"); 1-minute load average sampled between sections: {min(ones):.1f} to {max(ones):.1f} "
                f"({', '.join(f'{v:.1f}' for v in ones)}).  ")


def median_interval(ratios, level=0.95):
    """(median, low, high, k, coverage): the pairs' median ratio and a distribution-free
    ``level`` confidence interval for the median of the ratios' distribution, [low, high] the
    k-th smallest and k-th largest ratio, k the largest with P(Bin(n, 1/2) < k) <= (1 - level) / 2,
    so that the interval holds the median with probability ``coverage`` >= ``level`` whatever
    the distribution (the sign test's interval). One stray pair moves each end by at most one
    order statistic. Needs n >= 6 (k >= 1); with 9 pairs it is the 2nd and 8th, coverage 96.1%."""
    n, ordered = len(ratios), sorted(ratios)

    def below(k):  # P(Bin(n, 1/2) < k)
        return sum(math.comb(n, i) for i in range(k)) / 2 ** n
    k = 0
    while below(k + 1) <= (1 - level) / 2:
        k += 1
    if k == 0:
        raise ValueError(f"{n} pairs: too few for a {level:.0%} interval of the median")
    return statistics.median(ordered), ordered[k - 1], ordered[n - k], k, 1 - 2 * below(k)


def reading(low, high):
    """"faster" or "slower" where the interval [low, high] lies wholly on one side of 1.0, else "parity"."""
    return "faster" if low > 1.0 else "slower" if high < 1.0 else "parity"


def ratio_line(what, ratios):
    """A ratio's median over the pairs, its 95% interval (``median_interval``) and its reading."""
    median, low, high, k, coverage = median_interval(ratios)
    return (f"{what}: **{median:.2f}x**, median of {len(ratios)} alternated pairs, 95% interval "
            f"**{low:.2f}-{high:.2f}** (the {ordinal(k)} smallest and largest ratio, coverage "
            f"{coverage:.1%}; ratios in round order: {', '.join(f'{r:.2f}' for r in ratios)}): "
            f"**{reading(low, high)}**.")


def ordinal(k):
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", choices=MEASURES, help=argparse.SUPPRESS)
    parser.add_argument("--no-study", action="store_true", help="skip the study")
    parser.add_argument("--study", default="quick", choices=("quick", "smoke"),
                        help="the bundled study timed from a cold start (the targets are the quick study's)")
    parser.add_argument("--scaling", action="store_true", help="also time cells against images and --workers")
    parser.add_argument("--pairs", type=int, default=MIN_PAIRS,
                        help=f"alternated pairs of each measurement (>= {MIN_PAIRS})")
    parser.add_argument("--results", help="keep the studies' results here (default: a temporary folder)")
    args = parser.parse_args()
    if args.measure:
        print(MEASURES[args.measure]())
        return
    if args.pairs < MIN_PAIRS:
        parser.error(f"--pairs: at least {MIN_PAIRS}: fewer give no 95% interval of the median ratio "
                     "that leaves out the lowest and the highest pair")
    sharing = Sharing()
    began = datetime.datetime.now(datetime.timezone.utc)
    command = " ".join(["python -m benchmarks.run", *sys.argv[1:]])
    lines = ["# Benchmarks\n",
             "Written whole by `benchmarks/run.py`; a run on another machine with this CPU model replaces "
             "this file (other CPU models have their own).\n",
             f"Command: `TRANSFER_DATA_DIR={os.environ.get('TRANSFER_DATA_DIR', '')} {command}`  ",
             f"Started: {began:%Y-%m-%d %H:%M} UTC  ", f"Machine: {machine()}  ",
             f"Model: 32 px CaffeNet, width {WIDTH}, {CLASSES} Tiny ImageNet classes, batch {BATCH}; "
             f"{WARMUP} warm-up steps, then {STEPS} timed steps, each measurement in a fresh process; "
             "one warm-up round of every measurement, its figures discarded, then "
             f"{args.pairs} rounds, each measuring transferlib, PyTorch and transferlib with oneDNN off one "
             "after the other (the order reversed from round to round), then the two input pipelines"
             + ("." if args.no_study else f"; the {args.study} study ran before them.") + "\n"]
    study = []  # first: a study that fails stops the run before the long throughput rounds
    if not args.no_study:
        with tempfile.TemporaryDirectory() as tmp:
            study = study_section(args.study, Path(tmp), Path(args.results or tmp) / "results", sharing,
                                  args.scaling)
    for name in MEASURES:  # the warm-up round: figures discarded
        in_subprocess(name)
    samples = {name: [] for name in MEASURES}
    write(lines, samples, study, sharing, args.pairs)  # rewritten after every round: a run cut
    for i in range(args.pairs):                        # short leaves what it measured, said so
        order = ["transferlib", "torch", "transferlib-eigen"]
        order = order if i % 2 == 0 else order[::-1]
        for name in order + (["pipeline-tf", "pipeline-numpy"] if i % 2 == 0 else ["pipeline-numpy", "pipeline-tf"]):
            samples[name].append(in_subprocess(name))
        sharing.note()
        write(lines, samples, study, sharing, args.pairs)
    print(results_file().read_text())


def write(head, samples, study, sharing, pairs):
    """This CPU's results file from what has been measured so far: ``pairs`` rounds asked for."""
    done = min(len(v) for v in samples.values())
    lines = list(head)
    if done < pairs:
        lines += [f"**Incomplete**: {done} of the {pairs} rounds had finished when this file was last "
                  f"written; no ratio is read from fewer than {MIN_PAIRS} pairs.\n"]
    if done:
        lines += throughput_section(samples, ready=done >= MIN_PAIRS)
    lines += study + [f"Written: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  ",
                      sharing.report(), ""]
    results_file().write_text("\n".join(lines))


def throughput_section(samples, ready):
    """The training and pipeline tables; the ratios read only where ``ready`` (>= ``MIN_PAIRS`` pairs)."""
    samples = {name: v[:min(len(x) for x in samples.values())] for name, v in samples.items()}
    ratios = [a / b for a, b in zip(samples["transferlib"], samples["torch"])]
    multiples = [p / t for p, t in zip(samples["pipeline-tf"], samples["transferlib"])]
    onednn = [a / b for a, b in zip(samples["transferlib"], samples["transferlib-eigen"])]
    lines = ["## Training throughput\n", "| | median img/s | samples, in round order |", "|---|---|---|",
             *(f"| {label} | {statistics.median(samples[name]):.0f} | {', '.join(f'{v:.0f}' for v in samples[name])} |"
               for name, label in (("transferlib", "transferlib (Keras 3, TensorFlow, tf.data; oneDNN, its default)"),
                                   ("torch", "PyTorch loop"),
                                   ("transferlib-eigen", "transferlib with TF_ENABLE_ONEDNN_OPTS=0 (Eigen kernels)")))]
    if ready:
        _, low, high, _, _ = median_interval(ratios)
        lines += ["", ratio_line("transferlib / PyTorch", ratios) + " Target >= 1.0x, the interval wholly at or "
                  f"above 1.0: {'met' if low >= 1.0 else 'not shown (parity)' if high >= 1.0 else 'NOT met'}.\n",
                  ratio_line("oneDNN on / off (transferlib's default / TensorFlow's Eigen kernels)", onednn)
                  + " Target: faster on AVX2 CPUs, no slower (parity or faster) on AVX-512 ones.\n"]
    else:
        lines += ["", f"Ratios of the pairs so far: {', '.join(f'{r:.2f}' for r in ratios)} "
                  f"(not read: fewer than {MIN_PAIRS}).\n"]
    lines += ["## Input pipeline alone\n",
              "Training batches (crop, mirror, normalise) with no model, against the training rate of the "
              "same round.\n", "| pipeline | median img/s | samples |", "|---|---|---|"]
    for kind in ("tf", "numpy"):
        lines.append(f"| {kind} | {statistics.median(samples[f'pipeline-{kind}']):.0f} | "
                     f"{', '.join(f'{v:.0f}' for v in samples[f'pipeline-{kind}'])} |")
    if ready:
        lines += ["", ratio_line("tf.data pipeline / training", multiples) + " Target >= 3x on 32 px (the "
                  f"TensorFlow backend's pipeline), the interval wholly at or above 3: "
                  f"{verdict(median_interval(multiples)[1] >= 3)}.\n"]
    else:
        lines += ["", f"Multiples so far: {', '.join(f'{m:.1f}' for m in multiples)} "
                  f"(not read: fewer than {MIN_PAIRS}).\n"]
    return lines


def study_section(name, tmp, results, sharing, scaling):
    """Study ``name`` from a cold start and its cells' overhead (then, with ``scaling``, time
    per cell against images and --workers; their studies kept in ``results``). The targets
    (20 min, 5% overhead) are the quick study's."""
    wall, df = run_study(ROOT / "transferlib" / "studies" / f"{name}.yaml", results, tmp / "cold-cache")
    sharing.note()

    def target(text, ok):
        return f" (target {text}: {verdict(ok)})" if name == "quick" else " (the targets are the quick study's)"
    cells = {row.cell: cell_overhead(results / name / "cells" / f"{row.cell}.ipynb", row.wall_seconds,
                                     row.train_seconds) for row in df.itertuples()}
    cell_wall, training = float(df.wall_seconds.sum()), float(df.train_seconds.sum())
    total = {part: sum(c[part] for c in cells.values()) for part in next(iter(cells.values()))}
    overhead = cell_wall - training
    assert abs(sum(total.values()) - overhead) < 1e-6 * max(1.0, overhead)
    lines = [f"## The {name} study, from a cold start\n",
             f"`transferlib/studies/{name}.yaml` ({len(df)} cells), empty decode cache and results folder: "
             f"**{wall / 60:.1f} min**{target('<= 20 min', wall <= 1200)}. The cells' wall times sum "
             f"to {cell_wall:.0f} s, their training loops to {training:.0f} s; the remaining "
             f"{wall - cell_wall:.0f} s of the study are outside every cell (the runner's start, the cold "
             "decode, the first kernel's start, the summary).\n",
             "Cell overhead: everything a cell's wall time holds besides its training loop "
             f"(`model.fit`'s steps and validations): **{overhead:.0f} s in all, {overhead / len(df):.2f} s a "
             f"cell, {overhead / cell_wall:.1%} of the cells' wall time**{target('<= 5%', overhead <= 0.05 * cell_wall)}. "
             "Its parts:\n",
             "| part | s in all | s a cell | share of the cells' wall time |", "|---|---|---|---|"]
    for part, seconds in sorted(total.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {part} | {seconds:.1f} | {seconds / len(df):.2f} | {seconds / cell_wall:.1%} |")
    lines.append("")
    if scaling:
        lines += scaling_section(tmp, results)
    return lines


def scaling_section(tmp, results):
    lines = ["## Scaling\n", "Time per cell against the training images (2 epochs, baseA, baseB, A2B):\n",
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
