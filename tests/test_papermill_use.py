"""The cell notebooks run with papermill as its users run it: a name the notebook does not
declare stops the run with a did-you-mean, and a folder of executed notebooks reads back into
a results table (``python -m transferlib table``). The checks and the reading are fast; the
runs of papermill's command line, which start kernels, are slow."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import SHARED_DATASETS, TINY_32PX
from transferlib import parameters
from transferlib.__main__ import main
from transferlib.records import executed, table

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "transferlib" / "notebooks" / "base.ipynb"


def injected(source):
    """A kernel's globals as the check cell sees them, after papermill injected ``source``."""
    return {"In": ["", parameters.parameters_cell("base"), parameters.INJECTED + source, "check"]}


def test_a_name_the_notebook_does_not_declare_stops_it_with_a_did_you_mean():
    with pytest.raises(ValueError) as error:
        parameters.check_injected("base", injected("epoch = 2\nclasses = 5\nsplits = [0]\n"))
    lines = str(error.value).splitlines()
    assert lines[1:] == ["  epoch: unknown parameter; did you mean 'epochs'?",
                         "  splits: unknown parameter; did you mean 'split'? (a study's key: studies run "
                         "with python -m transferlib run)"]
    assert "base.ipynb" in lines[0]
    parameters.check_injected("base", injected("epochs = 2\nclasses = 5\n"))  # declared: passes
    parameters.check_injected("base", {"In": ["", "x = 1", "check"]})  # a run by hand: no check


def executed_notebook(path, given, metrics, duration=12.5):
    """An executed transfer.ipynb as papermill leaves it: ``given`` injected, ``metrics`` saved."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(parameters.parameters_cell("transfer"), metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("files.save(...)")]
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", {"text/plain": "saved"},
                                                  metadata={executed.RECORD: metrics})]
    nb.metadata["papermill"] = {"parameters": given, "duration": duration}
    nbformat.write(nb, path)


METRICS = {"top1": 0.5, "top5": 0.9, "best10_top1": 0.45, "validations": 2, "train_seconds": 10.0,
           "val_top1": [0.4, 0.5], "params_hash": "abc"}


def test_executed_notebooks_read_back_as_results_rows(tmp_path, capsys):
    executed_notebook(tmp_path / "a.ipynb", {"n": 2, "cell": "r0-A2B+", "params_hash": "abc"}, METRICS)
    executed_notebook(tmp_path / "by-hand.ipynb", {"epochs": 2}, METRICS)  # the parameters cell's own cell
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "summary.ipynb")
    assert main(["table", str(tmp_path), "--out", str(tmp_path / "t.csv")]) == 0
    df = table.read(tmp_path / "t.csv").set_index("cell")
    assert list(df.index) == ["r0-A2B+", "r0-A3B+"]
    row = df.loc["r0-A2B+"]
    assert (row.kind, row.source, row.target, row.n, row.unit, row.fine_tuned) == (
        "transfer", "r0-baseA", "B", 2, "conv2", True)
    assert (row.top1, row.history, row.wall_seconds, row.params_hash) == (0.5, [0.4, 0.5], 12.5, "abc")
    assert "summary.ipynb: not a cell's notebook" in capsys.readouterr().err

    executed_notebook(tmp_path / "again.ipynb", {"n": 2, "cell": "r0-A2B+"}, METRICS)
    assert main(["table", str(tmp_path)]) == 2
    assert "cell r0-A2B+ is in two notebooks" in capsys.readouterr().err


def papermill(folder, cache, *args):
    """papermill's command line on base.ipynb, typed in ``folder`` after the README's setup."""
    env = dict(os.environ, TRANSFER_DATA_DIR=str(SHARED_DATASETS), TRANSFER_CACHE_DIR=str(cache), PWD=str(folder))
    return subprocess.run([sys.executable, "-m", "papermill", str(BASE), "out.ipynb", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")
def test_papermill_as_its_users_type_it(tmp_path, data_cache):
    """From any folder: the values given train the network, which writes beside its standalone
    files (TensorBoard's run too) and reads back as a row of the table."""
    run = papermill(tmp_path, data_cache, "-p", "epochs", "2", "-p", "classes", "5")
    assert run.returncode == 0, run.stderr[-3000:]
    out = tmp_path / "results" / "notebooks"
    assert sorted(p.name for p in out.iterdir()) == ["r0-baseA.json", "r0-baseA.keras", "tensorboard"]
    assert list((out / "tensorboard" / "r0-baseA").glob("events.out.tfevents.*"))
    nb = nbformat.read(tmp_path / "out.ipynb", 4)
    assert nb.metadata.papermill.parameters == {"epochs": 2, "classes": 5}
    [row] = executed.read(tmp_path)[0]
    assert (row["cell"], row["validations"], len(row["history"])) == ("r0-baseA", 2, 2)


@pytest.mark.slow
def test_an_unknown_name_fails_before_any_training(tmp_path, data_cache):
    run = papermill(tmp_path, data_cache, "-p", "epoch", "2")
    assert run.returncode != 0
    assert "epoch: unknown parameter; did you mean 'epochs'?" in run.stderr
    assert not (tmp_path / "results").exists()
    (tmp_path / "values.yaml").write_text(yaml.safe_dump({"epochs": 2, "lr_drop": [0.5]}))
    run = papermill(tmp_path, data_cache, "-f", "values.yaml")
    assert "lr_drop: unknown parameter; did you mean 'lr_drops'?" in run.stderr
