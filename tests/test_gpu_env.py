"""Several cells on one GPU under JAX, and compilation paid once: the environment each cell's
process gets (``kernel_env``, ``jax_env``), ``devices.setup`` under JAX, the persistent
compilation cache."""

import json
import os
import subprocess
import sys

import pytest

from transferlib.driver import local_executor
from transferlib.driver.kernel_env import kernel_env
from transferlib.driver.params import Params
from transferlib import jax_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("options,expected", [
    ({}, {}),
    ({"gpus_per_cell": 1.0}, {}),
    ({"gpus_per_cell": 0.25}, {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.225"}),
    ({"gpus_per_cell": 0.5}, {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.450"}),
    ({"workers": 4}, {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.225"}),
    ({"workers": 4, "gpus_per_cell": 0.5}, {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.225"}),  # the smaller share
    ({"workers": 2, "gpus_per_cell": 0.25}, {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.225"}),
    ({"workers": 4, "memory_growth": True}, {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}),
    ({"gpus_per_cell": 0.25, "memory_growth": True}, {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}),
])
def test_cells_sharing_a_gpu_hold_their_share_of_its_memory(options, expected):
    assert jax_env.memory_env(**options) == expected


def test_the_compilation_cache_is_in_the_cache_folder(tmp_path):
    env = jax_env.cell_env(workers=2, cache_dir=tmp_path)
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "jax-compilation")
    assert env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    assert env["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.450"


def test_the_kernels_get_their_memory_share_unless_the_user_set_one(monkeypatch):
    monkeypatch.delenv("XLA_PYTHON_CLIENT_MEM_FRACTION", raising=False)
    params = Params(dataset="tiny_imagenet")
    assert kernel_env(params, workers=2)["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.450"
    monkeypatch.setenv("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.1")
    assert kernel_env(params, workers=2)["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.1"  # the user's own


def test_the_kernel_env_names_the_folders_absolute_and_a_users_model(monkeypatch, tmp_path):
    """The runner's own environment is left as it was; what its kernels need, working in the
    study folder, is in the mapping: the folders absolute, the working folder on PYTHONPATH
    for a ``module:function`` model."""
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRANSFER_DATA_DIR", "data")
    monkeypatch.delenv("TRANSFER_CACHE_DIR", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    before = dict(os.environ)
    env = kernel_env(Params(dataset="tiny_imagenet", network="mine:network"))
    assert env["TRANSFER_DATA_DIR"] == str(tmp_path / "data") and "TRANSFER_CACHE_DIR" not in env
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert "PYTHONPATH" not in kernel_env(Params(dataset="tiny_imagenet"))
    assert dict(os.environ) == before


def test_the_local_executor_starts_its_kernels_with_the_runners_env(monkeypatch, tmp_path):
    seen = {}

    class Pool:
        def __init__(self, spares, cwd, env=None):
            seen["env"] = env
            raise RuntimeError("stop here")

    class Study:
        driver_dir = tmp_path

    monkeypatch.setattr(local_executor.kernels, "KernelPool", Pool)
    env = kernel_env(Params(dataset="tiny_imagenet"), workers=4)
    with pytest.raises(RuntimeError, match="stop here"):
        local_executor.execute(Study, ["a cell"], check_data=lambda: None, progress=lambda: None, env=env,
                               workers=4)
    assert seen["env"] is env and env["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.225"


def test_cells_holding_a_fraction_of_a_gpu_share_it_under_jax_and_tensorflow():
    env = kernel_env(Params(dataset="tiny_imagenet", gpus_per_cell=0.25))
    assert env["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.225" and env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


CELL = """
import json, os, sys
from collections import Counter
import jax, jax.numpy as jnp
from transferlib.cell import devices
events = Counter()
jax.monitoring.register_event_listener(lambda name, **_: events.update([name]))
devices.setup(seed=0, memory_growth=True)
jax.jit(lambda x: jnp.tanh(x) @ x.T)(jnp.ones((8, 8))).block_until_ready()
print(json.dumps({"preallocate": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
                  "cache": jax.config.jax_compilation_cache_dir,
                  "hits": events["/jax/compilation_cache/cache_hits"],
                  "misses": events["/jax/compilation_cache/cache_misses"]}))
"""


@pytest.mark.slow
def test_a_second_cell_loads_its_programs_from_the_cache_instead_of_compiling(tmp_path):
    pytest.importorskip("jax")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    env.update(KERAS_BACKEND="jax", TRANSFER_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)

    def cell():
        out = subprocess.run([sys.executable, "-c", CELL], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = cell(), cell()
    assert first["preallocate"] == "false"  # memory_growth under JAX
    assert first["cache"] == str(tmp_path / "jax-compilation")
    assert first["misses"] >= 1 and first["hits"] == 0
    assert any((tmp_path / "jax-compilation").iterdir())
    assert second["misses"] == 0 and second["hits"] == first["misses"]
