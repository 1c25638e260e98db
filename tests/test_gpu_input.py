"""The JAX device input path (``device_input.DeviceBatches``) gives the host path's batches
(``data.ArrayBatches``) to the bit, for the same seed: same images, crops and mirrors; tested
on JAX's CPU backend."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from transferlib.cell import data  # noqa: E402
from transferlib.cell.device_input import DeviceBatches  # noqa: E402


def subset(count=23, stored=12, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, stored, stored, 3), dtype=np.uint8)
    labels = rng.integers(0, 5, count).astype(np.int32)
    return data.Subset(tuple(range(5)), images, labels, images[:11], labels[:11])


@pytest.mark.parametrize("size,stored,batch", [(8, 12, 5), (32, 36, 8)])
def test_device_batches_equal_host_batches_over_epochs(size, stored, batch):
    s = subset(stored=stored)
    mean, scale = data.normalisation(s.train_images, size)
    common = dict(image_size=size, batch_size=batch, mean=mean, scale=scale, seed=7)
    for augment in (True, False):
        host = data.ArrayBatches(s.train_images, s.train_labels, augment=augment, **common)
        device = DeviceBatches(s.train_images, s.train_labels, augment=augment, **common)
        assert len(host) == len(device)
        for _ in range(2):  # two epochs: the reshuffle draws from the same generator
            for i in range(len(host)):
                (hx, hy), (dx, dy) = host[i], device[i]
                assert isinstance(dx, jax.Array) and dx.dtype == np.float32
                np.testing.assert_array_equal(np.asarray(dx), hx)
                np.testing.assert_array_equal(np.asarray(dy), hy)
            host.on_epoch_end()
            device.on_epoch_end()


def test_the_draws_are_crops_and_mirrors_of_the_stored_images():
    s = subset(count=64, stored=12)
    ones = np.ones(3, np.float32)
    device = DeviceBatches(s.train_images, s.train_labels, image_size=8, batch_size=64, mean=np.zeros(3, np.float32),
                           scale=ones, augment=True, seed=3)
    index, top, left, mirror = device.stream.draws(0)
    x, y = device[0]
    x = np.asarray(x)
    for j in range(64):
        crop = s.train_images[index[j], top[j]:top[j] + 8, left[j]:left[j] + 8].astype(np.float32)
        np.testing.assert_array_equal(x[j], crop[:, ::-1] if mirror[j] else crop)
    assert 0 < mirror.sum() < 64 and len(set(top)) > 1 and len(set(left)) > 1  # both kinds drawn
    np.testing.assert_array_equal(np.asarray(y), s.train_labels[index])


def test_the_device_path_is_the_jax_default_and_lives_on_the_device(monkeypatch):
    import keras
    s = subset()
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    train, val = data.pipelines(s, image_size=8, batch_size=4, seed=0)
    assert isinstance(train, DeviceBatches) and isinstance(val, DeviceBatches)
    assert train.images.devices() == {jax.devices()[0]} and train.images.dtype == np.uint8
    with pytest.raises(ValueError, match="'device'"):
        data.pipelines(s, image_size=8, batch_size=4, seed=0, kind="gpu")
