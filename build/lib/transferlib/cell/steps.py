"""The steps a cell's notebook runs, one call each: data, source network, training outputs,
layer similarity, and the small tables a notebook shows of them."""

import json
import os
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from .. import sources, store
from ..atomic import write_atomic, write_text_atomic
from . import data, similarity
from .models import WEIGHT_LAYERS, caffenet


def standalone_path(name):
    """Where a notebook run by hand (not by the runner) writes ``name``: in
    $TRANSFER_RESULTS_DIR, else in results/notebooks/ under the folder JupyterLab was started
    from ($PWD; a kernel works in its notebook's folder), never beside the notebooks."""
    folder = sources.env_path("TRANSFER_RESULTS_DIR") or Path(os.environ.get("PWD") or os.getcwd()) / "results" / "notebooks"
    return str(folder / name)


def load_data(dataset, classes, *, image_size, batch_size, seed, data_dir=None, max_per_class=None,
              skip_bad_images=False):
    """(subset, train pipeline, val pipeline) for ``classes``: a list of class ids, or a
    count k for the dataset's first k classes (handy when exploring in JupyterLab).
    Decoded arrays go through ``data.pipelines``, a streamed dataset's records (ImageNet at
    227 px) through ``data.record_pipelines``; prints what it read."""
    loaded = sources.load(dataset, sources.stored_size(image_size), data_dir=data_dir,
                          skip_bad_images=skip_bad_images)
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


def source_model(path, *, source, kind, num_classes, image_size, width):
    """The base network ``source`` saved at ``path`` (a file or a URL, see ``store``; None: where
    base.ipynb run by hand saves it), or for random-weights cells (``kind`` "random") a fresh
    CaffeNet that only lends its architecture. A missing base is an error saying which file to
    make: a transfer never silently starts from random weights."""
    if kind == "random":
        return caffenet(num_classes, image_size, width)
    path = path or standalone_path(f"{source}.keras")
    if not store.is_url(path) and not Path(path).is_file():
        raise FileNotFoundError(f"no base network {source} at {path}: run base.ipynb first (with "
                                f'cell = "{source}"), or set source_model_path to its .keras file')
    print(f"copying layers 1..n of {source} from {path if store.is_url(path) else Path(path).name}")
    return load_model(path)


def load_model(path):
    """The network saved at ``path``, fetched first to a temporary file where it is a URL."""
    if not store.is_url(path):
        return keras.models.load_model(path, compile=False)
    local = store.fetch(path)
    try:
        return keras.models.load_model(local, compile=False)
    finally:
        os.unlink(local)


def save(result, *, cell, metrics_path=None, params_hash="", model=None, model_path=None, cka=None):
    """Save the model (with ``model_path``, None: ``standalone_path``) and then the metrics JSON
    the runner reads as 'done' (None: ``standalone_path``), with the network's layer similarity
    to its base ``cka`` ({layer: linear CKA}) if given. Says where, in one line."""
    if model is not None:
        model_path = model_path or standalone_path(f"{cell}.keras")
        write_atomic(model_path, model.save)
    metrics_path = metrics_path or standalone_path(f"{cell}.json")
    metrics = {**result.to_dict(), "params_hash": params_hash,
               "val_top1": [h["val_top1"] for h in result.history]}
    if cka is not None:
        metrics["cka"] = cka
    write_text_atomic(metrics_path, json.dumps(metrics, indent=1))
    print(f"saved {cell}: " + ", ".join(Path(p).name for p in (model_path if model is not None else None, metrics_path) if p))


def metrics_table(result):
    """The validation results of ``result`` as a one-row table, to 4 significant digits."""
    row = {"top-1": result.top1, "top-5": result.top5, "best-10 top-1": result.best10_top1,
           "validations": result.epochs, "train seconds": result.train_seconds}
    return pd.DataFrame([row]).style.format("{:.4g}").hide(axis="index")


def layer_table(model, *, n=0, fine_tuned=False, kind="base"):
    """One column per weight layer: where its weights come from (copied-frozen,
    copied-fine-tuned, random-frozen or fresh), whether it learns, and its parameter count."""
    origin = ("random-frozen" if kind == "random" else
              "copied-fine-tuned" if fine_tuned else "copied-frozen")
    columns = {}
    for i, name in enumerate(WEIGHT_LAYERS, 1):
        layer = model.get_layer(name)
        columns[name] = {"weights": origin if i <= n else "fresh",
                         "learns": "yes" if layer.trainable else "no",
                         "parameters": f"{layer.count_params():,}"}
    return pd.DataFrame(columns)


def cka_table(cka):
    """The layer similarities {layer: CKA} of a cell as a one-row table, to 3 decimals."""
    return pd.DataFrame([cka], index=["CKA to the base"]).style.format("{:.3f}")


def similarity_images(dataset, classes, count):
    """The fixed image set of the layer similarities: the first ``count // len(classes)`` (at
    least one) validation images of each of ``classes``, uint8, in ``dataset``'s order."""
    subset = data.select(dataset, classes)
    per_class = max(1, count // len(classes))
    keep = [np.flatnonzero(subset.val_labels == label)[:per_class] for label in range(len(classes))]
    return subset.val_images[np.sort(np.concatenate(keep))]


def layer_similarity(model_a, half_a, model_b, half_b, *, classes, count, dataset, image_size,
                     batch_size=256, data_dir=None):
    """{layer: linear CKA} of two networks on ``similarity_images(classes, count)``, each seeing
    them as in its training: centre crops standardised with the statistics of the half it was
    trained on (``half_a``, ``half_b``: class ids)."""
    decoded = sources.load(dataset, sources.stored_size(image_size), data_dir=data_dir)
    images = similarity_images(decoded, classes, count)

    def inputs(half):
        return data.centre_crops(images, image_size,
                                 *data.normalisation(data.select(decoded, half).train_images, image_size))

    return similarity.cka_by_layer(model_a, model_b, inputs(half_a), inputs(half_b),
                                   batch_size=batch_size)
