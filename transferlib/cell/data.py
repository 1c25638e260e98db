"""Input pipelines over a class subset of a dataset (see ``transferlib.data``).

The paper's augmentation, scaled: images are seen at ``stored_size(image_size)`` (256 px
for 227 px crops, 36 px for 32 px), training takes a random ``image_size`` crop and a
random horizontal mirror, validation the centre crop. Under Keras's TensorFlow backend the
pipelines are tf.data (``tfdata``); under JAX ``device_input.DeviceBatches``, the arrays on
the device and augmented there; otherwise ``ArrayBatches``, numpy batches. The last two need no
TensorFlow import. Input normalisation: at 227 px the paper's, the training
half's per-channel mean subtracted from 0..255 values (what the Caffe model's initialisation
expects); for the small variants per-channel standardisation.
"""

import dataclasses
from dataclasses import dataclass

import keras
import numpy as np

from ..data import Records
from ..data.holdout import held_out
from .images import BatchStream, centre_crops, crop_columns, normalisation



@dataclass(frozen=True)
class Subset:
    """Images and labels of a class subset, labels remapped to 0..k-1 in ``classes`` order."""

    classes: tuple
    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray


def select(dataset, classes, max_per_class=None, holdout=0, data_seed=0):
    """The images of ``classes`` (ids of ``dataset.classes``), labels remapped to their order.

    ``holdout`` k > 0 moves k training images of each class (``data.holdout.held_out``, drawn
    from ``data_seed`` and the class id) to the end of the validation images; ``max_per_class``
    then keeps the first of each class's remaining training images. ``Records`` (a streamed
    dataset) come back as ``Records`` of ``classes``, read by ``tfdata.record_pipelines``.
    """
    index = {c: i for i, c in enumerate(dataset.classes)}
    missing = [c for c in classes if c not in index]
    if missing:
        raise ValueError(f"classes not in {dataset.name}: {', '.join(map(str, missing))}")
    if isinstance(dataset, Records):
        for name, value in (("max_per_class", max_per_class), ("val_holdout", holdout)):
            if value:
                raise ValueError(f"{name} needs decoded images; {dataset.name} is read as records")
        return dataclasses.replace(dataset, classes=tuple(classes))
    remap = np.full(len(dataset.classes), -1, np.int64)
    remap[[index[c] for c in classes]] = np.arange(len(classes))
    train_labels = np.asarray(dataset.train_labels)
    held = np.zeros(0, np.int64)  # positions in the training images
    if holdout:
        in_class = {c: np.flatnonzero(train_labels == index[c]) for c in classes}
        held = np.concatenate([at[held_out(c, len(at), holdout, data_seed)] for c, at in in_class.items()])

    def pick(images, labels, leave_out, limit=None):
        new = remap[np.asarray(labels)]
        chosen = new >= 0
        chosen[leave_out] = False
        keep = np.flatnonzero(chosen)
        if limit is not None:
            rank = np.zeros(len(keep), np.int64)
            for label in np.unique(new[keep]):
                in_class = new[keep] == label
                rank[in_class] = np.arange(in_class.sum())
            keep = keep[rank < limit]
        return np.asarray(images[keep]), new[keep].astype(np.int32)

    val_images, val_labels = pick(dataset.val_images, dataset.val_labels, held[:0])
    return Subset(tuple(classes), *pick(dataset.train_images, train_labels, held, max_per_class),
                  np.concatenate([val_images, np.asarray(dataset.train_images[held])]),
                  np.concatenate([val_labels, remap[train_labels[held]].astype(np.int32)]))


DEFAULT_KIND = {"tensorflow": "tf", "jax": "device"}  # else numpy


def pipelines(subset, *, image_size, batch_size, seed, kind=None, raw=False):
    """(train, val) pipelines of (normalised float32 image, label) batches of a ``Subset``
    (``raw``: float 0..255, for a network that preprocesses its own input).

    ``kind="tf"``: tf.data (the default under Keras's TensorFlow backend); ``kind="device"``:
    ``device_input.DeviceBatches``, the arrays on the JAX device and the crops, mirrors and
    normalisation computed there (the default under JAX); ``kind="numpy"``: ``ArrayBatches``,
    the same batches made in numpy on the host (the default under other backends). The three
    need no TensorFlow but the first; the last two give the same batches for the same seed.
    """
    if subset.train_images.shape[1] < image_size:
        raise ValueError(f"images are stored at {subset.train_images.shape[1]} px, smaller than the "
                         f"{image_size} px crop; load them at transferlib.data.stored_size({image_size})")
    kind = kind or DEFAULT_KIND.get(keras.backend.backend(), "numpy")
    if kind == "tf":
        from . import tfdata
        return tfdata.pipelines(subset, image_size=image_size, batch_size=batch_size, seed=seed, raw=raw)
    if kind == "device":
        from .device_input import DeviceBatches as batches
    elif kind == "numpy":
        batches = ArrayBatches
    else:
        raise ValueError(f"kind must be 'tf', 'device' or 'numpy', got {kind!r}")
    mean, scale = normalisation(subset.train_images, image_size, raw)
    common = dict(image_size=image_size, batch_size=batch_size, mean=mean, scale=scale, seed=seed)
    return (batches(subset.train_images, subset.train_labels, augment=True, **common),
            batches(subset.val_images, subset.val_labels, augment=False, **common))


def record_pipelines(records, *, image_size, batch_size, seed):
    """(train, val) tf.data pipelines of a ``transferlib.data.Records`` subset (see ``tfdata``)."""
    from . import tfdata
    return tfdata.record_pipelines(records, image_size=image_size, batch_size=batch_size, seed=seed)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of uint8 images cropped, mirrored and normalised in numpy (no TensorFlow).

    With ``augment``: the batches of ``images.BatchStream`` (every one full, a new shuffled
    order each pass over the images, a random crop and mirror per image: the tf.data pipeline's
    batches); without: the images in order, centre-cropped, the last batch short.
    """

    def __init__(self, images, labels, *, image_size, batch_size, mean, scale, augment, seed):
        super().__init__()
        self.images, self.labels = images, labels
        self.size, self.batch_size, self.augment = image_size, batch_size, augment
        self.mean, self.scale, self.epoch = mean, scale, 0
        self.stream = BatchStream(len(labels), images.shape[1] - image_size, seed, batch_size)

    def __len__(self):
        return len(self.stream)

    def __getitem__(self, i):
        if not self.augment:
            at = slice(i * self.batch_size, (i + 1) * self.batch_size)
            return centre_crops(self.images[at], self.size, self.mean, self.scale), self.labels[at]
        return self.batch(self.epoch * len(self) + i)

    def batch(self, k):
        """The stream's training batch ``k``, counted from its first pass."""
        index, top, left, mirror = self.stream.draws(k)
        rows = top[:, None] + np.arange(self.size)
        cols = crop_columns(left, mirror, self.size)
        images = self.images[index][np.arange(len(index))[:, None, None], rows[:, :, None], cols[:, None, :]]
        return (images.astype(np.float32) - self.mean) / self.scale, self.labels[index]

    def on_epoch_end(self):
        self.epoch += 1


class Repeated(keras.utils.PyDataset):
    """A training ``PyDataset``'s batch stream served ``steps`` batches a Keras epoch, its passes
    over the images running on without a break: epoch r holds the stream's batches r * steps to
    r * steps + steps - 1 (``iterations`` with ``val_every``; tf.data's ``repeat()`` for arrays)."""

    def __init__(self, batches, steps):
        super().__init__()
        self.batches, self.steps, self.round = batches, steps, 0

    def __len__(self):
        return self.steps

    def __getitem__(self, i):
        return self.batches.batch(self.round * self.steps + i)

    def on_epoch_end(self):
        self.round += 1
