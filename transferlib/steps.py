"""The steps a cell's notebook runs, one call each: data, source network, outputs; and the
summary's: conv1 filters and the study's layer similarities."""

import json
import os
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from . import data, grid, results, similarity, sources, store
from .atomic import write_atomic, write_text_atomic
from .models import WEIGHT_LAYERS, caffenet
from .params import load_params

CKA_COLUMNS = ("split", "cell", "reference", "treatment", "n", "layer", "layer_name", "cka",
               "params_hash")


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


def conv1_weights(model_path):
    """conv1's kernel [k, k, 3, filters] of the network saved at ``model_path`` (or URL)."""
    return load_model(model_path).get_layer("conv1").get_weights()[0]


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


def similarity_table(study_dir, root=None):
    """The study's layer similarities, one row per pair of networks and layer (CKA_COLUMNS), also
    written to ``study_dir/cka.csv``; ``root`` (default ``study_dir``) is the folder or URL
    holding the study's cells/ and models/. Each fine-tuned network against its base, as its cell measured it,
    and baseA against baseB of each split, computed here from the saved bases on the study's
    ``cka_images`` (rows of an earlier cka.csv are reused while both bases and cka_images are
    unchanged)."""
    study = Path(study_dir)
    root = root or study
    df = results.read(study)
    params = load_params(study / "params.yaml")
    rows = []
    for cell in df[df.fine_tuned & (df.images_per_class == 0) & (df.source != "")].itertuples():
        metrics = json.loads(store.read_text(store.join(root, "cells", f"{cell.cell}.json")))
        pooled = results.treatment(cell._asdict(), pooled=True)
        rows += [(cell.split, cell.cell, cell.source, pooled, cell.n, i, name, value, cell.params_hash)
                 for i, (name, value) in enumerate(metrics.get("cka", {}).items(), 1)]
    path = study / "cka.csv"
    earlier = pd.read_csv(path, keep_default_na=False) if path.exists() else None
    bases = df[(df.kind == "base") & (df.images_per_class == 0)].set_index("cell").params_hash
    halves = None
    for split in sorted(df.split.unique()):
        a, b = f"{split}-baseA", f"{split}-baseB"
        if not params.cka_images or params.dataset in sources.STREAMED or a not in bases or b not in bases:
            continue
        pair_hash = f"{bases[a]}/{bases[b]}/{params.cka_images}"
        if earlier is not None and (earlier.params_hash == pair_hash).any():
            rows += list(earlier[earlier.params_hash == pair_hash].itertuples(index=False, name=None))
            continue
        halves = halves or grid.halves(params, grid.dataset_classes(params))
        ha, hb = halves[split]["A"], halves[split]["B"]
        model_a, model_b = (load_model(store.join(root, "models", f"{x}.keras")) for x in (a, b))
        cka = layer_similarity(model_a, ha, model_b, hb, classes=ha + hb, count=params.cka_images,
                               dataset=params.dataset, image_size=params.image_size,
                               batch_size=params.batch_size, data_dir=params.data_dir)
        rows += [(split, b, a, "base", 0, i, name, cka[name], pair_hash)
                 for i, name in enumerate(WEIGHT_LAYERS, 1)]
    table = pd.DataFrame(rows, columns=CKA_COLUMNS)
    write_text_atomic(path, table.to_csv(index=False))
    return table
