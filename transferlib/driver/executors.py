"""The executor contract: how the runner hands cells to whatever runs them.

An executor is a function ``execute(study, todo, *, check_data, progress, env, **options) ->
failed``: it calls ``check_data()``, the runner's data check (an error there ends the study
before any cell, once whatever the executor started meanwhile, such as warm kernels, is
stopped), then ``progress()``, which returns the progress bar; it runs the cells ``todo`` (each
after the cells in its ``needs``) with a ``Launcher``, in kernels started with the runner's
``env`` (``kernel_env``), books each finished cell with ``record`` (or ``not_run`` where a cell
it needs failed), moves the bar one step per cell, and returns {cell id: (notebook, error)} of
the cells that failed or could not run. Executors are peers named in ``EXECUTORS`` and imported
only when asked for (Ray is optional); a new one (Slurm, a process pool) is a module with an
``execute`` and a line here.
"""

import importlib
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from .. import parameters
from ..records import store, table
from ..atomic import write_text_atomic
from . import kernels

EXECUTORS = {name: f"transferlib.driver.{name}_executor" for name in parameters.EXECUTORS}
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def load(name):
    """The ``execute`` function of executor ``name``; ImportError where its module cannot load."""
    return importlib.import_module(EXECUTORS[name]).execute


class Launcher:
    """Runs one cell's notebook with papermill in a kernel of its own and returns its metrics:
    the same for every executor (it pickles, for Ray). Kernels come warm from ``kernels`` (a
    ``kernels.KernelPool``) where given, else are started for the cell with ``env`` (the
    runner's ``kernel_env``). For a URL root the cell runs in a local scratch folder and its
    notebook, TensorBoard run (``Study.tensorboard``), model and, last, metrics are copied to
    the URL."""

    def __init__(self, study, kernels=None, env=None):
        self.study, self.kernels, self.env = study, kernels, env

    def __call__(self, cell):
        if why := self.study.unconverged(cell):  # a Ray task starts once its bases are done
            raise RuntimeError(why)
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
                if self.study.tensorboard(cell).exists():
                    store.put_folder(self.study.tensorboard(cell), self.study.folder.tensorboard(cell.id))
            if cell.kind == "base":
                store.put(out.model(cell.id), self.study.model(cell.id))
            store.put(out.metrics(cell), self.study.metrics(cell))  # last: done from here on
            return metrics

    def _papermill(self, cell, out):
        """Execute ``cell`` into the folder study ``out``; its metrics, or an error."""
        notebook = out.notebook(cell)
        notebook.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        cwd = Path(self.kernels.cwd if self.kernels else out.root)  # the kernel's working folder
        km = self.kernels.take() if self.kernels else kernels.start(cwd, self.env)
        kernels.execute(NOTEBOOKS / f"{cell.notebook}.ipynb", notebook,
                        self.study.cell_parameters(cell, out, cwd), km)
        metrics = out.done(cell)
        if metrics is None:
            raise RuntimeError(f"{notebook} ran but wrote no metrics with this cell's params_hash")
        metrics["wall_seconds"] = time.perf_counter() - start
        write_text_atomic(out.metrics(cell), json.dumps(metrics, indent=1))
        return metrics


def record(study, cell, outcome, failed, bar):
    """Book one finished cell: its row in results.csv from the metrics ``outcome()`` returns,
    or, where ``outcome()`` raises, its error in ``failed``."""
    try:
        table.append_row(study.table, study.row(cell, outcome()))
        study.publish(study.table.name)
    except Exception as e:
        same = next((other for other, (_, error) in failed.items() if error == str(e)), None)
        failed[cell.id] = (study.notebook(cell), str(e))
        tqdm.write(f"{cell.id} failed: " + (f"the same error as {same}" if same else str(e)))
    bar.update()


def not_run(study, cell, blocked, failed, bar):
    """Book a cell that cannot run because the base cell ``blocked`` failed."""
    failed[cell.id] = (study.notebook(cell), f"not run: {blocked} failed")
    bar.update()
