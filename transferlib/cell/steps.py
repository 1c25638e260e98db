"""The steps a cell's notebook runs, one call each: data, source network, training outputs,
layer similarity."""

import json
import os

import keras
import numpy as np

from .. import sources, store
from ..atomic import write_atomic, write_text_atomic
from . import data, similarity
from .models import WEIGHT_LAYERS, caffenet

def load_data(dataset, classes, *, image_size, batch_size, seed, data_dir=None, max_per_class=None):
    """(subset, train pipeline, val pipeline) for ``classes``: a list of class ids, or a
    count k for the dataset's first k classes (handy when exploring in JupyterLab).
    Decoded arrays go through ``data.pipelines``, a streamed dataset's records (ImageNet at
    227 px) through ``data.record_pipelines``; prints what it read."""
    loaded = sources.load(dataset, sources.stored_size(image_size), data_dir=data_dir)
    if isinstance(classes, int):
        classes = loaded.classes[:classes]
    subset = data.select(loaded, classes, max_per_class=max_per_class)
    if isinstance(subset, sources.Records):
        print(f"{len(subset.classes)} classes, read from {dataset}'s records at every epoch")
        train_ds, val_ds = data.record_pipelines(subset, image_size=image_size, batch_size=batch_size, seed=seed)
    else:
        print(f"{len(subset.classes)} classes, {len(subset.train_labels)} training images, "
              f"{len(subset.val_labels)} validation images")
        train_ds, val_ds = data.pipelines(subset, image_size=image_size, batch_size=batch_size, seed=seed)
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


def save(result, *, metrics_path, params_hash="", model=None, model_path=None, cka=None):
    """Save the model (if ``model_path``) and then the metrics JSON the runner reads as 'done',
    with the network's layer similarity to its base ``cka`` ({layer: linear CKA}) if given."""
    if model_path:
        write_atomic(model_path, model.save)
    metrics = {**result.to_dict(), "params_hash": params_hash,
               "val_top1": [h["val_top1"] for h in result.history]}
    if cka is not None:
        metrics["cka"] = cka
    write_text_atomic(metrics_path, json.dumps(metrics, indent=1))
    return metrics


def similarity_images(dataset, classes, count):
    """The fixed image set of the layer similarities: the first ``count // len(classes)`` (at
    least one) validation images of each of ``classes``, uint8, in ``dataset``'s order."""
    subset = data.select(dataset, classes)
    per_class = max(1, count // len(classes))
    keep = [np.flatnonzero(subset.val_labels == label)[:per_class] for label in range(len(classes))]
    return subset.val_images[np.sort(np.concatenate(keep))]


_ONE_PASS_BYTES = 1 << 30  # activations of every layer of both networks held at once, at most


def layer_similarity(model_a, half_a, model_b, half_b, *, classes, count, dataset, image_size,
                     batch_size=256, data_dir=None):
    """{layer: linear CKA} of two networks on ``similarity_images(classes, count)``, each seeing
    them as in its training: centre crops standardised with the statistics of the half it was
    trained on (``half_a``, ``half_b``: class ids).

    Each network sees all the images in one call, every weight layer's activations taken in
    that pass, where they fit in ``_ONE_PASS_BYTES`` (the small studies); otherwise one layer
    at a time, ``batch_size`` images at a time (``similarity.cka_by_layer``)."""
    decoded = sources.load(dataset, sources.stored_size(image_size), data_dir=data_dir)
    images = similarity_images(decoded, classes, count)

    def inputs(half):
        return data.centre_crops(images, image_size,
                                 *data.normalisation(data.select(decoded, half).train_images, image_size))

    inputs_a, inputs_b = inputs(half_a), inputs(half_b)
    features = sum(int(np.prod(model.get_layer(name).output.shape[1:]))
                   for model in (model_a, model_b) for name in WEIGHT_LAYERS)
    if 4 * features * len(images) > _ONE_PASS_BYTES:
        return similarity.cka_by_layer(model_a, model_b, inputs_a, inputs_b, batch_size=batch_size)
    a = similarity.layer_activations(model_a, inputs_a, batch_size=len(images))  # one call each
    b = similarity.layer_activations(model_b, inputs_b, batch_size=len(images))
    return {name: similarity.linear_cka(a[name], b[name]) for name in WEIGHT_LAYERS}
