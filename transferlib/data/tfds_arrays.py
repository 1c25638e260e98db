"""A tfds image classification dataset (``cifar100``, ``imagenet_resized/32x32``, ...): prepared
by tfds's own builder in its data_dir (downloaded where allowed) and decoded into the cache,
its train split and its "validation" split where there is one, else "test", in tfds's order.

Every ImageNet variant (imagenet2012, imagenet_resized/...) names its classes by wnid in tfds's
imagenet2012 label order (sorted wnids), whatever its own label order, so that a split means the
same classes at every resolution; its labels are remapped to that order when decoded.
"""

import json
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import cache
from .errors import DataNotFoundError
from .resize import fit

IMAGENET = "imagenet2012"  # tfds's ImageNet-1k: its label order names every ImageNet variant's classes


def class_names(name, data_dir=None, cache_dir=None, download=True):
    """The class ids in label order. tfds knows a dataset's label names once it is prepared, so
    it is prepared first; an ImageNet variant's are known without data, so with
    ``download=False`` it is not looked for."""
    if is_imagenet(name) and not download:
        return imagenet_classes(data_dir)
    return classes(prepare(name, builder_of(name, data_dir), download))


def published_classes(name):
    """An ImageNet variant's 1000 wnids (known without its data), else None."""
    return imagenet_classes() if is_imagenet(name) else None


def load(name, size, *, data_dir=None, cache_dir=None, download=True, skip_bad_images=False,
         val_fraction=None):
    """The Dataset at ``size`` px, decoded once then cached under the prepared dataset's path
    and version."""
    builder = prepare(name, builder_of(name, data_dir), download)
    order = ["imagenet2012 order"] if is_imagenet(name) else []  # labels remapped when decoded
    key = cache.key(str(builder.data_path), str(builder.version), *order)
    return cache.cached(name, size, key, cache_dir, lambda out: _decode(builder, size, out))


def imagenet_classes(data_dir=None):
    """The 1000 ImageNet-1k wnids in tfds's imagenet2012 label order (known without its data)."""
    import tensorflow_datasets as tfds

    return label_names(tfds.builder(IMAGENET, data_dir=data_dir))


def is_imagenet(name):
    return name.partition("/")[0] in (IMAGENET, "imagenet_resized")


def classes(builder):
    """The dataset's class ids in label order: tfds's imagenet2012 order for ImageNet variants."""
    return imagenet_classes(builder.data_dir) if is_imagenet(builder.name) else label_names(builder)


def canonical_labels(builder):
    """int32 array mapping the builder's label index to its class's index in ``classes``."""
    index = {c: i for i, c in enumerate(classes(builder))}
    return np.array([index[c] for c in label_names(builder)], np.int32)


def builder_of(name, data_dir):
    """tfds's builder of ``name`` in ``data_dir``; ValueError where it has no (image, label)
    supervised keys, or tfds knows no such dataset."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    if builder.info.supervised_keys is None:
        raise ValueError(f"tfds dataset {name!r} has no (image, label) supervised keys to classify with")
    return builder


def prepare(name, builder, download):
    """``builder`` of ``name``, prepared by tfds (downloading) if it is not yet and ``download``
    allows."""
    if not builder.is_prepared():
        if not download:
            raise DataNotFoundError(
                f"tfds dataset {name!r} is not prepared in {builder.data_path} and download=False: "
                f"call with download=True, or run `tfds build {name}` with that data_dir."
            )
        builder.download_and_prepare()
    return builder


def manual_dir(builder):
    """tfds's default manual_dir of ``builder``: <its data_dir root>/downloads/manual."""
    root = Path(builder.data_dir).parents[len(Path(builder.info.full_name).parts) - 1]
    return root / "downloads" / "manual"


def label_names(builder):
    return list(builder.info.features[builder.info.supervised_keys[1]].names)


def _decode(builder, size, out):
    """Decode a tfds dataset's train and validation (else test) split into `out`."""
    import tensorflow_datasets as tfds

    image_key = builder.info.supervised_keys[0]
    splits = builder.info.splits
    fixed = None not in builder.info.features[image_key].shape
    remap = canonical_labels(builder)
    for stored_as, split in (("train", "train"), ("val", "validation" if "validation" in splits else "test")):
        count = splits[split].num_examples
        images = np.lib.format.open_memmap(out / f"{stored_as}_images.npy", "w+", np.uint8, (count, size, size, 3))
        labels = np.empty(count, np.int32)
        batches = builder.as_dataset(split=split, as_supervised=True, batch_size=256 if fixed else None)
        start = 0
        with tqdm(total=count, desc=f"decode {builder.name} {split}") as bar:
            for image, label in tfds.as_numpy(batches):
                batch = image if fixed else image[None]
                images[start : start + len(batch)] = [fit(one, size) for one in batch]
                labels[start : start + len(batch)] = remap[label]
                start += len(batch)
                bar.update(len(batch))
        images.flush()
        np.save(out / f"{stored_as}_labels.npy", labels)
        del images
    (out / "classes.json").write_text(json.dumps(classes(builder)))
