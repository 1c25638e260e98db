"""The study runner: one papermill execution per grid cell, resumable, then the summary.

Layout of ``RESULTS/<study>/``: ``cells/<cell>.ipynb`` (each cell's executed notebook, its
log), ``cells/<cell>.json`` (its metrics, written last, atomically: a cell is done when this
file exists with the cell's params_hash), ``models/<cell>.keras`` (base networks),
``results.csv`` (one row per done cell), ``params.yaml`` (the params as run, for the summary),
``summary.ipynb``, ``summary.html``, the figures and ``cka.csv`` (the layer similarities).
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from . import grid, results, sources
from .atomic import write_text_atomic
from .params import load_params

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LAUNCH_GAP = 2.0  # seconds between kernel starts: parallel launches can race for ports
CELL_OVERHEAD = 8.0  # seconds per cell before training (kernel, imports, papermill), measured
_A_PRIORI_RATE = {32: 1000.0, 64: 250.0, 227: 20.0}  # img/s on 2 CPU cores, for --dry-run only
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # kernels inherit it: no TF banner per cell


@dataclass(frozen=True)
class Study:
    """A loaded params file, its cells and its folder."""

    params: object
    cells: list
    root: Path

    def notebook(self, cell):
        return self.root / "cells" / f"{cell.id}.ipynb"

    def metrics(self, cell):
        return self.root / "cells" / f"{cell.id}.json"

    def model(self, cell_id):
        return self.root / "models" / f"{cell_id}.keras"

    @property
    def table(self):
        return self.root / "results.csv"

    def done(self, cell):
        """The metrics of ``cell`` if it finished with its current parameters, else None."""
        try:
            metrics = json.loads(self.metrics(cell).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if metrics.get("params_hash") != cell.params_hash:
            return None
        if cell.kind == "base" and not self.model(cell.id).exists():
            return None
        return metrics


def load_study(params_path, results_dir=None):
    """Validate the params file and the data it names, and expand its grid (no training)."""
    params = load_params(params_path)
    cells = grid.expand(params)
    root = Path(results_dir or params.results_dir).absolute() / params.study
    return Study(params, cells, root)


def row(cell, metrics):
    """The results.csv row of a finished cell."""
    return {"cell": cell.id, "split": cell.split, "kind": cell.kind, "source": cell.source,
            "target": cell.target, "n": cell.n, "fine_tuned": cell.fine_tuned,
            "images_per_class": cell.images_per_class,
            "top1": metrics["top1"], "top5": metrics["top5"], "best10_top1": metrics["best10_top1"],
            "epochs": metrics["epochs"], "train_seconds": metrics["train_seconds"],
            "wall_seconds": metrics.get("wall_seconds", metrics["train_seconds"]),
            "params_hash": cell.params_hash, "history": metrics["val_top1"]}


def sync_table(study):
    """Make results.csv hold exactly the done cells of the current grid; return their ids."""
    done = {}
    for cell in study.cells:
        metrics = study.done(cell)
        if metrics is not None:
            done[cell.id] = metrics
            results.append_row(study.table, row(cell, metrics))
    if study.table.exists():
        results.keep_only(study.table, {c.id: c.params_hash for c in study.cells if c.id in done})
    return set(done)


def estimate_seconds(study, cells):
    """Rough wall time of ``cells``: measured cells of the same notebook where there are some,
    else an a-priori rate for the image size at 500 training images per class."""
    measured = {}
    for cell in study.cells:
        metrics = study.done(cell)
        if metrics:
            measured.setdefault(cell.notebook, []).append(metrics.get("wall_seconds", 0.0))
    total = 0.0
    for cell in cells:
        if measured.get(cell.notebook):
            total += sum(measured[cell.notebook]) / len(measured[cell.notebook])
        else:
            p = cell.parameters
            rate = _A_PRIORI_RATE[p["image_size"]] / max(p["width"], 0.25) ** 2 * 0.375**2
            total += CELL_OVERHEAD + 500 * len(p["classes"]) * p["epochs"] / rate
    return total


def _die_with_parent():
    """In the child: get SIGKILL when the runner dies (so kill -9 leaves no orphan kernel)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class _Launcher:
    """Runs cells' notebooks with papermill in subprocesses, kernel starts spaced apart."""

    def __init__(self, study):
        self.study, self.lock, self.last = study, threading.Lock(), 0.0

    def parameters(self, cell):
        p = dict(cell.parameters, params_hash=cell.params_hash,
                 metrics_path=str(self.study.metrics(cell)))
        if cell.kind == "base":
            p["model_path"] = str(self.study.model(cell.id))
        else:
            p["source_model_path"] = str(self.study.model(cell.source)) if cell.source else None
        return p

    def __call__(self, cell):
        out = self.study.notebook(cell)
        out.parent.mkdir(parents=True, exist_ok=True)
        self.study.metrics(cell).unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "papermill", str(NOTEBOOKS / f"{cell.notebook}.ipynb"), str(out),
               "-y", json.dumps(self.parameters(cell)), "--cwd", str(out.parent),
               "--no-progress-bar", "--log-level", "ERROR"]
        with self.lock:
            time.sleep(max(0.0, self.last + LAUNCH_GAP - time.monotonic()))
            self.last = time.monotonic()
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    preexec_fn=_die_with_parent)
        log = proc.communicate()[0]
        metrics = self.study.done(cell)
        if proc.returncode or metrics is None:
            raise RuntimeError(log.strip().splitlines()[-1] if log.strip() else
                               f"papermill exited with {proc.returncode}")
        metrics["wall_seconds"] = time.perf_counter() - start
        write_text_atomic(self.study.metrics(cell), json.dumps(metrics, indent=1))
        return metrics


def run(params_path, *, results_dir=None, workers=1, dry_run=False, summary=True, out=print):
    """Run a study's cells not yet done, then its summary. Returns the process exit code."""
    study = load_study(params_path, results_dir)
    done = sync_table(study)
    todo = [c for c in study.cells if c.id not in done]
    if dry_run:
        out(grid.describe(study.cells))
        out(f"\n{study.root}: {len(done)} of {len(study.cells)} cells done"
            + (f" ({', '.join(sorted(done))})" if done else ""))
        out(f"to run: {len(todo)} cells, about {estimate_seconds(study, todo) / 60:.0f} min "
            f"with 1 worker")
        return 0
    write_text_atomic(study.root / "params.yaml", yaml.safe_dump(study.params.to_dict(), sort_keys=False))
    if todo:
        # Decode the dataset once, here, so that cells (and parallel workers) start warm.
        sources.load(study.params.dataset, sources.stored_size(study.params.image_size),
                     data_dir=study.params.data_dir)
    failed = _execute(study, todo, workers, out)
    if summary and study.table.exists() and _summary_is_stale(study):
        try:
            run_summary(study)
        except Exception as e:  # the cells' results stand; report the summary's failure
            failed["summary"] = (study.root / "summary.ipynb", str(e))
    if failed:
        out(f"{len(failed)} failed:")
        for cell_id, (notebook, error) in failed.items():
            out(f"  {cell_id}: {error}\n    see {notebook}")
        return 1
    out(f"done: {study.root}")
    return 0


def _execute(study, todo, workers, out):
    """Run ``todo`` with up to ``workers`` at once, each after the cells it needs.
    Returns {cell id: (notebook, error)} of the cells that failed or could not run."""
    launch = _Launcher(study)
    waiting, failed, running = list(todo), {}, {}
    pending_ids = {c.id for c in todo}
    bar = tqdm(total=len(study.cells), initial=len(study.cells) - len(todo), unit="cell",
               desc=study.params.study, dynamic_ncols=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while waiting or running:
            for cell in list(waiting):
                blocked = [n for n in cell.needs if n in failed]
                if blocked:
                    waiting.remove(cell)
                    failed[cell.id] = (study.notebook(cell), f"not run: {blocked[0]} failed")
                    pending_ids.discard(cell.id)
                    bar.update()
                elif len(running) < workers and not any(n in pending_ids for n in cell.needs):
                    waiting.remove(cell)
                    running[pool.submit(launch, cell)] = cell
            if not running:
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                cell = running.pop(future)
                pending_ids.discard(cell.id)
                try:
                    results.append_row(study.table, row(cell, future.result()))
                except Exception as e:
                    failed[cell.id] = (study.notebook(cell), str(e))
                    tqdm.write(f"{cell.id} failed: {e}")
                bar.update()
    bar.close()
    return failed


def _summary_is_stale(study):
    html = study.root / "summary.html"
    return not html.exists() or html.stat().st_mtime < study.table.stat().st_mtime


def run_summary(study):
    """Execute the summary notebook into the study folder and export it to HTML."""
    import papermill
    from nbconvert import HTMLExporter

    out = study.root / "summary.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / "summary.ipynb"), str(out), cwd=str(study.root),
                               parameters={"study_dir": str(study.root),
                                           "dataset": study.params.dataset},
                               progress_bar=False)
    html, _ = HTMLExporter(embed_images=True).from_filename(str(out))
    (study.root / "summary.html").write_text(html)
