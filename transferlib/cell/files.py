"""A cell's files: the base network it loads, the network and metrics it saves, and where a
notebook run by hand (not by the runner) reads and writes them."""

import json
import os
from pathlib import Path

import keras
from IPython.display import display

from ..atomic import write_atomic, write_text_atomic
from ..data.paths import env_path
from ..records import store
from ..records.executed import RECORD
from ..version import code_version
from . import networks, pretrained  # noqa: F401 (pretrained: its Preprocess layer, to load networks)


def standalone_path(name):
    """Where a notebook run by hand (not by the runner) writes ``name``: in
    $TRANSFER_RESULTS_DIR, else in results/notebooks/ under the folder JupyterLab was started
    from ($PWD; a kernel works in its notebook's folder), never beside the notebooks."""
    folder = env_path("TRANSFER_RESULTS_DIR") or Path(os.environ.get("PWD") or os.getcwd()) / "results" / "notebooks"
    return str(folder / name)


def source_model(path, *, source, kind, num_classes, image_size, width, network="caffenet", network_units="stages"):
    """The base network ``source`` saved at ``path`` (a file or a URL, see ``store``; None: where
    base.ipynb run by hand saves it), or for random-weights cells (``kind`` "random") a fresh
    network of kind ``network`` that only lends its architecture. A missing base is an error
    saying which file to make: a transfer never silently starts from random weights."""
    if kind == "random":
        return networks.build(network, num_classes, image_size, width=width, network_units=network_units).model
    path = path or standalone_path(f"{source}.keras")
    if not store.is_url(path) and not Path(path).is_file():
        raise FileNotFoundError(f"no base network {source} at {path}: run base.ipynb first (with "
                                f'cell = "{source}"), or set source_model_path to its .keras file')
    print(f"base {source} loaded from {path if store.is_url(path) else Path(path).name}")
    return load_model(path)


def load_model(path):
    """The network saved at ``path``, fetched first to a temporary file where it is a URL (the
    custom layers of ``architectures`` and ``pretrained`` are registered with Keras on import)."""
    if not store.is_url(path):
        return keras.models.load_model(path, compile=False)
    local = store.fetch(path)
    try:
        return keras.models.load_model(local, compile=False)
    finally:
        os.unlink(local)


def save(result, *, cell, metrics_path=None, params_hash="", model=None, model_path=None, cka=None):
    """Save the model (with ``model_path``, None: ``standalone_path``) and then the metrics JSON
    the runner reads as 'done' (None: ``standalone_path``), with the code this kernel runs
    (``version.code_version``) and the network's layer similarity to its base ``cka`` ({layer:
    linear CKA}) if given. Says where, in one line, which carries the metrics in its output's
    metadata (under RECORD): the executed notebook holds them (``records.executed``)."""
    if model is not None:
        model_path = model_path or standalone_path(f"{cell}.keras")
        write_atomic(model_path, model.save)
    metrics_path = metrics_path or standalone_path(f"{cell}.json")
    metrics = {**result.to_dict(), "params_hash": params_hash, "code_version": code_version(),
               "val_top1": [h["val_top1"] for h in result.history]}
    if cka is not None:
        metrics["cka"] = cka
    write_text_atomic(metrics_path, json.dumps(metrics, indent=1))
    said = f"saved {cell}: " + ", ".join(Path(p).name for p in (model_path if model is not None else None, metrics_path) if p)
    display({"text/plain": said}, raw=True, metadata={RECORD: metrics})
