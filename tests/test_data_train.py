import numpy as np
import pytest

from transferlib import data, train
from transferlib.models import caffenet


@pytest.fixture(scope="module")
def ten_classes(tiny_imagenet):
    picked = tiny_imagenet.classes[150:160][::-1]  # an order unlike the dataset's
    return data.select(tiny_imagenet, picked)


def test_select_remaps_labels_to_the_subset_order(tiny_imagenet, ten_classes):
    assert len(ten_classes.train_labels) == 5000 and len(ten_classes.val_labels) == 500
    assert np.bincount(ten_classes.train_labels).tolist() == [500] * 10
    first = tiny_imagenet.classes.index(ten_classes.classes[0])
    originals = np.asarray(tiny_imagenet.train_images[np.asarray(tiny_imagenet.train_labels) == first])
    np.testing.assert_array_equal(ten_classes.train_images[ten_classes.train_labels == 0], originals)


def test_select_keeps_the_first_k_images_per_class(tiny_imagenet):
    subset = data.select(tiny_imagenet, tiny_imagenet.classes[:3], max_per_class=7)
    assert np.bincount(subset.train_labels).tolist() == [7, 7, 7]
    assert len(subset.val_labels) == 150


def test_select_names_unknown_classes(tiny_imagenet):
    with pytest.raises(ValueError, match="n99999999"):
        data.select(tiny_imagenet, ["n99999999"])


def test_pipelines_yield_standardised_crops_and_labels(ten_classes):
    train_ds, val_ds = data.pipelines(ten_classes, image_size=32, batch_size=64, seed=0)
    images, labels = next(iter(train_ds))
    assert images.shape == (64, 32, 32, 3) and images.dtype.name == "float32"
    assert len(np.unique(labels)) > 5  # shuffled across classes, not class by class
    assert abs(float(np.mean(images))) < 0.3 and 0.7 < float(np.std(images)) < 1.3
    val_labels = np.concatenate([y for _, y in val_ds])
    np.testing.assert_array_equal(val_labels, ten_classes.val_labels)  # centre view, in order
    a, b = (np.concatenate([x for x, _ in val_ds]) for _ in range(2))
    np.testing.assert_array_equal(a, b)  # no augmentation in validation


def test_a_tiny_base_beats_chance_clearly(ten_classes):
    train_ds, val_ds = data.pipelines(ten_classes, image_size=32, batch_size=64, seed=0)
    model = caffenet(10, 32, width=0.375, seed=0)
    result = train.train(model, train_ds, val_ds, epochs=4, lr=0.01, lr_drops=(0.75,), seed=0,
                         progress=False, print_fn=None)
    assert len(result.history) == 4 and 4 * len(train_ds) >= 300  # a few hundred steps
    assert result.top1 > 0.25, result.history  # chance is 0.10
    assert result.top5 > result.top1
    assert result.best10_top1 == pytest.approx(np.mean([h["val_top1"] for h in result.history]))


def test_a_nan_loss_fails_loudly(ten_classes):
    train_ds, val_ds = data.pipelines(ten_classes, image_size=32, batch_size=64, seed=0)
    with pytest.raises(FloatingPointError, match="loss became"):
        train.train(caffenet(10, 32, width=0.25), train_ds, val_ds, epochs=1, lr=1e12, seed=0,
                    progress=False, print_fn=None)
