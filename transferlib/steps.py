"""The steps a cell's notebook runs, one call each: data, source network, outputs."""

import json
import os

import keras

from . import data, sources, store
from .atomic import write_atomic, write_text_atomic
from .models import caffenet


def load_data(dataset, classes, *, image_size, batch_size, seed, data_dir=None, max_per_class=None):
    """(subset, train pipeline, val pipeline) for ``classes``: a list of class ids, or a
    count k for the dataset's first k classes (handy when exploring in JupyterLab).
    Decoded arrays go through ``data.pipelines``, a streamed dataset's records (ImageNet at
    227 px) through ``data.record_pipelines``."""
    loaded = sources.load(dataset, sources.stored_size(image_size), data_dir=data_dir)
    if isinstance(classes, int):
        classes = loaded.classes[:classes]
    subset = data.select(loaded, classes, max_per_class=max_per_class)
    make = data.record_pipelines if isinstance(subset, sources.Records) else data.pipelines
    train_ds, val_ds = make(subset, image_size=image_size, batch_size=batch_size, seed=seed)
    return subset, train_ds, val_ds


def source_model(path, *, num_classes, image_size, width):
    """The base network saved at ``path`` (a file or a URL, see ``store``); with no path
    (random-weights cells) a fresh CaffeNet that only lends its architecture."""
    if path:
        return load_model(path)
    return caffenet(num_classes, image_size, width)


def load_model(path):
    """The network saved at ``path``, fetched first to a temporary file where it is a URL."""
    if not store.is_url(path):
        return keras.models.load_model(path, compile=False)
    local = store.fetch(path)
    try:
        return keras.models.load_model(local, compile=False)
    finally:
        os.unlink(local)


def save(result, *, metrics_path, params_hash="", model=None, model_path=None):
    """Save the model (if ``model_path``) and then the metrics JSON the runner reads as 'done'."""
    if model_path:
        write_atomic(model_path, model.save)
    metrics = {**result.to_dict(), "params_hash": params_hash,
               "val_top1": [h["val_top1"] for h in result.history]}
    write_text_atomic(metrics_path, json.dumps(metrics, indent=1))
    return metrics


def conv1_weights(model_path):
    """conv1's kernel [k, k, 3, filters] of the network saved at ``model_path`` (or URL)."""
    return load_model(model_path).get_layer("conv1").get_weights()[0]
