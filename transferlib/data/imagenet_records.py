"""imagenet2012, too large for decoded arrays (~126 GB at 256 px): read as JPEG records at every
epoch, never decoded into the cache.

tfds's own builder prepares its records from the manually downloaded ILSVRC2012_img_train.tar
and ILSVRC2012_img_val.tar in `<data_dir>/downloads/manual/`; ``load`` returns them as
``Records``, decoded at every epoch by ``cell.data.record_pipelines``. Its classes are wnids in
tfds's label order (``tfds_arrays.imagenet_classes``).
"""

import dataclasses

from . import tfds_arrays
from .errors import DataNotFoundError

NAME = tfds_arrays.IMAGENET
ARCHIVES = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")


@dataclasses.dataclass(frozen=True)
class Records:
    """A prepared tfds dataset read as encoded images (see ``cell.data.record_pipelines``).

    ``classes`` are the classes to read, labelled 0..k-1 in that order (``cell.data.select``
    narrows them); ``label_names`` are the builder's own, by label index.
    """

    name: str
    classes: tuple[str, ...] = dataclasses.field(repr=False)
    builder: object = dataclasses.field(repr=False)
    label_names: tuple[str, ...] = dataclasses.field(repr=False)


def class_names(name, data_dir=None, cache_dir=None, download=True):
    """The 1000 wnids in tfds's order; with ``download`` the records must be there (or their
    archives, to prepare them), else they are known without them."""
    if not download:
        return tfds_arrays.imagenet_classes(data_dir)
    return tfds_arrays.classes(_prepared(data_dir, download))


def published_classes(name):
    """The 1000 wnids, known without the data."""
    return tfds_arrays.imagenet_classes()


def load(name, size, *, data_dir=None, cache_dir=None, download=True, skip_bad_images=False,
         val_fraction=None):
    """The prepared records as ``Records`` of all the classes (``size`` is the crops' business)."""
    builder = _prepared(data_dir, download)
    return Records(name, tuple(tfds_arrays.classes(builder)), builder, tuple(tfds_arrays.label_names(builder)))


def _prepared(data_dir, download):
    """tfds's imagenet2012 builder, prepared; DataNotFoundError naming the archives and where
    they go where it is not prepared and they are not there."""
    builder = tfds_arrays.builder_of(NAME, data_dir)
    manual = tfds_arrays.manual_dir(builder)
    if not builder.is_prepared() and not all((manual / a).is_file() for a in ARCHIVES):
        raise DataNotFoundError(
            f"imagenet2012 is not prepared in {builder.data_dir}, and tfds's builder needs "
            f"{' and '.join(ARCHIVES)} (from https://image-net.org/download-images) in "
            f"{manual}: put them there (or set data_dir to the tfds folder that holds "
            f"downloads/manual/ with them), then run the study again or "
            f"`tfds build imagenet2012 --data_dir {manual.parents[1]}`."
        )
    return tfds_arrays.prepare(NAME, builder, download)
