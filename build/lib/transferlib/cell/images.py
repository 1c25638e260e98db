"""Normalisation and crops of uint8 image arrays, shared by both input pipelines (``data``'s
numpy batches and ``tfdata``)."""

import numpy as np

SHUFFLE_BUFFER = 2048  # a buffer as large as the dataset delays the end of each epoch by seconds
_STATS_SAMPLE = 10_000


def channel_stats(images):
    """Per-channel mean and standard deviation of uint8 images (on a sample of at most 10,000)."""
    step = max(1, len(images) // _STATS_SAMPLE)
    sample = np.asarray(images[::step], np.float32)
    return sample.mean(axis=(0, 1, 2)), sample.std(axis=(0, 1, 2))


def normalisation(sample, image_size):
    """(mean, scale) per channel from a training ``sample``: inputs become (x - mean) / scale,
    with scale 1 at 227 px (the paper's mean subtraction) and the std at the small sizes."""
    mean, std = channel_stats(sample)
    return mean, np.ones(3, np.float32) if image_size == 227 else std


def centre_crops(images, image_size, mean, scale):
    """The centre ``image_size`` crops of uint8 ``images``, normalised: (x - mean) / scale."""
    start = (images.shape[1] - image_size) // 2
    crops = images[:, start:start + image_size, start:start + image_size]
    return (crops.astype(np.float32) - mean) / scale
