"""The calls a cell's notebook (base.ipynb, transfer.ipynb) makes, one per step: data, source
network, training outputs, layer similarity, and the small tables a notebook shows of them.

A ``data_dir`` given here is resolved (``transferlib.data.paths.resolve``: relative to the
kernel's working folder, the notebook's, else to $PWD, the folder JupyterLab was started in).
Run by the runner it is made absolute where the params were read (``Params.from_dict``) and
handed over relative to the kernel's working folder, the study folder, so that the record
names no folder of the machine; a notebook run by hand has no params file, so its parameters
cell is the only reader of what was typed. These calls resolve it; nothing below them does."""

import dataclasses
import io
import json
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from .. import data as datasets
from ..atomic import write_atomic, write_text_atomic
from ..data import block_shuffle
from ..data.paths import env_path, resolve
from ..nets import units
from ..records import store, tensorboard_or_none
from ..records.executed import RECORD
from ..version import code_version
from . import conv1_figure, data, networks, pretrained, shifts, similarity  # pretrained: its Preprocess layer, to load networks
from .models import WEIGHT_LAYERS, caffenet
from .train import BEST_OF


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
        first_filters(load_model(path), "warm-up", caption="").savefig(io.BytesIO(), format="png")
    keras.backend.clear_session()


def standalone_path(name):
    """Where a notebook run by hand (not by the runner) writes ``name``: in
    $TRANSFER_RESULTS_DIR, else in results/notebooks/ under the folder JupyterLab was started
    from ($PWD; a kernel works in its notebook's folder), never beside the notebooks."""
    folder = env_path("TRANSFER_RESULTS_DIR") or Path(os.environ.get("PWD") or os.getcwd()) / "results" / "notebooks"
    return str(folder / name)


def checkpoint_folder(checkpoint, checkpoint_dir, cell):
    """Where a cell backs up its training (``train.train``'s checkpoint_dir): the runner's
    ``checkpoint_dir``, or run by hand with ``checkpoint`` on, ``standalone_path``; else None."""
    if checkpoint_dir or not checkpoint:
        return checkpoint_dir
    return standalone_path(f"{cell}-checkpoint")


def tensorboard_log(tensorboard_dir, net, values):
    """The cell's TensorBoard run (a ``records.tensorboard.CellLog`` for ``train.train``), with
    the hyperparameters of its notebook's ``values`` (``globals()``), the ``networks.Network``
    ``net`` naming the unit n (a surgical cell's: ``tuned_unit``, the one that learns): in the
    runner's ``tensorboard_dir``, or run by hand ``standalone_path("tensorboard/<cell>")``.
    Without the tensorboard package, None, and a line that says so."""
    tensorboard = tensorboard_or_none()
    if tensorboard is None:
        return None
    n = values["n"]
    unit = net.units[(values.get("tuned_unit") or n) - 1][0] if n else ""
    return tensorboard.CellLog(tensorboard_dir or standalone_path(f"tensorboard/{values['cell']}"),
                               tensorboard.hparams({**values, "unit": unit}, code_version()))


def load_data(dataset, classes, *, image_size, batch_size, seed, data_dir=None, max_per_class=None,
              skip_bad_images=False, val_fraction=None, val_holdout=0, block_size=0, data_seed=0, shift="",
              shift_severity=0, raw=False):
    """(subset, train pipeline, val pipeline) for ``classes``: a list of class ids, or a
    count k for the dataset's first k classes (handy when exploring in JupyterLab).
    Decoded arrays go through ``data.pipelines``, a streamed dataset's records (ImageNet at
    227 px) through ``data.record_pipelines``; ``val_holdout`` k > 0 moves k training images of
    each class, drawn from ``data_seed``, to the validation images (``data.select``), before a
    reduced cell's ``max_per_class`` takes the first of the rest; with ``block_size`` b, training
    and validation images alike are then cut into b x b blocks laid out in the order drawn from
    ``data_seed`` (``transferlib.data.block_shuffle``); a ``shift`` (``shifts``) at
    ``shift_severity``, drawn from ``data_seed``, is applied to the selected images (or labels)
    before any pipeline sees them; ``raw``: images float 0..255, not normalised (a pretrained
    source's network preprocesses its own). Prints what it read."""
    if shift:
        shifts.check(shift, shift_severity)
    loaded = datasets.load(dataset, datasets.stored_size(image_size), data_dir=_given(data_dir),
                           skip_bad_images=skip_bad_images, val_fraction=val_fraction)
    if isinstance(classes, int):
        classes = loaded.classes[:classes]
    subset = data.select(loaded, classes, max_per_class=max_per_class, holdout=val_holdout, data_seed=data_seed)
    if val_holdout:
        print(f"held out {val_holdout} training images per class as validation: "
              f"{len(subset.val_labels)} validation images")
    if block_size:
        if isinstance(subset, datasets.Records):
            raise ValueError(f"block_size needs decoded images; {dataset} is read as records")
        subset = dataclasses.replace(subset, **{name: block_shuffle.shuffled(getattr(subset, name), block_size, data_seed)
                                                for name in ("train_images", "val_images")})
        print(f"images cut into {block_size} x {block_size} blocks, laid out in the order drawn from seed {data_seed}")
    if shift:
        if isinstance(subset, datasets.Records):
            raise ValueError(f"shift {shift!r} needs decoded images; {dataset} is read as records")
        subset = shifts.apply(subset, shift, shift_severity, data_seed)
        print(f"shifted: {shift} at severity {shift_severity} (data_seed {data_seed})")
    if isinstance(subset, datasets.Records):
        print(f"{len(subset.classes)} classes, read from {dataset}'s records at every epoch")
        train_ds, val_ds = data.record_pipelines(subset, image_size=image_size, batch_size=batch_size, seed=seed)
    else:
        print(f"{len(subset.classes)} classes, {len(subset.train_labels)} training images, "
              f"{len(subset.val_labels)} validation images")
        train_ds, val_ds = data.pipelines(subset, image_size=image_size, batch_size=batch_size, seed=seed, raw=raw)
    return subset, train_ds, val_ds


def _given(data_dir):
    """``data_dir`` as an absolute path (see the module's docstring), or None."""
    return resolve(data_dir) if data_dir else None


def source_model(path, *, source, kind, num_classes, image_size, width, network="caffenet", network_units="stages"):
    """The base network ``source`` saved at ``path`` (a file or a URL, see ``store``; None: where
    base.ipynb run by hand saves it), or for random-weights cells (``kind`` "random") a fresh
    network of kind ``network`` that only lends its architecture. A missing base is an error
    saying which file to make: a transfer never silently starts from random weights."""
    if kind == "random":
        if network == "caffenet":
            return caffenet(num_classes, image_size, width)
        return networks.build(network, num_classes, image_size, width=width, network_units=network_units).model
    path = path or standalone_path(f"{source}.keras")
    if not store.is_url(path) and not Path(path).is_file():
        raise FileNotFoundError(f"no base network {source} at {path}: run base.ipynb first (with "
                                f'cell = "{source}"), or set source_model_path to its .keras file')
    print(f"base {source} loaded from {path if store.is_url(path) else Path(path).name}")
    return load_model(path)


def load_model(path):
    """The network saved at ``path``, fetched first to a temporary file where it is a URL (a
    pretrained source's network too: importing ``pretrained`` registers its ``Preprocess``)."""
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


def metrics_table(result):
    """The validation results of ``result`` as a one-row table, accuracies in points; the
    paper's best-10 only after at least 10 validations (of fewer it would be their mean)."""
    points = {"top-1 (%)": result.top1, "top-5 (%)": result.top5}
    if result.validations >= BEST_OF:
        points[f"best-{BEST_OF} top-1 (%)"] = result.best10_top1
    row = {**{name: 100 * value for name, value in points.items()}, "validations": result.validations,
           "train seconds": result.train_seconds}
    formats = {name: "{:.1f}" for name in points} | {"validations": "{:d}", "train seconds": "{:.0f}"}
    return pd.DataFrame([row]).style.format(formats).hide(axis="index")


def introduction(*, cell, kind, n, fine_tuned, split, target, classes, network, network_units, width,
                 image_size, source="", source_classes=(), shift="", shift_severity=0, tuned_unit=0,
                 source_network=None, cut=False):
    """What this run of the notebook trains, from the values it runs with (the runner's, or the
    parameters cell's as they stand): the network in the paper's notation, the half it learns,
    and for a copy the base, its half, the units copied and whether they learn (with
    ``tuned_unit``, the one that does), and the target's ``shift``."""
    from IPython.display import Markdown

    if source_network:
        what = (f"**{cell}**: the architecture of {source_network} ({image_size} px) trained on the study's "
                f"classes, {_classes_in_words(classes)}")
        if kind == "base":
            return Markdown(f"{what}; every unit from random weights: training from scratch, the baseline.")
        above = ("then global average pooling and a new classifier (the practitioner's features of unit "
                 f"{n})" if cut else "the units above from random weights")
        return Markdown(f"{what}; its units 1..{n} copied from the pretrained {source_network} and "
                        f"{'fine-tuned' if fine_tuned else 'frozen'}; {above}.")
    names = None if units.is_function(network) else units.unit_names(network, network_units)
    if shift:
        shifted = (f" The half's {'labels' if shift == 'labels' else 'images'} are shifted: {shift} at severity "
                   f"{shift_severity}, the same in every cell of the study.")
        if not (n and names and n == len(names)):
            return Markdown(introduction(cell=cell, kind=kind, n=n, fine_tuned=fine_tuned, split=split, target=target,
                                         classes=classes, network=network, network_units=network_units, width=width,
                                         image_size=image_size, source=source,
                                         source_classes=source_classes).data + shifted)
        learns = (f"only unit {tuned_unit} ({names[tuned_unit - 1]}) learning" if tuned_unit
                  else "all of them learning")
        return Markdown(f"**{cell}**: {network} (width {width:g}, {image_size} px) trained on half {target} of split "
                        f"{split}, {_classes_in_words(classes)}; every unit, the classifier too, copied from "
                        f"**{source}**, which learned this same half, {learns}.{shifted}")
    copied = (f"unit 1 ({names[0]})" if n == 1 else f"units 1..{n} ({', '.join(names[:n])})") if names \
        else f"units 1..{n}"
    half = "all the study's classes" if split == "all" else f"half {target} of split {split}"
    what = (f"**{cell}**: {network} (width {width:g}, {image_size} px) trained on {half}, "
            f"{_classes_in_words(classes)}")
    if kind == "base":
        return Markdown(f"{what}; every unit from random weights. A base network.")
    if kind == "random":
        return Markdown(f"{what}; its {copied} random weights, frozen; the units above trained.")
    origin = "the other half" if kind == "transfer" else "this same half"
    return Markdown(f"{what}; its {copied} copied from **{source}**, which learned {origin} "
                    f"({_classes_in_words(source_classes)}), and {'fine-tuned' if fine_tuned else 'frozen'}; "
                    "the units above from random weights.")


def _classes_in_words(classes, shown=5):
    if isinstance(classes, int):
        return f"its first {classes} classes"
    more = f", ... ({len(classes)} in all)" if len(classes) > shown else ""
    return f"{len(classes)} classes: {', '.join(map(str, classes[:shown]))}{more}"


def beside_its_base(result, cell, target_base, metrics_path=None, *, target):
    """This network's final top-1 beside that of ``target_base``, the base of the half
    ``target`` it trained on (the paper's baseline), read from the base's metrics beside this
    network's (``metrics_path``'s folder; run by hand, ``standalone_path``): whether the copy
    helped. Without them, what is missing: run by hand, how to train it."""
    folder = Path(metrics_path).parent if metrics_path else Path(standalone_path(""))
    path = folder / f"{target_base}.json"
    if not path.is_file() and metrics_path:
        return Markdown(f"No baseline: **{target_base}** had not finished when this network did (no {path.name} "
                        "beside its metrics); the study's summary sets them side by side.")
    if not path.is_file():
        return Markdown(f"No baseline: **{target_base}** was not trained in this folder (no {path.name} beside "
                        f"this network's metrics). To train it, run `base.ipynb` on this network's half: in its "
                        f"parameters cell `cell = {target_base!r}`, `target = {target!r}` and `classes` as in this "
                        "notebook's; then run this notebook again to see whether the copy helped.")
    base = json.loads(path.read_text())["top1"]
    rows = [(cell, 100 * result.top1), (target_base, 100 * base),
            (f"{cell} - {target_base}", 100 * (result.top1 - base))]
    table = pd.DataFrame(rows, columns=["network", "final top-1 (%)"])
    return table.style.format({"final top-1 (%)": "{:+.1f}"}, subset=pd.IndexSlice[2:, :]) \
        .format({"final top-1 (%)": "{:.1f}"}, subset=pd.IndexSlice[:1, :]).hide(axis="index")


def layer_table(net, *, n=0, fine_tuned=False, kind="base"):
    """One column per transfer unit of the ``networks.Network`` ``net``: where its weights come
    from (copied-frozen, copied-fine-tuned, random-frozen or fresh), whether it learns, and its
    parameter count."""
    origin = ("random-frozen" if kind == "random" else
              "copied-fine-tuned" if fine_tuned else "copied-frozen")
    columns = {}
    for i, (name, members) in enumerate(net.units, 1):
        layers = [net.model.get_layer(m) for m in members]
        learns = all(l.trainable for l in layers)
        copied = "copied-frozen" if origin.startswith("copied") and not learns else origin  # a surgical cell's
        columns[name] = {"weights": copied if i <= n else "fresh",
                         "learns": "yes" if learns else "no",
                         "parameters": f"{sum(l.count_params() for l in layers):,}"}
    return pd.DataFrame(columns)


def first_filters(model, cell, caption):
    """The filters of the first convolution on the RGB input (conv1 of the CaffeNet, stem_conv of
    a ResNet) as a figure with ``caption``; where the network has none, None, having said so."""
    conv = networks.first_conv(model)
    if conv is None:
        print("no convolution on the RGB input to draw")
        return None
    return conv1_figure.conv1_filters(conv.get_weights()[0], f"{cell}: {conv.name} filters", caption=caption)


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


_ONE_PASS_BYTES = 1 << 30  # activations of every layer of both networks held at once, at most


def layer_similarity(model_a, half_a, model_b, half_b, *, classes, count, dataset, image_size,
                     batch_size=256, data_dir=None, layers=None, val_fraction=None):
    """{layer: linear CKA} of two networks on ``similarity_images(classes, count)``, each seeing
    them as in its training: centre crops standardised with the statistics of the half it was
    trained on (``half_a``, ``half_b``: class ids). ``layers``: {unit: layer name}
    (``networks.representation_layers``; default the CaffeNet's conv1..fc8).

    Each network sees all the images in one call, every unit's activations taken in that pass,
    where they fit in ``_ONE_PASS_BYTES`` (the small studies); otherwise one layer at a time,
    ``batch_size`` images at a time (``similarity.cka_by_layer``)."""
    decoded = datasets.load(dataset, datasets.stored_size(image_size), data_dir=_given(data_dir),
                            val_fraction=val_fraction)
    images = similarity_images(decoded, classes, count)

    def inputs(half):
        return data.centre_crops(images, image_size,
                                 *data.normalisation(data.select(decoded, half).train_images, image_size))

    named = dict(layers) if layers else {name: name for name in WEIGHT_LAYERS}
    inputs_a, inputs_b = inputs(half_a), inputs(half_b)
    features = sum(int(np.prod(model.get_layer(name).output.shape[1:]))
                   for model in (model_a, model_b) for name in named.values())
    if 4 * features * len(images) > _ONE_PASS_BYTES:
        return similarity.cka_by_layer(model_a, model_b, inputs_a, inputs_b, layers=named, batch_size=batch_size)
    a = similarity.layer_activations(model_a, inputs_a, tuple(named.values()), batch_size=len(images))
    b = similarity.layer_activations(model_b, inputs_b, tuple(named.values()), batch_size=len(images))
    return {unit: similarity.linear_cka(a[name], b[name]) for unit, name in named.items()}
