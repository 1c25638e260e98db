"""Your own images: a folder of class folders (the ImageFolder layout), decoded into the cache.

Two layouts, found by what ``data_dir`` holds:

    data_dir/train/<class>/*.jpg  and  data_dir/val/<class>/*.jpg      (its own validation set)
    data_dir/<class>/*.jpg                                             (split with val_fraction)

Class names are the class folders' names (sorted); the classes of ``train/`` and ``val/`` must
be the same. Any format PIL reads, in any subfolder of a class folder; greyscale, palette and
alpha images are converted to RGB. With one set of class folders a fraction ``val_fraction`` of
each class goes to validation: a file is a validation image when a hash of its path inside its
class folder (and the seed ``SPLIT_SEED``) falls below the fraction, so adding files never moves
an existing file from one side to the other; a class that would get no validation image gives
its lowest-hash file. Decoded arrays are cached (``cache``) under a key of the listed files'
names, sizes and modification times: touching, adding or removing a file decodes again. Bad
input (no folder, no class folders, an empty class, an unreadable image) is one
``DataNotFoundError`` / ``CorruptDataError`` naming the path.
"""

import json
import zlib
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from . import cache
from .errors import CorruptDataError, DataNotFoundError
from .resize import fit

NAME = "folder"        # the dataset name of a folder of class folders
SPLIT_SEED = 0         # salts the per-file hash of the val_fraction split
DEFAULT_VAL_FRACTION = 0.1
_SKIPPED = (".", "_")  # hidden files and folders (.DS_Store, .ipynb_checkpoints, __MACOSX)


def layout(data_dir):
    """{"train": {class: [files]}, "val": {class: [files]} or None} of ``data_dir``: the
    ``train/`` + ``val/`` layout, or one set of class folders (val None). Files are sorted
    paths; raises DataNotFoundError / CorruptDataError naming the path."""
    if data_dir is None:
        raise DataNotFoundError("dataset folder needs data_dir: the folder holding one subfolder per "
                                "class (or train/ and val/ with one subfolder per class each)")
    root = Path(data_dir)
    if not root.is_dir():
        raise DataNotFoundError(f"{root} is not a folder; give data_dir as the folder holding one "
                                "subfolder per class (or train/ and val/)")
    if (root / "train").is_dir():
        if not (root / "val").is_dir():
            raise CorruptDataError(f"{root} has train/ but no val/: add val/<class>/ folders, or move "
                                   "the class folders up to split them with val_fraction")
        train, val = _classes(root / "train"), _classes(root / "val")
        if sorted(train) != sorted(val):
            only_train, only_val = sorted(set(train) - set(val)), sorted(set(val) - set(train))
            raise CorruptDataError(f"{root}: train/ and val/ must hold the same class folders; only in "
                                   f"train/: {only_train or 'none'}; only in val/: {only_val or 'none'}")
        return {"train": train, "val": val}
    return {"train": _classes(root), "val": None}


def _classes(folder):
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(_SKIPPED))
    if not classes:
        raise CorruptDataError(f"{folder} has no class folders: put each class's images in "
                               f"{folder}/<class name>/")
    out = {}
    for c in classes:
        files = sorted(f for f in c.rglob("*") if f.is_file()
                       and not any(part.startswith(_SKIPPED) for part in f.relative_to(c).parts))
        if not files:
            raise CorruptDataError(f"{c} is an empty class (no image files): add images or remove "
                                   "the folder")
        out[c.name] = files
    return out


def class_names(name, data_dir=None, cache_dir=None, download=True):
    """The class folders' names, sorted: the dataset's class ids in label order."""
    return sorted(layout(data_dir)["train"])


def published_classes(name):
    """None: your own classes are known only from your folder."""
    return None


def load(name, size, *, data_dir=None, cache_dir=None, download=True, skip_bad_images=False,
         val_fraction=None):
    """The Dataset at ``size`` px, decoded once then cached; split by ``val_fraction`` (None:
    DEFAULT_VAL_FRACTION) where the folder has no val/."""
    fraction = DEFAULT_VAL_FRACTION if val_fraction is None else val_fraction
    key = cache.key(*cache_key(data_dir, fraction))
    return cache.cached(name, size, key, cache_dir, lambda out: decode(data_dir, size, fraction, out))


def split(files, class_folder, fraction):
    """(train files, val files) of one class: a file is in val when the hash of its path inside
    ``class_folder`` falls below ``fraction``; at least one val file when there are two or more."""
    def draw(f):
        return zlib.crc32(f"{SPLIT_SEED}/{f.relative_to(class_folder).as_posix()}".encode()) / 2**32

    draws = {f: draw(f) for f in files}
    val = [f for f in files if draws[f] < fraction]
    if not val and len(files) > 1 and fraction > 0:
        val = [min(files, key=draws.get)]
    return [f for f in files if f not in val], val


def cache_key(data_dir, val_fraction):
    """What the decoded arrays depend on: every listed file's name, size and mtime, the layout
    and the val fraction (hashed by ``cache.key``)."""
    found = layout(data_dir)
    stamp = []
    for side in ("train", "val"):
        for c, files in sorted((found[side] or {}).items()):
            stamp += [(side, c, f.name, (s := f.stat()).st_size, s.st_mtime_ns) for f in files]
    fraction = None if found["val"] is not None else float(val_fraction)
    return [str(Path(data_dir)), fraction,
            zlib.crc32(json.dumps(stamp).encode()), len(stamp)]


def decode(data_dir, size, val_fraction, out):
    """Decode the folder's images at ``size`` px into ``out`` as ``cache.cached`` expects."""
    root = Path(data_dir)
    found = layout(root)
    classes = sorted(found["train"])
    sides = {"train": [], "val": []}
    for label, c in enumerate(classes):
        if found["val"] is not None:
            train, val = found["train"][c], found["val"][c]
        else:
            train, val = split(found["train"][c], root / c, val_fraction)
            if not train:
                raise CorruptDataError(f"{root / c} has {len(found['train'][c])} image(s): too few to "
                                       f"split with val_fraction {val_fraction}; add images")
        sides["train"] += [(f, label) for f in train]
        sides["val"] += [(f, label) for f in val]
    unreadable = []
    for side, items in sides.items():
        images = np.lib.format.open_memmap(out / f"{side}_images.npy", "w+", np.uint8,
                                           (len(items), size, size, 3))
        for i, (path, _) in enumerate(tqdm(items, desc=f"decode {root} {side}", disable=len(items) < 1000)):
            try:
                with Image.open(BytesIO(path.read_bytes())) as image:
                    images[i] = fit(image, size)
            except (OSError, SyntaxError, ValueError) as error:  # what PIL raises for bad image data
                unreadable.append(f"{path} ({error})")
        images.flush()
        del images
        np.save(out / f"{side}_labels.npy", np.array([label for _, label in items], np.int32))
    if unreadable:
        raise CorruptDataError(f"{len(unreadable)} unreadable image(s) in {root} (remove or replace "
                               "them):\n  " + "\n  ".join(unreadable))
    (out / "classes.json").write_text(json.dumps(classes))
