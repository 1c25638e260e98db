"""A study's cells under KERAS_BACKEND=jax on a machine without TensorFlow (simulated: every
process of the run, kernels included, has `import tensorflow` fail)."""

import os
import subprocess
import sys

import pytest

from conftest import SHARED_DATASETS, TINY_32PX
from test_study import ROOT, params_file
from test_tensorboard import read
from transferlib.records import table

pytest.importorskip("jax")
# Every test here starts processes or trains: the slow tier.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")]


def test_a_study_runs_under_jax_without_tensorflow(tmp_path, data_cache, tiny_imagenet):
    blocker = tmp_path / "no_tensorflow"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['tensorflow'] = None  # any `import tensorflow` raises ImportError\n")
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=f"{blocker}{os.pathsep}{ROOT}",
               TRANSFER_DATA_DIR=str(SHARED_DATASETS), TRANSFER_CACHE_DIR=str(data_cache))
    probe = subprocess.run([sys.executable, "-c", "import tensorflow"], env=env, capture_output=True)
    assert probe.returncode != 0  # the blocker works

    params = params_file(tmp_path, treatments=["AnB"], reduced_images_per_class=[], study="jax")
    run = subprocess.run([sys.executable, "-m", "transferlib", "run", str(params), "--results", str(tmp_path)],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    df = table.read(tmp_path / "jax")
    assert sorted(df.cell) == ["r0-A2B", "r0-baseA", "r0-baseB"]
    assert (df.top1 > 0).all()
    notebook = (tmp_path / "jax" / "cells" / "r0-A2B.ipynb").read_text()
    assert "epoch 1/1: loss" in notebook
    for row in df.to_dict("records"):  # TensorBoard's logs, written without TensorFlow
        scalars, data = read(tmp_path / "jax" / "tensorboard" / row["cell"])
        assert [v for _, v in scalars["val_top1"]] == row["history"]
        assert data.session_start_info.hparams["n"].number_value == row["n"]
    assert "TensorBoard logs are off" not in notebook
