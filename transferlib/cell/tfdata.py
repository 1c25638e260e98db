"""tf.data pipelines (the TensorFlow backend's; see ``data`` for the rest).

``pipelines`` reads a ``data.Subset``'s decoded arrays and gives the numpy pipeline's batches
for the same seed; ``record_pipelines`` reads JPEG records (ImageNet at 227 px) and decodes
only each crop's window of the JPEG, as if the image had been resized to 256 x 256 first. Both
share ``images.normalisation``.
"""

import itertools

import numpy as np
import tensorflow as tf
import tensorflow.experimental.numpy as tnp

from ..data import stored_size
from .images import SHUFFLE_BUFFER, BatchStream, crop_columns, normalisation

_RECORD_STATS_SAMPLE = 1024  # JPEGs decoded (centre crops) for the normalisation of a record subset


def normaliser(sample, image_size, raw=False):
    """``normalisation`` of a training ``sample`` as a tf function of uint8 or 0..255 images."""
    mean, scale = normalisation(sample, image_size, raw)

    def normalise(image):
        return (tf.cast(image, tf.float32) - mean) / scale
    return normalise


def pipelines(subset, *, image_size, batch_size, seed, raw=False):
    """(train, val) tf.data pipelines of (normalised float32 image, label) batches from arrays.

    Training batches are ``data.ArrayBatches``'s for the same seed, every one full: each pass
    (epoch) over the pipeline gives the next ``len(stream)`` batches of ``images.BatchStream``,
    whose draws are made in numpy, and crops and mirrors a whole batch at a time by gathering
    rows and columns."""
    stored, count = subset.train_images.shape[1], len(subset.train_labels)
    images, labels = tf.constant(subset.train_images), tf.constant(subset.train_labels)
    normalise = normaliser(subset.train_images, image_size, raw)
    stream = BatchStream(count, stored - image_size, seed, batch_size)
    epochs = itertools.count()

    def epoch():  # called at each pass over the pipeline
        first = next(epochs) * len(stream)
        for i in range(first, first + len(stream)):
            yield stream.draws(i)

    def crop_batch(index, top, left, mirror):
        batch = tf.gather(images, index)
        rows = top[:, None] + tf.range(image_size, dtype=top.dtype)
        cols = crop_columns(left, mirror, image_size, xp=tnp)
        batch = tf.gather(tf.gather(batch, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
        return normalise(batch), tf.gather(labels, index)

    spec = [tf.TensorSpec([batch_size], tf.int64)] * 3 + [tf.TensorSpec([batch_size], tf.bool)]
    train = (tf.data.Dataset.from_generator(epoch, output_signature=tuple(spec))
             # Sequential: under op determinism (devices.setup's seed) the generator's stateful
             # op makes TensorFlow run this whole pipeline sequentially, prefetch included, and
             # its rewriting of a parallel map logs an error line into every notebook.
             .map(crop_batch)
             .apply(tf.data.experimental.assert_cardinality(len(stream)))
             .prefetch(tf.data.AUTOTUNE))
    margin = (stored - image_size) // 2

    def centre(image, label):
        return normalise(tf.slice(image, [margin, margin, 0], (image_size, image_size, 3))), label
    val = (tf.data.Dataset.from_tensor_slices((subset.val_images, subset.val_labels))
           .map(centre, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size))
    return train, val.cache().prefetch(tf.data.AUTOTUNE)


def record_pipelines(records, *, image_size, batch_size, seed):
    """(train, val) pipelines like ``pipelines``, reading a ``Records`` subset's JPEGs.

    tfds interleaves its shuffled files in parallel; each crop is decoded from only its window of
    the JPEG (``decode_and_crop_jpeg``) in a parallel map; batches are prefetched. Training
    batches run on across passes over the records, every one full, without end: train by
    iterations.
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
             .repeat()  # batches run on across passes, every one full, as Caffe's data layer
             .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
             .batch(batch_size, drop_remainder=True)
             .prefetch(tf.data.AUTOTUNE))
    val = val.map(centre, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    return train, (val.cache() if cache_val else val).prefetch(tf.data.AUTOTUNE)
