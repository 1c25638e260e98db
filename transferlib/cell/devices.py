"""GPU options of a cell: mixed precision, GPU memory growth and several GPUs in one cell.

All off by default, which is what a CPU runs. Call ``setup`` first in a cell's kernel, before
any model or tensor exists, and build and train the model inside the returned strategy's
``scope()``.
"""

import contextlib
import os

import keras

from .. import jax_env
from ..parameters import PRECISIONS


class OneDevice:
    """The strategy of a backend without tf.distribute: build and train as usual."""

    def scope(self):
        return contextlib.nullcontext()


def setup(*, seed=None, precision="float32", memory_growth=False, distribute=False, batch_size=None):
    """The tf.distribute strategy to build and train in, after setting the global options.

    ``seed``: seeds Python, numpy and the backend, and under TensorFlow turns op determinism on,
    so that a cell run twice with the same parameters on a CPU gives the same network bit for
    bit (on a GPU, TensorFlow's deterministic kernels are used where they exist; some ops then
    refuse to run or run slower: docs/gpu.md).
    ``precision``: the Keras dtype policy; the mixed ones compute in bfloat16 / float16 and keep
    float32 weights (float16 with loss scaling, which ``keras.Model.compile`` adds).
    ``memory_growth``: GPUs take memory as needed rather than all at once, so that several
    cells can share one GPU. ``distribute``: a ``MirroredStrategy`` over every visible GPU;
    ``batch_size`` stays the global batch, split evenly into one batch per replica.
    Under the JAX backend ``memory_growth`` turns off XLA's preallocation of GPU memory, the
    compiled programs go to the persistent cache of ``jax_env`` (where the runner did not set
    it already), and ``distribute`` is refused (it is TensorFlow's).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if keras.backend.backend() == "jax":
        _jax_setup(memory_growth)  # first: before anything (a seed) makes JAX take the GPU
    keras.mixed_precision.set_dtype_policy(precision)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if keras.backend.backend() != "tensorflow":
        if distribute:
            raise ValueError(f"distribute uses tf.distribute; it needs KERAS_BACKEND=tensorflow, "
                             f"not {keras.backend.backend()}")
        return OneDevice()
    import tensorflow as tf

    if seed is not None:
        tf.config.experimental.enable_op_determinism()
    gpus = tf.config.list_physical_devices("GPU")
    if memory_growth:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
    if not distribute:
        return tf.distribute.get_strategy()
    strategy = tf.distribute.MirroredStrategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size is not None and batch_size % replicas:
        raise ValueError(f"batch_size {batch_size} (the global batch) does not split evenly over "
                         f"{replicas} replicas: use a multiple of {replicas}")
    return strategy


def _jax_setup(memory_growth):
    """JAX's memory and compilation-cache settings (``jax_env``), unless set before: the memory
    ones are read when JAX first uses a GPU, so only before that."""
    import jax
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        if memory_growth and os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE") != "false":
            raise RuntimeError("memory_growth: JAX already holds its GPU memory; call devices.setup "
                               "first in the kernel, before any array exists")
    else:
        for key, value in jax_env.memory_env(memory_growth=memory_growth).items():
            os.environ[key] = value
    if jax.config.jax_compilation_cache_dir is None:  # a kernel the runner did not start
        jax.config.update("jax_compilation_cache_dir", str(jax_env.compilation_cache_dir()))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
