"""Image classification datasets as uint8 arrays, decoded once and cached on disk.

`tiny_imagenet` reads the official Tiny ImageNet 200 layout from an extracted
`tiny-imagenet-200/` folder, the official 64 px `tiny-imagenet-200.zip` or the 32 px
`tiny-imagenet-200-32px.tar.gz`, looked for in `data_dir`, then `$TRANSFER_DATA_DIR`, then the
cache, and downloaded into the cache when it is nowhere. Any other name is a tfds dataset
(e.g. `cifar100`, `imagenet_resized/32x32`), prepared by tfds. Decoded arrays are kept in
`<cache>/arrays/<name>-<size>px-<key>/` and loaded as read-only memmaps, so a second load takes
milliseconds. The cache is `cache_dir`, else `$TRANSFER_CACHE_DIR`, else ~/.cache/transferlib.

`imagenet2012` (STREAMED) is too large for decoded arrays (~126 GB at 256 px): tfds's own builder
prepares its JPEG records from the manually downloaded ILSVRC2012_img_train.tar and
ILSVRC2012_img_val.tar in `<data_dir>/downloads/manual/`, and `load` returns them as `Records`,
decoded at every epoch by ``data.record_pipelines``. Every ImageNet variant (imagenet2012,
imagenet_resized/...) names its classes by wnid in tfds's imagenet2012 label order (sorted
wnids), whatever its own label order, so a split means the same classes at every resolution.
"""

import dataclasses
import fcntl
import hashlib
import http.client
import json
import os
import re
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from .atomic import write_text_atomic

from . import folders
from .errors import CorruptDataError, DataNotFoundError
from .resize import fit

TINY_IMAGENET = "tiny_imagenet"
FOLDER = "tiny-imagenet-200"
ARCHIVES = ("tiny-imagenet-200.zip", "tiny-imagenet-200-32px.tar.gz")
URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
# No sha256 of the official zip is published; its md5 and size are, by many loaders.
CHECKSUM = "md5:90528d7ca1a48142e341f4ef8d21d0de"
SIZE = 248_100_043
CACHE_FORMAT = 1  # bump when decoding changes, so that older caches are not read
_WANTED = re.compile(r"wnids\.txt|val/val_annotations\.txt|(train/[^/]+/images|val/images)/[^/]+\.jpe?g", re.I)
_ARRAYS = ("train_images", "train_labels", "val_images", "val_labels")
_COPY_CHUNK = 4096  # images per slice when writing the cache in label order
IMAGENET = "imagenet2012"
STREAMED = (IMAGENET,)  # read as JPEG records at every epoch, never decoded into the cache
IMAGENET_ARCHIVES = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images of one dataset at one size; labels index `classes`."""

    name: str
    classes: tuple[str, ...]
    train_images: np.ndarray  # uint8 [N, S, S, 3], may be a read-only memmap
    train_labels: np.ndarray  # int32 [N]
    val_images: np.ndarray  # uint8 [M, S, S, 3]
    val_labels: np.ndarray  # int32 [M]


@dataclasses.dataclass(frozen=True)
class Records:
    """A prepared tfds dataset read as encoded images (see ``data.record_pipelines``).

    ``classes`` are the classes to read, labelled 0..k-1 in that order (``data.select`` narrows
    them); ``label_names`` are the builder's own, by label index.
    """

    name: str
    classes: tuple[str, ...] = dataclasses.field(repr=False)
    builder: object = dataclasses.field(repr=False)
    label_names: tuple[str, ...] = dataclasses.field(repr=False)


def stored_size(image_size):
    """The side at which images are cached for ``image_size`` crops: the paper's 256 / 227."""
    return int(round(image_size * 256 / 227))


def cache_root(cache_dir=None):
    """The cache folder: `cache_dir`, else $TRANSFER_CACHE_DIR, else ~/.cache/transferlib."""
    return Path(cache_dir or env_path("TRANSFER_CACHE_DIR") or "~/.cache/transferlib").expanduser().absolute()


def env_path(variable):
    """The absolute path that environment ``variable`` names (``resolve``), or None where it is
    unset."""
    value = os.environ.get(variable)
    return resolve(value) if value else None


def resolve(value):
    """``value`` as an absolute path. A relative path is taken relative to the working folder,
    or where nothing is there but something is relative to $PWD, to $PWD: the folder the
    command was typed in, which a notebook's kernel (working in the notebook's folder) inherits
    from its Jupyter server."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    here = Path.cwd() / path
    typed_in = Path(os.environ.get("PWD") or Path.cwd()) / path
    return (typed_in if not here.exists() and typed_in.exists() else here).resolve()


def absolute_env(variables=("TRANSFER_DATA_DIR", "TRANSFER_CACHE_DIR")):
    """Make ``variables`` absolute in this process's environment (see ``env_path``), so that
    processes started from it (kernels, Ray workers) read the same folders whatever their
    working folder."""
    for variable in variables:
        if path := env_path(variable):
            os.environ[variable] = str(path)


def class_names(name, data_dir=None, cache_dir=None, download=True):
    """Class ids in label order, without decoding images: sorted wnids, or tfds label names
    (``folder``: the class folders' names, see ``folders``).

    Finds (and where allowed downloads) the data as `load` does; a tfds dataset is prepared
    first, as tfds knows its label names only then. An ImageNet variant's names are known
    without data (tfds's imagenet2012 order), so with ``download=False`` it is not looked for.
    """
    if name == folders.FOLDER:
        return folders.class_names(data_dir)
    if _is_imagenet(name) and not download:
        return imagenet_classes(data_dir)
    if name != TINY_IMAGENET:
        return _classes(_tfds_builder(name, data_dir, download))
    source = locate(data_dir, cache_dir, download)
    for _, data in _read_tiny(source, lambda path: path == "wnids.txt"):
        return sorted(data.decode().split())
    raise CorruptDataError(f"{source} has no {FOLDER}/wnids.txt: is it Tiny ImageNet in its official layout?")


def published_classes(name):
    """The class ids of dataset ``name`` known without its data (for planning a study before
    getting it), or None: Tiny ImageNet's 200 wnids, ImageNet's 1000 in tfds's order."""
    if name == TINY_IMAGENET:
        import importlib.resources
        return importlib.resources.files("transferlib").joinpath(
            "resources", "tiny_imagenet_wnids.txt").read_text().split()
    if _is_imagenet(name):
        return imagenet_classes()
    return None


def load(name, size, data_dir=None, cache_dir=None, download=True, skip_bad_images=False,
         val_fraction=None):
    """Dataset `name` with its images resized to `size` x `size`, decoded once and then cached.

    An image that cannot be decoded is an error naming it; with ``skip_bad_images`` it is left
    out and counted (in the cache's ``skipped.json``) instead. ``folder`` is your own folder of
    class folders at `data_dir` (see ``folders``), split by `val_fraction` where it has no val/
    folder.

    Tiny ImageNet's splits are stored in label order, then file number order; a tfds dataset's in
    tfds's order, its validation split being "validation" where there is one, else "test".
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int (pixels per side), got {size!r}")
    if name == folders.FOLDER:
        fraction = folders.DEFAULT_VAL_FRACTION if val_fraction is None else val_fraction
        key = _key(*folders.cache_key(data_dir, fraction))
        return _cached(name, size, key, cache_dir, lambda out: folders.decode(data_dir, size, fraction, out))
    if name == TINY_IMAGENET:
        source = locate(data_dir, cache_dir, download)
        key = _key(*_stamp(source, cache_dir), *(["skip bad images"] if skip_bad_images else []))
        return _cached(name, size, key, cache_dir,
                       lambda out: _decode_tiny(source, size, out, skip_bad_images))
    builder = _tfds_builder(name, data_dir, download)
    if name in STREAMED:
        return Records(name, tuple(_classes(builder)), builder, tuple(_label_names(builder)))
    order = ["imagenet2012 order"] if _is_imagenet(name) else []  # labels remapped when decoded
    key = _key(str(builder.data_path), str(builder.version), *order)
    return _cached(name, size, key, cache_dir, lambda out: _decode_tfds(builder, size, out))


def imagenet_classes(data_dir=None):
    """The 1000 ImageNet-1k wnids in tfds's imagenet2012 label order (known without its data)."""
    import tensorflow_datasets as tfds

    return _label_names(tfds.builder(IMAGENET, data_dir=data_dir))


def _is_imagenet(name):
    return name.partition("/")[0] in (IMAGENET, "imagenet_resized")


def _classes(builder):
    """The dataset's class ids in label order: tfds's imagenet2012 order for ImageNet variants."""
    return imagenet_classes(builder.data_dir) if _is_imagenet(builder.name) else _label_names(builder)


def canonical_labels(builder):
    """int32 array mapping the builder's label index to its class's index in ``_classes``."""
    index = {c: i for i, c in enumerate(_classes(builder))}
    return np.array([index[c] for c in _label_names(builder)], np.int32)


def locate(data_dir=None, cache_dir=None, download=True):
    """Path of the Tiny ImageNet source (folder or archive), downloading the official zip if needed.

    Where `data_dir` or else $TRANSFER_DATA_DIR is set, the data must be there (the folder
    `tiny-imagenet-200/` or one of ARCHIVES in it, or it such a folder or archive itself): an
    error names it otherwise, with no fall-back elsewhere and no download. With neither set,
    the cache is looked in, and the official zip downloaded into it where absent.
    """
    for label, place in (("data_dir", data_dir), ("$TRANSFER_DATA_DIR", env_path("TRANSFER_DATA_DIR"))):
        if place:
            place = Path(place).expanduser().absolute()
            if found := _found_in(place):
                return found
            raise DataNotFoundError(
                f"Tiny ImageNet not found in {place} ({label}): expected {FOLDER}/ (with wnids.txt), "
                f"{ARCHIVES[0]} or {ARCHIVES[1]} there, or {label} naming one of them.\n"
                f"To fix: point {label} at the folder or archive that holds Tiny ImageNet, or unset "
                f"it to use the cache ({cache_root(cache_dir)}) and download {URL} there.")
    cache = cache_root(cache_dir)
    if found := _found_in(cache):
        return found
    if not download:
        raise DataNotFoundError(f"Tiny ImageNet not found in the cache {cache} and not downloaded "
                                "(download=False); set TRANSFER_DATA_DIR to the folder holding it.")
    try:
        return fetch(URL, cache, CHECKSUM, SIZE)
    except (OSError, http.client.HTTPException) as error:
        raise DataNotFoundError(
            f"Tiny ImageNet is not in the cache {cache} and downloading {URL} failed: {error}\n"
            f"To fix: download it (or get the 32 px archive) into {cache}, or set "
            "TRANSFER_DATA_DIR (or data_dir) to the folder or archive holding it.") from None


def fetch(url, dest_dir, checksum, size=None):
    """Download `url` into `dest_dir`, verify it, and return its path.

    `checksum` is "<hashlib algorithm>:<hex digest>" (e.g. "sha256:9b49..."); `size` in bytes is
    checked too where given. The file appears under its final name only once it has passed.
    """
    algorithm, _, expected = checksum.partition(":")
    if algorithm not in hashlib.algorithms_available or not expected:
        raise ValueError(f"checksum must be '<algorithm>:<hex digest>', e.g. 'sha256:...', got {checksum!r}")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / Path(urllib.parse.urlparse(url).path).name
    digest, received = hashlib.new(algorithm), 0
    handle, part = tempfile.mkstemp(dir=dest_dir, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or size
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != expected.lower() or (size is not None and received != size):
            raise CorruptDataError(
                f"download of {url} failed its check: got {received} bytes, {algorithm} {digest.hexdigest()}; "
                f"expected {size if size is not None else 'any number of'} bytes, {algorithm} {expected}. "
                f"Nothing was kept; try again, or download it by hand."
            )
        os.replace(part, dest)
    finally:
        Path(part).unlink(missing_ok=True)
    return dest


def _found_in(place):
    """The Tiny ImageNet source at `place`, or None."""
    if place.is_file():
        return place if place.name.endswith((".zip", ".tar.gz", ".tgz", ".tar")) else None
    if (place / "wnids.txt").is_file():
        return place
    candidates = [place / FOLDER, *(place / archive for archive in ARCHIVES)]
    return next((c for c in candidates if (c / "wnids.txt").is_file() or c.is_file()), None)


def _stamp(source, cache_dir=None):
    """What identifies the dataset's content: for a folder every file's name, size and
    modification time; for an archive the sha256 of its bytes (remembered per path, size and
    mtime, so it is computed once per archive)."""
    if source.is_dir():
        listing = sorted((p.relative_to(source).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                         for p in source.rglob("*") if p.is_file())
        return [hashlib.sha256(json.dumps(listing).encode()).hexdigest()]
    stat = source.stat()
    memo = cache_root(cache_dir) / "archive-hashes.json"
    known = json.loads(memo.read_text()) if memo.is_file() else {}
    key = f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    if key not in known:
        digest = hashlib.sha256()
        with open(source, "rb") as f:
            while chunk := f.read(1 << 22):
                digest.update(chunk)
        known[key] = digest.hexdigest()
        write_text_atomic(memo, json.dumps(known, indent=0))
    return [known[key]]


def _key(*parts):
    return hashlib.sha256(json.dumps([CACHE_FORMAT, *map(str, parts)]).encode()).hexdigest()[:16]


def _cached(name, size, key, cache_dir, build):
    """The cached Dataset, built by `build(folder)` into a temporary folder and renamed into place."""
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
    arrays_of = {a: np.load(final / f"{a}.npy", mmap_mode="r") for a in _ARRAYS}
    return Dataset(name=name, classes=classes, **arrays_of)


def _read_tiny(source, wanted, progress=False):
    """Yield (path inside tiny-imagenet-200/, bytes) for each file `wanted(path)` accepts.

    Archives are read in their stored order, a tar.gz as one sequential stream.
    """
    if source.is_dir():
        paths = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
        for path in tqdm([p for p in paths if wanted(p)], desc=f"decode {source.name}", disable=not progress):
            yield path, (source / path).read_bytes()
        return
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                infos = [(path, i) for i in archive.infolist() if (path := _inside(i.filename)) and wanted(path)]
                for path, info in tqdm(infos, desc=f"decode {source.name}", disable=not progress):
                    yield path, archive.read(info)
        else:
            with open(source, "rb") as raw, tqdm.wrapattr(
                raw, "read", total=source.stat().st_size, unit="B", unit_scale=True,
                desc=f"decode {source.name}", disable=not progress,
            ) as stream, tarfile.open(fileobj=stream, mode="r|*") as archive:
                for member in archive:
                    if member.isfile() and (path := _inside(member.name)) and wanted(path):
                        yield path, archive.extractfile(member).read()
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        problem = f"{source} cannot be read as a zip or tar archive (damaged? cut short?): {error}"
        raise CorruptDataError(problem) from error


def _inside(name):
    """`name` relative to the archive's tiny-imagenet-200/ folder, or None outside it."""
    head, _, rest = name.removeprefix("./").partition("/")
    return rest if head == FOLDER and rest else None


def _natural(name):
    """Sort key that puts val_9 before val_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _decode_tiny(source, size, out, skip_bad_images=False):
    """Decode Tiny ImageNet's train and val images into `out`, in label order."""
    texts, paths, unreadable = {}, [], []
    with open(out / "decoded.u8", "wb") as decoded:
        for path, data in _read_tiny(source, _WANTED.fullmatch, progress=True):
            if path.endswith(".txt"):
                texts[path] = data.decode()
                continue
            try:
                with Image.open(BytesIO(data)) as image:
                    pixels = fit(image, size)
            except (OSError, SyntaxError, ValueError) as error:  # what PIL raises for bad image data
                unreadable.append(f"{FOLDER}/{path} ({error})")
                continue
            decoded.write(pixels.tobytes())
            paths.append(path)
    if unreadable and not skip_bad_images:
        raise CorruptDataError(f"{len(unreadable)} unreadable image(s) in {source}:\n  " + "\n  ".join(unreadable)
                               + "\nTo fix: replace or delete them, or set skip_bad_images: true in the "
                                 "params to leave them out.")
    (out / "skipped.json").write_text(json.dumps(unreadable))
    missing = [f"{FOLDER}/{t}" for t in ("wnids.txt", "val/val_annotations.txt") if t not in texts]
    if missing or not paths:
        absent = ", ".join(missing) or "images"
        raise CorruptDataError(f"{source} is not Tiny ImageNet in its official layout: no {absent}")
    classes = sorted(texts["wnids.txt"].split())
    label_of = {wnid: i for i, wnid in enumerate(classes)}
    val_wnid = dict(line.split("\t")[:2] for line in texts["val/val_annotations.txt"].splitlines() if "\t" in line)
    wnids = [p.split("/")[1] if p.startswith("train/") else val_wnid.get(p.rpartition("/")[2]) for p in paths]
    unlabelled = [f"{FOLDER}/{p} (class {w or 'not in val_annotations.txt'})"
                  for p, w in zip(paths, wnids) if w not in label_of]
    if unlabelled:
        raise CorruptDataError(
            f"{len(unlabelled)} image(s) in {source} have no class of {FOLDER}/wnids.txt "
            f"(their train folder or their line of val/val_annotations.txt): "
            f"{', '.join(unlabelled[:5])}{' ...' if len(unlabelled) > 5 else ''}. "
            "To fix: add the class to wnids.txt, or correct or remove those images."
        )
    for split in ("train", "val"):
        present = {w for p, w in zip(paths, wnids) if p.startswith(split + "/")}
        empty = [w for w in classes if w not in present]
        if empty:
            where = f"{FOLDER}/train/<wnid>/images/" if split == "train" else f"{FOLDER}/val/val_annotations.txt"
            raise CorruptDataError(
                f"{source}: {len(empty)} class(es) of wnids.txt have no {split} image "
                f"({where}): {', '.join(empty[:5])}{' ...' if len(empty) > 5 else ''}. To fix: restore "
                "their images, or remove them from wnids.txt.")
    images = np.memmap(out / "decoded.u8", np.uint8, "r", shape=(len(paths), size, size, 3))
    for split in ("train", "val"):
        order = sorted(
            (i for i, p in enumerate(paths) if p.startswith(split + "/")),
            key=lambda i: (label_of[wnids[i]], _natural(paths[i])),
        )
        stored = np.lib.format.open_memmap(out / f"{split}_images.npy", "w+", np.uint8, (len(order), size, size, 3))
        for start in range(0, len(order), _COPY_CHUNK):
            stored[start : start + _COPY_CHUNK] = images[order[start : start + _COPY_CHUNK]]
        stored.flush()
        del stored
        np.save(out / f"{split}_labels.npy", np.array([label_of[wnids[i]] for i in order], np.int32))
    del images
    (out / "decoded.u8").unlink()
    (out / "classes.json").write_text(json.dumps(classes))


def _tfds_builder(name, data_dir, download):
    """The tfds builder of `name`, prepared (downloading where allowed) if it is not yet."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    if builder.info.supervised_keys is None:
        raise ValueError(f"tfds dataset {name!r} has no (image, label) supervised keys to classify with")
    if not builder.is_prepared():
        manual = manual_dir(builder)
        if name == IMAGENET and not all((manual / a).is_file() for a in IMAGENET_ARCHIVES):
            raise DataNotFoundError(
                f"imagenet2012 is not prepared in {builder.data_dir}, and tfds's builder needs "
                f"{' and '.join(IMAGENET_ARCHIVES)} (from https://image-net.org/download-images) in "
                f"{manual}: put them there (or set data_dir to the tfds folder that holds "
                f"downloads/manual/ with them), then run the study again or "
                f"`tfds build imagenet2012 --data_dir {manual.parents[1]}`."
            )
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


def _label_names(builder):
    return list(builder.info.features[builder.info.supervised_keys[1]].names)


def _decode_tfds(builder, size, out):
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
    (out / "classes.json").write_text(json.dumps(_classes(builder)))
