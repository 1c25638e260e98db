"""The study runner: one papermill execution per grid cell, resumable, then the summary.

Layout of ``RESULTS/<study>/``: ``cells/<cell>.ipynb`` (each cell's executed notebook, its
log), ``cells/<cell>.json`` (its metrics, written last, atomically: a cell is done when this
file exists with the cell's params_hash), ``models/<cell>.keras`` (base networks),
``checkpoints/<cell>-<params_hash>/`` (with ``checkpoint: true``, the backup of a cell still
running or killed, from which its next run resumes),
``results.csv`` (one row per done cell), ``params.yaml`` (the params as run, for the summary),
``summary.ipynb``, ``summary.html``, the figures and ``cka.csv`` (the layer similarities).
RESULTS is a folder or a URL (see ``store``). Cells run here in threads (the local executor)
or as Ray tasks (``ray_executor``); either way the driver books them into one results.csv.
"""

import hashlib
import json
import os
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import yaml
from tqdm import tqdm

from . import grid, kernels, results, sources, store
from .atomic import write_text_atomic
from .params import ParamsError, load_params

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CELL_OVERHEAD = 2.0  # seconds per cell beside training (papermill, data, model, saving), measured
_A_PRIORI_RATE = {32: 1000.0, 64: 250.0, 227: 20.0}  # img/s on 2 CPU cores, for --dry-run only
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # kernels inherit it: no TF banner per cell


@dataclass(frozen=True)
class Study:
    """A loaded params file, its cells and its folder: a Path, or a URL string (``store``)."""

    params: object
    cells: list
    root: Path | str

    def notebook(self, cell):
        return store.join(self.root, "cells", f"{cell.id}.ipynb")

    def metrics(self, cell):
        return store.join(self.root, "cells", f"{cell.id}.json")

    def model(self, cell_id):
        return store.join(self.root, "models", f"{cell_id}.keras")

    @property
    def driver_dir(self):
        """Where the driver writes results.csv and the summary: the root folder, or for a URL
        root a local mirror in the cache whose files ``publish`` copies to the URL."""
        if not store.is_url(self.root):
            return self.root
        return sources.cache_root() / "studies" / hashlib.sha256(self.root.encode()).hexdigest()[:16]

    def checkpoints(self, cell):
        """The local folder of ``cell``'s backup: under the root folder, or for a URL root
        under the local mirror (then a retry on the same machine resumes, another restarts)."""
        return Path(self.driver_dir) / "checkpoints" / f"{cell.id}-{cell.params_hash}"

    @property
    def table(self):
        return self.driver_dir / "results.csv"

    def publish(self, *names):
        """Copy the driver's files ``names`` to a URL root (a folder root already has them)."""
        if store.is_url(self.root):
            for name in names:
                store.put(self.driver_dir / name, store.join(self.root, name))

    def done(self, cell):
        """The metrics of ``cell`` if it finished with its current parameters, else None."""
        try:
            metrics = json.loads(store.read_text(self.metrics(cell)))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if metrics.get("params_hash") != cell.params_hash:
            return None
        if cell.kind == "base" and not store.exists(self.model(cell.id)):
            return None
        return metrics


def load_study(params_path, results_dir=None):
    """Validate the params file and the data it names, and expand its grid (no training)."""
    params = load_params(params_path)
    cells = grid.expand(params)
    where = results_dir or params.results_dir
    root = store.join(where if store.is_url(where) else Path(where).absolute(), params.study)
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


def done_cells(study):
    """{cell id: metrics} of the cells of the current grid done with their current parameters."""
    return {c.id: m for c in study.cells if (m := study.done(c)) is not None}


def sync_table(study, done):
    """Make results.csv hold exactly the ``done`` cells (``done_cells``) of the current grid."""
    for cell in study.cells:
        if cell.id in done:
            results.append_row(study.table, row(cell, done[cell.id]))
    if study.table.exists():
        results.keep_only(study.table, {c.id: c.params_hash for c in study.cells if c.id in done})
        study.publish(study.table.name)


def estimate_seconds(study, cells, done):
    """Rough wall time of ``cells``: the mean of the ``done`` cells (``done_cells``) of the same
    notebook where there are some, else an a-priori rate for the image size at 500 training
    images per class (or the iterations' images)."""
    measured = {}
    for cell in study.cells:
        if cell.id in done:
            measured.setdefault(cell.notebook, []).append(done[cell.id].get("wall_seconds", 0.0))
    total = 0.0
    for cell in cells:
        if measured.get(cell.notebook):
            total += sum(measured[cell.notebook]) / len(measured[cell.notebook])
        else:
            p = cell.parameters
            rate = _A_PRIORI_RATE[p["image_size"]] / max(p["width"], 0.25) ** 2 * 0.375**2
            images = (p["iterations"] * p["batch_size"] if p["iterations"]
                      else 500 * len(p["classes"]) * p["epochs"])
            total += CELL_OVERHEAD + images / rate
    return total


class Launcher:
    """Runs one cell's notebook with papermill in a kernel of its own and returns its metrics:
    the same for every executor (it pickles, for Ray). Kernels come warm from ``kernels`` (a
    ``kernels.KernelPool``) where given, else are started for the cell. For a URL root the
    cell runs in a local scratch folder and its notebook, model and, last, metrics are copied
    to the URL."""

    def __init__(self, study, kernels=None):
        self.study, self.kernels = study, kernels

    def parameters(self, cell, out):
        p = dict(cell.parameters, params_hash=cell.params_hash, metrics_path=str(out.metrics(cell)),
                 checkpoint_dir=str(self.study.checkpoints(cell)) if cell.parameters["checkpoint"] else None)
        if cell.kind == "base":
            p["model_path"] = str(out.model(cell.id))
        else:
            p["source_model_path"] = str(self.study.model(cell.source)) if cell.source else None
        return p

    def __call__(self, cell):
        store.remove(self.study.metrics(cell))
        if not store.is_url(self.study.root):
            return self._papermill(cell, self.study)
        with tempfile.TemporaryDirectory(prefix=f"transferlib-{cell.id}-") as scratch:
            out = replace(self.study, root=Path(scratch))
            try:
                metrics = self._papermill(cell, out)
            finally:
                if out.notebook(cell).exists():  # the log, of a failed cell too
                    store.put(out.notebook(cell), self.study.notebook(cell))
            if cell.kind == "base":
                store.put(out.model(cell.id), self.study.model(cell.id))
            store.put(out.metrics(cell), self.study.metrics(cell))  # last: done from here on
            return metrics

    def _papermill(self, cell, out):
        """Execute ``cell`` into the folder study ``out``; its metrics, or an error."""
        notebook = out.notebook(cell)
        notebook.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        km = self.kernels.take() if self.kernels else kernels.start(notebook.parent)
        kernels.execute(NOTEBOOKS / f"{cell.notebook}.ipynb", notebook, self.parameters(cell, out), km)
        metrics = out.done(cell)
        if metrics is None:
            raise RuntimeError(f"{notebook} ran but wrote no metrics with this cell's params_hash")
        metrics["wall_seconds"] = time.perf_counter() - start
        write_text_atomic(out.metrics(cell), json.dumps(metrics, indent=1))
        return metrics


def run(params_path, *, results_dir=None, executor=None, workers=None, address=None,
        dry_run=False, summary=True, out=print):
    """Run a study's cells not yet done, then its summary. Returns the process exit code.

    ``executor`` ("local" or "ray") and ``address`` (Ray's) default to the params' values;
    ``workers`` (cells at once) is the local executor's.
    """
    study = load_study(params_path, results_dir)
    execute = _executor(study, executor or study.params.executor, workers,
                        address or study.params.ray_address)
    done = done_cells(study)
    todo = [c for c in study.cells if c.id not in done]
    if dry_run:
        out(grid.describe(study.cells))
        out(f"\n{study.root}: {len(done)} of {len(study.cells)} cells done"
            + (f" ({', '.join(sorted(done))})" if done else ""))
        out(f"to run: {len(todo)} cells, about {estimate_seconds(study, todo, done) / 60:.0f} min "
            f"with 1 worker")
        return 0
    sync_table(study, done)
    write_text_atomic(study.driver_dir / "params.yaml", yaml.safe_dump(study.params.to_dict(), sort_keys=False))
    if todo:
        # Decode the dataset once, here, so that cells (and parallel workers) start warm.
        sources.load(study.params.dataset, sources.stored_size(study.params.image_size),
                     data_dir=study.params.data_dir)
    bar = tqdm(total=len(study.cells), initial=len(study.cells) - len(todo), unit="cell",
               desc=study.params.study, dynamic_ncols=True)
    failed = execute(study, todo, bar)
    bar.close()
    if summary and study.table.exists() and _summary_is_stale(study):
        try:
            run_summary(study)
        except Exception as e:  # the cells' results stand; report the summary's failure
            failed["summary"] = (study.driver_dir / "summary.ipynb", str(e))
    if failed:
        out(f"{len(failed)} failed:")
        for cell_id, (notebook, error) in failed.items():
            out(f"  {cell_id}: {error}\n    see {notebook}")
        return 1
    out(f"done: {study.root}")
    return 0


def _executor(study, name, workers, address):
    """``execute(study, todo, bar) -> failed``: the local executor, or Ray's (imported only
    here); a ParamsError, before any compute, where Ray is asked for and cannot be had."""
    if name == "local":
        return partial(_execute_locally, workers=workers or 1)
    if workers is not None:
        raise ParamsError(study.params.source, [
            f"--workers {workers}: the ray executor runs as many cells at once as the cluster's "
            "CPUs and GPUs allow; set cpus_per_cell / gpus_per_cell instead"])
    try:
        from . import ray_executor
    except ImportError as e:
        raise ParamsError(study.params.source, [
            f"executor: ray cannot be imported ({e}); install it with "
            "pip install -r requirements-ray.txt, or use the local executor"]) from None
    return partial(ray_executor.execute, address=address)


def record(study, cell, outcome, failed, bar):
    """Book one finished cell: its row in results.csv from the metrics ``outcome()`` returns,
    or, where ``outcome()`` raises, its error in ``failed``."""
    try:
        results.append_row(study.table, row(cell, outcome()))
        study.publish(study.table.name)
    except Exception as e:
        failed[cell.id] = (study.notebook(cell), str(e))
        tqdm.write(f"{cell.id} failed: {e}")
    bar.update()


def not_run(study, cell, blocked, failed, bar):
    """Book a cell that cannot run because the base cell ``blocked`` failed."""
    failed[cell.id] = (study.notebook(cell), f"not run: {blocked} failed")
    bar.update()


def _execute_locally(study, todo, bar, *, workers):
    """Run ``todo`` in up to ``workers`` threads at once, each after the cells it needs.
    Returns {cell id: (notebook, error)} of the cells that failed or could not run."""
    if not todo:
        return {}
    warm = kernels.KernelPool(workers, study.driver_dir)
    launch = Launcher(study, warm)
    waiting, failed, running = list(todo), {}, {}
    pending_ids = {c.id for c in todo}
    with ThreadPoolExecutor(max_workers=workers) as pool, closing(warm):
        while waiting or running:
            for cell in list(waiting):
                blocked = [n for n in cell.needs if n in failed]
                if blocked:
                    waiting.remove(cell)
                    pending_ids.discard(cell.id)
                    not_run(study, cell, blocked[0], failed, bar)
                elif len(running) < workers and not any(n in pending_ids for n in cell.needs):
                    waiting.remove(cell)
                    running[pool.submit(launch, cell)] = cell
            if not running:
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                cell = running.pop(future)
                pending_ids.discard(cell.id)
                record(study, cell, future.result, failed, bar)
    return failed


def _summary_is_stale(study):
    html = study.driver_dir / "summary.html"
    return not html.exists() or html.stat().st_mtime < study.table.stat().st_mtime


def run_summary(study):
    """Execute the summary notebook into the driver's folder, export it to HTML and publish
    them with the figures."""
    from nbconvert import HTMLExporter

    here = study.driver_dir
    kernels.execute(NOTEBOOKS / "summary.ipynb", here / "summary.ipynb", km=kernels.start(here),
                    parameters={"study_dir": str(here), "dataset": study.params.dataset,
                                "results_root": str(study.root)})
    html, _ = HTMLExporter(embed_images=True).from_filename(str(here / "summary.ipynb"))
    (here / "summary.html").write_text(html)
    study.publish(*sorted(p.name for p in here.iterdir() if p.is_file() and p.suffix != ".lock"
                          and not p.name.startswith(".")))
