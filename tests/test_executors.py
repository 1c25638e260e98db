"""User paths on real processes: ``--workers 2`` running two cells at once, the dry run's cost
estimate, the Ray executor joining a cluster started by ``ray start --head``, and a cell with
``checkpoint: true`` killed mid-training that resumes from its last validation."""

import contextlib
import datetime
import json
import os
import re
import socket
import subprocess
import sys

import nbformat
import psutil
import pytest

from conftest import SHARED_DATASETS
from test_faults import THREE_CELLS, cli, needs_tiny, params_file, wait_for
from test_tensorboard import read
from transferlib.records import table
from transferlib.driver import runner
from transferlib.driver.loaded_study import load_study

# Every test here starts processes or trains: the slow tier.
pytestmark = [pytest.mark.slow, needs_tiny]
WORKER_EPOCHS = 30


def interval(notebook):
    """(start, end) of a notebook's execution, as papermill recorded it."""
    meta = nbformat.read(notebook, as_version=4).metadata.papermill
    return tuple(datetime.datetime.fromisoformat(meta[k]) for k in ("start_time", "end_time"))


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, data_cache, tiny_imagenet):
    """The three-cell study (baseA, baseB, A2B) run with --workers 2, each cell long enough
    (30 epochs) that the second warm kernel is ready before the first cell ends."""
    folder = tmp_path_factory.mktemp("workers")
    params = params_file(folder, study="two", epochs=WORKER_EPOCHS, **THREE_CELLS)
    run = cli("run", params, "--results", folder / "results", "--workers", "2", cache=data_cache)
    assert run.returncode == 0, run.stdout + run.stderr
    return params, folder / "results" / "two"


def test_two_workers_run_the_two_bases_at_once(two_workers):
    _, study = two_workers
    (a0, a1), (b0, b1), (t0, t1) = (interval(study / "cells" / f"r0-{c}.ipynb") for c in ("baseA", "baseB", "A2B"))
    assert max(a0, b0) < min(a1, b1), "baseA and baseB never ran at the same time"
    assert t0 >= a1  # A2B copies baseA: it waits for it
    assert sorted(table.read(study).cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]


def test_dry_run_estimates_from_the_cells_done(two_workers, data_cache, tmp_path, monkeypatch):
    """With cells done, each cell to run is estimated at the mean wall time of the done cells
    of its notebook; the command prints that sum in minutes."""
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(SHARED_DATASETS))
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(data_cache))
    params, study = two_workers
    wider = params_file(tmp_path, study="two", epochs=WORKER_EPOCHS, **{**THREE_CELLS, "layers": [2, 3, 4, 5]})
    done = {c: json.loads((study / "cells" / f"{c}.json").read_text()) for c in ("r0-baseA", "r0-baseB", "r0-A2B")}
    loaded = load_study(wider, study.parent)
    todo = [c for c in loaded.cells if c.id not in done]
    assert sorted(c.id for c in todo) == ["r0-A3B", "r0-A4B", "r0-A5B"]
    estimate = runner.estimate_seconds(loaded, todo, done)
    assert estimate == pytest.approx(3 * done["r0-A2B"]["wall_seconds"])  # three transfer cells like A2B
    dry = cli("run", wider, "--results", study.parent, "--dry-run", cache=data_cache)
    assert f"to run: 3 cells, about {estimate / 60:.0f} min" in dry.stdout, dry.stdout


def test_dry_run_estimate_without_cells_done_grows_with_the_work(tmp_path, data_cache, monkeypatch):
    """Before any cell ran: an a-priori rate; twice the epochs, or twice the classes, is about
    twice the training time (the fixed per-cell part aside)."""
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(SHARED_DATASETS))
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(data_cache))
    def estimate(**changes):
        study = load_study(params_file(tmp_path, study="est", **{**THREE_CELLS, **changes}), tmp_path / "r")
        return runner.estimate_seconds(study, study.cells, {}), len(study.cells)

    (one, cells), (two, _) = estimate(epochs=10), estimate(epochs=20)
    fixed = cells * runner.CELL_OVERHEAD
    assert two - fixed == pytest.approx(2 * (one - fixed))
    (narrow, _), (wide, _) = estimate(epochs=10, classes=4), estimate(epochs=10, classes=8)
    assert wide - fixed == pytest.approx(2 * (narrow - fixed))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_processes(temp):
    """The processes of the Ray cluster whose temporary folder is ``temp`` (and no other's:
    ``ray stop`` would end every Ray on the machine)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if str(temp) in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
    return found


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray cluster of one node started by ``ray start --head`` (auth off), its processes
    ended after."""
    pytest.importorskip("ray")
    ray_bin = os.path.join(os.path.dirname(sys.executable), "ray")
    port = free_port()
    temp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_raylet_start_wait_time_s": "300"}  # a loaded machine
    try:
        started = subprocess.run([ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                                  "--include-dashboard=false", f"--temp-dir={temp}", "--disable-usage-stats"],
                                 env=env, capture_output=True, text=True, timeout=400)
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"127.0.0.1:{port}", ray_processes(temp)
    finally:
        processes = ray_processes(temp)
        for proc in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(processes, timeout=30)


def test_the_ray_executor_runs_cells_on_the_cluster_at_the_address(ray_head, tmp_path, data_cache,
                                                                   tiny_imagenet):
    address, head = ray_head
    params = params_file(tmp_path, study="onray", **THREE_CELLS)
    study = tmp_path / "results" / "onray"
    run = cli("run", params, "--results", tmp_path / "results", "--executor", "ray", "--address", address,
              cache=data_cache, wait=False, env={"RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": ""})
    seen = {}

    def a_kernel_runs_a_cell():
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if "ipykernel_launcher" in " ".join(proc.info["cmdline"] or []) and proc.cwd().startswith(str(study)):
                    seen[proc.pid] = [p.pid for p in proc.parents()]
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return bool(seen)

    wait_for(a_kernel_runs_a_cell, run, "a cell's kernel")
    out, _ = run.communicate(timeout=900)
    assert run.returncode == 0, out
    assert sorted(table.read(study).cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]
    raylets = {p.pid for p in head if "raylet" in " ".join(p.cmdline())}
    assert raylets, "ray start left no raylet"
    for ancestors in seen.values():  # under the cluster's raylet, not under a Ray of the driver's
        assert run.pid not in ancestors and raylets & set(ancestors), ancestors


def test_a_cell_killed_mid_training_resumes_from_its_last_validation(tmp_path, data_cache, tiny_imagenet):
    """checkpoint: true; the runner and the cell's kernel killed (SIGKILL) once baseB has
    validated 3 of its 12 epochs: the rerun's baseB trains from its last backup on, not from
    epoch 1, and its history holds all 12 validations. Two cells, baseB and B2B, the fewest a
    study of a copy has."""
    epochs = 12
    params = params_file(tmp_path, study="resumed", checkpoint=True, epochs=epochs, treatments=["BnB"],
                         reduced_images_per_class=[], cka_images=0)
    study = tmp_path / "results" / "resumed"
    notebook = study / "cells" / "r0-baseB.ipynb"

    def validated():
        logs = list((study / "checkpoints").glob("r0-baseB-*/history.csv"))
        return len(logs[0].read_text().splitlines()) - 1 if logs else 0

    first = cli("run", params, "--results", tmp_path / "results", cache=data_cache, wait=False)
    wait_for(lambda: validated() >= 3, first, "baseB's third validation")
    kernels = psutil.Process(first.pid).children(recursive=True)
    first.kill()  # SIGKILL: no handler runs
    for proc in kernels:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    first.wait()
    psutil.wait_procs(kernels, timeout=30)
    killed_at = validated()
    assert 3 <= killed_at < epochs and not (study / "cells" / "r0-baseB.json").exists()

    second = cli("run", params, "--results", tmp_path / "results", cache=data_cache)
    assert second.returncode == 0, second.stdout + second.stderr
    ran = [int(m) for m in re.findall(rf"epoch (\d+)/{epochs}: loss", notebook.read_text())]
    # From the last backup: the epoch after the last validation logged (or that one again, where
    # the kill fell between its log line and its backup).
    assert ran and ran[0] in (killed_at, killed_at + 1) and ran == list(range(ran[0], epochs + 1)), ran
    history = json.loads((study / "cells" / "r0-baseB.json").read_text())["val_top1"]
    assert len(history) == epochs
    logged = read(study / "tensorboard" / "r0-baseB")[0]["val_top1"]  # in TensorBoard, no step twice
    steps_per_epoch = logged[0][0]
    assert [step for step, _ in logged] == sorted({step for step, _ in logged})
    assert len(logged) >= epochs - 1  # a kill between a backup and its log's point loses that one point
    assert all(value == history[step // steps_per_epoch - 1] for step, value in logged)
