"""The environment of the kernels a study runs in: one mapping, built by the runner once per
run and handed to the executor, which hands it to every kernel it starts (the local executor's
``kernels.KernelPool``; the Ray executor's workers and, through its ``Launcher``, their
kernels). The runner changes nothing in its own process's environment.

The mapping holds only what the runner sets; a kernel gets it on top of the environment of the
process that starts it (on a Ray node, that node's worker):

- TRANSFER_DATA_DIR and TRANSFER_CACHE_DIR, where set, made absolute (``data.paths.env_path``):
  kernels work in the study folder, Ray workers anywhere;
- TF_CPP_MIN_LOG_LEVEL 2: no TensorFlow banner per cell;
- TRANSFER_PROGRESS text: the cells' notebooks are records, read later, so their progress bars
  are text replaced in place, not widgets (``cell.progress``);
- for a ``module:function`` model, PYTHONPATH with the working folder first
  (``units.cwd_on_pythonpath``): the kernels must import it, working elsewhere;
- where cells share a GPU (``gpus_per_cell`` below 1, or several local ``workers``), TensorFlow
  taking GPU memory as needed and JAX its share of it (``jax_env.memory_env``).

A value the user set in the runner's own environment is kept.
"""

import os

from ..data.paths import env_path
from .. import jax_env
from ..nets import units

FOLDERS = ("TRANSFER_DATA_DIR", "TRANSFER_CACHE_DIR")


def kernel_env(params=None, workers=1):
    """The variables every kernel of a study with ``params`` gets, ``workers`` of its cells
    running at once on this machine; with no params (a summary redrawn on its own), those of
    any kernel: the folders, the log level and the progress bars."""
    env = {name: str(path) for name in FOLDERS if (path := env_path(name))}
    defaults = {"TF_CPP_MIN_LOG_LEVEL": "2", "TRANSFER_PROGRESS": "text"}
    if params is not None:
        if units.is_function(params.network):
            env["PYTHONPATH"] = units.cwd_on_pythonpath()
        if 0 < params.gpus_per_cell < 1:
            defaults["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        defaults |= jax_env.memory_env(gpus_per_cell=params.gpus_per_cell, workers=workers,
                                       memory_growth=params.memory_growth)
    return {**env, **{name: os.environ.get(name, value) for name, value in defaults.items()}}
