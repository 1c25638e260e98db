"""tf.data pipelines over a class subset of a decoded dataset (see ``sources``).

The paper's augmentation, scaled: images are stored at ``stored_size(image_size)`` (256 px
for 227 px crops, 36 px for 32 px), training takes a random ``image_size`` crop and a
random horizontal mirror, validation the centre crop. Inputs are standardised per channel
with the mean and standard deviation of the training half.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .sources import stored_size

SHUFFLE_BUFFER = 2048  # a buffer as large as the dataset delays the end of each epoch by seconds
_STATS_SAMPLE = 10_000


@dataclass(frozen=True)
class Subset:
    """Images and labels of a class subset, labels remapped to 0..k-1 in ``classes`` order."""

    classes: tuple
    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray


def select(dataset, classes, max_per_class=None):
    """The images of ``classes`` (ids of ``dataset.classes``), labels remapped to their order.

    ``max_per_class`` keeps the first k training images of each class.
    """
    index = {c: i for i, c in enumerate(dataset.classes)}
    missing = [c for c in classes if c not in index]
    if missing:
        raise ValueError(f"classes not in {dataset.name}: {', '.join(map(str, missing))}")
    remap = np.full(len(dataset.classes), -1, np.int64)
    remap[[index[c] for c in classes]] = np.arange(len(classes))

    def pick(images, labels, limit=None):
        new = remap[np.asarray(labels)]
        keep = np.flatnonzero(new >= 0)
        if limit is not None:
            rank = np.zeros(len(keep), np.int64)
            for label in np.unique(new[keep]):
                in_class = new[keep] == label
                rank[in_class] = np.arange(in_class.sum())
            keep = keep[rank < limit]
        return np.asarray(images[keep]), new[keep].astype(np.int32)

    return Subset(tuple(classes), *pick(dataset.train_images, dataset.train_labels, max_per_class),
                  *pick(dataset.val_images, dataset.val_labels))


def channel_stats(images):
    """Per-channel mean and standard deviation of uint8 images (on a sample of at most 10,000)."""
    step = max(1, len(images) // _STATS_SAMPLE)
    sample = np.asarray(images[::step], np.float32)
    return sample.mean(axis=(0, 1, 2)), sample.std(axis=(0, 1, 2))


def pipelines(subset, *, image_size, batch_size, seed):
    """(train, val) tf.data pipelines of (standardised float32 image, label) batches."""
    if subset.train_images.shape[1] < image_size:
        raise ValueError(f"images are stored at {subset.train_images.shape[1]} px, smaller than the "
                         f"{image_size} px crop; load them at sources.stored_size({image_size})")
    stats = channel_stats(subset.train_images)

    def augment(image, label):
        image = tf.image.random_crop(image, (image_size, image_size, 3))
        return _standardise(tf.image.random_flip_left_right(image), stats), label

    order = np.random.default_rng(seed).permutation(len(subset.train_labels))  # classes arrive sorted
    train = (tf.data.Dataset.from_tensor_slices((subset.train_images[order], subset.train_labels[order]))
             .shuffle(SHUFFLE_BUFFER, seed=seed)
             .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
             .batch(batch_size)
             .prefetch(tf.data.AUTOTUNE))
    val = validation(subset.val_images, subset.val_labels, stats, image_size=image_size,
                     batch_size=batch_size).cache()
    return train, val.prefetch(tf.data.AUTOTUNE)


def validation(images, labels, stats, *, image_size, batch_size):
    """Batches of (centre crop standardised with ``stats`` = (mean, std) per channel, label):
    validation inputs as a network trained on the half of those ``stats`` sees them."""
    offset = (images.shape[1] - image_size) // 2

    def centre(image, label):
        return _standardise(image[offset:offset + image_size, offset:offset + image_size], stats), label

    return (tf.data.Dataset.from_tensor_slices((images, labels))
            .map(centre, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size))


def _standardise(image, stats):
    mean, std = stats
    return (tf.cast(image, tf.float32) - mean) / std
