"""Tests for transferlib.data.splits: the paper's random halves and man-made/natural halves."""

import csv
from pathlib import Path

import numpy as np
import pytest

from transferlib import data as datasets
from transferlib.data import splits

TSV = Path(splits.__file__).parents[1] / "resources" / splits.IMAGENET_TSV
TINY_32PX = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "tiny-imagenet-200-32px.tar.gz"
needs_tiny = pytest.mark.skipif(not TINY_32PX.exists(), reason=f"Tiny ImageNet 32 px archive not at {TINY_32PX}")

# CIFAR-100's fine label names in label order and each one's coarse label, as the dataset's own
# meta files give them (fine_label_names.txt, coarse_label_names.txt and the per-image label pairs).
CIFAR100_FINE = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup
dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion
lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear
pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew
skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television
tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()
CIFAR100_COARSE = """aquatic_mammals fish flowers food_containers fruit_and_vegetables
household_electrical_devices household_furniture insects large_carnivores large_man-made_outdoor_things
large_natural_outdoor_scenes large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people
reptiles small_mammals trees vehicles_1 vehicles_2""".split()
CIFAR100_COARSE_OF_FINE = [
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11, 6, 11, 5, 10, 7, 6, 13, 15, 3, 15,
    0, 11, 1, 10, 12, 14, 16, 9, 11, 5, 5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13, 16, 19, 2, 4, 6, 19, 5, 5, 8, 19,
    18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
]  # fmt: skip


def paper_draw(classes, seed):
    """Half A as the paper states it, computed here independently of splits.py."""
    r = np.random.RandomState([seed])
    idx = sorted(r.choice(np.arange(len(classes)), len(classes) // 2, replace=False))
    return [classes[i] for i in idx]


def tsv_rows():
    with open(TSV, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def tiny_wnids():
    if not TINY_32PX.exists():
        pytest.skip(f"Tiny ImageNet 32 px archive not at {TINY_32PX}")
    return datasets.class_names(datasets.TINY_IMAGENET, data_dir=TINY_32PX)


@pytest.mark.parametrize("count", [1000, 200, 7])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_halves_is_the_paper_draw(count, seed):
    classes = [f"class{i:04d}" for i in range(count)]
    half_a, half_b = splits.random_halves(classes, seed)
    assert half_a == paper_draw(classes, seed)
    assert half_b == [c for c in classes if c not in half_a]  # the rest, in the given order
    assert (len(half_a), len(half_b)) == (count // 2, count - count // 2)
    assert splits.random_halves(classes, seed) == (half_a, half_b)  # deterministic


@pytest.mark.parametrize(
    "seed, first",  # the draw's first indices of half A for 200 classes, pinned
    [(0, [0, 1, 7, 10, 12]), (1, [0, 1, 2, 3, 4]), (2, [0, 1, 2, 3, 4]), (3, [0, 1, 2, 6, 8])],
)
def test_random_halves_pinned_first_elements(seed, first):
    classes = list(range(200))
    assert splits.random_halves(classes, seed)[0][:5] == first


def test_random_halves_seed_is_a_one_element_list():
    classes = list(range(200))
    integer_seeded = sorted(np.random.RandomState(0).choice(np.arange(200), 100, replace=False))
    assert splits.random_halves(classes, 0)[0] != integer_seeded


def test_random_halves_splits_differ_and_partition(tiny_wnids):
    halves = [splits.random_halves(tiny_wnids, seed) for seed in range(4)]
    for half_a, half_b in halves:
        assert not set(half_a) & set(half_b)
        assert sorted(half_a + half_b) == sorted(tiny_wnids)
        assert half_a == sorted(half_a) and half_b == sorted(half_b)  # sorted wnids in, sorted halves out
    assert len({tuple(a) for a, _ in halves}) == 4


@pytest.mark.parametrize(
    "classes, seed, message",
    [
        (["a", "b", "a", "c", "c"], 0, r"repeated: \['a', 'c'\]"),
        (["a"], 0, "at least 2 classes"),
        (["a", "b"], -1, "non-negative integer"),
        (["a", "b"], 1.5, "non-negative integer"),
    ],
)
def test_random_halves_rejects_bad_input(classes, seed, message):
    with pytest.raises(ValueError, match=message):
        splits.random_halves(classes, seed)


def test_man_made_natural_imagenet_1k():
    rows = tsv_rows()
    wnids = [row["wnid"] for row in rows]
    man_made, natural = splits.man_made_natural(wnids)
    assert (len(man_made), len(natural)) == (551, 449)
    assert man_made == [row["wnid"] for row in rows if row["group"] == "man_made"]
    assert natural == [row["wnid"] for row in rows if row["group"] == "natural"]


def test_man_made_natural_tiny_imagenet(tiny_wnids):
    man_made, natural = splits.man_made_natural(tiny_wnids)
    assert (len(man_made), len(natural)) == (128, 72)
    assert sorted(man_made + natural) == tiny_wnids
    assert man_made == sorted(man_made) and natural == sorted(natural)


def test_man_made_natural_keeps_the_given_order(tiny_wnids):
    man_made, natural = splits.man_made_natural(tiny_wnids)
    assert splits.man_made_natural(tiny_wnids[::-1]) == (man_made[::-1], natural[::-1])


def test_man_made_natural_names_every_unknown_class():
    wnids = [row["wnid"] for row in tsv_rows()[:10]]
    with pytest.raises(ValueError, match=r"2 class\(es\).*\['n99999999', 'pineapple'\]"):
        splits.man_made_natural(wnids + ["n99999999", "pineapple"])


def test_cifar100_table_is_the_official_one():
    table = {fine: coarse for coarse, fines in splits.CIFAR100_SUPERCLASSES.items() for fine in fines}
    assert list(splits.CIFAR100_SUPERCLASSES) == CIFAR100_COARSE
    assert sorted(table) == sorted(CIFAR100_FINE) and len(table) == 100
    assert [table[fine] for fine in CIFAR100_FINE] == [CIFAR100_COARSE[i] for i in CIFAR100_COARSE_OF_FINE]
    assert set(splits.CIFAR100_MAN_MADE) <= set(CIFAR100_COARSE)


def test_man_made_natural_cifar100():
    man_made, natural = splits.man_made_natural(CIFAR100_FINE)
    assert (len(man_made), len(natural)) == (30, 70)
    assert {"bicycle", "rocket", "bridge", "bed", "clock", "bottle"} <= set(man_made)
    assert {"apple", "whale", "forest", "baby", "oak_tree", "bee"} <= set(natural)
    assert man_made == [c for c in CIFAR100_FINE if c in man_made]  # label order kept
