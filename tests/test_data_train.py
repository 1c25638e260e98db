import numpy as np
import pytest
import tensorflow as tf

from test_tensorboard import read
from transferlib.cell import data, train
from transferlib.records import tensorboard
from transferlib.cell.architectures import caffenet

# Every test here starts processes or trains: the slow tier.
pytestmark = pytest.mark.slow


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


@pytest.fixture(scope="module")
def four_classes():
    """32 random 36 px images of 4 classes: enough to train a few steps."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 36, 36, 3), dtype=np.uint8)
    labels = np.arange(32, dtype=np.int32) % 4
    return data.Subset(("a", "b", "c", "d"), images, labels, images[:8], labels[:8])


def test_a_diverging_one_batch_epoch_fails_loudly(four_classes):
    """One batch an epoch: the batch's loss is finite (taken before the update) but the
    validation loss after it overflows; the check at the epoch's end catches it."""
    train_ds, val_ds = data.pipelines(four_classes, image_size=32, batch_size=32, seed=0)
    assert len(train_ds) == 1
    with pytest.raises(FloatingPointError, match="val_loss became .* in epoch 1: training diverged"):
        train.train(caffenet(4, 32, width=0.125), train_ds, val_ds, epochs=1, lr=1e3, lr_drops=(),
                    seed=0, progress=False, print_fn=None)


@pytest.mark.parametrize("kind", ["tf", "numpy"])  # numpy: the JAX backend's pipelines are PyDatasets too
def test_iterations_validate_every_val_every_steps(four_classes, kind):
    train_ds, val_ds = data.pipelines(four_classes, image_size=32, batch_size=8, seed=0, kind=kind)
    model = caffenet(4, 32, width=0.125)
    result = train.train(model, train_ds, val_ds, iterations=10, val_every=5, lr_drops=(0.5,),
                         progress=False, print_fn=None)
    assert len(result.history) == result.validations == 2 and result.iterations == 10
    assert int(model.optimizer.iterations) == 10  # 10 steps over 2.5 passes of a 4-batch epoch
    with pytest.raises(ValueError, match="multiple of val_every"):
        train.train(model, train_ds, val_ds, iterations=10, val_every=3)


def test_a_killed_run_resumes_from_its_last_validation(four_classes, tmp_path):
    train_ds, val_ds = data.pipelines(four_classes, image_size=32, batch_size=8, seed=0)
    seen = []

    def dies_in_the_third_round(images, labels):
        seen.append(1)
        if len(seen) > 4:  # batches 1-4 are rounds 1 and 2 (val_every=2); batch 5 is round 3
            raise RuntimeError("killed")
        return images, labels

    def dying_batch(x, y):
        x2, y2 = tf.py_function(dies_in_the_third_round, [x, y], [tf.float32, tf.int32])
        return tf.ensure_shape(x2, x.shape), tf.ensure_shape(y2, y.shape)

    dying = train_ds.map(dying_batch)
    checkpoints = tmp_path / "checkpoints"
    log = tensorboard.CellLog(tmp_path / "tensorboard", {"n": 0})
    with pytest.raises(Exception, match="killed"):
        train.train(caffenet(4, 32, width=0.125), dying.prefetch(0), val_ds, iterations=6, val_every=2,
                    checkpoint_dir=checkpoints, tensorboard=log, progress=False, print_fn=None)
    before = (checkpoints / "history.csv").read_text().splitlines()
    assert len(before) == 1 + 2  # header and the two validations done

    rounds = []
    model = caffenet(4, 32, width=0.125)  # a fresh kernel's model: the backup restores it
    result = train.train(model, train_ds, val_ds, iterations=6, val_every=2, checkpoint_dir=checkpoints,
                         tensorboard=log, progress=False, print_fn=rounds.append)
    assert [line.split(":")[0] for line in rounds] == ["iteration 6/6"]  # only the third round ran
    assert int(model.optimizer.iterations) == 6  # the optimiser's state came back with the weights
    assert len(result.history) == 3
    logged = [float(line.split(",")[-1]) for line in before[1:]]  # CSVLogger's last column: val_top5
    assert [h["val_top5"] for h in result.history[:2]] == pytest.approx(logged)
    assert not list(checkpoints.rglob("*.h5"))  # the backup goes when training ends
    scalars = read(tmp_path / "tensorboard")[0]  # each validation once, at its step, with its rate
    assert scalars["val_top1"] == [(step, h["val_top1"]) for step, h in zip((2, 4, 6), result.history)]
    schedule = train.lr_schedule(0.01, train.PAPER_LR_DROPS, 6)
    assert [v for _, v in scalars["learning_rate"]] == pytest.approx([float(schedule(s)) for s in (2, 4, 6)])
