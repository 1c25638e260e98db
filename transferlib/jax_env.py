"""The environment of a cell's process under Keras's JAX backend: GPU memory and compilation.

Two things JAX reads from its environment decide whether a study's cells can share a GPU and
pay compilation once:

- memory: by default the first JAX process on a GPU preallocates 75% of its memory, so a second
  cell on the same GPU fails. A cell that holds a fraction of a GPU (``gpus_per_cell`` 0.25
  under Ray, or one of ``workers`` local cells) gets ``XLA_PYTHON_CLIENT_MEM_FRACTION`` of
  ``HEADROOM`` x that fraction; ``memory_growth`` turns preallocation off instead
  (``XLA_PYTHON_CLIENT_PREALLOCATE=false``: memory taken as needed, as TensorFlow's growth).
  Both are read when JAX first uses a GPU, so the runner puts them in the environment a
  cell's kernel starts with (``driver.kernel_env``).
- compilation: the XLA programs a cell compiles (its training step, its input functions) are
  written to a persistent cache in the cache folder, ``$TRANSFER_CACHE_DIR/jax-compilation``, so
  the next cell of the same shape, in this study or another, loads them instead of compiling.
  Entries are keyed by the program, the devices and the JAX version: sharing them is safe.
  ``devices.setup`` turns it on in the cell; ``cell_env`` gives both as variables, for
  processes started otherwise (the GPU benchmark's).

Pure: no JAX or Keras import, so that the driver may use it (TensorFlow ignores these names).
"""

from .data.paths import cache_root

HEADROOM = 0.9          # of a GPU's memory shared out between the cells on it
COMPILATION_CACHE = "jax-compilation"


def compilation_cache_dir(cache_dir=None):
    """The persistent JAX compilation cache: ``jax-compilation`` in the cache folder."""
    return cache_root(cache_dir) / COMPILATION_CACHE


def memory_env(*, gpus_per_cell=0.0, workers=1, memory_growth=False):
    """XLA_PYTHON_CLIENT_* of a cell that shares a GPU: with ``memory_growth`` no
    preallocation; else, where the cell holds a fraction of a GPU (``gpus_per_cell`` < 1, or
    one of ``workers`` > 1 cells on this machine's GPU), that fraction of its memory (less
    headroom; the smaller where both apply); else nothing (JAX's default, 75% of one GPU held by one cell)."""
    if memory_growth:
        return {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    shares = [s for s in (gpus_per_cell, 1 / max(workers, 1)) if 0 < s < 1]
    if not shares:
        return {}
    return {"XLA_PYTHON_CLIENT_MEM_FRACTION": f"{HEADROOM * min(shares):.3f}"}


def cell_env(*, gpus_per_cell=0.0, workers=1, memory_growth=False, cache_dir=None):
    """The variables to add to a cell kernel's environment: ``memory_env`` and the persistent
    compilation cache, every compiled program cached however quickly it compiled."""
    return {**memory_env(gpus_per_cell=gpus_per_cell, workers=workers, memory_growth=memory_growth),
            "JAX_COMPILATION_CACHE_DIR": str(compilation_cache_dir(cache_dir)),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}

