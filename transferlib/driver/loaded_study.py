"""A study loaded from its params file, as the driver holds it: its params, its cells and its
folder (``layout``), which of its cells are done, and the lock of the runner running it."""

import fcntl
import hashlib
import json
import math
import os
import socket
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..data import cache_root
from ..records import curves, layout, store, table
from . import grid
from .params import load_params


METRICS = ("top1", "top5", "best10_top1", "validations", "train_seconds", "val_top1")  # a done cell's


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole_keras_archive(path):
    """Whether ``path`` is a complete .keras file (a zip with its config and weights), checked
    without Keras: the driver never imports the cell's frameworks."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {"config.json", "model.weights.h5"} <= set(archive.namelist()) and archive.testzip() is None
    except (OSError, zipfile.BadZipFile):
        return False


@dataclass(frozen=True)
class Study:
    """A loaded params file, its cells and its folder: a Path, or a URL string (``store``)."""

    params: object
    cells: list
    root: Path | str
    halves: dict  # {split: {"A": class ids, "B": class ids}}, written to halves.json

    @property
    def folder(self):
        return layout.StudyFolder(self.root)

    def notebook(self, cell):
        return self.folder.notebook(cell.id)

    def metrics(self, cell):
        return self.folder.metrics(cell.id)

    def model(self, cell_id):
        return self.folder.model(cell_id)

    @property
    def driver_dir(self):
        """Where the driver writes results.csv and the summary: the root folder, or for a URL
        root a local mirror in the cache whose files ``publish`` copies to the URL."""
        if not store.is_url(self.root):
            return self.root
        return cache_root() / "studies" / hashlib.sha256(self.root.encode()).hexdigest()[:16]

    def checkpoints(self, cell):
        """The local folder of ``cell``'s backup: under the root folder, or for a URL root
        under the local mirror (then a retry on the same machine resumes, another restarts)."""
        return layout.StudyFolder(self.driver_dir).checkpoints(cell.id, cell.params_hash)

    def tensorboard(self, cell):
        """The local folder of ``cell``'s TensorBoard run: under the root folder, or for a URL
        root under the local mirror, whence ``Launcher`` copies it to the URL when the cell ends."""
        return layout.StudyFolder(self.driver_dir).tensorboard(cell.id)

    @property
    def table(self):
        return self.driver_dir / layout.TABLE

    def publish(self, *names):
        """Copy the driver's files ``names`` to a URL root (a folder root already has them)."""
        if store.is_url(self.root):
            for name in names:
                store.put(self.driver_dir / name, store.join(self.root, name))

    def done(self, cell):
        """The metrics of ``cell`` if it finished with its current parameters, else None."""
        return self.check(cell)[0]

    def check(self, cell):
        """(metrics, None) if ``cell`` is done: its metrics file parses, holds every field of
        METRICS and this cell's params_hash, and for a base its saved network is a whole Keras
        archive. Else (None, why) where a file is there but not trustworthy (the cell reruns),
        or (None, None) where it has not run with these parameters."""
        where = self.metrics(cell)
        try:
            metrics = json.loads(store.read_text(where))
        except FileNotFoundError:
            return None, None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return None, f"{where} is not JSON ({e})"
        if not isinstance(metrics, dict):
            return None, f"{where} holds {type(metrics).__name__}, not the metrics of a cell"
        if metrics.get("params_hash") != cell.params_hash:
            return None, None  # run with other parameters: stale, not damaged
        if "validations" not in metrics and "epochs" in metrics:  # written before the rename
            metrics["validations"] = metrics.pop("epochs")
        missing = [k for k in METRICS if k not in metrics]
        if missing:
            return None, f"{where} lacks {', '.join(missing)}"
        bad = [k for k in METRICS if k != "val_top1" and not _is_number(metrics[k])]
        if bad or not (isinstance(metrics["val_top1"], list) and all(map(_is_number, metrics["val_top1"]))):
            return None, f"{where} has values that are not numbers: {', '.join(bad) or 'val_top1'}"
        if cell.kind == "base":
            model = self.model(cell.id)
            if not store.exists(model):
                return None, f"its base network {model} is missing"
            if not store.is_url(model) and not _whole_keras_archive(model):
                return None, f"its base network {model} is damaged (not a whole .keras archive)"
        return metrics, None

    def unconverged(self, cell):
        """Where the study guards its bases (``converged_bases``) and a base that ``cell`` copies
        from is done but its curve still rose before the last learning-rate drop, at the rate that
        taught it (``curves.still_rising``, ``curves.before_last_drop``): why the study stops,
        naming the base and its rise. Else None."""
        if not self.params.converged_bases:
            return None
        limit = self.params.base_rise_limit
        for base in (c for c in self.cells if c.id in cell.needs):
            metrics = self.done(base)
            history = metrics and curves.before_last_drop(metrics["val_top1"], self.params.lr_drops)
            if metrics and curves.still_rising(history, limit):
                return (f"the study stopped: base {base.id} still rose {100 * curves.rise(history):+.1f} "
                        f"points over the last fifth of its validations before the last learning-rate "
                        f"drop (standard error "
                        f"{100 * curves.rise_se(history):.1f}), more than base_rise_limit {limit:g}: it had "
                        "not converged, and nothing copies from it. Lengthen the schedule, raise "
                        "base_rise_limit or set converged_bases: false; the bases done are kept")
        return None

    def cell_parameters(self, cell, out=None, cwd=None):
        """The papermill parameters of ``cell`` writing into the study ``out`` (default: this
        one): the grid's values and where the cell's files go, for a kernel working in ``cwd``:
        a path in that folder, and the data folder, relative to it (a record names no folder of
        the machine it ran on); any other as it is (a URL, a scratch folder)."""
        out = out or self

        def place(path):
            if store.is_url(path) or cwd is None or not Path(path).is_relative_to(cwd):
                return str(path)
            return os.path.relpath(path, cwd)

        data_dir = cell.parameters["data_dir"]
        p = dict(cell.parameters, params_hash=cell.params_hash, metrics_path=place(out.metrics(cell)),
                 data_dir=os.path.relpath(data_dir, cwd) if data_dir and cwd else data_dir,
                 checkpoint_dir=place(self.checkpoints(cell)) if cell.parameters["checkpoint"] else None,
                 tensorboard_dir=place(self.tensorboard(cell)))
        if cell.kind == "base":
            p["model_path"] = place(out.model(cell.id))
        else:
            p["source_model_path"] = place(self.model(cell.source)) if cell.source else None
        return p

    def row(self, cell, metrics):
        """The results.csv row of a finished cell."""
        return table.row(cell.values, metrics)

    def done_cells(self, problems=None):
        """{cell id: metrics} of the cells of the current grid done with their current
        parameters; ``problems`` (a dict), where given, gets {cell id: why} of the cells whose
        files are there but not trustworthy."""
        done = {}
        for cell in self.cells:
            metrics, why = self.check(cell)
            if metrics is not None:
                done[cell.id] = metrics
            elif why and problems is not None:
                problems[cell.id] = why
        return done

    def sync_table(self, done):
        """Make results.csv hold exactly the ``done`` cells (``done_cells``) of the current grid."""
        for cell in self.cells:
            if cell.id in done:
                table.append_row(self.table, self.row(cell, done[cell.id]))
        if self.table.exists():
            table.keep_only(self.table, {c.id: c.params_hash for c in self.cells if c.id in done})
            self.publish(self.table.name)


class StudyBusy(RuntimeError):
    """Another runner is running the same study folder."""


@contextmanager
def runner_lock(folder):
    """Hold the study ``folder`` for this runner: ``.runner.lock`` there, flocked, names its
    process and host. A second runner stops with StudyBusy naming them; the lock of a runner
    that died is released by the system and simply taken over; the file goes with the runner."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".runner.lock"
    while True:
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "an unknown process"
            handle.close()
            raise StudyBusy(f"{folder} is being run by another runner ({holder}); wait for it to "
                            "finish or stop it, then run again (done cells are kept)") from None
        if path.exists() and os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
            break  # else the last holder removed the file as we opened it: take the new one
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()} on host {socket.gethostname()}, since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    handle.flush()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def load_study(params_path, results_dir=None, download=True, overrides=()):
    """Validate the params file (with the command line's ``overrides``, ``params.load_params``)
    and the data it names, and expand its grid (no training). Every path is made absolute here,
    against the working folder; with ``download=False`` (a dry run) nothing is downloaded and a
    dataset not yet there is planned from its published class list."""
    params = load_params(Path(params_path).absolute(), overrides)
    class_names = grid.dataset_classes(params, download=download)
    halves = grid.halves(params, class_names)
    where = results_dir or params.results_dir
    root = store.join(where if store.is_url(where) else Path(where).absolute(), params.study)
    return Study(params, grid.expand(params, class_names, halves), root, halves)
