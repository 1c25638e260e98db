"""Image classification datasets, by the name a params file gives as ``dataset``.

Each kind of dataset is a module with the same four names: ``NAME`` (its registry key),
``class_names``, ``published_classes`` and ``load`` (their arguments as below). KINDS maps a
name to its module; any other name is a tfds dataset (``tfds_arrays``).

- ``tiny_imagenet``: Tiny ImageNet 200 in its official layout, downloaded where it is nowhere
- ``folder``: your own folder of class folders (``image_folder``)
- ``imagenet2012``: read as JPEG records at every epoch (``imagenet_records``)
- any tfds name (``cifar100``, ``imagenet_resized/32x32``): prepared by tfds

``load`` gives a ``Dataset`` of uint8 arrays, decoded once into the cache (``cache``), or for a
STREAMED dataset ``Records``. Where the data and the cache are is ``paths``'s business; what
goes wrong with the data, as the user can fix it, ``errors``'s.
"""

from . import image_folder, imagenet_records, tfds_arrays, tiny_imagenet
from .cache import Dataset, stored_size
from .errors import CorruptDataError, DataNotFoundError
from .imagenet_records import Records
from .paths import cache_root, env_path

KINDS = {kind.NAME: kind for kind in (tiny_imagenet, image_folder, imagenet_records)}
TINY_IMAGENET = tiny_imagenet.NAME
STREAMED = (imagenet_records.NAME,)  # read as records at every epoch, never decoded into the cache


def kind(name):
    """The module of dataset ``name``: its entry in KINDS, else ``tfds_arrays``."""
    return KINDS.get(name, tfds_arrays)


def class_names(name, data_dir=None, cache_dir=None, download=True):
    """Class ids in label order, without decoding images: sorted wnids, the class folders'
    names, or tfds label names. Finds (and where allowed downloads) the data as ``load`` does,
    except where the names are known without it."""
    return kind(name).class_names(name, data_dir, cache_dir, download)


def published_classes(name):
    """The class ids of dataset ``name`` known without its data (for planning a study before
    getting it), or None: Tiny ImageNet's 200 wnids, ImageNet's 1000 in tfds's order."""
    return kind(name).published_classes(name)


def load(name, size, data_dir=None, cache_dir=None, download=True, skip_bad_images=False,
         val_fraction=None):
    """Dataset ``name`` with its images resized to ``size`` x ``size``, from ``data_dir``
    (absolute: see ``paths``) or where its kind looks, into the cache ``cache_dir`` (None:
    ``paths.cache_root``). ``skip_bad_images`` is Tiny ImageNet's, ``val_fraction`` a folder's
    without val/; ``download=False`` fetches and prepares nothing."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int (pixels per side), got {size!r}")
    return kind(name).load(name, size, data_dir=data_dir, cache_dir=cache_dir, download=download,
                           skip_bad_images=skip_bad_images, val_fraction=val_fraction)
