"""Tiny ImageNet 200 in its official layout, found, downloaded where allowed, and decoded into
the cache.

The source is an extracted `tiny-imagenet-200/` folder, the official 64 px
`tiny-imagenet-200.zip` or the 32 px `tiny-imagenet-200-32px.tar.gz`, looked for in `data_dir`,
then `$TRANSFER_DATA_DIR`, then the cache, and downloaded into the cache (its md5 and size
checked) when it is nowhere. Its classes are the sorted wnids; its splits are stored in label
order, then file number order. The cache key is the source's content: a folder's every file
name, size and modification time, an archive's sha256.
"""

import hashlib
import http.client
import importlib.resources
import json
import os
import re
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

from ..atomic import write_text_atomic
from . import cache
from .errors import CorruptDataError, DataNotFoundError
from .paths import cache_root, env_path
from .resize import fit

NAME = "tiny_imagenet"
TRAIN_PER_CLASS = 500  # training images of each class (and 50 validation images)
OFFICIAL_FOLDER = "tiny-imagenet-200"  # the official layout's top folder, extracted or in an archive
ARCHIVES = ("tiny-imagenet-200.zip", "tiny-imagenet-200-32px.tar.gz")
URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
# No sha256 of the official zip is published; its md5 and size are, by many loaders.
CHECKSUM = "md5:90528d7ca1a48142e341f4ef8d21d0de"
SIZE = 248_100_043
_WANTED = re.compile(r"wnids\.txt|val/val_annotations\.txt|(train/[^/]+/images|val/images)/[^/]+\.jpe?g", re.I)
_COPY_CHUNK = 4096  # images per slice when writing the cache in label order


def class_names(name, data_dir=None, cache_dir=None, download=True):
    """The sorted wnids of the source ``locate`` finds, read without decoding images."""
    source = locate(data_dir, cache_dir, download)
    for _, data in _read(source, lambda path: path == "wnids.txt"):
        return sorted(data.decode().split())
    raise CorruptDataError(f"{source} has no {OFFICIAL_FOLDER}/wnids.txt: is it Tiny ImageNet in its "
                           "official layout?")


def published_classes(name):
    """The 200 wnids, known without the data (shipped in transferlib/resources)."""
    return importlib.resources.files("transferlib").joinpath(
        "resources", "tiny_imagenet_wnids.txt").read_text().split()


def load(name, size, *, data_dir=None, cache_dir=None, download=True, skip_bad_images=False,
         val_fraction=None):
    """The Dataset at ``size`` px, decoded once then cached. An image that cannot be decoded is
    an error naming it; with ``skip_bad_images`` it is left out and counted (in the cache's
    ``skipped.json``) instead."""
    source = locate(data_dir, cache_dir, download)
    key = cache.key(*_stamp(source, cache_dir), *(["skip bad images"] if skip_bad_images else []))
    return cache.cached(name, size, key, cache_dir, lambda out: _decode(source, size, out, skip_bad_images))


def locate(data_dir=None, cache_dir=None, download=True):
    """Path of the Tiny ImageNet source (folder or archive), downloading the official zip if needed.

    Where `data_dir` (absolute: see ``paths``) or else $TRANSFER_DATA_DIR is set, the data must
    be there (the folder `tiny-imagenet-200/` or one of ARCHIVES in it, or it such a folder or
    archive itself): an error names it otherwise, with no fall-back elsewhere and no download. With neither set,
    the cache is looked in, and the official zip downloaded into it where absent.
    """
    for label, place in (("data_dir", data_dir), ("$TRANSFER_DATA_DIR", env_path("TRANSFER_DATA_DIR"))):
        if place:
            place = Path(place)
            if found := _found_in(place):
                return found
            raise DataNotFoundError(
                f"Tiny ImageNet not found in {place} ({label}): expected {OFFICIAL_FOLDER}/ (with wnids.txt), "
                f"{ARCHIVES[0]} or {ARCHIVES[1]} there, or {label} naming one of them.\n"
                f"To fix: point {label} at the folder or archive that holds Tiny ImageNet, or unset "
                f"it to use the cache ({cache_root(cache_dir)}) and download {URL} there.")
    folder = cache_root(cache_dir)
    if found := _found_in(folder):
        return found
    if not download:
        raise DataNotFoundError(f"Tiny ImageNet not found in the cache {folder} and not downloaded "
                                "(download=False); set TRANSFER_DATA_DIR to the folder holding it.")
    try:
        return fetch(URL, folder, CHECKSUM, SIZE)
    except (OSError, http.client.HTTPException) as error:
        raise DataNotFoundError(
            f"Tiny ImageNet is not in the cache {folder} and downloading {URL} failed: {error}\n"
            f"To fix: download it (or get the 32 px archive) into {folder}, or set "
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
    candidates = [place / OFFICIAL_FOLDER, *(place / archive for archive in ARCHIVES)]
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


def _read(source, wanted, progress=False):
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
    return rest if head == OFFICIAL_FOLDER and rest else None


def _natural(name):
    """Sort key that puts val_9 before val_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _decode(source, size, out, skip_bad_images=False):
    """Decode Tiny ImageNet's train and val images into `out`, in label order."""
    texts, paths, unreadable = {}, [], []
    with open(out / "decoded.u8", "wb") as decoded:
        for path, data in _read(source, _WANTED.fullmatch, progress=True):
            if path.endswith(".txt"):
                texts[path] = data.decode()
                continue
            try:
                with Image.open(BytesIO(data)) as image:
                    pixels = fit(image, size)
            except (OSError, SyntaxError, ValueError) as error:  # what PIL raises for bad image data
                unreadable.append(f"{OFFICIAL_FOLDER}/{path} ({error})")
                continue
            decoded.write(pixels.tobytes())
            paths.append(path)
    if unreadable and not skip_bad_images:
        raise CorruptDataError(f"{len(unreadable)} unreadable image(s) in {source}:\n  " + "\n  ".join(unreadable)
                               + "\nTo fix: replace or delete them, or set skip_bad_images: true in the "
                                 "params to leave them out.")
    (out / "skipped.json").write_text(json.dumps(unreadable))
    missing = [f"{OFFICIAL_FOLDER}/{t}" for t in ("wnids.txt", "val/val_annotations.txt") if t not in texts]
    if missing or not paths:
        absent = ", ".join(missing) or "images"
        raise CorruptDataError(f"{source} is not Tiny ImageNet in its official layout: no {absent}")
    classes = sorted(texts["wnids.txt"].split())
    label_of = {wnid: i for i, wnid in enumerate(classes)}
    val_wnid = dict(line.split("\t")[:2] for line in texts["val/val_annotations.txt"].splitlines() if "\t" in line)
    wnids = [p.split("/")[1] if p.startswith("train/") else val_wnid.get(p.rpartition("/")[2]) for p in paths]
    unlabelled = [f"{OFFICIAL_FOLDER}/{p} (class {w or 'not in val_annotations.txt'})"
                  for p, w in zip(paths, wnids) if w not in label_of]
    if unlabelled:
        raise CorruptDataError(
            f"{len(unlabelled)} image(s) in {source} have no class of {OFFICIAL_FOLDER}/wnids.txt "
            f"(their train folder or their line of val/val_annotations.txt): "
            f"{', '.join(unlabelled[:5])}{' ...' if len(unlabelled) > 5 else ''}. "
            "To fix: add the class to wnids.txt, or correct or remove those images."
        )
    for split in ("train", "val"):
        present = {w for p, w in zip(paths, wnids) if p.startswith(split + "/")}
        empty = [w for w in classes if w not in present]
        if empty:
            where = f"{OFFICIAL_FOLDER}/train/<wnid>/images/" if split == "train" else f"{OFFICIAL_FOLDER}/val/val_annotations.txt"
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
