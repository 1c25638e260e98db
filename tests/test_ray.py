"""The ray executor on a local Ray instance of 2 CPUs started here: three cells of the smoke
study into a file:// URL, a worker killed mid-cell, the driver killed mid-study."""

import os
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest

from test_study import ROOT, SMOKE, TINY_32PX, cli, mtimes, params_file
from transferlib.records import table

ray = pytest.importorskip("ray")
# Every test here starts processes or trains: the slow tier.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")]


@pytest.fixture(scope="module")
def ray_address():
    """One local Ray instance (2 CPUs) for the module; the studies' drivers join it."""
    os.environ["RAY_AUTH_MODE"] = "disabled"  # the drivers, our subprocesses, inherit it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()
    del os.environ["RAY_AUTH_MODE"]


def on_ray(*args, address, cache, wait=True):
    return cli(*args, "--executor", "ray", "--address", address, cache=cache, wait=wait)


def cell_processes(study):
    """{pid: (cell id, the Ray worker running it)} of the kernels executing cells of ``study``
    (a cell's kernel works in the study folder; its Ray task is named after the cell)."""
    found = {}
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "ipykernel_launcher" in " ".join(proc.info["cmdline"] or []) and proc.cwd() == str(study):
                worker = proc.parent()
                found[proc.pid] = (worker.cmdline()[0].removeprefix("ray::").split()[0], worker)
        except (psutil.NoSuchProcess, psutil.AccessDenied, IndexError):
            pass
    return found


def wait_for(condition, proc, what, timeout=300):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline and proc.poll() is None, f"never saw {what}"
        time.sleep(0.2)
    return value


RAY_CELLS = ["r0-A2B", "r0-baseA", "r0-baseB"]  # the smoke study's, with treatments [AnB] and no reduced data


@pytest.fixture(scope="module")
def ray_smoke(ray_address, tmp_path_factory, data_cache, tiny_imagenet):
    out = tmp_path_factory.mktemp("ray-results")
    run = on_ray(SMOKE, "treatments=[AnB]", "reduced_images_per_class=[]", "--results", out.as_uri(),
                 address=ray_address, cache=data_cache)
    assert run.returncode == 0, run.stdout + run.stderr
    return out / "smoke"


def test_a_study_on_ray_into_a_url_gives_the_local_executors_cells_and_table(ray_smoke, smoke_run):
    assert tuple(pd.read_csv(ray_smoke / "results.csv").columns) == table.COLUMNS
    df = table.read(ray_smoke)
    assert sorted(df.cell) == RAY_CELLS
    local = table.read(smoke_run[1]).set_index("cell").params_hash  # the same networks, run here
    assert dict(zip(df.cell, df.params_hash)) == local[RAY_CELLS].to_dict()
    assert ((df.top1 > 0) & (df.top1 <= df.top5) & (df.wall_seconds > df.train_seconds)).all()
    for cell in RAY_CELLS:
        assert (ray_smoke / "cells" / f"{cell}.ipynb").is_file()
        assert "epoch 1/1: loss" in (ray_smoke / "cells" / f"{cell}.ipynb").read_text()
    assert sorted(p.name for p in (ray_smoke / "models").iterdir()) == ["r0-baseA.keras", "r0-baseB.keras"]
    assert "data:image/png;base64" in (ray_smoke / "summary.html").read_text()
    assert (ray_smoke / "conv1-r0-baseA.png").stat().st_size > 0  # drawn from the model at the URL
    runs = ray_smoke / "tensorboard"  # each cell's run copied to the URL, and the experiment published
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == RAY_CELLS
    assert len(list(runs.glob("events.out.tfevents.*"))) == 1
    assert all(list((runs / cell).glob("events.out.tfevents.*")) for cell in RAY_CELLS)


def test_worker_killed_mid_cell_is_retried_and_the_study_completes(ray_address, tmp_path, data_cache,
                                                                    tiny_imagenet):
    params = params_file(tmp_path, treatments=["random"], reduced_images_per_class=[], study="worker-killed")  # baseB, R2B
    study = tmp_path / "results" / "worker-killed"
    driver = on_ray(params, "--results", tmp_path / "results", address=ray_address, cache=data_cache,
                    wait=False)
    running = wait_for(lambda: cell_processes(study), driver, "a cell running")
    time.sleep(3)  # the kernel is up and the cell is training
    cell, worker = next(iter(running.values()))
    assert worker.name().startswith("ray::"), worker.cmdline()
    killed_at = time.time()
    worker.kill()  # the Ray worker process itself, not just its papermill child
    log = driver.communicate(timeout=600)[0]
    assert driver.returncode == 0, log
    assert sorted(table.read(study).cell) == ["r0-R2B", "r0-baseB"]  # each once
    assert (study / "cells" / f"{cell}.json").stat().st_mtime > killed_at  # run again after the kill


def test_driver_killed_mid_study_then_rerun_finishes_each_cell_once(ray_address, tmp_path, data_cache,
                                                                     tiny_imagenet):
    params = params_file(tmp_path, treatments=["AnB"], reduced_images_per_class=[], study="driver-killed")
    study = tmp_path / "results" / "driver-killed"
    driver = on_ray(params, "--results", tmp_path / "results", address=ray_address, cache=data_cache,
                    wait=False)
    wait_for(lambda: list((study / "cells").glob("*.json")) and cell_processes(study), driver,
             "a finished cell and a running one")
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + 60  # Ray ends the dead driver's tasks, and their kernels with them
    while cell_processes(study):
        assert time.monotonic() < deadline, f"cells still running: {cell_processes(study)}"
        time.sleep(0.5)
    finished = {p.stem for p in (study / "cells").glob("*.json")}
    assert 0 < len(finished) < 3
    before = {name: t for name, t in mtimes(study).items() if name.removesuffix(".ipynb") in finished}

    done = on_ray(params, "--results", tmp_path / "results", address=ray_address, cache=data_cache)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(table.read(study).cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]
    assert {name: t for name, t in mtimes(study).items() if name in before} == before  # not rerun


def test_local_executor_never_imports_ray(tmp_path, data_cache, tiny_imagenet):
    code = ("import sys; from transferlib.driver import runner; "
            f"runner.run({str(SMOKE)!r}, results_dir={str(tmp_path)!r}, dry_run=True, out=lambda s: None); "
            "assert 'ray' not in sys.modules, 'ray imported'")
    env = dict(os.environ, TRANSFER_DATA_DIR=str(TINY_32PX.parent), TRANSFER_CACHE_DIR=str(data_cache))
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_workers_with_the_ray_executor_is_refused_before_any_work(tmp_path, data_cache):
    run = cli(SMOKE, "--executor", "ray", "--workers", "2", "--results", tmp_path / "results",
              cache=data_cache)
    assert run.returncode == 2
    assert "--workers 2" in run.stderr and "cpus_per_cell" in run.stderr
    assert not (tmp_path / "results").exists()
