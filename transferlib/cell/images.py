"""Normalisation, crops and the training augmentation's draws, shared by both input pipelines
(``data``'s numpy batches and ``tfdata``): for the same seed they give the same batches."""

import numpy as np

SHUFFLE_BUFFER = 2048  # a buffer as large as the dataset delays the end of each epoch by seconds
_STATS_SAMPLE = 10_000


def channel_stats(images):
    """Per-channel mean and standard deviation of images (on a sample of at most 10,000), as
    float32, computed in float64; of uint8 images from exact integer sums of values and squares."""
    step = max(1, len(images) // _STATS_SAMPLE)
    sample = np.asarray(images[::step])
    count = sample[..., 0].size
    if sample.dtype != np.uint8:  # float 0..255 (the record pipeline's crops): float64 sums, by chunks
        total, squares = np.zeros(sample.shape[-1]), np.zeros(sample.shape[-1])
        for i in range(0, len(sample), 64):
            chunk = np.asarray(sample[i:i + 64], np.float64)
            total, squares = total + chunk.sum(axis=(0, 1, 2)), squares + (chunk ** 2).sum(axis=(0, 1, 2))
    else:
        pixels = sample.reshape(-1, sample.shape[-1])
        total, squares = _column_sums(pixels), _column_sums(np.square(pixels, dtype=np.uint16))
    mean = total / count
    return mean.astype(np.float32), np.sqrt(np.maximum(squares / count - mean ** 2, 0.0)).astype(np.float32)


def _column_sums(pixels, rows=1024):
    """Exact uint64 sums of the columns of ``pixels`` [n, channels], ``rows`` pixels a row of
    one wide array (numpy sums the columns of a narrow one slowly)."""
    whole = len(pixels) // rows * rows
    wide = pixels[:whole].reshape(-1, rows * pixels.shape[1]).sum(axis=0, dtype=np.uint64)
    return wide.reshape(rows, -1).sum(axis=0) + pixels[whole:].sum(axis=0, dtype=np.uint64)


def normalisation(sample, image_size, raw=False):
    """(mean, scale) per channel from a training ``sample``: inputs become (x - mean) / scale,
    with scale 1 at 227 px (the paper's mean subtraction) and the std at the small sizes;
    ``raw``: (0, 1), the values 0..255 as they are (a pretrained network preprocesses its own)."""
    if raw:
        return np.zeros(3, np.float32), np.ones(3, np.float32)
    mean, std = channel_stats(sample)
    return mean, np.ones(3, np.float32) if image_size == 227 else std


def centre_crops(images, image_size, mean, scale):
    """The centre ``image_size`` crops of uint8 ``images``, normalised: (x - mean) / scale."""
    start = (images.shape[1] - image_size) // 2
    crops = images[:, start:start + image_size, start:start + image_size]
    return (crops.astype(np.float32) - mean) / scale


def augmentation_plan(count, slack, seed, epoch):
    """One training epoch's draws for ``count`` images seen at ``slack`` + crop size px:
    (order, top, left, mirror), each of length ``count``: the images' shuffled order, then for
    the image at each position its crop's top-left offset (0..slack, every offset equally
    likely) and whether it is mirrored (probability 1/2). Drawn from numpy's generator seeded
    with (seed, epoch), so that both pipelines draw the same."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(count)
    top, left = rng.integers(0, slack + 1, size=(2, count))
    mirror = rng.random(count) < 0.5
    return order, top, left, mirror


class BatchStream:
    """Training draws as Caffe's data layer gives them: passes over the images follow one
    another without a break, each ``augmentation_plan(seed, pass)``, and every batch takes the
    next ``batch_size`` of that stream, so every batch is full (the last of a pass continues into
    the next). An epoch is ``len(stream)`` batches, ceil(count / batch_size): the epochs' batch
    counts are those of a pipeline that ends each pass with a short batch."""

    def __init__(self, count, slack, seed, batch_size):
        self.count, self.slack, self.seed, self.batch_size = count, slack, seed, batch_size
        self._plans = {}

    def __len__(self):
        return -(-self.count // self.batch_size)

    def _plan(self, number):
        if number not in self._plans:
            self._plans = {k: v for k, v in self._plans.items() if k >= number - 1}  # two at most
            self._plans[number] = augmentation_plan(self.count, self.slack, self.seed, number)
        return self._plans[number]

    def draws(self, i):
        """(index, top, left, mirror) of the stream's batch ``i`` (0, 1, ... over all epochs)."""
        start = i * self.batch_size
        first, last = start // self.count, (start + self.batch_size - 1) // self.count
        plans = [self._plan(p) for p in range(first, last + 1)]
        at = slice(start - first * self.count, start - first * self.count + self.batch_size)
        return tuple(np.concatenate(parts)[at] for parts in zip(*plans))


def crop_columns(left, mirror, image_size, xp=np):
    """Column indices [images, image_size] of each crop, read right to left where mirrored
    (``xp``: numpy, or a module of the same calls such as tf.experimental.numpy)."""
    ahead = xp.arange(image_size)
    return left[:, None] + xp.where(mirror[:, None], image_size - 1 - ahead, ahead)
