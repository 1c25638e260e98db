"""tf.data pipelines over a class subset of a dataset (see ``sources``).

The paper's augmentation, scaled: images are seen at ``stored_size(image_size)`` (256 px
for 227 px crops, 36 px for 32 px), training takes a random ``image_size`` crop and a
random horizontal mirror, validation the centre crop. ``pipelines`` reads decoded arrays;
``record_pipelines`` reads JPEG records (ImageNet at 227 px) and decodes only each crop's
window of the JPEG, as if the image had been resized to 256 x 256 first. Both share the crops
and the input normalisation: at 227 px the paper's, the training half's per-channel mean
subtracted from 0..255 values (what the Caffe model's initialisation expects); for the small
variants per-channel standardisation.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .sources import Records, stored_size

SHUFFLE_BUFFER = 2048  # a buffer as large as the dataset delays the end of each epoch by seconds
_STATS_SAMPLE = 10_000
_RECORD_STATS_SAMPLE = 1024  # JPEGs decoded (centre crops) for the normalisation of a record subset


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

    ``max_per_class`` keeps the first k training images of each class. ``Records`` (a streamed
    dataset) come back as ``Records`` of ``classes``, read by ``record_pipelines``.
    """
    index = {c: i for i, c in enumerate(dataset.classes)}
    missing = [c for c in classes if c not in index]
    if missing:
        raise ValueError(f"classes not in {dataset.name}: {', '.join(map(str, missing))}")
    if isinstance(dataset, Records):
        if max_per_class is not None:
            raise ValueError(f"max_per_class needs decoded arrays; {dataset.name} is read as records")
        return dataclasses.replace(dataset, classes=tuple(classes))
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


def normaliser(sample, image_size):
    """The input normalisation of uint8 or 0..255 float images, from a training ``sample``:
    subtract the per-channel mean, and at the small sizes divide by the per-channel std."""
    mean, std = channel_stats(sample)
    scale = np.ones(3, np.float32) if image_size == 227 else std

    def normalise(image):
        return (tf.cast(image, tf.float32) - mean) / scale
    return normalise


def pipelines(subset, *, image_size, batch_size, seed):
    """(train, val) tf.data pipelines of (normalised float32 image, label) batches from arrays."""
    stored = subset.train_images.shape[1]
    if stored < image_size:
        raise ValueError(f"images are stored at {stored} px, smaller than the "
                         f"{image_size} px crop; load them at sources.stored_size({image_size})")

    def crop_at(image, offset):
        return tf.slice(image, tf.concat([offset, [0]], 0), (image_size, image_size, 3))

    order = np.random.default_rng(seed).permutation(len(subset.train_labels))  # classes arrive sorted
    train = tf.data.Dataset.from_tensor_slices((subset.train_images[order], subset.train_labels[order]))
    val = tf.data.Dataset.from_tensor_slices((subset.val_images, subset.val_labels))
    augment, centre = _crops(crop_at, stored, image_size, normaliser(subset.train_images, image_size))
    return _batched(train, val, augment, centre, batch_size=batch_size, seed=seed, cache_val=True)


def record_pipelines(records, *, image_size, batch_size, seed):
    """(train, val) pipelines like ``pipelines``, reading a ``Records`` subset's JPEGs.

    tfds interleaves its shuffled files in parallel; each crop is decoded from only its window of
    the JPEG (``decode_and_crop_jpeg``) in a parallel map; batches are prefetched. Their length is
    unknown (the subset is filtered from every record): train by iterations.
    """
    import tensorflow_datasets as tfds

    index = {c: i for i, c in enumerate(records.classes)}
    table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
        tf.range(len(records.label_names), dtype=tf.int64),
        tf.constant([index.get(c, -1) for c in records.label_names], tf.int64)), -1)
    stored = stored_size(image_size)

    def read(split, shuffle):
        config = tfds.ReadConfig(shuffle_seed=seed, num_parallel_calls_for_interleave_files=tf.data.AUTOTUNE)
        ds = records.builder.as_dataset(split=split, shuffle_files=shuffle, read_config=config,
                                        decoders={"image": tfds.decode.SkipDecoding()})
        ds = ds.map(lambda ex: (ex["image"], tf.cast(table.lookup(ex["label"]), tf.int32)))
        return ds.filter(lambda jpeg, label: label >= 0)

    def crop_at(jpeg, offset):
        return jpeg_crop(jpeg, offset, image_size, stored)

    sample = (read("train", shuffle=False).take(_RECORD_STATS_SAMPLE)
              .map(lambda jpeg, _: crop_at(jpeg, tf.fill([2], (stored - image_size) // 2)),
                   num_parallel_calls=tf.data.AUTOTUNE)
              .batch(256))
    normalise = normaliser(np.concatenate(list(sample.as_numpy_iterator())), image_size)
    augment, centre = _crops(crop_at, stored, image_size, normalise)
    return _batched(read("train", shuffle=True), read("validation", shuffle=False), augment, centre,
                    batch_size=batch_size, seed=seed, cache_val=False)


def jpeg_crop(jpeg, offset, image_size, stored):
    """The ``image_size`` crop at ``offset`` (y, x) of ``jpeg`` resized to ``stored`` x ``stored``,
    as float32 0..255: only the matching window of the JPEG is decoded, then resized."""
    shape = tf.image.extract_jpeg_shape(jpeg)[:2]
    scale = tf.cast(shape, tf.float32) / stored
    start = tf.cast(tf.cast(offset, tf.float32) * scale, tf.int32)
    size = tf.clip_by_value(tf.cast(tf.round(image_size * scale), tf.int32), 1, shape - start)
    crop = tf.image.decode_and_crop_jpeg(jpeg, tf.concat([start, size], 0), channels=3)
    return tf.image.resize(crop, (image_size, image_size))


def _crops(crop_at, stored, image_size, normalise):
    """(augment, centre) map functions: a random crop and mirror, and the centre crop, of
    ``crop_at(image, (y, x))`` from an image seen at ``stored`` px, normalised."""
    margin = stored - image_size

    def augment(image, label):
        offset = tf.random.uniform([2], 0, margin + 1, tf.int32)
        return normalise(tf.image.random_flip_left_right(crop_at(image, offset))), label

    def centre(image, label):
        return normalise(crop_at(image, tf.fill([2], margin // 2))), label
    return augment, centre


def _batched(train, val, augment, centre, *, batch_size, seed, cache_val):
    """Shuffled, augmented training batches and centre-cropped validation batches, prefetched."""
    train = (train.shuffle(SHUFFLE_BUFFER, seed=seed)
             .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
             .batch(batch_size)
             .prefetch(tf.data.AUTOTUNE))
    val = val.map(centre, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    return train, (val.cache() if cache_val else val).prefetch(tf.data.AUTOTUNE)
