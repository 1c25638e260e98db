"""The paper's metric, the mean of the 10 best validations, on schedules long enough for the
10 best to be a part of them (transferlib.cell.train)."""

import numpy as np
import pytest

from transferlib.cell import data, train
from transferlib.cell.architectures import caffenet

# 30 validations: 0.00 .. 0.29 in the shuffled order 7 i mod 30. The 10 best are 0.20 .. 0.29,
# mean 0.245; the last 10 (0.20, 0.27, 0.04, 0.11, 0.18, 0.25, 0.02, 0.09, 0.16, 0.23) have
# mean 0.155, all 30 mean 0.145, the 10 worst 0.045.
SCHEDULE = [(7 * i) % 30 / 100 for i in range(30)]


def test_best_mean_is_the_mean_of_the_10_highest():
    assert sorted(SCHEDULE) == pytest.approx([i / 100 for i in range(30)])
    assert train.best_mean(SCHEDULE) == pytest.approx(0.245, abs=1e-12)
    assert np.mean(SCHEDULE[-10:]) == pytest.approx(0.155) and np.mean(SCHEDULE) == pytest.approx(0.145)
    assert train.best_mean(SCHEDULE[:4]) == pytest.approx(np.mean(SCHEDULE[:4]))  # fewer than 10


@pytest.fixture(scope="module")
def four_classes():
    """64 random 36 px images of 4 classes, 16 of them for validation."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 36, 36, 3), dtype=np.uint8)
    labels = np.arange(64, dtype=np.int32) % 4
    return data.Subset(("a", "b", "c", "d"), images[:48], labels[:48], images[48:], labels[48:])


def test_training_reports_the_best_10_of_30_validations(four_classes):
    train_ds, val_ds = data.pipelines(four_classes, image_size=32, batch_size=8, seed=0)
    result = train.train(caffenet(4, 32, width=0.125, seed=0), train_ds, val_ds, iterations=30,
                         val_every=1, lr=0.01, lr_drops=(), seed=0, progress=False, print_fn=None)
    val = [h["val_top1"] for h in result.history]
    assert len(val) == result.validations == 30
    best = np.mean(sorted(val)[-10:])
    assert result.best10_top1 == pytest.approx(best, abs=1e-12)
    # the schedule tells the readings apart: best 10, last 10, all, final
    assert len({round(best, 6), round(np.mean(val[-10:]), 6), round(np.mean(val), 6)}) == 3, val
    assert result.top1 == val[-1]
