"""Faults and bad inputs, done for real: the README's first command with its relative data
folder, a kernel killed mid-cell, Ctrl-C, a second runner, damaged results, bad values and a dry
run without the data. Each through the command line, as a user meets it."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from conftest import SHARED_DATASETS, TINY_32PX, readme_run_command
from transferlib.records import table

# Every test here starts processes or trains: the slow tier.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "transferlib" / "studies" / "smoke.yaml"
THREE_CELLS = dict(treatments=["AnB"], reduced_images_per_class=[], cka_images=0)  # baseA, baseB, A2B

needs_tiny = pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")


def params_file(folder, **changes):
    values = {**yaml.safe_load(SMOKE.read_text()), **changes}
    path = Path(folder) / f"{values['study']}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def cli(*args, cache, wait=True, env=None, cwd=ROOT):
    env = {**os.environ, "TRANSFER_DATA_DIR": str(SHARED_DATASETS), "TRANSFER_CACHE_DIR": str(cache),
           **(env or {})}
    cmd = [sys.executable, "-m", "transferlib", *map(str, args)]
    if not wait:  # Ctrl-C reaches it even where this runs in the background, which ignores SIGINT
        return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)


def kernels_of(process):
    """The notebook kernels a runner started, oldest first."""
    kids = [p for p in psutil.Process(process.pid).children(recursive=True)
            if "ipykernel_launcher" in " ".join(p.cmdline())]
    return sorted(kids, key=lambda p: p.create_time())


def wait_for(condition, process, what, seconds=300):
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the runner ended before {what}: {process.stdout.read()}"
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.1)


@needs_tiny
def test_readme_first_command_as_written(smoke_run):
    """The README's first command, from the repository root with its relative TRANSFER_DATA_DIR,
    on the smoke study instead of the quick one (and a results folder of its own): ``smoke_run``."""
    run = readme_run_command()
    assert run.startswith("TRANSFER_DATA_DIR=../shared/datasets ") and run.endswith(" run quick"), run
    assert shlex.split(run)[1] == ".venv/bin/transferlib", run
    _, study = smoke_run
    assert len(table.read(study)) == 9
    assert (study / "summary.html").is_file()
    assert not list(study.glob("*.lock")) and not (study / ".runner.lock").exists()


@needs_tiny
def test_a_killed_kernel_fails_its_cell_and_the_others_go_on(tmp_path, data_cache, tiny_imagenet):
    params = params_file(tmp_path, study="oom", epochs=3, **THREE_CELLS)
    study = tmp_path / "results" / "oom"
    runner = cli("run", params, "--results", tmp_path / "results", cache=data_cache, wait=False)
    notebook = study / "cells" / "r0-baseA.ipynb"
    wait_for(lambda: notebook.exists() and re.search(r"\d+ training images", notebook.read_text()), runner,
             "baseA started training")  # its data loaded (the parameters' comments say "training images" too)
    killed_at = time.monotonic()
    kernels_of(runner)[0].send_signal(signal.SIGKILL)  # as the out-of-memory killer does
    out, _ = runner.communicate(timeout=600)
    assert runner.returncode == 1, out
    assert "r0-baseA: its kernel died (killed by signal 9 (SIGKILL" in out and str(notebook) in out
    assert "r0-A2B: not run: r0-baseA failed" in out
    assert sorted(table.read(study).cell) == ["r0-baseB"]  # the other base went on
    assert time.monotonic() - killed_at < 300
    rerun = cli("run", params, "--results", tmp_path / "results", cache=data_cache)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(table.read(study).cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]


@needs_tiny
def test_ctrl_c_stops_the_runner_and_its_kernels_within_seconds(tmp_path, data_cache, tiny_imagenet):
    params = params_file(tmp_path, study="interrupted", epochs=20, **THREE_CELLS)
    runner = cli("run", params, "--results", tmp_path, cache=data_cache, wait=False)
    notebook = tmp_path / "interrupted" / "cells" / "r0-baseA.ipynb"
    wait_for(lambda: notebook.exists() and re.search(r"\d+ training images", notebook.read_text()), runner,
             "baseA started training")  # its data loaded (the parameters' comments say "training images" too)
    children = psutil.Process(runner.pid).children(recursive=True)
    start = time.monotonic()
    runner.send_signal(signal.SIGINT)
    out, _ = runner.communicate(timeout=60)
    assert time.monotonic() - start < 20
    assert runner.returncode == 130 and "stopped" in out
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.cmdline() for p in alive]
    assert not (tmp_path / "interrupted" / ".runner.lock").exists()


@needs_tiny
def test_a_second_runner_on_the_same_study_stops_naming_the_first(tmp_path, data_cache, tiny_imagenet):
    params = params_file(tmp_path, study="twice", **THREE_CELLS)
    first = cli("run", params, "--results", tmp_path, cache=data_cache, wait=False)
    lock = tmp_path / "twice" / ".runner.lock"
    wait_for(lambda: lock.exists() and lock.read_text(), first, "the first runner took the study")
    second = cli("run", params, "--results", tmp_path, cache=data_cache)
    assert second.returncode == 2
    assert f"process {first.pid} on host" in second.stderr and "Traceback" not in second.stderr
    first.kill()  # kill -9: its lock dies with it and is taken over
    first.wait()
    psutil.wait_procs(psutil.Process().children(recursive=True), timeout=10)
    assert cli("run", params, "--results", tmp_path, cache=data_cache).returncode == 0
    assert not lock.exists()


@pytest.fixture(scope="module")
def three_done(tmp_path_factory, data_cache, tiny_imagenet):
    """A finished three-cell study, for damaging."""
    folder = tmp_path_factory.mktemp("done")
    params = params_file(folder, study="three", **THREE_CELLS)
    done = cli("run", params, "--results", folder, cache=data_cache)
    assert done.returncode == 0, done.stdout + done.stderr
    return params, folder


@needs_tiny
@pytest.mark.parametrize("damage, said", [
    ("truncate base model", "r0-baseA reruns: its base network"),
    ("metrics []", "r0-A2B reruns:"),
    ("metrics without top1", "r0-A2B reruns:"),
])
def test_a_damaged_result_is_named_and_rerun(three_done, data_cache, damage, said):
    params, folder = three_done
    study = folder / "three"
    if damage == "truncate base model":
        model = study / "models" / "r0-baseA.keras"
        model.write_bytes(model.read_bytes()[:1000])
    else:
        metrics = study / "cells" / "r0-A2B.json"
        values = json.loads(metrics.read_text())
        metrics.write_text("[]" if damage == "metrics []" else json.dumps(
            {k: v for k, v in values.items() if k != "top1"}))
    dry = cli("run", params, "--results", folder, "--dry-run", cache=data_cache)
    assert "will rerun" in dry.stdout and "to run: 1 cells" in dry.stdout, dry.stdout
    run = cli("run", params, "--results", folder, cache=data_cache)
    assert run.returncode == 0, run.stdout + run.stderr
    assert said in run.stdout
    assert sorted(table.read(study).cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]
    assert "to run: 0 cells" in cli("run", params, "--results", folder, "--dry-run", cache=data_cache).stdout


@needs_tiny
def test_a_base_still_rising_stops_the_study_before_anything_copies_from_it(three_done, tmp_path, data_cache):
    """converged_bases: a done base whose curve still rose over its last fifth (planted: 20
    validations climbing 1 point each) stops the study before its transfer runs, naming the
    base and its rise; the base is kept, and the study goes on once the guard is lifted."""
    import shutil
    _, folder = three_done
    study = tmp_path / "three"
    shutil.copytree(folder / "three", study)
    base = study / "cells" / "r0-baseA.json"
    values = json.loads(base.read_text())
    base.write_text(json.dumps({**values, "val_top1": [0.4 + 0.01 * i for i in range(20)]}))
    (study / "cells" / "r0-A2B.json").unlink()
    params = params_file(tmp_path, study="three", converged_bases=True, **THREE_CELLS)
    run = cli("run", params, "--results", tmp_path, cache=data_cache)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "r0-A2B: the study stopped: base r0-baseA still rose +2.0 points" in run.stdout
    assert "more than base_rise_limit 1" in run.stdout
    assert not (study / "cells" / "r0-A2B.json").exists() and json.loads(base.read_text())["val_top1"][-1] == pytest.approx(0.59)
    lifted = cli("run", params_file(tmp_path, study="three", converged_bases=True, base_rise_limit=3, **THREE_CELLS),
                 "--results", tmp_path, cache=data_cache)
    assert lifted.returncode == 0, lifted.stdout + lifted.stderr
    assert sorted(table.read(study).cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]


@needs_tiny
def test_same_parameters_same_network(tmp_path, data_cache, tiny_imagenet, monkeypatch):
    """A study run twice (fresh kernels), once a cell at a time and once two at once, gives
    bit-identical weights and metrics at every validation (its summary left out: it trains
    nothing)."""
    import h5py
    import zipfile
    from transferlib.driver import runner
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(SHARED_DATASETS))
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(data_cache))
    params = params_file(tmp_path, study="twin", treatments=["AnB"], layers=[1], directions=["AnB"],
                         reduced_images_per_class=[], cka_images=0, epochs=3)
    runs = []
    for attempt, workers in (("one", 1), ("two", 2)):
        said = []
        done = runner.run(params, results_dir=tmp_path / attempt, workers=workers, summary=False, out=said.append)
        assert done == 0, "\n".join(said)
        study = tmp_path / attempt / "twin"
        with zipfile.ZipFile(study / "models" / "r0-baseA.keras") as archive:
            archive.extract("model.weights.h5", tmp_path / attempt)
        with h5py.File(tmp_path / attempt / "model.weights.h5") as f:
            weights = {}
            f.visititems(lambda name, item: weights.__setitem__(name, item[()]) if hasattr(item, "shape") else None)
        metrics = json.loads((study / "cells" / "r0-A1B.json").read_text())
        runs.append((weights, metrics["val_top1"], metrics["top1"]))
    (w1, *m1), (w2, *m2) = runs
    assert w1.keys() == w2.keys() and len(w1) >= 16
    assert all((w1[k] == w2[k]).all() for k in w1)
    assert m1 == m2 and len(m1[0]) == 3


@needs_tiny
@pytest.mark.parametrize("change, said", [
    ({"lr": float("inf")}, "lr: got inf"),
    ({"data_dir": "{empty}"}, "Tiny ImageNet not found in {empty} (data_dir)"),
    ({"classes": 3}, "fewer than 2 classes"),
])
def test_bad_values_get_one_message(tmp_path, data_cache, change, said):
    (tmp_path / "empty").mkdir()
    change = {k: v.format(empty=tmp_path / "empty") if isinstance(v, str) else v for k, v in change.items()}
    run = cli("run", params_file(tmp_path, **change), "--results", tmp_path / "results", cache=data_cache)
    assert run.returncode == 2
    assert said.format(empty=tmp_path / "empty") in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "results").exists()  # before any work


@needs_tiny
def test_a_read_only_results_folder_gets_one_message(tmp_path, data_cache):
    if os.geteuid() == 0:
        pytest.skip("root writes through read-only permissions")
    (tmp_path / "ro").mkdir(mode=0o500)
    run = cli("run", params_file(tmp_path, **THREE_CELLS), "--results", tmp_path / "ro", cache=data_cache)
    assert run.returncode == 2 and "permission denied" in run.stderr and "Traceback" not in run.stderr


def test_a_corrupt_image_gets_one_message(tmp_path):
    import shutil
    from test_datasets import FAKE_WNIDS, make_tiny
    root = make_tiny(tmp_path / "data")
    for new, old in (("n99000001", FAKE_WNIDS[0]), ("n99000002", FAKE_WNIDS[1])):  # 2 a half
        shutil.copytree(root / "train" / old, root / "train" / new)
        for image in (root / "train" / new / "images").iterdir():
            image.rename(image.with_name(image.name.replace(old, new)))
        shutil.copy(root / "val" / "images" / "val_0.JPEG", root / "val" / "images" / f"val_{new}.JPEG")
        with open(root / "wnids.txt", "a") as f:
            f.write(new + "\n")
        with open(root / "val" / "val_annotations.txt", "a") as f:
            f.write(f"val_{new}.JPEG\t{new}\t0\t0\t63\t63\n")
    (root / "val" / "images" / "val_3.JPEG").write_bytes(b"this is no image")
    params = params_file(tmp_path, data_dir=str(root), classes="all", **THREE_CELLS)
    run = cli("run", params, "--results", tmp_path / "results", cache=tmp_path / "cache")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "val/images/val_3.JPEG" in run.stderr and "skip_bad_images" in run.stderr


def test_dry_run_without_the_data_plans_and_writes_nothing(tmp_path):
    """No Tiny ImageNet anywhere and an empty cache: the dry run lists the grid from the
    published class list, downloads nothing and creates no folder."""
    cache = tmp_path / "cache"
    env = {"TRANSFER_DATA_DIR": "", "TRANSFER_CACHE_DIR": str(cache)}
    run = subprocess.run([sys.executable, "-m", "transferlib", "run", "quick", "--dry-run", "--results",
                          str(tmp_path / "results")], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "36 cells" in run.stdout and "to run: 36 cells, about" in run.stdout
    assert list(tmp_path.iterdir()) == []  # no cache, no results folder, no download


def test_the_driver_imports_no_framework(tmp_path):
    """Planning a study and writing its TensorBoard experiment (the driver's whole path short of
    running cells) imports neither TensorFlow, Keras nor JAX."""
    code = ("import sys; from transferlib.__main__ import main; main(['run', 'quick', '--dry-run', "
            f"'--results', {str(tmp_path)!r}]); "
            "from transferlib.driver import loaded_study, runner; "  # and the study's TensorBoard experiment
            f"runner.write_experiment(loaded_study.load_study('transferlib/studies/quick.yaml', {str(tmp_path)!r}, "
            "download=False)); "
            "bad = [m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules]; assert not bad, bad")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "TRANSFER_DATA_DIR": "", "TRANSFER_CACHE_DIR": str(tmp_path / "c")},
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
