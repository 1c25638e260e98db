"""GPU options of a cell: mixed precision, GPU memory growth and several GPUs in one cell.

All off by default, which is what a CPU runs. Call ``setup`` first in a cell's kernel, before
any model or tensor exists, and build and train the model inside the returned strategy's
``scope()``.
"""

import keras
import tensorflow as tf

from .params import PRECISIONS


def setup(*, precision="float32", memory_growth=False, distribute=False, batch_size=None):
    """The tf.distribute strategy to build and train in, after setting the global options.

    ``precision``: the Keras dtype policy; the mixed ones compute in bfloat16 / float16 and keep
    float32 weights (float16 with loss scaling, which ``keras.Model.compile`` adds).
    ``memory_growth``: GPUs take memory as needed rather than all at once, so that several
    cells can share one GPU. ``distribute``: a ``MirroredStrategy`` over every visible GPU;
    ``batch_size`` stays the global batch, split evenly into one batch per replica.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    gpus = tf.config.list_physical_devices("GPU")
    if memory_growth:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
    keras.mixed_precision.set_dtype_policy(precision)
    if not distribute:
        return tf.distribute.get_strategy()
    strategy = tf.distribute.MirroredStrategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size is not None and batch_size % replicas:
        raise ValueError(f"batch_size {batch_size} (the global batch) does not split evenly over "
                         f"{replicas} replicas: use a multiple of {replicas}")
    return strategy
