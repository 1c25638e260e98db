"""Per unit, how well a pretrained source's frozen features predict a target's labels, without
training anything: the scores of ``layer_scores`` (a linear probe, LogME, the H-score, on the
features of unit n averaged over positions) for each unit n = 1..K-1 of a source named as
``cell.pretrained`` names one, and LEEP of the source's own classifier, where it has one.

The target is uint8 images stored at or above the image size: each is seen as its centre crop,
float 0..255 RGB, which the source's first layer preprocesses as the source expects. The
scores are fitted to ``layer_scores.FIT_IMAGES`` of its training images (a sample seeded by
``seed``), the probe scored on all its validation images, and LEEP taken on the same training
sample. ``source_scores`` serves ``transferlib score`` and a pretrained study's summary.
"""

import json
import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .. import data as datasets
from ..atomic import write_text_atomic
from ..cell import data, pretrained
from ..cell.progress import bar_class
from ..records import layout
from . import layer_scores, transferability

SCORES = "source_scores.csv"  # a study's, in its folder
_SOURCE_KEYS = ("source_network", "source_weights", "source_units", "source_preprocess", "image_size", "val_holdout",
                "seed", "classes")
COLUMNS = ("n", "unit", "dimensions", "fit_images", "val_images", "linear_probe", "logme", "h_score", "leep")
PER_UNIT = dict(zip(("linear_probe", "logme", "h_score"), transferability.NAMES.values()))


def source_scores(source, image_size, target, *, weights="imagenet", source_units=None, source_preprocess=None,
                  seed=0, progress=True):
    """A DataFrame of COLUMNS, one row per unit n of ``source`` (see ``cell.pretrained``) at
    ``image_size`` on ``target`` (train_images, train_labels, val_images, val_labels, as a
    ``cell.data.Subset`` holds them): its dimensions (channels), the images fitted to and
    validated on, the three scores of its features, and LEEP (the same in every row; NaN where
    the source has no classifier). ``progress``: a bar counting the images seen."""
    stored = target.train_images.shape[1]
    if stored < image_size:
        raise ValueError(f"images are stored at {stored} px, smaller than image_size {image_size}")
    model, names = pretrained.extractor(source, image_size, weights=weights, source_units=source_units,
                                        source_preprocess=source_preprocess)
    classifier = pretrained.classifier(source, image_size, weights=weights, source_preprocess=source_preprocess)
    fit = layer_scores.fit_sample(len(target.train_labels), seed)
    images, labels = target.train_images[fit], target.train_labels[fit]
    seen = len(fit) * (1 + (classifier is not None)) + len(target.val_labels)
    with bar_class()(total=seen, unit="image", desc=f"score {source}", disable=not progress) as bar:
        train = layer_scores.pooled_features(model, images, model.output_names, image_size=image_size, bar=bar)
        val = layer_scores.pooled_features(model, target.val_images, model.output_names, image_size=image_size,
                                           bar=bar)
        if classifier is not None:
            probabilities = layer_scores.pooled_features(classifier, images, classifier.output_names,
                                                         image_size=image_size, bar=bar)
    leep = math.nan if classifier is None else transferability.leep(*probabilities.values(), labels)
    rows = []
    for n, (name, layer) in enumerate(zip(names, model.output_names), start=1):
        dimensions, *scores = layer_scores.feature_scores(train[layer], labels, val[layer], target.val_labels)
        rows.append((n, name, dimensions, len(fit), len(target.val_labels), *scores, leep))
    return pd.DataFrame(rows, columns=COLUMNS)


def study_scores(study_dir, params):
    """A study's pretrained source scored on its target as its cells saw it (its classes, its
    training and validation images, ``val_holdout`` included), with ``transfer_scores`` on:
    ``source_scores``, kept in ``study_dir/source_scores.csv`` and reused while the source, its
    options and the target are the same, so a folder without the data redraws them. Empty,
    with a sentence, where ``transfer_scores`` is off or the data is not there."""
    study = Path(study_dir)
    if not params.get("transfer_scores"):
        print("no scores of the source's units: transfer_scores is off in the params")
        return pd.DataFrame(columns=COLUMNS)
    key = json.dumps([params.get(k) for k in _SOURCE_KEYS], default=list)
    path = study / SCORES
    if path.exists():
        earlier = pd.read_csv(path)
        if len(earlier) and (earlier.pop("key") == key).all():
            return earlier
    classes = next(iter(json.loads((study / layout.HALVES).read_text()).values()))["B"]
    try:
        decoded = layer_scores.study_data(params)
    except datasets.DataNotFoundError as e:
        print(f"no scores of the source's units: its target's images are not here ({e}), nor {SCORES}")
        return pd.DataFrame(columns=COLUMNS)
    target = data.select(decoded, classes, holdout=params["val_holdout"], data_seed=params["seed"])
    scores = source_scores(params["source_network"], params["image_size"], target, weights=params["source_weights"],
                           source_units=tuple(params["source_units"]) or None,
                           source_preprocess=params["source_preprocess"], seed=params["seed"], progress=False)
    write_text_atomic(path, scores.assign(key=key).to_csv(index=False))
    return scores


def figure(scores, title):
    """A matplotlib Figure of ``scores`` (``source_scores``'s table): one panel per score of
    PER_UNIT against the units, named on the x axis; LEEP, one value for the source, in the
    title."""
    fig = Figure(figsize=(4 * len(PER_UNIT), 4), layout="constrained")
    leep = scores.leep.iloc[0]
    fig.suptitle(f"{title}\nLEEP of its classifier: " + ("none (no classifier)" if math.isnan(leep) else f"{leep:.3f}"))
    for ax, (column, name) in zip(fig.subplots(1, len(PER_UNIT)), PER_UNIT.items()):
        ax.plot(scores.n, scores[column], marker="o")
        ax.set_xticks(scores.n, scores.unit, rotation=45, ha="right")
        ax.set_xlabel("unit n, frozen")
        ax.set_title(name)
    return fig
