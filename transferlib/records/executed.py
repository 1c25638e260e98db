"""A folder of executed cell notebooks read back as results rows (``table``), without the
runner's results.csv: ``python -m transferlib table FOLDER``.

Each executed base.ipynb or transfer.ipynb, the runner's or a plain ``papermill`` run's, holds
the values it ran with (its parameters cell, and over them those papermill injected,
``metadata.papermill.parameters``) and its metrics (the output of ``cell.files.save``,
whose metadata carries them under RECORD); its wall time is papermill's ``duration``.
"""

import ast
from pathlib import Path

import nbformat

from ..nets import units
from . import table

RECORD = "transferlib/metrics"


def read(folder):
    """(rows of the cell notebooks under ``folder``, in results.csv's columns; {notebook: why
    it gave no row}: not a cell's notebook, or a cell that did not finish). ValueError where two
    notebooks are the same cell."""
    rows, skipped, seen = [], {}, {}
    for path in sorted(Path(folder).rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        values = ran_with(nb)
        metrics = next((o.metadata[RECORD] for c in nb.cells for o in c.get("outputs", ())
                        if RECORD in o.get("metadata", {})), None)
        if "cell" not in values or "kind" not in values:
            skipped[path] = "not a cell's notebook"
        elif metrics is None:
            skipped[path] = "no metrics: the cell did not finish"
        elif values["cell"] in seen:
            raise ValueError(f"cell {values['cell']} is in two notebooks, {seen[values['cell']]} and {path}: "
                             "keep one of them")
        else:
            seen[values["cell"]] = path
            duration = nb.metadata.get("papermill", {}).get("duration")
            rows.append(table.row({**values, "unit": _unit(values)},
                                  {**metrics, "wall_seconds": duration or metrics["train_seconds"]}))
    return rows, skipped


def ran_with(nb):
    """The parameter values the executed notebook ``nb`` ran with: its parameters cell's
    literal assignments, with papermill's injected values over them."""
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", ())), None)
    values = {}
    for node in ast.parse(cell.source if cell else "").body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return {**values, **nb.metadata.get("papermill", {}).get("parameters", {})}


def _unit(values):
    """The name of the n-th transfer unit of the cell's network, or in a surgical cell of the one
    that learns (``tuned_unit``), as the grid names it ("" for n = 0)."""
    if not values["n"]:
        return ""
    network, network_units = values.get("network", units.CAFFENET), values.get("network_units", "stages")
    names = (units.user_unit_names(network, values["image_size"], values["width"], network_units)
             if units.is_function(network) else units.unit_names(network, network_units))
    return units.recorded_unit(names, values["n"], values.get("tuned_unit", 0))
