"""The smoke study end to end through papermill, on the real 32 px Tiny ImageNet archive."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest
import yaml

from conftest import SHARED_DATASETS, TINY_32PX
from transferlib import version
from transferlib.records import table, vocabulary

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "transferlib" / "studies" / "smoke.yaml"
SMOKE_CELLS = ["r0-baseA", "r0-baseB", "r0-B2B", "r0-B2B+", "r0-A2B", "r0-A2B+", "r0-R2B",
               "r0-baseB-k10", "r0-A2B+-k10"]

# Every test here starts processes or trains: the slow tier.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")]


def cli(*args, cache, wait=True):
    env = dict(os.environ, TRANSFER_DATA_DIR=str(SHARED_DATASETS), TRANSFER_CACHE_DIR=str(cache))
    cmd = [sys.executable, "-m", "transferlib", "run", *map(str, args)]
    if not wait:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)


def params_file(tmp_path, **changes):
    values = {**yaml.safe_load(SMOKE.read_text()), **changes}
    path = tmp_path / f"{values['study']}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def mtimes(study):
    return {p.name: p.stat().st_mtime_ns for p in (study / "cells").glob("*.ipynb")}


@pytest.fixture
def smoke(smoke_run):
    """The smoke study's folder, run once per session (conftest's ``smoke_run``)."""
    return smoke_run[1]


def test_smoke_study_leaves_every_file(smoke):
    for cell in SMOKE_CELLS:
        assert (smoke / "cells" / f"{cell}.ipynb").is_file()
        assert json.loads((smoke / "cells" / f"{cell}.json").read_text())["validations"] == 1
    assert sorted(p.name for p in (smoke / "models").iterdir()) == [
        "r0-baseA.keras", "r0-baseB-k10.keras", "r0-baseB.keras"]
    for name in ["summary.ipynb", "figure2.png", "figure3.png", "table1.csv", "learning_curves.png",
                 "conv1-r0-baseA.png", "conv1-r0-baseB.png", "similarity.png", "cka.csv",
                 "generality.png", "generality.csv", "reduced_data.png", "verdicts.csv", "transfer_scores.png",
                 "transfer_scores.csv", "transfer_correlations.csv"]:
        assert (smoke / name).stat().st_size > 0, name
    scores = pd.read_csv(smoke / "transfer_scores.csv")  # transfer_scores: baseA's frozen conv2 on half B
    assert scores[["source", "target", "n", "layer"]].values.tolist() == [["r0-baseA", "B", 2, "conv2"]]
    html = (smoke / "summary.html").read_text()
    assert "data:image/png;base64" in html and "Table 1" in html
    figure = html.index('src="data:image/png')  # the template's CSS holds other data URLs
    assert html.index(">Verdicts on the paper") < html.index('id="Table-1"') < figure
    assert "1 replicate, no interval" in html and "reported metric final top-1" in html
    for machine in ("table.read(study)", str(smoke), "site-packages"):  # no code, no paths
        assert machine not in html, machine
    for section in ("Layer similarity", "Generality per layer", "Scores of frozen features per layer", "Reduced data",
                    "Learning curves"):
        assert section in html


def test_the_report_and_the_records_say_what_ran_in_points_and_name_no_machine_path(smoke):
    """Rendered as a reader gets them (HTML, code included for the records): the report opens
    with what the study is, each record says which network ran and beside which baseline,
    tables labelled in points hold points, and no folder of this machine appears."""
    from nbconvert import HTMLExporter

    machine = [str(smoke.parent), str(ROOT), str(SHARED_DATASETS), "/tmp/"]
    report = (smoke / "summary.html").read_text()
    for said in ("smoke: study summary", "tiny_imagenet, 2 classes per half, 32 px", "caffenet, width",
                 "1 epoch; batch", "reported metric", "transferlib 0.1.0", "transferlib run smoke"):
        assert said in report, said
    assert report.index("smoke: study summary") < report.index("What this summary holds")
    summary = nbformat.read(smoke / "summary.ipynb", 4)
    records = {cell: nbformat.read(smoke / "cells" / f"{cell}.ipynb", 4) for cell in SMOKE_CELLS}
    for name, nb in [("summary", summary), *records.items()]:
        html, _ = HTMLExporter().from_notebook_node(nb)
        html = re.sub(r"transferlib run [^<\"`]*", "", html)  # the command, as the test typed it
        assert not [path for path in machine if path in html], name
    transfer = outputs(records["r0-A2B+"])
    assert ("**r0-A2B+**: caffenet" in transfer and "units 1..2 (conv1, conv2) copied from **r0-baseA**"
            in transfer and "and fine-tuned" in transfer), transfer[:2000]
    assert "r0-A2B+ - r0-baseB" in transfer  # beside the base of its own half
    assert "**r0-baseA**: caffenet" in outputs(records["r0-baseA"])
    shown = next(o for c in summary.cells for o in c.get("outputs", [])
                 if "co-adaptation (points)" in o.get("data", {}).get("text/html", ""))
    table = pd.read_csv(smoke / "generality.csv", index_col="n")
    for column in ("co-adaptation", "AnB"):
        for value in table[column].dropna():
            assert f"{100 * value:.1f}" in shown["data"]["text/plain"], (column, value)


def outputs(nb):
    return "\n".join(str(v) for c in nb.cells for o in c.get("outputs", [])
                     for v in [o.get("text", ""), *o.get("data", {}).values()])


def test_results_table_has_one_row_per_cell(smoke):
    df = table.read(smoke)
    assert sorted(df.cell) == sorted(SMOKE_CELLS)
    row = df.set_index("cell").loc["r0-A2B+"]
    assert (row.kind, row.source, row.target, row.n, row.fine_tuned) == ("transfer", "r0-baseA", "B", 2, True)
    assert df.set_index("cell").loc["r0-R2B"].kind == "random"
    assert ((df.top1 > 0) & (df.top1 <= df.top5) & (df.wall_seconds > df.train_seconds)).all()
    assert set(df.code_version) == {version.code_version()}  # the cells' kernels run this code


def test_table1_equals_the_numbers_of_results_csv(smoke):
    rows = pd.read_csv(smoke / "results.csv").set_index("cell")
    table = pd.read_csv(smoke / "table1.csv", index_col=0)
    anb_plus = rows.top1["r0-A2B+"]  # points of the final top-1: 1 validation each
    bases = (rows.top1["r0-baseA"] + rows.top1["r0-baseB"]) / 2
    assert table.loc["2", "AnB+ - base"] == pytest.approx(100 * (anb_plus - bases), abs=1e-10)
    assert table.loc["2", "AnB+ - BnB+"] == pytest.approx(100 * (anb_plus - rows.top1["r0-B2B+"]), abs=1e-10)
    assert table.loc["2", "AnB+ - base, paired"] == pytest.approx(
        100 * (anb_plus - rows.top1["r0-baseB"]), abs=1e-10)


def test_layer_similarity_of_the_smoke_study(smoke):
    cka = pd.read_csv(smoke / "cka.csv")
    pairs = {cell: (g.reference.iloc[0], g.treatment.iloc[0], list(g.layer_name))
             for cell, g in cka.groupby("cell")}
    layers = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    assert pairs == {"r0-baseB": ("r0-baseA", "base", layers),
                     "r0-B2B+": ("r0-baseB", "BnB+", layers),
                     "r0-A2B+": ("r0-baseA", "AnB+", layers)}
    assert cka.cka.between(-1, 1).all()  # unbiased CKA: unrelated layers can dip below 0
    metrics = json.loads((smoke / "cells" / "r0-A2B+.json").read_text())
    assert list(cka[cka.cell == "r0-A2B+"].cka) == pytest.approx(list(metrics["cka"].values()), rel=1e-12)


def test_cka_of_a_trained_network_with_itself_is_one(smoke, data_cache, monkeypatch):
    import keras
    from transferlib.cell.layer_similarity import layer_similarity
    from transferlib.driver import grid
    from transferlib.driver.params import load_params
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(SHARED_DATASETS))
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(data_cache))
    params = load_params(smoke / "params.yaml")
    halves = grid.halves(params, grid.dataset_classes(params))["r0"]
    base_a = keras.models.load_model(smoke / "models" / "r0-baseA.keras", compile=False)
    same = layer_similarity(base_a, halves["A"], base_a, halves["A"], classes=halves["A"] + halves["B"],
                            count=params.cka_images, dataset=params.dataset, image_size=params.image_size)
    assert same == pytest.approx(dict.fromkeys(same, 1.0), abs=1e-6)


def test_generality_matches_results_csv(smoke):
    top1 = pd.read_csv(smoke / "results.csv").set_index("cell").top1
    row = pd.read_csv(smoke / "generality.csv", index_col="n").loc[2]
    assert row["AnB / baseB"] == pytest.approx(top1["r0-A2B"] / top1["r0-baseB"], rel=1e-12)
    assert row["AnB / BnB"] == pytest.approx(top1["r0-A2B"] / top1["r0-B2B"], rel=1e-12)
    assert row["co-adaptation"] == pytest.approx(top1["r0-baseB"] - top1["r0-B2B"], abs=1e-12)
    assert row["specificity"] == pytest.approx(top1["r0-B2B"] - top1["r0-A2B"], abs=1e-12)


def test_reduced_data_cells_train_on_k_images_per_class(smoke):
    df = table.read(smoke).set_index("cell")
    assert df.loc["r0-baseB-k10"].images_per_class == df.loc["r0-A2B+-k10"].images_per_class == 10
    assert (df.drop(["r0-baseB-k10", "r0-A2B+-k10"]).images_per_class == 0).all()
    for cell, images in (("r0-baseB-k10", 2 * 10), ("r0-A2B+-k10", 2 * 10), ("r0-baseB", 2 * 500)):
        log = (smoke / "cells" / f"{cell}.ipynb").read_text()
        assert f"2 classes, {images} training images, 100 validation images" in log, cell
    assert df.loc["r0-A2B+-k10"].source == "r0-baseA"  # copies the base trained on all the data


def test_cell_notebooks_are_their_logs(smoke):
    nb = nbformat.read(smoke / "cells" / "r0-A2B+.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'source_model_path = "' in injected.source and "n = 2" in injected.source
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "epoch 1/1: loss" in text


def test_cell_records_show_their_progress_finished(smoke):
    """A record, saved and exported to HTML as the runner exports the summary, shows its bar as
    text at its end and no widget at all."""
    from test_notebooks import assert_progress_reads_right
    from transferlib.driver import runner
    path = smoke / "cells" / "r0-A2B+.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata
    assert_progress_reads_right(nb, runner.report(path), validations=1)


def test_tensorboard_holds_each_cells_validations_and_its_grid_row(smoke):
    """Every cell's run holds, at increasing optimiser steps, each validation of its history in
    results.csv and its metrics file, the learning rate, and its grid row as hyperparameters;
    the study's experiment lists every row's values."""
    from test_tensorboard import read, values
    network = yaml.safe_load((smoke / "params.yaml").read_text())["network"]
    df = table.read(smoke)
    axes = {h.name: {getattr(v, v.WhichOneof("kind")) for v in h.domain_discrete.values}
            for h in read(smoke / "tensorboard")[1].experiment.hparam_infos}
    assert sorted(p.name for p in (smoke / "tensorboard").iterdir() if p.is_dir()) == sorted(SMOKE_CELLS)
    for row in df.to_dict("records"):
        scalars, data = read(smoke / "tensorboard" / row["cell"])
        history = json.loads((smoke / "cells" / f"{row['cell']}.json").read_text())["history"]
        steps = [step for step, _ in scalars["val_top1"]]
        assert steps == sorted(set(steps)) and len(steps) == len(row["history"]) == row["validations"]
        assert [v for _, v in scalars["val_top1"]] == row["history"]
        for key in ("loss", "top1", "top5", "val_loss", "val_top5"):
            assert [v for _, v in scalars[key]] == [h[key] for h in history], (row["cell"], key)
        assert [v for _, v in scalars["learning_rate"]] == pytest.approx([0.01] * len(steps))  # no drops
        assert scalars["best10_top1"][-1][1] == pytest.approx(row["best10_top1"], rel=1e-6)
        grid_row = {"split": row["split"], "treatment": vocabulary.treatment(row, pooled=True), "n": row["n"],
                    "unit": row["unit"], "fine_tuned": row["fine_tuned"], "target": row["target"],
                    "images_per_class": row["images_per_class"], "block_size": row["block_size"], "shift": "none",
                    "network": network, "code_version": row["code_version"]}
        assert values(data.session_start_info) == grid_row, row["cell"]
        assert all(value in axes[name] for name, value in grid_row.items())
    assert values(read(smoke / "tensorboard" / "r0-A2B+-k10")[1].session_start_info) == {
        "split": "r0", "treatment": "AnB+", "n": 2, "unit": "conv2", "fine_tuned": True, "target": "B",
        "images_per_class": 10, "block_size": 0, "shift": "none", "network": "caffenet",
        "code_version": version.code_version()}


def test_the_executed_notebooks_read_back_as_results_csv(smoke, tmp_path):
    from transferlib.__main__ import main
    assert main(["table", str(smoke / "cells"), "--out", str(tmp_path / "from_notebooks.csv")]) == 0
    ours = table.read(tmp_path / "from_notebooks.csv").set_index("cell").sort_index()
    runners = table.read(smoke).set_index("cell").sort_index()
    assert (ours.wall_seconds > ours.train_seconds).all()  # papermill's time, not the runner's
    pd.testing.assert_frame_equal(ours.drop(columns="wall_seconds"), runners.drop(columns="wall_seconds"))


def test_papermill_with_the_runners_values_gives_the_runners_network(smoke, tmp_path, data_cache):
    """r0-baseA run by papermill's command line from another folder, with the values the runner
    gave it (-f, its paths left out): the same validations, written beside its standalone files."""
    ran = nbformat.read(smoke / "cells" / "r0-baseA.ipynb", 4).metadata.papermill.parameters
    paths = {"metrics_path", "model_path", "checkpoint_dir", "tensorboard_dir"}
    (tmp_path / "values.yaml").write_text(yaml.safe_dump({k: v for k, v in ran.items() if k not in paths}))
    env = dict(os.environ, TRANSFER_DATA_DIR=str(SHARED_DATASETS), TRANSFER_CACHE_DIR=str(data_cache),
               PWD=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "transferlib" / "notebooks" / "base.ipynb"),
                          "out.ipynb", "-f", "values.yaml"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    by_hand = json.loads((tmp_path / "results" / "notebooks" / "r0-baseA.json").read_text())
    runner = json.loads((smoke / "cells" / "r0-baseA.json").read_text())
    assert by_hand["history"] == runner["history"]
    assert (tmp_path / "results" / "notebooks" / "tensorboard" / "r0-baseA").is_dir()


def test_second_run_executes_no_cell(smoke, data_cache):
    before = mtimes(smoke)
    again = cli(SMOKE, "--results", smoke.parent, cache=data_cache)
    assert again.returncode == 0, again.stdout + again.stderr
    assert mtimes(smoke) == before
    assert len(table.read(smoke)) == len(SMOKE_CELLS)


def test_cells_done_before_the_validations_rename_stay_done(smoke, data_cache, tmp_path):
    """A metrics file that counts its validations under the old name "epochs" is still done."""
    old = shutil.copytree(smoke, tmp_path / smoke.name)
    for path in (old / "cells").glob("*.json"):
        metrics = json.loads(path.read_text())
        metrics["epochs"] = metrics.pop("validations")
        path.write_text(json.dumps(metrics))
    dry = cli(SMOKE, "--results", tmp_path, "--dry-run", cache=data_cache)
    assert f"{len(SMOKE_CELLS)} of {len(SMOKE_CELLS)} cells done" in dry.stdout, dry.stdout + dry.stderr


def test_dry_run_lists_done_cells_and_what_a_change_reruns(smoke, data_cache, tmp_path):
    dry = cli(SMOKE, "--results", smoke.parent, "--dry-run", cache=data_cache)
    assert f"{len(SMOKE_CELLS)} of {len(SMOKE_CELLS)} cells done" in dry.stdout
    assert "to run: 0 cells" in dry.stdout
    # One more layer: only its cells are new. Another batch size: every cell is rerun.
    wider = params_file(tmp_path, layers=[2, 3])
    assert "to run: 5 cells" in cli(wider, "--results", smoke.parent, "--dry-run", cache=data_cache).stdout
    table = (smoke / "results.csv").read_text()
    batch = params_file(tmp_path, batch_size=16)
    assert f"to run: {len(SMOKE_CELLS)} cells" in cli(batch, "--results", smoke.parent, "--dry-run", cache=data_cache).stdout
    assert (smoke / "results.csv").read_text() == table  # a dry run changes nothing


def test_runner_killed_mid_cell_then_rerun_finishes_each_cell_once(tmp_path, data_cache, tiny_imagenet):
    params = params_file(tmp_path, treatments=["AnB"], reduced_images_per_class=[], study="killed", epochs=4)
    study = tmp_path / "results" / "killed"
    proc = cli(params, "--results", tmp_path / "results", cache=data_cache, wait=False)
    deadline, second = time.monotonic() + 300, study / "cells" / "r0-baseB.ipynb"
    # Kill once the second cell has its data and trains (its notebook is saved after each step).
    while not (second.exists() and "training images" in second.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, "the study never reached its second cell"
        time.sleep(0.1)
    time.sleep(1)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"orphans left after kill -9: {[p.cmdline() for p in alive]}"
    assert not (study / "cells" / "r0-baseB.json").exists()
    first = (study / "cells" / "r0-baseA.ipynb").stat().st_mtime_ns

    done = cli(params, "--results", tmp_path / "results", cache=data_cache)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(table.read(study).cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]
    assert (study / "cells" / "r0-baseA.ipynb").stat().st_mtime_ns == first  # not run again


def test_one_systemic_error_is_reported_once(tmp_path, data_cache, tiny_imagenet):
    """A broken environment (a Keras backend that does not exist) fails the first two cells with
    the same error: no more cells start; the report gives the error once, with the cells it
    failed and how many it stopped."""
    params = params_file(tmp_path, study="broken")
    env = dict(os.environ, TRANSFER_DATA_DIR=str(SHARED_DATASETS), TRANSFER_CACHE_DIR=str(data_cache),
               KERAS_BACKEND="no_such_backend")
    run = subprocess.run([sys.executable, "-m", "transferlib", "run", str(params), "--results", str(tmp_path)],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "9 of 9 cells failed or did not run" in run.stdout
    assert "r0-baseB failed: the same error as r0-baseA" in run.stdout
    assert "2 cells: " in run.stdout and "r0-baseA, r0-baseB" in run.stdout
    error = run.stdout.split("2 cells: ")[1].splitlines()[0]
    assert run.stdout.count(error) == 2  # as it happened, then in the report
    assert "not run: the study stopped after its first 2 cells failed with the same error" in run.stdout
    assert not (tmp_path / "broken" / "cells" / "r0-R2B.ipynb").exists()  # never started


@pytest.mark.parametrize("change, message", [
    ({"layers": [0, 2]}, "layers"),
    ({"treatmentz": ["AnB"]}, "treatmentz"),
    ({"epochs": "two"}, "epochs"),
    ({"classes": ["n01443537", "n99999999"]}, "n99999999"),
    ({"data_dir": "/nowhere/tiny"}, "/nowhere/tiny"),
])
def test_bad_params_fail_before_any_training(tmp_path, data_cache, change, message):
    run = cli(params_file(tmp_path, **change), "--results", tmp_path / "results", cache=data_cache)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "results").exists()


def test_summary_notebook_as_it_stands_opens_the_newest_study(smoke, tmp_path, data_cache):
    """summary.ipynb run as it stands from its copy in notebooks/, JupyterLab started at a
    checkout whose results/ holds the smoke study: it finds the study, says which, and its
    outputs are clean."""
    import papermill
    from transferlib.driver import notebook_copies
    repo = tmp_path / "checkout"
    shutil.copytree(smoke, repo / "results" / "smoke")
    notebook_copies.copy(repo / "notebooks")
    env = {**os.environ, "PWD": str(repo), "TRANSFER_CACHE_DIR": str(data_cache),
           "TRANSFER_DATA_DIR": str(SHARED_DATASETS)}
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        papermill.execute_notebook(str(repo / "notebooks" / "summary.ipynb"),
                                   str(tmp_path / "summary.ipynb"), progress_bar=False,
                                   cwd=str(repo / "notebooks"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nb = nbformat.read(tmp_path / "summary.ipynb", 4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    text = "\n".join(o.get("text", "") + "".join(str(v) for k, v in o.get("data", {}).items()
                                                 if k.startswith("text/")) for o in outputs)
    assert "the most recent finished study: smoke" in text
    assert not [o for o in outputs if o.get("name") == "stderr"], "stderr in the summary"
    for dirt in ("Warning", "nan%", " nan ", "from 0.0 to 0.0", "0 of 1", str(repo), "site-packages"):
        assert dirt not in text, dirt
