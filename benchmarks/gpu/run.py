"""The whole GPU measurement in one command, within 6 minutes on one H200; writes RESULTS-gpu.md
and results-gpu.json into the output folder.

    bash benchmarks/gpu/run.sh                          # on the GPU machine (installs .whl/, then this)
    python -m benchmarks.gpu.run --out DIR              # the same, the packages already there
    python -m benchmarks.gpu.run --cpu --tiny --out DIR # JAX's CPU backend, a few steps each (a test)

In one process tree, each measurement a fresh process, Keras on JAX and PyTorch alternating:
the bf16 matrix rate (JAX and PyTorch); training img/s of the CaffeNet at 32, 64 and 227 px in
mixed bfloat16 (fc8 and the softmax in float32) and at 32 px in float32, through the device input
path, against the PyTorch loop of the same network (``torch_net``), and the share of the matrix
rate each reaches; total img/s of 1, 2 and 4 cells sharing the GPU at 32 px; the
``gpu-quick`` study through the runner (papermill notebooks, summary and all): its wall time,
per-cell overhead and share of time training; the ``findings-gpu`` study, first, with its
report packed for ``docs/findings-gpu/``; the cost of the tiny-imagenet, paper and
imagenet-fast studies extrapolated from those figures. The 32 px figures train on Tiny ImageNet
(the 32 px archive travels); 64 and 227 px on synthetic decoded images (random uint8 at the
stored size), so no JPEG decoding is measured. Steps are given a time budget (``--budget``);
what does not fit is reported as not run, never estimated.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "transferlib" / "studies"
TARGETS = {"ratio": 1.0, "share_227": 0.40, "study_s": 180.0, "packing_4": 2.0}


class Settings:
    """The sizes of one run: the GPU's (default) or a CPU smoke run's (``tiny``)."""

    def __init__(self, tiny):
        self.tiny = tiny
        self.width, self.classes, self.batch = (0.125, 4, 8) if tiny else (1.0, 100, 256)
        self.warmup = 2 if tiny else 20
        self.steps = {32: 3, 64: 3, 227: 2} if tiny else {32: 300, 64: 200, 227: 60}
        self.count = {32: 0, 64: 32, 227: 16} if tiny else {32: 0, 64: 4096, 227: 1024}
        self.matmul = 256 if tiny else 8192
        self.packing = (1, 2) if tiny else (1, 2, 4)
        self.pack_steps = 3 if tiny else 200
        self.workers = 2 if tiny else 4  # gpu-quick's
        self.findings_workers = 2 if tiny else 8


class Run:
    """Runs the measurements as subprocesses within a time budget and keeps what they gave."""

    def __init__(self, args):
        self.args, self.s = args, Settings(args.tiny)
        self.start = time.perf_counter()
        self.work = Path(args.work or tempfile.mkdtemp(prefix="transferlib-gpu-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.cache = Path(args.cache_dir or self.work / "cache")  # decoded arrays, compiled programs
        self.env = dict(os.environ, KERAS_BACKEND="jax", PYTHONUNBUFFERED="1",
                        TRANSFER_CACHE_DIR=str(self.cache),
                        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        if args.data_dir:
            self.env["TRANSFER_DATA_DIR"] = str(Path(args.data_dir).resolve())
        if args.cpu:
            self.env["JAX_PLATFORMS"] = "cpu"
        self.device = "cpu" if args.cpu else "cuda"
        self.results_dir = Path(args.results or self.work / "results").resolve()
        self.results = {"not_run": [], "errors": {}}

    def left(self):
        return self.args.budget - (time.perf_counter() - self.start)

    def log(self, message):
        print(f"[{time.perf_counter() - self.start:6.1f} s] {message}", flush=True)

    def measure(self, key, name, needs, env=None, **options):
        """``measure.py NAME`` in a fresh process, if ``needs`` seconds are left; its JSON or None."""
        if self.left() < needs:
            self.results["not_run"].append(key)
            self.log(f"{key}: not run ({self.left():.0f} s left, needs ~{needs} s)")
            return None
        try:
            out = subprocess.run([sys.executable, "-m", "benchmarks.gpu.measure", name, json.dumps(options)],
                                 cwd=ROOT, env={**self.env, **(env or {})}, capture_output=True, text=True,
                                 timeout=max(30, self.left() + 30))
        except subprocess.TimeoutExpired:
            self.results["errors"][key] = "killed: past the time budget"
            return None
        if out.returncode:
            self.results["errors"][key] = out.stderr[-2000:]
            self.log(f"{key}: FAILED\n{out.stderr[-2000:]}")
            return None
        value = json.loads(out.stdout.strip().splitlines()[-1])
        self.log(f"{key}: {value}")
        return value

    def common(self, size):
        s = self.s
        return dict(width=s.width, classes=s.classes, batch=s.batch, warmup=s.warmup, steps=s.steps[size],
                    real=size == 32, count=s.count[size])

    def throughput(self, size, precision, torch_compiled=False):
        """Keras on JAX, then the eager PyTorch loop; or, with ``torch_compiled``, the
        ``torch.compile``d loop alone."""
        key = f"{size}px-{precision}"
        row = self.results.setdefault("throughput", {}).setdefault(key, {})
        needs = 20 if self.s.tiny else {32: 40, 64: 45, 227: 60}[size]
        torch_options = dict(args=[size, precision != "float32"], device=self.device, **self.common(size))
        if torch_compiled:
            row["torch_compiled"] = self.measure(f"torch.compile {key}", "torch", needs + 40, compile=True,
                                                 **torch_options)
            return
        row["keras"] = self.measure(f"keras {key}", "keras", needs, args=[size, precision], **self.common(size))
        if self.torch_ok:
            row["torch"] = self.measure(f"torch {key}", "torch", needs // 2, compile=False, **torch_options)

    def packing(self):
        """Total img/s of k cells at once on the GPU (32 px, bf16), each holding 1/k of its memory."""
        from transferlib import jax_env
        packed = self.results.setdefault("packing", {})
        for k in self.s.packing:
            if self.left() < (15 if self.s.tiny else 35):
                self.results["not_run"].append(f"packing {k}")
                continue
            barrier = Path(tempfile.mkdtemp(dir=self.work, prefix=f"pack{k}-"))
            options = dict(image_size=32, precision="mixed_bfloat16", width=self.s.width, classes=self.s.classes,
                           batch=self.s.batch, warmup=self.s.warmup, steps=self.s.pack_steps, real=True)
            env = {**self.env, **jax_env.cell_env(workers=k, cache_dir=self.cache)}
            procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.gpu.measure", "pack",
                                       json.dumps({"args": [i, str(barrier)], **options})],
                                      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for i in range(k)]
            deadline = time.perf_counter() + max(30, self.left())
            while (len(list(barrier.glob("ready-*"))) < k and all(p.poll() is None for p in procs)
                   and time.perf_counter() < deadline):
                time.sleep(0.05)
            (barrier / "go").touch()
            runs = []
            for p in procs:
                try:
                    stdout, stderr = p.communicate(timeout=max(30, self.left() + 30))
                except subprocess.TimeoutExpired:
                    p.kill()
                    stdout, stderr = p.communicate()
                    stderr += "\nkilled: past the time budget"
                if p.returncode:
                    self.results["errors"][f"packing {k}"] = stderr[-2000:]
                else:
                    runs.append(json.loads(stdout.strip().splitlines()[-1]))
            if len(runs) == k:
                span = max(r["end"] for r in runs) - min(r["start"] for r in runs)
                packed[k] = {"total_img_s": sum(r["images"] for r in runs) / span, "cells": runs}
                self.log(f"packing {k}: {packed[k]['total_img_s']:.0f} img/s in all")

    def study(self, name, workers, reserve, dry_run=False):
        """The study ``name`` through the runner, ``reserve`` seconds of the budget kept for what
        follows (the tiny run: three small cells of it); its folder goes to ``--results``, so a
        second call resumes it, and, less its models, into ``OUT/<name>.tar.gz``. ``dry_run``:
        only planned (``--dry-run``: its params checked and its cells listed)."""
        params = STUDIES / f"{name}.yaml"
        if self.s.tiny:
            values = {**yaml.safe_load(params.read_text()), "classes": 8, "width": self.s.width, "batch_size": 16,
                      "treatments": ["AnB"], "layers": [1], "directions": ["AnB"], "cka_images": 0,
                      "converged_bases": False}
            values.update({"iterations": 4, "val_every": 2} if values.get("iterations") else {"epochs": 1})
            params = self.work / f"{name}.yaml"
            params.write_text(yaml.safe_dump(values))
        needs = 30 if self.s.tiny else 120
        if self.left() - reserve < needs:
            self.results["not_run"].append(f"study {name}")
            return
        allowed = self.left() - reserve
        self.log(f"study {name}: --workers {workers}, {allowed:.0f} s allowed")
        start = time.perf_counter()
        run = subprocess.Popen([sys.executable, "-m", "transferlib", "run", str(params), "--results",
                                str(self.results_dir), "--workers", str(workers), *["--dry-run"] * dry_run],
                               cwd=ROOT, env=self.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = run.communicate(timeout=allowed)
            code = run.returncode
        except subprocess.TimeoutExpired:  # the runner, its kernels and their GPU memory, all at once
            os.killpg(run.pid, signal.SIGTERM)
            try:
                output, _ = run.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                output, _ = run.communicate()
            code = "killed at its time allowance"
        wall = time.perf_counter() - start
        out = {"params": name, "wall_s": wall, "exit": code, "workers": workers, "output_tail": output[-3000:],
               "dry_run": dry_run}
        self.results.setdefault("studies", {})[name] = out
        folder = self.results_dir / name
        table = folder / "results.csv"
        if table.exists():
            import pandas as pd
            df = pd.read_csv(table, keep_default_na=False)
            out.update(cells=len(df), train_s=float(df.train_seconds.sum()),
                       overhead_per_cell_s=float((df.wall_seconds - df.train_seconds).mean()),
                       training_share=float(df.train_seconds.sum()) / wall,
                       busy_share=float(df.train_seconds.sum()) / (wall * workers),
                       top1={r.cell: float(r.top1) for r in df.itertuples()})
        if folder.exists():
            with tarfile.open(Path(self.args.out) / f"{name}.tar.gz", "w:gz") as tar:
                tar.add(folder, arcname=name,
                        filter=lambda t: None if set(Path(t.name).parts[1:2]) & {"models", "checkpoints"} else t)
        self.log(f"study {name}: {wall:.0f} s, exit {code}, {out.get('cells', 0)} cells")

    def main(self):
        self.log(f"work folder {self.work}, budget {self.args.budget:.0f} s")
        try:
            import torch  # noqa: F401
            self.torch_ok = True
        except ImportError as e:
            self.torch_ok = False
            self.results["not_run"].append(f"PyTorch (not importable: {e})")
        start = time.perf_counter()
        from transferlib import data as datasets
        datasets.load("tiny_imagenet", datasets.stored_size(32), data_dir=self.args.data_dir,
                      cache_dir=self.cache)
        self.results["decode_s"] = time.perf_counter() - start
        self.results["matmul"] = self.measure("matmul", "matmul", 10, args=[self.s.matmul], device=self.device)
        # What was never measured first, as the budget allows: the findings study (nearly all
        # of it), packing, torch.compile, 64 px and float32; then the headline sizes and gpu-quick,
        # measured in an earlier call (the eager PyTorch loop always comes before the compiled one).
        self.study("findings-gpu", self.s.findings_workers, reserve=0 if self.s.tiny else 20)
        self.packing()
        if not self.args.cpu and self.torch_ok:
            for size in (32, 227):
                self.throughput(size, "mixed_bfloat16", torch_compiled=True)
        self.throughput(64, "mixed_bfloat16")
        self.throughput(32, "float32")
        self.throughput(32, "mixed_bfloat16")
        self.throughput(227, "mixed_bfloat16")
        # The tiny run trains one study through the runner; gpu-quick's only difference there
        # (epochs, not iterations) is its params file, which a dry run checks.
        self.study("gpu-quick", self.s.workers, reserve=0 if self.s.tiny else 30, dry_run=self.s.tiny)
        if not self.s.tiny and self.left() > 75:  # a cell's start-up, compilation cache off / empty / warm
            from benchmarks.gpu import startup
            try:
                self.results["startup"] = startup.compare(1, image_size=32, width=1.0, classes=100, batch=256,
                                                          steps=3, env=self.env)
            except RuntimeError as e:
                self.results["errors"]["startup"] = str(e)
        else:
            self.results["not_run"].append("start-up with and without the compilation cache (on the CPU: "
                                           "python -m benchmarks.gpu.startup)")
        self.results["extrapolations"] = extrapolate(self.results, self.args.data_dir)
        self.results["seconds"] = time.perf_counter() - self.start
        return self.results


def best_torch(row):
    rates = [(row.get(k) or {}).get("img_s") for k in ("torch", "torch_compiled")]
    rates = [r for r in rates if r]
    return max(rates) if rates else None


def study_images(path, data_dir=None):
    """(cells, training images, validation images) of a study's grid, from its params alone
    (Tiny ImageNet: 500 training and 50 validation images a class; ImageNet: 1,300 and 50)."""
    from transferlib.driver import grid
    from transferlib.driver.params import load_params
    params = load_params(path)
    try:
        names = grid.dataset_classes(params, download=False)
    except ImportError:  # ImageNet's class list through tfds, absent where TensorFlow is: the paper's list
        tsv = ROOT / "transferlib" / "resources" / "imagenet1k_man_made_natural.tsv"
        names = [line.split("\t")[1] for line in tsv.read_text().splitlines()[1:] if line.strip()]
    cells = grid.expand(params, names)
    train = val = 0
    for cell in cells:
        p = cell.parameters
        per_class = p.get("images_per_class") or (500 if "tiny" in p["dataset"] else 1300)
        classes = len(p["classes"])
        if p.get("iterations"):
            train += p["iterations"] * p["batch_size"]
            val += p["iterations"] // p["val_every"] * 50 * classes
        else:
            train += p["epochs"] * per_class * classes
            val += p["epochs"] * 50 * classes
    return len(cells), train, val


def extrapolate(results, data_dir):
    """Each study's cost at the measured Keras img/s of its image size (bf16) and the measured
    per-cell overhead of the gpu-quick study; validation counted at a third of a training image."""
    overhead = next((st["overhead_per_cell_s"] for st in results.get("studies", {}).values()
                     if st.get("overhead_per_cell_s")), None)
    out = {}
    for name, size in (("tiny-imagenet", 64), ("paper", 227), ("imagenet-fast", 227)):
        rate = ((results.get("throughput", {}).get(f"{size}px-mixed_bfloat16") or {}).get("keras") or {}).get("img_s")
        try:
            cells, train, val = study_images(STUDIES / f"{name}.yaml", data_dir)
        except Exception as e:  # noqa: BLE001 (reported, not fatal)
            out[name] = {"error": str(e)}
            continue
        row = {"cells": cells, "train_images": train, "val_images": val,
               "from": f"{size} px mixed_bfloat16 Keras img/s" + (", a study's overhead per cell" if overhead else "")}
        if rate:
            seconds = (train + val / 3) / rate + cells * (overhead or 0.0)
            row.update(rate_img_s=rate, gpu_hours=seconds / 3600)
        out[name] = row
    return out


def machine(results):
    import importlib.metadata as md
    versions = {}
    for name in ("jax", "jaxlib", "keras", "torch", "numpy", "papermill", "nbclient"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "absent"
    device = next((r["keras"]["device"] for r in results.get("throughput", {}).values() if r.get("keras")), "?")
    return {"device": device, "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions}


def markdown(results, args):
    s = Settings(args.tiny)
    m = results["machine"]
    fmt = lambda v, f="{:,.0f}": "n/a" if v is None else f.format(v)  # noqa: E731
    rate = max(filter(None, [(results.get("matmul") or {}).get(k) for k in ("jax_tflops", "torch_tflops")]),
               default=None)
    kind = ("CPU smoke run (`--cpu --tiny`): these are NOT GPU figures; they show the script works"
            if args.cpu or args.tiny else "Measured on the GPU by this script, one run")
    lines = ["# GPU benchmark: Keras on JAX against PyTorch, and a study through the runner\n",
             f"{kind}.  ",
             f"Command: `{args.command}`  ",
             f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {results['seconds']:.0f} s in all  ",
             f"Machine: {m['device']}, {m['cpus']} CPU cores, Python {m['python']}, "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f", {m['platform']}  ",
             f"Network: the CaffeNet of `architectures.caffenet` at width {s.width}, {s.classes} classes, batch {s.batch}, "
             f"CaffeSGD; warm-up fits (compilation) until one compiles nothing, then timed steps; 32 px on Tiny ImageNet, 64 and "
             "227 px on synthetic decoded images; input on the device (`DeviceBatches`; PyTorch: the same, in torch).\n",
             f"bf16 matrix product ({s.matmul}^3): JAX {fmt((results.get('matmul') or {}).get('jax_tflops'), '{:.1f}')} "
             f"TFLOP/s, PyTorch {fmt((results.get('matmul') or {}).get('torch_tflops'), '{:.1f}')} TFLOP/s; "
             "the shares below are of the higher.\n",
             "## Training throughput\n",
             "| size, precision | Keras on JAX img/s | PyTorch eager | PyTorch compiled | ratio Keras / best PyTorch "
             "| training GFLOP an image | share of the bf16 rate |", "|---|---|---|---|---|---|---|"]
    verdicts = []
    for key, row in results.get("throughput", {}).items():
        keras_rate = (row.get("keras") or {}).get("img_s")
        torch_rate = best_torch(row)
        flops = (row.get("keras") or {}).get("flops")
        ratio = keras_rate / torch_rate if keras_rate and torch_rate else None
        share = flops * keras_rate / (rate * 1e12) if flops and keras_rate and rate else None
        lines.append(f"| {key} | {fmt(keras_rate)} | {fmt((row.get('torch') or {}).get('img_s'))} | "
                     f"{fmt((row.get('torch_compiled') or {}).get('img_s'))} | {fmt(ratio, '{:.2f}x')} | "
                     f"{fmt(flops and flops / 1e9, '{:.3f}')} | {fmt(share, '{:.1%}')} |")
        if ratio is not None:
            verdicts.append(f"{key}: {ratio:.2f}x PyTorch (target >= {TARGETS['ratio']}x: {verdict(ratio >= TARGETS['ratio'])})")
        if key.startswith("227") and share is not None:
            verdicts.append(f"227 px: {share:.0%} of the bf16 rate (target >= 40%: {verdict(share >= TARGETS['share_227'])})")
    lines += ["", *[f"- {v}" for v in verdicts], "", "## Cells sharing the GPU (32 px, bf16)\n",
              "| cells at once | total img/s | x one cell | memory fraction each |", "|---|---|---|---|"]
    packed = results.get("packing", {})
    one = (packed.get(1) or {}).get("total_img_s")
    for k, p in packed.items():
        lines.append(f"| {k} | {p['total_img_s']:,.0f} | {fmt(one and p['total_img_s'] / one, '{:.2f}x')} | "
                     f"{p['cells'][0].get('mem_fraction') or 'JAX default'} |")
    if 4 in packed and one:
        lines.append(f"\n4 cells: {packed[4]['total_img_s'] / one:.2f}x one cell (target >= 2x: "
                     f"{verdict(packed[4]['total_img_s'] / one >= TARGETS['packing_4'])}).")
    lines += ["", "## Studies through the runner\n"]
    for st in results.get("studies", {}).values():
        if st.get("dry_run"):
            lines += [f"`{st['params']}`: a dry run (`--dry-run`: its params checked, its cells listed), "
                      f"exit {st['exit']}.", ""]
            continue
        lines += [f"`{st['params']}` with `--workers {st['workers']}` (papermill notebooks, warm kernels, summary): "
                  f"**{st['wall_s']:.0f} s** wall, exit {st['exit']}, {st.get('cells', 0)} cells done; "
                  f"per-cell overhead (cell wall minus training) {fmt(st.get('overhead_per_cell_s'), '{:.1f}')} s; "
                  f"the cells' training time summed: {fmt(st.get('train_s'), '{:.0f}')} s, "
                  f"{fmt(st.get('training_share'), '{:.2f}')}x the wall time, "
                  f"{fmt(st.get('busy_share'), '{:.0%}')} of the {st['workers']} workers' time."]
        if st["params"] == "gpu-quick" and not args.tiny:
            lines.append(f"Target under 3 minutes: {verdict(st['wall_s'] < TARGETS['study_s'] and st['exit'] == 0)}.")
        lines.append("")
    if not results.get("studies"):
        lines.append("Not run.")
    if results.get("startup"):
        from benchmarks.gpu import startup
        lines += ["", "## A cell's start-up and the compilation cache\n",
                  "32 px CaffeNet, batch 256: `devices.setup`, data to the device, build, compile, 3 steps; "
                  "a fresh process each (`benchmarks/gpu/startup.py`).\n", *startup.table(results["startup"])]
    lines += ["", "## Costs extrapolated from the figures above\n",
              "| study | networks | training images | at (measured figure) | GPU-hours, one H200 |", "|---|---|---|---|---|"]
    for name, row in results.get("extrapolations", {}).items():
        if "error" in row:
            lines.append(f"| {name} | | | could not plan: {row['error'][:80]} | |")
        else:
            lines.append(f"| {name} | {row['cells']} | {row['train_images']:,} | {row['from']}"
                         f"{', ' + format(row['rate_img_s'], ',.0f') + ' img/s' if row.get('rate_img_s') else ''} "
                         f"| {fmt(row.get('gpu_hours'), '{:.2f}')} |")
    lines.append("\nExtrapolations, not measurements: one cell at a time at the synthetic-input rate (ImageNet's "
                 "JPEG decoding on the host may bound the 227 px studies), validation at a third of a training "
                 "image; the paper's study is float32 (only bf16 is measured at 227 px); the tiny-imagenet study "
                 "is float32 at 64 px unless its precision is set to mixed_bfloat16.")
    if results["not_run"] or results["errors"]:
        lines += ["", "## Not measured in this run\n", *[f"- {k}: not run (time budget or missing package)"
                                                          for k in results["not_run"]],
                  *[f"- {k}: failed: `{v.strip().splitlines()[-1] if v.strip() else '?'}`"
                    for k, v in results["errors"].items()]]
    return "\n".join(lines) + "\n"


def verdict(ok):
    return "met" if ok else "NOT met"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or "gpu-results", help="output folder (default $OUT)")
    parser.add_argument("--work", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--data-dir", default=os.environ.get("TRANSFER_DATA_DIR") or str(ROOT / ".data"),
                        help="the folder holding tiny-imagenet-200-32px.tar.gz (default $TRANSFER_DATA_DIR, else .data)")
    parser.add_argument("--cache-dir", help="decoded arrays and compiled programs (default: in --work)")
    parser.add_argument("--results", help="the studies' results folder, kept, so that a second call resumes them "
                                          "(default: in --work)")
    parser.add_argument("--cpu", action="store_true", help="JAX's CPU backend and PyTorch on the CPU")
    parser.add_argument("--tiny", action="store_true", help="a few steps of tiny networks each (a test)")
    parser.add_argument("--budget", type=float, help="seconds for the measurements (default 330; --tiny 3000)")
    args = parser.parse_args(argv)
    args.budget = args.budget or (3000.0 if args.tiny else 330.0)  # tiny: a slow, shared CPU
    args.command = "python -m benchmarks.gpu.run " + " ".join(argv if argv is not None else sys.argv[1:])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run = Run(args)
    try:
        results = run.main()
    finally:
        if not args.work:
            shutil.rmtree(run.work, ignore_errors=True)
    results["machine"] = machine(results)
    results["command"], results["tiny"], results["cpu"] = args.command, args.tiny, args.cpu
    (out / "results-gpu.json").write_text(json.dumps(results, indent=1, default=str))
    text = markdown(results, args)
    (out / "RESULTS-gpu.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
