"""A cell's data as its notebook asks for it: the dataset read, its classes selected, held out,
reduced, block-shuffled or shifted, and the input pipelines over them.

A ``data_dir`` given here is resolved (``transferlib.data.paths.resolve``: relative to the
kernel's working folder, the notebook's, else to $PWD, the folder JupyterLab was started in).
Run by the runner it is made absolute where the params were read (``Params.from_dict``) and
handed over relative to the kernel's working folder, the study folder, so that the record
names no folder of the machine; a notebook run by hand has no params file, so its parameters
cell is the only reader of what was typed. These calls, and ``layer_similarity``'s, resolve it
(``data_folder``); nothing below them does."""

import dataclasses

from .. import data as datasets
from ..data import block_shuffle
from ..data.paths import resolve
from . import data, shifts


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
    loaded = datasets.load(dataset, datasets.stored_size(image_size), data_dir=data_folder(data_dir),
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


def data_folder(data_dir):
    """``data_dir`` as an absolute path (see the module's docstring), or None."""
    return resolve(data_dir) if data_dir else None
