"""The decode cache: a dataset's images decoded once into uint8 arrays, then loaded as
read-only memmaps (a second load takes milliseconds).

Arrays live in ``<cache>/arrays/<name>-<size>px-<key>/`` (the cache is ``paths.cache_root``),
the key hashing what the decoded images depend on (each dataset kind says what, and
CACHE_FORMAT). A decode runs in a temporary folder renamed into place when complete, one at a
time per cache; a decode that was killed leaves nothing read as complete, and its temporary
folder is removed at the next one.
"""

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .paths import cache_root

CACHE_FORMAT = 1  # bump when decoding changes, so that older caches are not read
ARRAYS = ("train_images", "train_labels", "val_images", "val_labels")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images of one dataset at one size; labels index `classes`."""

    name: str
    classes: tuple[str, ...]
    train_images: np.ndarray  # uint8 [N, S, S, 3], may be a read-only memmap
    train_labels: np.ndarray  # int32 [N]
    val_images: np.ndarray  # uint8 [M, S, S, 3]
    val_labels: np.ndarray  # int32 [M]


def stored_size(image_size):
    """The side at which images are cached for ``image_size`` crops: the paper's 256 / 227."""
    return int(round(image_size * 256 / 227))


def key(*parts):
    """The cache key of decoded arrays that depend on ``parts`` (and CACHE_FORMAT)."""
    return hashlib.sha256(json.dumps([CACHE_FORMAT, *map(str, parts)]).encode()).hexdigest()[:16]


def cached(name, size, key, cache_dir, build):
    """The cached Dataset, built where absent by ``build(folder)``, which writes ARRAYS as .npy
    files and ``classes.json`` into ``folder``."""
    arrays = cache_root(cache_dir) / "arrays"
    final = arrays / f"{name}-{size}px-{key}"
    if not final.is_dir():
        arrays.mkdir(parents=True, exist_ok=True)
        lock = os.open(arrays, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one decode at a time; the others then find it done
            for stale in arrays.glob(".*.tmp"):  # left by a decode that was killed
                shutil.rmtree(stale, ignore_errors=True)
            if not final.is_dir():
                work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=arrays))
                try:
                    build(work)
                    work.rename(final)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        finally:
            os.close(lock)
    classes = tuple(json.loads((final / "classes.json").read_text()))
    arrays_of = {a: np.load(final / f"{a}.npy", mmap_mode="r") for a in ARRAYS}
    return Dataset(name=name, classes=classes, **arrays_of)
