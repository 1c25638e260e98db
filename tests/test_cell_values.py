"""One shape for a cell's values: each is declared once in ``parameters.PARAMETERS``, and its
params_hash, notebooks, results.csv column and HParams axis follow from that declaration."""

import json
import subprocess
import sys

import pytest

from transferlib import parameters
from transferlib.driver import grid
from transferlib.driver.params import Params
from transferlib.records import table

WNIDS = [f"n{i:08d}" for i in range(10)]
METRICS = {"top1": 0.5, "top5": 0.9, "best10_top1": 0.5, "validations": 1, "train_seconds": 1.0, "val_top1": [0.5]}

ADD_A_KEY = """
import json, sys
from pathlib import Path
from transferlib import checks, parameters as P
new = P.Parameter("dropout", 0.0, "a new key", type=float, hashed="when set",
                  check=checks.real(lambda v: 0 <= v < 1, "a number in [0, 1)"),
                  column=P.Column(len(P.columns()) + 1, absent=0.0), axis=P.Axis("the dropout rate"))
P.PARAMETERS += (new,)
P.STUDY += (new,)
from transferlib.driver import grid
from transferlib.driver.params import Params
from transferlib.records import table, tensorboard
folder, metrics, wnids = Path(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
given = {"dataset": "tiny_imagenet", "epochs": 1, "classes": wnids, "layers": [1]}
cells = grid.expand(Params.from_dict({**given, "dropout": 0.5}), wnids)
plain = grid.expand(Params.from_dict(given), wnids)
for c in cells:
    table.append_row(folder / "results.csv", table.row(c.values, metrics))
lines = (folder / "results.csv").read_text().splitlines()
at = lines[0].split(",").index("dropout")
old = folder / "old" / "results.csv"  # the same table written before the column
old.parent.mkdir()
old.write_text("\\n".join(",".join(l.split(",")[:at] + l.split(",")[at + 1:]) for l in lines) + "\\n")
tensorboard.write_experiment(folder / "tensorboard", [tensorboard.hparams(c.values, "") for c in cells + plain])
print(json.dumps({"hash_moves": all(a.params_hash != b.params_hash for a, b in zip(cells, plain)),
                  "attribute": sorted({c.dropout for c in cells}),
                  "notebooks": [P.parameters_cell(n) for n in P.NOTEBOOKS],
                  "columns": list(table.COLUMNS), "read": sorted(set(table.read(folder).dropout)),
                  "read_old": sorted(set(table.read(old).dropout)),
                  "hparams": sorted({tensorboard.hparams(c.values, "")["dropout"] for c in cells + plain})}))
"""


def test_a_key_declared_once_reaches_the_hash_the_notebooks_results_csv_and_the_hparams(tmp_path):
    """One Parameter added to ``parameters.PARAMETERS`` with a column and an axis (and nothing
    else) enters the params_hash, both notebooks' parameters cells, results.csv (written, read
    back, and read as its ``absent`` from a table written before it) and the HParams: the
    experiment's axes and each cell's hyperparameters."""
    done = subprocess.run([sys.executable, "-c", ADD_A_KEY, str(tmp_path), json.dumps(METRICS), json.dumps(WNIDS)],
                          capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert out["hash_moves"] and out["attribute"] == [0.5]
    assert all("\ndropout = 0.0 " in cell and "# a new key" in cell for cell in out["notebooks"])
    assert out["columns"].index("dropout") == out["columns"].index("tuned_unit") + 1
    assert out["read"] == [0.5] and out["read_old"] == [0.0]
    assert out["hparams"] == [0.0, 0.5]
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    [content] = acc.PluginTagToContent("hparams").values()
    axes = {h.name: [v.number_value for v in h.domain_discrete.values]
            for h in plugin_data_pb2.HParamsPluginData.FromString(content).experiment.hparam_infos}
    assert axes["dropout"] == [0.0, 0.5]


def study(**given):
    return Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "classes": WNIDS, **given})


def test_a_cells_values_are_its_parameters_read_through_the_declarations():
    """A cell holds its values once, in its notebook's parameters: kind, n, target... read from
    there, and a value its notebook lacks (a base's cut, tuned_unit) as its column's ``absent``."""
    cells = {c.id: c for c in grid.expand(study(treatments=["AnB+"], layers=[2], target_shift=["noise"]), WNIDS)}
    transfer, base, surgical = cells["r0-A2B+"], cells["r0-baseA"], cells["r0-B8B+conv3@noise"]
    assert (transfer.kind, transfer.n, transfer.target, transfer.source, transfer.fine_tuned, transfer.unit) == (
        "transfer", 2, "B", "r0-baseA", True, "conv2")
    assert "cut" not in base.parameters and (base.cut, base.tuned_unit, base.shift) == (False, 0, "")
    assert (surgical.shift, surgical.tuned_unit, surgical.unit) == ("noise", 3, "conv3")
    assert set(table.row(surgical.values, METRICS)) == set(table.COLUMNS)
    with pytest.raises(AttributeError):
        transfer.not_a_value


def test_the_halves_drawn_once_give_the_same_cells():
    params = study(splits=[0, 1])
    halves = grid.halves(params, WNIDS)
    assert [(c.id, c.params_hash) for c in grid.expand(params, WNIDS, halves)] == [
        (c.id, c.params_hash) for c in grid.expand(params, WNIDS)]


def test_shift_and_tuned_unit_are_columns_read_as_none_from_tables_before_them(tmp_path):
    """A surgical cell's shift and tuned unit are results.csv columns; a table written before
    them reads "" and 0, unless it holds surgical cells, which it cannot say apart: it is
    refused, with how to bring it up to date."""
    cells = {c.id: c for c in grid.expand(study(treatments=[], target_shift=["labels"]), WNIDS)}
    for cell_id in ("r0-baseB", "r0-B8B+fc8@labels"):
        table.append_row(tmp_path / "results.csv", table.row(cells[cell_id].values, METRICS))
    df = table.read(tmp_path).set_index("cell")
    assert (df.loc["r0-B8B+fc8@labels", "shift"], df.loc["r0-B8B+fc8@labels", "tuned_unit"]) == ("labels", 8)
    assert (df.loc["r0-baseB", "shift"], df.loc["r0-baseB", "tuned_unit"]) == ("", 0)
    lines = (tmp_path / "results.csv").read_text().splitlines()
    at = lines[0].split(",").index("shift")
    before = ["\n".join(",".join(f[:at] + f[at + 2:]) for f in (line.split(",") for line in rows)) + "\n"
              for rows in (lines[:2], lines)]
    (tmp_path / "results.csv").write_text(before[0])
    assert table.read(tmp_path).loc[0, ["shift", "tuned_unit"]].tolist() == ["", 0]
    (tmp_path / "results.csv").write_text(before[1])
    with pytest.raises(ValueError, match="written before results.csv had the columns shift and tuned_unit"):
        table.read(tmp_path)


def test_the_declared_columns_keep_the_tables_order_and_each_place_is_one_columns():
    places = [p.column.place for p in parameters.columns()]
    assert places == list(range(1, len(places) + 1))
    assert table.COLUMNS[:13] == ("cell", "split", "kind", "source", "target", "n", "unit", "fine_tuned", "cut",
                                  "images_per_class", "block_size", "shift", "tuned_unit")


def test_a_surgical_cell_read_back_from_its_notebook_names_the_unit_that_learns():
    from transferlib.records import executed

    cells = {c.id: c for c in grid.expand(study(treatments=[], target_shift=["noise"]), WNIDS)}
    for cell_id in ("r0-B8B+conv3@noise", "r0-B8B+@noise", "r0-B7B@noise", "r0-baseB@noise"):
        assert executed._unit(cells[cell_id].parameters) == cells[cell_id].unit, cell_id
