"""A spare kernel's warm-up: the first-call costs of a cell paid before the cell starts."""

import io
import os
import tempfile

import keras
import numpy as np

from . import conv1_figure, data, files, networks, similarity
from .architectures import WEIGHT_LAYERS


def warm_up():
    """Pay a kernel's first-call costs before its cell starts (the runner's spare kernels call
    this while the previous cell trains): on a TensorFlow kernel with no GPU, a tiny tf.data
    pipeline, CaffeNet, layer similarity, save and load, and filter figure, each run once
    (tf.data and autograph tracing, Keras's layer and saving code, matplotlib's fonts). Keras's
    session is then cleared, so the cell's layer names and seeds are a fresh kernel's. With a
    GPU nothing runs: ``devices.setup``'s memory settings must come before its first use."""
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return
    rng = np.random.default_rng(0)
    labels = np.arange(8, dtype=np.int32) % 2
    subset = data.Subset((0, 1), rng.integers(0, 256, (8, 36, 36, 3), np.uint8), labels,
                         rng.integers(0, 256, (8, 36, 36, 3), np.uint8), labels)
    train_ds, val_ds = data.pipelines(subset, image_size=32, batch_size=4, seed=0)
    images = next(iter(val_ds))[0].numpy()
    next(iter(train_ds))
    net = networks.build("caffenet", 2, 32, width=0.125)
    features = similarity.layer_activations(net.model, images, WEIGHT_LAYERS, batch_size=len(images))
    similarity.linear_cka(features["conv1"], features["fc8"])
    with tempfile.TemporaryDirectory(prefix="transferlib-warm-up-") as folder:
        path = os.path.join(folder, "net.keras")
        net.model.save(path)
        conv1_figure.first_filters(files.load_model(path), "warm-up", caption="").savefig(io.BytesIO(), format="png")
    keras.backend.clear_session()
