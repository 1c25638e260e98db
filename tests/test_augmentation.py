"""The paper's augmentation in both input pipelines (numpy ``ArrayBatches`` and tf.data): where
the crops fall, how often images are mirrored, every training batch full (passes over the
images run on, as Caffe's data layer), the centre crop in evaluation, the same batches for the
same seed, and the two pipelines giving the same batches.

Synthetic images whose pixels say where they come from: channel 0 holds 7 x the stored row,
channel 1 7 x the stored column, channel 2 the image's number. From any crop the pipelines
return, un-normalised, the test reads back which image it was, the crop's offset and whether
it was mirrored, without trusting the pipelines' own bookkeeping.
"""

import numpy as np
import pytest

from transferlib.cell import data, images

STORED, SIZE, COUNT, BATCH = 36, 32, 200, 32
SLACK = STORED - SIZE


@pytest.fixture(scope="module")
def coded():
    rows, cols = np.meshgrid(np.arange(STORED), np.arange(STORED), indexing="ij")
    pictures = np.empty((COUNT, STORED, STORED, 3), np.uint8)
    pictures[..., 0], pictures[..., 1] = 7 * rows, 7 * cols
    pictures[..., 2] = np.arange(COUNT)[:, None, None]
    labels = (np.arange(COUNT) % 4).astype(np.int32)
    return data.Subset(("a", "b", "c", "d"), pictures, labels, pictures[:40], labels[:40])


def decoded(batch, subset):
    """(image numbers, tops, lefts, mirrored) of a batch of normalised crops."""
    mean, scale = images.normalisation(subset.train_images, SIZE)
    raw = np.rint(np.asarray(batch, np.float64) * scale + mean).astype(np.int64)
    row, col = raw[..., 0] // 7, raw[..., 1] // 7
    number = raw[:, 0, 0, 2]
    # Each crop must be one contiguous window of one image, its columns in one direction.
    assert (raw[..., 2] == number[:, None, None]).all()
    assert (row == row[:, :1, :1] + np.arange(SIZE)[None, :, None]).all()
    mirrored = col[:, 0, 0] > col[:, 0, -1]
    step = np.where(mirrored, -1, 1)[:, None]
    assert (col[:, 0, :] == col[:, 0, :1] + step * np.arange(SIZE)).all()
    assert (col == col[:, :1, :]).all()
    return number, row[:, 0, 0], col[:, 0, :].min(axis=1), mirrored


def epochs(subset, kind, seed, count):
    """``count`` epochs of training batches [(images, labels)] as numpy arrays."""
    train, _ = data.pipelines(subset, image_size=SIZE, batch_size=BATCH, seed=seed, kind=kind)
    out = []
    for _ in range(count):
        if kind == "tf":
            out.append([(x.numpy(), y.numpy()) for x, y in train])
        else:
            out.append([train[i] for i in range(len(train))])
            train.on_epoch_end()
    return out


@pytest.mark.parametrize("kind", ["numpy", "tf"])
def test_training_crops_stay_inside_cover_every_offset_and_mirror_half(coded, kind):
    batches = [(x, y) for epoch in epochs(coded, kind, seed=0, count=6) for x, y in epoch]
    assert [len(y) for _, y in batches] == [BATCH] * 6 * -(-COUNT // BATCH)  # every batch full
    number, top, left, mirrored, labels = map(np.concatenate, zip(*(decoded(x, coded) + (y,) for x, y in batches)))
    passes = np.split(number[:6 * COUNT], 6)  # the batches run on across passes over the images
    for images in passes:  # each image once a pass, in a new order each time
        assert sorted(images) == list(range(COUNT))
    assert not any((a == b).all() for a, b in zip(passes, passes[1:]))
    np.testing.assert_array_equal(labels, coded.train_labels[number])
    assert top.min() >= 0 and left.min() >= 0 and top.max() <= SLACK and left.max() <= SLACK
    offsets = np.bincount(top * (SLACK + 1) + left, minlength=(SLACK + 1) ** 2)
    expected = len(number) / (SLACK + 1) ** 2  # 48 of each of the 25 offsets
    assert (offsets > expected / 2).all() and (offsets < 2 * expected).all(), offsets
    # Mirrored with probability 1/2: 1,200 draws keep the share within 0.5 +- 5 standard deviations.
    assert abs(mirrored.mean() - 0.5) < 5 * np.sqrt(0.25 / len(mirrored)), mirrored.mean()


@pytest.mark.parametrize("kind", ["numpy", "tf"])
def test_evaluation_is_the_centre_crop_unmirrored_in_order(coded, kind):
    _, val = data.pipelines(coded, image_size=SIZE, batch_size=BATCH, seed=0, kind=kind)
    for _ in range(2):  # the same at every pass
        batches = list(val) if kind == "tf" else [val[i] for i in range(len(val))]
        number, top, left, mirrored = map(np.concatenate, zip(*(decoded(x, coded) for x, _ in batches)))
        np.testing.assert_array_equal(number, np.arange(40))
        assert (top == SLACK // 2).all() and (left == SLACK // 2).all() and not mirrored.any()
        np.testing.assert_array_equal(np.concatenate([np.asarray(y) for _, y in batches]), coded.val_labels)


@pytest.mark.parametrize("kind", ["numpy", "tf"])
def test_the_same_seed_gives_the_same_batches(coded, kind):
    first, again, other = (epochs(coded, kind, seed, 2) for seed in (5, 5, 6))
    for a, b in zip(sum(first, []), sum(again, [])):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(first[0][0][0], other[0][0][0])
    assert not np.array_equal(first[0][0][0], first[1][0][0])  # a new draw each epoch


def test_both_pipelines_give_the_same_batches_for_the_same_seed(coded):
    numpy_epochs, tf_epochs = epochs(coded, "numpy", 3, 3), epochs(coded, "tf", 3, 3)
    for numpy_batches, tf_batches in zip(numpy_epochs, tf_epochs):
        assert len(numpy_batches) == len(tf_batches) == -(-COUNT // BATCH)
        for (xn, yn), (xt, yt) in zip(numpy_batches, tf_batches):
            np.testing.assert_array_equal(yn, yt)
            np.testing.assert_allclose(xn, xt, rtol=0, atol=1e-5)


def test_iterations_serve_the_numpy_stream_as_tf_data_repeats_it(coded):
    """``iterations`` with ``val_every``: the numpy pipeline, served 5 batches a round across its
    7-batch passes, gives tf.data's repeated pipeline's batches, in order, every one full."""
    (numpy_train, _), (tf_train, _) = (data.pipelines(coded, image_size=SIZE, batch_size=BATCH, seed=4, kind=kind)
                                       for kind in ("numpy", "tf"))
    served = data.Repeated(numpy_train, 5)
    batches = []
    for _ in range(3):
        batches += [served[i] for i in range(len(served))]
        served.on_epoch_end()
    for (xn, yn), (xt, yt) in zip(batches, tf_train.repeat().take(15), strict=True):
        assert len(yn) == BATCH
        np.testing.assert_array_equal(yn, yt.numpy())
        np.testing.assert_allclose(xn, xt.numpy(), rtol=0, atol=1e-5)


def test_both_pipelines_agree_on_real_images(tiny_imagenet):
    subset = data.select(tiny_imagenet, tiny_imagenet.classes[40:43])
    pairs = [data.pipelines(subset, image_size=SIZE, batch_size=64, seed=9, kind=kind) for kind in ("numpy", "tf")]
    (numpy_train, numpy_val), (tf_train, tf_val) = pairs
    for index, (xt, yt) in enumerate(tf_train):
        xn, yn = numpy_train[index]
        np.testing.assert_array_equal(yn, yt.numpy())
        np.testing.assert_allclose(xn, xt.numpy(), rtol=0, atol=1e-5)
    assert index == len(numpy_train) - 1
    val = np.concatenate([x for x, _ in tf_val])
    np.testing.assert_allclose(val, np.concatenate([numpy_val[i][0] for i in range(len(numpy_val))]), atol=1e-5)


def test_channel_statistics_are_those_of_the_images(tiny_imagenet):
    """The normalisation's per-channel mean and std, against float64 numpy on the same images
    (a float32 running sum over millions of pixels drifts by ~0.05)."""
    train = data.select(tiny_imagenet, tiny_imagenet.classes[:10]).train_images
    mean, std = images.channel_stats(train)
    exact = np.asarray(train, np.float64)
    np.testing.assert_allclose(mean, exact.mean(axis=(0, 1, 2)), rtol=0, atol=1e-3)
    np.testing.assert_allclose(std, exact.std(axis=(0, 1, 2)), rtol=0, atol=1e-3)
    floats = images.channel_stats(train.astype(np.float32))  # the record pipeline's samples
    np.testing.assert_allclose(floats[0], mean, rtol=0, atol=1e-3)
    np.testing.assert_allclose(floats[1], std, rtol=0, atol=1e-3)
