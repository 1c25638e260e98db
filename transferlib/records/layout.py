"""A study's folder, ``RESULTS/<study>/``: the one place its layout is spelled out.

The driver writes it; the summary only reads it. RESULTS is a folder or a URL (see ``store``).

    params.yaml          the params as run
    halves.json          {split: {"A": class ids, "B": class ids}}: the halves the runner used
    results.csv          one row per done cell (``table``)
    cells/<cell>.ipynb   each cell's executed notebook: its log
    cells/<cell>.json    its metrics, written last and atomically: the cell is done from then on
    models/<cell>.keras  the base networks that transfer cells copy
    checkpoints/<cell>-<params_hash>/   with ``checkpoint: true``, a running cell's backup
    tensorboard/         the study's HParams experiment, and tensorboard/<cell>/, each cell's run
                         (``tensorboard``)
    summary.ipynb, summary.html, figure*.png, table1.csv, cka.csv, ...   the summary's outputs
"""

from dataclasses import dataclass
from pathlib import Path

from . import store

PARAMS = "params.yaml"
HALVES = "halves.json"
TABLE = "results.csv"
SUMMARY = "summary.ipynb"
REPORT = "summary.html"
TENSORBOARD = "tensorboard"


@dataclass(frozen=True)
class StudyFolder:
    """Paths in a study's folder ``root`` (a Path, or a URL string)."""

    root: Path | str

    def file(self, name):
        return store.join(self.root, name)

    def notebook(self, cell_id):
        return store.join(self.root, "cells", f"{cell_id}.ipynb")

    def metrics(self, cell_id):
        return store.join(self.root, "cells", f"{cell_id}.json")

    def model(self, cell_id):
        return store.join(self.root, "models", f"{cell_id}.keras")

    def checkpoints(self, cell_id, params_hash):
        return store.join(self.root, "checkpoints", f"{cell_id}-{params_hash}")

    def tensorboard(self, cell_id):
        return store.join(self.root, TENSORBOARD, cell_id)
