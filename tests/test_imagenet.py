"""ImageNet without ImageNet: fake archives in the official layout, prepared by tfds's real
imagenet2012 builder, read through the 227 px record pipeline, one study end to end."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import tensorflow as tf
import yaml
from PIL import Image

from transferlib import data as datasets
from transferlib.data import splits, tfds_arrays
from transferlib.cell import data, tfdata
from transferlib.driver import grid
from transferlib.driver.params import load_params
from test_notebooks import stderr_beside_progress

ROOT = Path(__file__).resolve().parents[1]


def test_classes_are_wnids_in_imagenet2012_order_for_every_variant(fake_imagenet):
    data_dir, wnids = fake_imagenet
    order = tfds_arrays.imagenet_classes()
    assert len(order) == 1000 and order == sorted(order)
    for name in ("imagenet2012", "imagenet_resized/32x32", "imagenet_resized/64x64"):
        assert datasets.class_names(name, download=False) == order
    records = datasets.load("imagenet2012", 256, data_dir=data_dir)
    assert list(records.classes) == order
    # the paper's splits and the man-made/natural lists mean the same classes at every size
    assert splits.random_halves(order, 0) == splits.random_halves(datasets.class_names(
        "imagenet_resized/64x64", download=False), 0)


def test_imagenet_resized_labels_are_remapped_to_imagenet2012_order():
    import tensorflow_datasets as tfds
    builder = tfds.builder("imagenet_resized/32x32")
    own = builder.info.features["label"].names
    remap = tfds_arrays.canonical_labels(builder)
    order = tfds_arrays.imagenet_classes()
    assert own != order and all(order[remap[i]] == own[i] for i in range(1000))


def test_missing_archives_say_where_they_go(tmp_path):
    with pytest.raises(datasets.DataNotFoundError, match=r"ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar"
                                                        rf".* in {tmp_path}/downloads/manual"):
        datasets.load("imagenet2012", 256, data_dir=tmp_path)


def test_record_pipelines_read_the_half_with_its_labels(fake_imagenet):
    data_dir, wnids = fake_imagenet
    half = [wnids[2], wnids[0]]  # labels follow the given order
    subset = data.select(datasets.load("imagenet2012", 256, data_dir=data_dir), half)
    train_ds, val_ds = data.record_pipelines(subset, image_size=227, batch_size=4, seed=0)
    images, labels = next(iter(train_ds))
    assert images.shape == (4, 227, 227, 3) and images.dtype == tf.float32
    batches = [y.numpy() for _, y in train_ds.take(5)]  # 12 images: passes run on, every batch full
    assert [len(y) for y in batches] == [4] * 5
    assert sorted(np.concatenate(batches)[:12]) == [0] * 6 + [1] * 6  # every image of the half, once a pass
    import tensorflow_datasets as tfds
    labels_file = tfds.core.tfds_path("datasets/imagenet2012/validation_labels.txt").read_text().split()
    expected = sorted(half.index(w) for w in labels_file[:len(wnids)] if w in half)
    assert sorted(np.concatenate([y for _, y in val_ds])) == expected
    a, b = (np.concatenate([x for x, _ in val_ds]) for _ in range(2))
    np.testing.assert_array_equal(a, b)  # validation: the centre crop, no augmentation
    assert abs(float(a.mean())) < 40 and float(a.std()) > 5  # mean-subtracted 0..255 values


def test_a_crop_is_the_crop_of_the_image_resized_to_256():
    """Decoding only a window of the JPEG gives the paper's crop of the 256 x 256 image."""
    height, width = 300, 450
    y, x = np.mgrid[0:height, 0:width]
    ramp = np.stack([x * 255 / (width - 1), y * 255 / (height - 1), np.full_like(x, 128.0)], -1)
    out = io.BytesIO()
    Image.fromarray(ramp.astype(np.uint8)).save(out, "JPEG", quality=95)
    jpeg = tf.constant(out.getvalue())
    resized = np.asarray(Image.fromarray(ramp.astype(np.uint8)).resize((256, 256), Image.Resampling.BILINEAR),
                         np.float32)
    for oy, ox in [(0, 0), (14, 14), (29, 0), (0, 29), (7, 21)]:
        crop = tfdata.jpeg_crop(jpeg, tf.constant([oy, ox]), 227, 256).numpy()
        expected = resized[oy:oy + 227, ox:ox + 227]
        assert crop.shape == (227, 227, 3)
        assert np.abs(crop - expected)[..., :2].mean() < 2.0, (oy, ox)


def test_one_study_end_to_end_at_227_px(fake_imagenet, tmp_path):
    """baseA, baseB and A1B at 227 px through the runner, papermill and the record pipeline."""
    data_dir, wnids = fake_imagenet
    params = {"dataset": "imagenet2012", "data_dir": str(data_dir), "image_size": 227, "width": 0.125,
              "classes": wnids, "splits": [0], "treatments": ["AnB"], "layers": [1],
              "directions": ["AnB"], "iterations": 4, "val_every": 2, "batch_size": 4,
              "lr_drops": [0.5], "checkpoint": True}
    path = tmp_path / "fake227.yaml"
    path.write_text(yaml.safe_dump(params))
    env = dict(os.environ, TRANSFER_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "transferlib", "run", str(path), "--results",
                           str(tmp_path / "results")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    study = tmp_path / "results" / "fake227"
    for cell in ("r0-baseA", "r0-baseB", "r0-A1B"):
        metrics = json.loads((study / "cells" / f"{cell}.json").read_text())
        assert metrics["iterations"] == 4 and len(metrics["val_top1"]) == 2
    assert not list((study / "checkpoints").rglob("*.h5"))  # backups go once a cell is done
    for cell in ("r0-baseA", "r0-baseB", "r0-A1B"):  # a validation set of unknown length warns of nothing
        assert not stderr_beside_progress(nbformat.read(study / "cells" / f"{cell}.ipynb", as_version=4))
    assert not (tmp_path / "cache" / "arrays").exists()  # ImageNet is never decoded into the cache


def test_paper_params_file_is_the_paper_protocol():
    params = load_params(ROOT / "transferlib" / "studies" / "paper.yaml")
    cells = grid.expand(params, tfds_arrays.imagenet_classes())
    assert len(cells) == 200 and "200 networks" in (ROOT / "transferlib" / "studies" / "paper.yaml").read_text()
    ids = {c.id for c in cells}  # the paper's treatments per split (both directions)
    assert {"r0-A3B+", "r1-B3B+", "r2-A3B", "r3-B3B", "mmn-A7B", "mmn-B7A"} <= ids
    assert not {"r2-A3B+", "r3-B3B+", "mmn-A7B+", "mmn-B7B"} & ids
    assert {c.parameters["init"] for c in cells} == {"paper"}
    params = load_params(ROOT / "transferlib" / "studies" / "paper-full.yaml")
    cells = grid.expand(params, tfds_arrays.imagenet_classes())
    assert len(cells) == 298 and "298 networks" in (ROOT / "transferlib" / "studies" / "paper-full.yaml").read_text()
    assert (params.batch_size, params.iterations, params.val_every, params.lr) == (256, 450_000, 1000, 0.01)
    assert [round(f * params.iterations) for f in params.lr_drops] == [100_000, 200_000, 300_000, 400_000]
    ids = {c.id for c in cells}
    assert {"r3-baseB", "mmn-A7B+", "r0-B4A", "all-baseAB", "all-R1AB", "all-R7AB"} <= ids
    assert {len(c.parameters["classes"]) for c in cells if c.split == "all"} == {1000}
    assert {len(c.parameters["classes"]) for c in cells if c.split.startswith("r")} == {500}
