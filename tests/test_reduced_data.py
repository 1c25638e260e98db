"""Reduced data (``reduced_images_per_class``): a cell trained on k images per class takes the
first k training images of each class, in the dataset's order, the same k in every cell; the
path the grid and the notebooks take (grid cell parameters -> ``inputs.load_data``)
included."""

import numpy as np
import pytest

from transferlib.cell import data, inputs
from transferlib.driver import grid
from transferlib.driver.params import Params

from conftest import SHARED_DATASETS


def first_k(dataset, classes, k):
    """The first k training images of each of ``classes``, read straight from the dataset."""
    labels = np.asarray(dataset.train_labels)
    return [np.asarray(dataset.train_images)[np.flatnonzero(labels == dataset.classes.index(c))[:k]]
            for c in classes]


@pytest.mark.parametrize("k", [1, 7, 499])
def test_select_takes_the_first_k_training_images_of_each_class(tiny_imagenet, k):
    classes = [tiny_imagenet.classes[i] for i in (17, 3, 120)]  # an order unlike the dataset's
    subset = data.select(tiny_imagenet, classes, max_per_class=k)
    assert np.bincount(subset.train_labels, minlength=3).tolist() == [k, k, k]
    for label, expected in enumerate(first_k(tiny_imagenet, classes, k)):
        np.testing.assert_array_equal(subset.train_images[subset.train_labels == label], expected)
    whole = data.select(tiny_imagenet, classes)  # validation is never reduced
    np.testing.assert_array_equal(subset.val_images, whole.val_images)
    np.testing.assert_array_equal(subset.val_labels, whole.val_labels)


def test_a_k_above_the_class_size_keeps_every_image(tiny_imagenet):
    classes = tiny_imagenet.classes[:2]
    np.testing.assert_array_equal(data.select(tiny_imagenet, classes, max_per_class=10_000).train_images,
                                  data.select(tiny_imagenet, classes).train_images)


def test_every_reduced_cell_of_a_study_loads_the_same_first_k_images(tiny_imagenet, data_cache, monkeypatch):
    """The grid's reduced cells, through ``inputs.load_data`` as their notebooks call it (each
    cell with its own seed): the first k of each class of the half, the same in every cell."""
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(data_cache))
    params = Params(study="reduced", dataset="tiny_imagenet", image_size=32, classes=6, splits=[0, 1],
                    treatments=["AnB"], layers=[2], directions=["AnB", "BnA"], epochs=1, batch_size=16,
                    reduced_images_per_class=[5, 12], reduced_layers=[2])
    cells = [c for c in grid.expand(params, tiny_imagenet.classes) if c.images_per_class]
    assert len(cells) == 2 * 2 * 2 * 2  # splits x directions x k x (base, AnB+)
    loaded = {}
    for cell in cells:
        p = cell.parameters
        subset, train_ds, _ = inputs.load_data(p["dataset"], p["classes"], image_size=p["image_size"],
                                              batch_size=p["batch_size"], seed=p["seed"],
                                              data_dir=SHARED_DATASETS,
                                              max_per_class=p["images_per_class"] or None)
        k = p["images_per_class"]
        assert k == cell.images_per_class and len(train_ds) == -(-len(p["classes"]) * k // p["batch_size"])
        for label, expected in enumerate(first_k(tiny_imagenet, p["classes"], k)):
            np.testing.assert_array_equal(subset.train_images[subset.train_labels == label], expected)
        key = (tuple(p["classes"]), k)
        if key in loaded:
            np.testing.assert_array_equal(subset.train_images, loaded[key])
        loaded[key] = subset.train_images
    assert len(loaded) == 2 * 2 * 2  # each half of each split at each k, shared by its cells
