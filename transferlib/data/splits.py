"""Class splits of the paper: random halves A/B (similar tasks) and man-made/natural (dissimilar).

Both take the dataset's class ids in label order (sorted WordNet ids for ImageNet and Tiny
ImageNet, tfds label names for CIFAR-100) and return two lists of class ids, each in that order.
"""

import collections
import csv
import functools
import importlib.resources

import numpy as np

# CIFAR-100 superclasses (coarse labels) and their five fine labels, spelled as tfds spells them.
CIFAR100_SUPERCLASSES = {
    "aquatic_mammals": ("beaver", "dolphin", "otter", "seal", "whale"),
    "fish": ("aquarium_fish", "flatfish", "ray", "shark", "trout"),
    "flowers": ("orchid", "poppy", "rose", "sunflower", "tulip"),
    "food_containers": ("bottle", "bowl", "can", "cup", "plate"),
    "fruit_and_vegetables": ("apple", "mushroom", "orange", "pear", "sweet_pepper"),
    "household_electrical_devices": ("clock", "keyboard", "lamp", "telephone", "television"),
    "household_furniture": ("bed", "chair", "couch", "table", "wardrobe"),
    "insects": ("bee", "beetle", "butterfly", "caterpillar", "cockroach"),
    "large_carnivores": ("bear", "leopard", "lion", "tiger", "wolf"),
    "large_man-made_outdoor_things": ("bridge", "castle", "house", "road", "skyscraper"),
    "large_natural_outdoor_scenes": ("cloud", "forest", "mountain", "plain", "sea"),
    "large_omnivores_and_herbivores": ("camel", "cattle", "chimpanzee", "elephant", "kangaroo"),
    "medium_mammals": ("fox", "porcupine", "possum", "raccoon", "skunk"),
    "non-insect_invertebrates": ("crab", "lobster", "snail", "spider", "worm"),
    "people": ("baby", "boy", "girl", "man", "woman"),
    "reptiles": ("crocodile", "dinosaur", "lizard", "snake", "turtle"),
    "small_mammals": ("hamster", "mouse", "rabbit", "shrew", "squirrel"),
    "trees": ("maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"),
    "vehicles_1": ("bicycle", "bus", "motorcycle", "pickup_truck", "train"),
    "vehicles_2": ("lawn_mower", "rocket", "streetcar", "tank", "tractor"),
}
CIFAR100_MAN_MADE = (
    "vehicles_1",
    "vehicles_2",
    "large_man-made_outdoor_things",
    "household_furniture",
    "household_electrical_devices",
    "food_containers",
)
IMAGENET_TSV = "imagenet1k_man_made_natural.tsv"


def _check_classes(classes):
    classes = list(classes)
    if len(classes) < 2:
        raise ValueError(f"a split needs at least 2 classes, got {len(classes)}: {classes}")
    duplicates = sorted(c for c, n in collections.Counter(classes).items() if n > 1)
    if duplicates:
        raise ValueError(f"class ids must be unique; repeated: {duplicates}")
    return classes


def random_halves(classes, seed):
    """Split `classes` into halves (A, B) exactly as the paper's code draws split `seed`.

    `RandomState([seed])` (the seed as a one-element list) picks C // 2 indices, sorted, for A;
    B holds the rest. With an odd C, B gets the extra class.
    """
    classes = _check_classes(classes)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (the paper's splits are 0..3), got {seed!r}")
    count = len(classes)
    rng = np.random.RandomState([seed])
    chosen = set(rng.choice(np.arange(count), count // 2, replace=False).tolist())
    half_a = [c for i, c in enumerate(classes) if i in chosen]
    half_b = [c for i, c in enumerate(classes) if i not in chosen]
    return half_a, half_b


@functools.cache
def _groups():
    """{class id: "man_made" | "natural"} for the ImageNet-1k wnids and the CIFAR-100 names."""
    text = importlib.resources.files("transferlib").joinpath("resources", IMAGENET_TSV).read_text()
    groups = {row["wnid"]: row["group"] for row in csv.DictReader(text.splitlines(), delimiter="\t")}
    for superclass, names in CIFAR100_SUPERCLASSES.items():
        group = "man_made" if superclass in CIFAR100_MAN_MADE else "natural"
        groups.update(dict.fromkeys(names, group))
    return groups


def man_made_natural(classes):
    """Split `classes` into (man_made, natural), the paper's dissimilar halves.

    ImageNet wnids follow the paper's lists (ImageNet-1k 551/449, Tiny ImageNet 128/72);
    CIFAR-100 fine labels follow their superclass (30/70).
    """
    classes = _check_classes(classes)
    groups = _groups()
    unknown = [c for c in classes if c not in groups]
    if unknown:
        raise ValueError(
            f"{len(unknown)} class(es) not in the man-made/natural lists "
            f"(ImageNet-1k wnids in transferlib/resources/{IMAGENET_TSV}, CIFAR-100 fine labels): {unknown}"
        )
    man_made = [c for c in classes if groups[c] == "man_made"]
    natural = [c for c in classes if groups[c] == "natural"]
    return man_made, natural
