"""dataset: folder, on small folders of images written by the tests (both layouts)."""

import os

import numpy as np
import pytest
from PIL import Image

from transferlib import data as datasets
from transferlib.data import image_folder
from transferlib.driver import grid
from transferlib.driver.params import ParamsError, Params


def image(path, colour, mode="RGB", size=(12, 9)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)


def flat_folder(root, counts={"cat": 20, "dog": 20, "owl": 20}):
    """One set of class folders, in formats PIL reads: PNG (RGB, greyscale, alpha) and JPEG."""
    for k, (name, count) in enumerate(counts.items()):
        for i in range(count):
            kind = i % 3
            if kind == 0:
                image(root / name / f"{i:03d}.png", (40 * k, 80, 120))
            elif kind == 1:
                image(root / name / "more" / f"{i:03d}.png", 60 * k, mode="L")
            else:
                image(root / name / f"{i:03d}.jpg", (10, 200, 30 * k))
    return root


def test_val_fraction_split_is_per_class_seeded_and_stable_when_files_are_added(tmp_path):
    root = flat_folder(tmp_path / "flat")
    assert datasets.class_names("folder", root) == ["cat", "dog", "owl"]
    d = datasets.load("folder", 8, data_dir=root, cache_dir=tmp_path / "cache", val_fraction=0.25)
    assert d.classes == ("cat", "dog", "owl")
    assert d.train_images.shape[1:] == (8, 8, 3) and d.train_images.dtype == np.uint8
    assert len(d.train_labels) + len(d.val_labels) == 60
    assert set(np.unique(d.val_labels)) == {0, 1, 2}  # every class has validation images
    before = {c: image_folder.split(sorted((root / c).rglob("*.*")), root / c, 0.25)[1] for c in d.classes}
    image(root / "cat" / "new1.png", (1, 2, 3))
    image(root / "cat" / "new2.png", (1, 2, 3))
    after_cat = image_folder.split(sorted((root / "cat").rglob("*.*")), root / "cat", 0.25)[1]
    assert set(before["cat"]) <= set(after_cat)  # no old file moved from val to train
    assert not set(after_cat) - set(before["cat"]) - {root / "cat" / "new1.png", root / "cat" / "new2.png"}
    again = datasets.load("folder", 8, data_dir=root, cache_dir=tmp_path / "cache", val_fraction=0.25)
    assert len(again.train_labels) + len(again.val_labels) == 62  # new files: decoded again


def test_train_val_layout_and_greyscale_alpha_converted(tmp_path):
    root = tmp_path / "tv"
    for side, count in (("train", 4), ("val", 2)):
        for i in range(count):
            image(root / side / "b" / f"{i}.png", (0, 0, 255, 128), mode="RGBA")
            image(root / side / "a" / f"{i}.png", 200, mode="L")
    d = datasets.load("folder", 6, data_dir=root, cache_dir=tmp_path / "cache")
    assert d.classes == ("a", "b")
    assert list(d.train_labels) == [0] * 4 + [1] * 4 and list(d.val_labels) == [0, 0, 1, 1]
    assert (d.train_images[0] == 200).all()  # greyscale: the value in every channel
    assert tuple(d.train_images[-1, 0, 0]) == (0, 0, 255)  # alpha dropped


def test_cache_is_keyed_on_the_files_names_sizes_and_mtimes(tmp_path):
    root = flat_folder(tmp_path / "flat", {"cat": 6, "dog": 6})
    first = datasets.load("folder", 8, data_dir=root, cache_dir=tmp_path / "cache")
    path = root / "dog" / "000.png"
    image(path, (255, 255, 255))  # same name, new pixels, new mtime
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    second = datasets.load("folder", 8, data_dir=root, cache_dir=tmp_path / "cache")
    assert not np.array_equal(np.asarray(first.train_images), np.asarray(second.train_images))
    assert len(list((tmp_path / "cache" / "arrays").iterdir())) == 2


@pytest.mark.parametrize("make, message", [
    (lambda r: (r / "x").mkdir(parents=True), "has no class folders"),
    (lambda r: (flat_folder(r, {"cat": 3}), (r / "empty").mkdir()), "empty is an empty class"),
    (lambda r: (flat_folder(r, {"cat": 3}), (r / "cat" / "broken.jpg").write_bytes(b"not a jpeg")),
     "broken.jpg"),
    (lambda r: (image(r / "train" / "a" / "0.png", 1, "L"), image(r / "val" / "b" / "0.png", 1, "L")),
     "only in train/: ['a']"),
])
def test_bad_folders_are_one_error_naming_the_path(tmp_path, make, message):
    root = tmp_path / "bad"
    root.mkdir()
    make(root)
    with pytest.raises((datasets.CorruptDataError, datasets.DataNotFoundError)) as e:
        datasets.load("folder", 8, data_dir=root / "x" if "no class" in message else root, cache_dir=tmp_path / "c")
    assert message in str(e.value) and str(root) in str(e.value)


def test_params_name_a_missing_folder_before_any_compute(tmp_path):
    params = Params.from_dict({"dataset": "folder", "epochs": 1, "network": "resnet18",
                               "data_dir": str(tmp_path / "nowhere")})
    with pytest.raises(ParamsError, match="data_dir: .*nowhere does not exist"):
        grid.expand(params)
    (tmp_path / "nothing").mkdir()
    params = Params.from_dict({"dataset": "folder", "epochs": 1, "data_dir": str(tmp_path / "nothing")})
    with pytest.raises(Exception, match="nothing has no class folders"):
        grid.expand(params)


def test_explicit_halves_from_folder_classes(tmp_path):
    root = flat_folder(tmp_path / "flat", {"cat": 2, "dog": 2, "owl": 2, "yak": 2})
    params = Params.from_dict({"dataset": "folder", "data_dir": str(root), "epochs": 1, "layers": [1],
                               "treatments": ["AnB"], "directions": ["AnB"],
                               "halves": {"A": ["owl", "cat"], "B": ["dog"]}})
    cells = grid.expand(params)
    assert [c.id for c in cells] == ["h-baseA", "h-baseB", "h-A1B"]
    assert cells[0].parameters["classes"] == ["cat", "owl"] and cells[1].parameters["classes"] == ["dog"]
    with pytest.raises(ParamsError, match="halves: not classes of folder: emu"):
        grid.expand(Params.from_dict({"dataset": "folder", "data_dir": str(root), "epochs": 1,
                                      "halves": {"A": ["emu"], "B": ["dog"]}}))
    with pytest.raises(ParamsError, match="cat in both halves"):
        Params.from_dict({"dataset": "folder", "epochs": 1, "halves": {"A": ["cat"], "B": ["cat"]}})
    with pytest.raises(ParamsError, match="give your own halves or splits, not both"):
        Params.from_dict({"dataset": "folder", "epochs": 1, "splits": [0],
                          "halves": {"A": ["cat"], "B": ["dog"]}})
