"""The JAX backend's input path: a subset's uint8 arrays on the accelerator, augmented there.

``DeviceBatches`` puts a ``data.Subset``'s decoded uint8 images and labels on the default JAX
device once (train ~0.4 GB for all of Tiny ImageNet at 36 px), and each batch is gathered,
cropped, mirrored and normalised (a lookup per pixel) there by one small compiled function, dispatched
asynchronously beside the compiled training step: the host only draws the batch's indices,
offsets and mirror flags. Those are drawn with the same numpy generator, in the same order, as
``data.ArrayBatches`` (the host path), so both give the same images, crops and mirrors for the
same seed, to the bit (``tests/test_gpu_input.py``).
"""

from functools import partial

import jax
import jax.numpy as jnp
import keras
import numpy as np

from .images import BatchStream


def lookup_table(mean, scale):
    """(256, channels) float32: ``table[v, c] = (v - mean[c]) / scale[c]``, computed in numpy as
    the host path computes each pixel. A pixel's normalisation on the device is a lookup in it,
    so it matches the host's to the bit (XLA would multiply by a reciprocal instead)."""
    values = np.arange(256, dtype=np.float32)[:, None]
    return (values - np.asarray(mean, np.float32)) / np.asarray(scale, np.float32)


def _normalise(crops, table):
    return table[crops.astype(jnp.int32), jnp.arange(crops.shape[-1])]


@partial(jax.jit, static_argnames="size")
def augment(images, index, top, left, mirror, table, *, size):
    """The normalised (``lookup_table``) ``size`` crops at (``top``, ``left``) of
    ``images[index]``, mirrored left-right where ``mirror``; float32."""
    def crop(i, t, l):
        return jax.lax.dynamic_slice(images, (i, t, l, 0), (1, size, size, images.shape[-1]))[0]

    crops = jax.vmap(crop)(index, top, left)
    crops = jnp.where(mirror[:, None, None, None], crops[:, :, ::-1], crops)
    return _normalise(crops, table)


@partial(jax.jit, static_argnames=("size", "count"))
def centre(images, start, table, *, size, count):
    """The normalised centre ``size`` crops of ``images[start:start + count]``."""
    offset = (images.shape[1] - size) // 2
    block = jax.lax.dynamic_slice_in_dim(images, start, count, axis=0)
    return _normalise(block[:, offset:offset + size, offset:offset + size], table)


class DeviceBatches(keras.utils.PyDataset):
    """``ArrayBatches`` with the images on the JAX device and the augmentation run there.

    With ``augment``: ``images.BatchStream``'s full batches, a random crop and mirror per image
    (drawn on the host, applied on the device); without: the images in order, centre-cropped.
    Batches are (float32 images, int32 labels) as jax arrays on the device.
    """

    def __init__(self, images, labels, *, image_size, batch_size, mean, scale, augment, seed,
                 device=None):
        super().__init__()
        device = device or jax.devices()[0]
        self.images = jax.device_put(np.asarray(images, np.uint8), device)
        self.labels = jax.device_put(np.asarray(labels, np.int32), device)
        self.count, self.stored = len(labels), images.shape[1]
        self.size, self.batch_size, self.augment = image_size, batch_size, augment
        self.table = jax.device_put(lookup_table(mean, scale), device)
        self.epoch = 0
        self.stream = BatchStream(self.count, self.stored - image_size, seed, batch_size)

    def __len__(self):
        return len(self.stream)

    def __getitem__(self, i):
        if not self.augment:
            start = i * self.batch_size
            stop = min(start + self.batch_size, self.count)
            images = centre(self.images, start, self.table, size=self.size, count=stop - start)
            return images, self.labels[start:stop]
        return self.batch(self.epoch * len(self) + i)

    def batch(self, k):
        """The stream's training batch ``k``, counted from its first pass: ArrayBatches's."""
        index, top, left, mirror = self.stream.draws(k)
        index = index.astype(np.int32)
        images = augment(self.images, index, top.astype(np.int32), left.astype(np.int32), mirror,
                         self.table, size=self.size)
        return images, jnp.take(self.labels, index)

    def on_epoch_end(self):
        self.epoch += 1

