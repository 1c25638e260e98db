"""``val_holdout``: k training images of each class held out as extra validation, drawn from the
study's data_seed and the class id, so that every cell of a study holds out the same ones; a
reduced cell's first images are taken from the rest."""

import numpy as np
import pytest
from PIL import Image

from transferlib.cell import data, inputs
from transferlib.data import Dataset, Records
from transferlib.data.holdout import held_out
from transferlib.driver import grid
from transferlib.driver.params import Params, ParamsError
from transferlib.summary import metrics

CLASSES = tuple(f"c{i}" for i in range(6))


def numbered(per_class=30, val=5):
    """A dataset whose images are their ids: training images 0..N-1 (classes in a shuffled
    order), validation images -1..-M."""
    train_labels = np.random.default_rng(0).permutation(np.repeat(np.arange(len(CLASSES)), per_class))
    val_labels = np.repeat(np.arange(len(CLASSES)), val)
    return Dataset("numbered", CLASSES, np.arange(len(train_labels))[:, None], train_labels.astype(np.int32),
                   -1 - np.arange(len(val_labels))[:, None], val_labels.astype(np.int32))


def ids(subset, part):
    """{class id: the ids of its images} of the subset's "train" or "val" images."""
    images, labels = getattr(subset, f"{part}_images")[:, 0], getattr(subset, f"{part}_labels")
    return {c: images[labels == label].tolist() for label, c in enumerate(subset.classes)}


def moved(subset):
    """{class id: the ids of its training images among its validation images}."""
    return {c: {i for i in val if i >= 0} for c, val in ids(subset, "val").items()}


def test_held_out_draws_k_distinct_positions_from_the_data_seed_and_the_class_id():
    drawn = held_out("c1", 30, 7, data_seed=3)
    assert len(set(drawn)) == 7 and drawn.tolist() == sorted(drawn) and 0 <= drawn.min() and drawn.max() < 30
    np.testing.assert_array_equal(drawn, held_out("c1", 30, 7, data_seed=3))
    assert not np.array_equal(drawn, held_out("c1", 30, 7, data_seed=4))
    assert not np.array_equal(drawn, held_out("c2", 30, 7, data_seed=3))
    with pytest.raises(ValueError, match="val_holdout: 30 training images of class c1 held out leave none"):
        held_out("c1", 30, 30, data_seed=3)


def test_k_training_images_of_each_class_move_to_the_end_of_its_validation_images():
    dataset, classes = numbered(), ["c4", "c1", "c2"]
    plain, held = data.select(dataset, classes), data.select(dataset, classes, holdout=7, data_seed=3)
    before, train, val = ids(plain, "train"), ids(held, "train"), ids(held, "val")
    for c in classes:
        gone = set(before[c]) - set(train[c])
        assert len(gone) == 7 and len(train[c]) == 30 - 7 and not set(train[c]) & set(val[c])
        assert val[c] == ids(plain, "val")[c] + sorted(gone)
    np.testing.assert_array_equal(held.val_images[:len(plain.val_labels)], plain.val_images)
    assert len(held.val_labels) == 3 * (5 + 7)


def test_a_class_holds_out_the_same_images_whatever_the_other_classes_and_only_its_data_seed_changes_them():
    dataset = numbered()
    one = moved(data.select(dataset, ["c4", "c1", "c2"], holdout=7, data_seed=3))
    two = moved(data.select(dataset, ["c2", "c5", "c4"], holdout=7, data_seed=3))
    assert one["c4"] == two["c4"] and one["c2"] == two["c2"]
    other = moved(data.select(dataset, ["c4", "c1", "c2"], holdout=7, data_seed=4))
    assert all(other[c] != one[c] for c in one)


def test_a_reduced_cell_trains_on_the_first_of_the_rest_and_validates_as_the_full_cells():
    dataset, classes = numbered(), ["c3", "c0", "c5"]
    full = data.select(dataset, classes, holdout=7, data_seed=3)
    reduced = data.select(dataset, classes, max_per_class=20, holdout=7, data_seed=3)
    for c in classes:
        assert ids(reduced, "train")[c] == ids(full, "train")[c][:20]
        assert not set(ids(reduced, "train")[c]) & moved(full)[c]
    np.testing.assert_array_equal(reduced.val_images, full.val_images)
    np.testing.assert_array_equal(reduced.val_labels, full.val_labels)


def test_records_are_refused():
    records = Records("imagenet2012", CLASSES, builder=None, label_names=CLASSES)
    with pytest.raises(ValueError, match="val_holdout needs decoded images; imagenet2012 is read as records"):
        data.select(records, ["c1", "c2"], holdout=10)


@pytest.mark.parametrize("given, message", [
    ({"val_holdout": -1}, r"val_holdout: got -1; expected an integer >= 0"),
    ({"val_holdout": True}, r"val_holdout: got True; expected an integer >= 0"),
    ({"val_holdout": 500}, r"val_holdout: 500 of Tiny ImageNet's 500 training images per class leave none"),
    ({"val_holdout": 10, "dataset": "imagenet2012", "epochs": None, "iterations": 10, "val_every": 5},
     r"val_holdout: imagenet2012 is read as records, and holding out training images needs them decoded"),
])
def test_the_params_check_refuses_a_bad_val_holdout(given, message):
    with pytest.raises(ParamsError, match=message):
        Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, **given})


def test_every_cell_of_a_study_takes_val_holdout_and_the_summary_counts_it():
    params = Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "classes": 10, "val_holdout": 25,
                               "reduced_images_per_class": [5], "block_shuffle": [4], "all_classes": ["base"]})
    cells = grid.expand(params, [f"n{i:08d}" for i in range(200)])
    assert {c.notebook for c in cells} == {"base", "transfer"}
    assert all(c.parameters["val_holdout"] == 25 and c.parameters["data_seed"] == params.seed for c in cells)
    assert params.to_dict()["val_holdout"] == 25  # the study's params.yaml
    halves = {"0": {"A": list("abcde"), "B": list("fghij")}}
    assert metrics.validation_images(params.to_dict(), halves) == {("0", "A"): 375, ("0", "B"): 375,
                                                                    ("all", "AB"): 750}
    assert metrics.validation_images({"dataset": "tiny_imagenet"}, halves)[("0", "A")] == 250  # an older study


def test_a_cell_loads_its_half_validating_on_the_held_out_images_too(tmp_path, monkeypatch, capsys):
    """``inputs.load_data`` as the notebooks call it, on a folder of 3 classes of 20
    training and 50 validation images: 50 + k validation images a class, the same in every cell
    whatever its own seed, a reduced cell's training images taken from the rest."""
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        for side, count in (("train", 20), ("val", 50)):
            folder = tmp_path / "data" / side / name
            folder.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 256, (36, 36, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    given = dict(image_size=32, batch_size=8, data_dir=str(tmp_path / "data"), val_holdout=6, data_seed=5)
    one, _, val = inputs.load_data("folder", ["a", "b"], seed=1, **given)
    assert "held out 6 training images per class as validation: 112 validation images" in capsys.readouterr().out
    assert np.bincount(one.val_labels).tolist() == [56, 56] and np.bincount(one.train_labels).tolist() == [14, 14]
    two, *_ = inputs.load_data("folder", ["c", "b"], seed=2, **given)
    np.testing.assert_array_equal(one.val_images[one.val_labels == 1], two.val_images[two.val_labels == 1])
    reduced, *_ = inputs.load_data("folder", ["a", "b"], seed=3, max_per_class=4, **given)
    np.testing.assert_array_equal(reduced.val_images, one.val_images)
    for label in (0, 1):
        np.testing.assert_array_equal(reduced.train_images[reduced.train_labels == label],
                                      one.train_images[one.train_labels == label][:4])
