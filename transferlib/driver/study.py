"""A study as the driver holds it: its params, its cells and its folder (``layout``)."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .. import layout, sources, store, table
from . import grid
from .params import load_params


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
        return sources.cache_root() / "studies" / hashlib.sha256(self.root.encode()).hexdigest()[:16]

    def checkpoints(self, cell):
        """The local folder of ``cell``'s backup: under the root folder, or for a URL root
        under the local mirror (then a retry on the same machine resumes, another restarts)."""
        return layout.StudyFolder(self.driver_dir).checkpoints(cell.id, cell.params_hash)

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
        try:
            metrics = json.loads(store.read_text(self.metrics(cell)))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if metrics.get("params_hash") != cell.params_hash:
            return None
        if cell.kind == "base" and not store.exists(self.model(cell.id)):
            return None
        return metrics

    def cell_parameters(self, cell, out=None):
        """The papermill parameters of ``cell`` writing into the study ``out`` (default: this
        one): the grid's values and where the cell's files go, all paths absolute."""
        out = out or self
        p = dict(cell.parameters, params_hash=cell.params_hash, metrics_path=str(out.metrics(cell)),
                 checkpoint_dir=str(self.checkpoints(cell)) if cell.parameters["checkpoint"] else None)
        if cell.kind == "base":
            p["model_path"] = str(out.model(cell.id))
        else:
            p["source_model_path"] = str(self.model(cell.source)) if cell.source else None
        return p

    def row(self, cell, metrics):
        """The results.csv row of a finished cell."""
        return {"cell": cell.id, "split": cell.split, "kind": cell.kind, "source": cell.source,
                "target": cell.target, "n": cell.n, "unit": cell.unit, "fine_tuned": cell.fine_tuned,
                "images_per_class": cell.images_per_class,
                "top1": metrics["top1"], "top5": metrics["top5"], "best10_top1": metrics["best10_top1"],
                "epochs": metrics["epochs"], "train_seconds": metrics["train_seconds"],
                "wall_seconds": metrics.get("wall_seconds", metrics["train_seconds"]),
                "params_hash": cell.params_hash, "history": metrics["val_top1"]}

    def done_cells(self):
        """{cell id: metrics} of the cells of the current grid done with their current parameters."""
        return {c.id: m for c in self.cells if (m := self.done(c)) is not None}

    def sync_table(self, done):
        """Make results.csv hold exactly the ``done`` cells (``done_cells``) of the current grid."""
        for cell in self.cells:
            if cell.id in done:
                table.append_row(self.table, self.row(cell, done[cell.id]))
        if self.table.exists():
            table.keep_only(self.table, {c.id: c.params_hash for c in self.cells if c.id in done})
            self.publish(self.table.name)


def load_study(params_path, results_dir=None):
    """Validate the params file and the data it names, and expand its grid (no training)."""
    params = load_params(params_path)
    class_names = grid.dataset_classes(params)
    cells = grid.expand(params, class_names)
    where = results_dir or params.results_dir
    root = store.join(where if store.is_url(where) else Path(where).absolute(), params.study)
    return Study(params, cells, root, grid.halves(params, class_names))
