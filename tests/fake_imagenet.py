"""A fake ImageNet in the official layout, for tests and benchmarks: real JPEGs of
ImageNet's typical sizes, in ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar as tfds's
imagenet2012 builder reads them."""

import io
import tarfile

import numpy as np
import tensorflow_datasets as tfds
from PIL import Image


IMAGENET_CLASSES = 4
IMAGENET_TRAIN_PER_CLASS = 6


def write_fake_imagenet(manual_dir, classes=IMAGENET_CLASSES, per_class=IMAGENET_TRAIN_PER_CLASS, seed=0):
    """ILSVRC2012_img_train.tar (a tar of <wnid>.tar of <wnid>_<i>.JPEG) and
    ILSVRC2012_img_val.tar (ILSVRC2012_val_<8 digits>.JPEG) in ``manual_dir``; returns the wnids.

    tfds's imagenet2012 builder labels the k validation images, sorted by name, with the first k
    lines of the validation_labels.txt it ships, so the val images are the first ones of the
    official val set and the classes those images belong to.
    """
    labels = tfds.core.tfds_path("datasets/imagenet2012/validation_labels.txt").read_text().split()
    count = next(k for k in range(1, len(labels)) if len(set(labels[:k])) == classes)
    wnids = sorted(set(labels[:count]))
    rng = np.random.default_rng(seed)

    def jpeg(label, i):
        """A smooth random picture tinted by class, ImageNet-sized (~110 KB at quality 90)."""
        height, width = rng.integers(300, 500, 2)  # ImageNet's typical sizes, rarely square
        tint = np.random.default_rng(wnids.index(label)).integers(0, 150, 3)
        field = Image.fromarray(rng.integers(0, 105, (12, 12, 3), dtype=np.uint8) + tint.astype(np.uint8))
        pixels = np.asarray(field.resize((width, height), Image.Resampling.BICUBIC), np.int16)
        pixels = np.clip(pixels + rng.integers(-12, 13, pixels.shape), 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, "JPEG", quality=90)
        return out.getvalue()

    def add(tar, name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    manual_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(manual_dir / "ILSVRC2012_img_train.tar", "w") as train:
        for wnid in wnids:
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w") as per_class_tar:
                for i in range(per_class):
                    add(per_class_tar, f"{wnid}_{i + 1}.JPEG", jpeg(wnid, i))
            add(train, f"{wnid}.tar", inner.getvalue())
    with tarfile.open(manual_dir / "ILSVRC2012_img_val.tar", "w") as val:
        for i, wnid in enumerate(labels[:count]):
            add(val, f"ILSVRC2012_val_{i + 1:08d}.JPEG", jpeg(wnid, i))
    return wnids
