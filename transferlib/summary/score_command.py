"""``transferlib score SOURCE --dataset NAME``: each unit of a pretrained network scored on a
dataset's classes without training (``source_scores``), written as ``scores.csv`` and
``scores.png`` in a folder of its own, the table printed.

``checked`` reads everything the scores need and refuses bad input before any image is scored:
the source (built at the image size with fresh weights: its name, units, size and weights file,
``cell.pretrained.check``), the classes and the data (decoded into the cache at
``stored_size(image_size)``, as a study reads them, the classes' first ``images_per_class``
training images and all their validation images kept); ``run`` scores and writes.
"""

import re
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import data as datasets
from ..cell import data, pretrained
from ..data.paths import resolve
from ..atomic import write_text_atomic
from .source_scores import figure, source_scores


class Job(NamedTuple):
    """A checked command: what ``run`` scores and where it writes."""

    source: str
    image_size: int
    options: dict  # weights, source_units, source_preprocess: as source_scores takes them
    dataset: str
    target: data.Subset
    seed: int
    out: Path


CLASSES = 20  # classes drawn where --classes is not given (all, where the dataset has fewer)


def checked(source, dataset, *, data_dir=None, classes=None, image_size=224, weights="imagenet", source_units=None,
            source_preprocess=None, images_per_class=100, seed=0, out=None):
    """The ``Job`` for these options (the command's, ``classes`` as typed: see ``chosen``;
    ``out`` None: scores/<the source's short name>), its folder made; ValueError,
    DataNotFoundError or OSError naming what is wrong, before any image is scored."""
    options = dict(weights=weights, source_units=tuple(source_units or ()) or None, source_preprocess=source_preprocess)
    pretrained.check(source, image_size, **options)
    if dataset in datasets.STREAMED:
        raise ValueError(f"{dataset} is read as records; the scores need its images decoded (give a tfds or "
                         "folder dataset)")
    loaded = datasets.load(dataset, datasets.stored_size(image_size), data_dir=resolve(data_dir) if data_dir else None)
    target = data.select(loaded, chosen(classes, loaded.classes, seed), max_per_class=images_per_class)
    if not len(target.val_labels):
        raise ValueError(f"{dataset} has no validation images of these classes")
    folder = resolve(out or Path("scores") / short_name(source))
    folder.mkdir(parents=True, exist_ok=True)
    return Job(source, image_size, options, dataset, target, seed, folder)


def chosen(classes, known, seed):
    """The class ids ``classes`` names among the dataset's ``known``: "all"; a count k, k of them
    drawn with ``seed`` (kept in the dataset's order); ids separated by commas; or None, CLASSES
    drawn (all where there are no more)."""
    if classes is None:
        classes = str(CLASSES) if len(known) > CLASSES else "all"
    if classes == "all":
        return list(known)
    if classes.isdigit():
        if not 2 <= int(classes) <= len(known):
            raise ValueError(f"--classes {classes}: give a count from 2 to the dataset's {len(known)} classes")
        drawn = np.sort(np.random.default_rng(seed).choice(len(known), int(classes), replace=False))
        return [known[i] for i in drawn]
    ids = [c.strip() for c in classes.split(",") if c.strip()]
    if len(set(ids)) < 2:
        raise ValueError(f"--classes {classes}: give 2 class ids or more, a count or all")
    return ids


def short_name(source):
    """The source's name without its path or module: ``ResNet50``, a preset, a function's or a
    file's name."""
    if pretrained.source_kind(source) == "keras":
        return Path(source).stem
    return re.split(r"[.:/]", source.rstrip("/"))[-1]


def run(job, started):
    """Score ``job``, write scores.csv and scores.png into its folder, print the table and the
    time since ``started`` (``time.perf_counter()``); 0."""
    target = job.target
    scores = source_scores(job.source, job.image_size, target, seed=job.seed, **job.options)
    write_text_atomic(job.out / "scores.csv", scores.to_csv(index=False))
    classes = f"{len(target.classes)} classes of {job.dataset}"
    figure(scores, f"{short_name(job.source)}'s units on {classes}").savefig(job.out / "scores.png", dpi=120)
    print(scores.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"{len(scores)} units of {job.source} scored on {classes} ({scores.fit_images[0]} training, "
          f"{scores.val_images[0]} validation images) in {time.perf_counter() - started:.0f} s: "
          f"{job.out / 'scores.csv'}, {job.out / 'scores.png'}")
    return 0
