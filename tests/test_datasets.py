"""Tests for transferlib.data: finding, downloading, decoding and caching the datasets.

The real 32 px Tiny ImageNet archive (../shared/datasets) is decoded once per session by
conftest's `tiny_imagenet` fixture into its `data_cache`; format, download and error tests use
small archives built here.
"""

import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transferlib import data as datasets
from transferlib.data import paths, splits, tfds_arrays
from transferlib.data import tiny_imagenet as tiny_kind  # `tiny_imagenet` is conftest's fixture

TINY_32PX = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "tiny-imagenet-200-32px.tar.gz"
needs_tiny = pytest.mark.skipif(
    not TINY_32PX.exists(), reason=f"Tiny ImageNet 32 px archive not at {TINY_32PX} (see shared/datasets/README.md)"
)
FAKE_WNIDS = ("n01443537", "n02123045", "n04099969")  # goldfish, tabby, rocking chair


@pytest.fixture(autouse=True)
def no_env_data(monkeypatch):
    """Tests see neither the user's data dir nor their cache."""
    monkeypatch.delenv("TRANSFER_DATA_DIR", raising=False)
    monkeypatch.delenv("TRANSFER_CACHE_DIR", raising=False)


def make_tiny(parent, images_per_class=4, val_images=6, side=64):
    """A small Tiny ImageNet in the official layout under `parent`; returns its tiny-imagenet-200 folder.

    Real JPEGs of random pixels, one of them greyscale; plus the files a loader must skip
    (words.txt, boxes, the unlabelled test split).
    """
    rng = np.random.default_rng(0)
    root = parent / tiny_kind.OFFICIAL_FOLDER
    (root / "val" / "images").mkdir(parents=True)
    (root / "test" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(reversed(FAKE_WNIDS)) + "\n")  # not sorted, as in the original
    (root / "words.txt").write_text("n01443537\tgoldfish\n")

    def jpeg(path, grey=False):
        pixels = rng.integers(0, 256, (side, side) if grey else (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path, quality=90)

    for wnid in FAKE_WNIDS:
        (root / "train" / wnid / "images").mkdir(parents=True)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for i in range(images_per_class):
            jpeg(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", grey=(wnid, i) == (FAKE_WNIDS[1], 2))
    annotations = []
    for i in range(val_images):
        jpeg(root / "val" / "images" / f"val_{i}.JPEG")
        annotations.append(f"val_{i}.JPEG\t{FAKE_WNIDS[i % len(FAKE_WNIDS)]}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(annotations) + "\n")
    jpeg(root / "test" / "images" / "test_0.JPEG")
    return root


def archive(root, kind):
    """`root` (a tiny-imagenet-200 folder) packed as "zip" or "gztar" beside it, named as the real ones."""
    base = root.parent / ("tiny-imagenet-200" if kind == "zip" else "tiny-imagenet-200-32px")
    return Path(shutil.make_archive(str(base), kind, root_dir=root.parent, base_dir=root.name))


def expected(root, side):
    """What load must return for the small dataset, computed from its files with PIL directly."""
    wnids = sorted(FAKE_WNIDS)

    def pixels(path):
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB").resize((side, side), Image.Resampling.BILINEAR))

    train = [p for w in wnids for p in sorted((root / "train" / w / "images").iterdir())]
    val_wnid = dict(line.split("\t")[:2] for line in (root / "val" / "val_annotations.txt").read_text().splitlines())
    val = sorted((root / "val" / "images").iterdir(), key=lambda p: (val_wnid[p.name], int(p.stem.split("_")[1])))
    return {
        "classes": tuple(wnids),
        "train_images": np.stack([pixels(p) for p in train]),
        "train_labels": np.array([wnids.index(p.parts[-3]) for p in train]),
        "val_images": np.stack([pixels(p) for p in val]),
        "val_labels": np.array([wnids.index(val_wnid[p.name]) for p in val]),
    }


def assert_dataset_equal(dataset, wanted):
    assert dataset.classes == wanted["classes"]
    for field in ("train_images", "train_labels", "val_images", "val_labels"):
        np.testing.assert_array_equal(getattr(dataset, field), wanted[field], err_msg=field)


def cache_files(cache):
    return {p.relative_to(cache).as_posix(): p.stat().st_mtime_ns for p in (cache / "arrays").rglob("*")}


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve(tmp_path):
    """serve(folder) -> base URL of a real HTTP server on 127.0.0.1 serving `folder`, stopped after the test."""
    servers = []

    def start(folder):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the real 32 px Tiny ImageNet ------------------------------------------------------------


@needs_tiny
def test_class_names_are_200_sorted_wnids(tmp_path):
    names = datasets.class_names(datasets.TINY_IMAGENET, data_dir=TINY_32PX, cache_dir=tmp_path)
    assert len(names) == 200 and names == sorted(set(names))
    assert all(len(n) == 9 and n[0] == "n" and n[1:].isdigit() for n in names)


def test_load_real_archive(tiny_imagenet):
    side = tiny_imagenet.train_images.shape[1]
    assert tiny_imagenet.classes == tuple(datasets.class_names(datasets.TINY_IMAGENET, data_dir=TINY_32PX))
    assert tiny_imagenet.train_images.shape == (100_000, side, side, 3) and tiny_imagenet.train_images.dtype == np.uint8
    assert tiny_imagenet.val_images.shape == (10_000, side, side, 3) and tiny_imagenet.val_images.dtype == np.uint8
    assert tiny_imagenet.train_labels.dtype == tiny_imagenet.val_labels.dtype == np.int32
    assert (np.bincount(tiny_imagenet.train_labels, minlength=200) == 500).all()
    assert (np.bincount(tiny_imagenet.val_labels, minlength=200) == 50).all()
    assert (np.diff(tiny_imagenet.train_labels) >= 0).all() and (np.diff(tiny_imagenet.val_labels) >= 0).all()
    assert not tiny_imagenet.train_images.flags.writeable  # a read-only memmap of the cache


def test_real_images_sit_at_their_labels(tiny_imagenet):
    """Images read straight from the archive (and resized with PIL) match the loaded ones: both
    splits in label order, then file number order."""
    dataset, side = tiny_imagenet, tiny_imagenet.train_images.shape[1]
    first, last = dataset.classes[0], dataset.classes[-1]
    blobs, annotations = {}, ""
    with tarfile.open(TINY_32PX, "r|gz") as tar:
        for member in tar:
            name = member.name.removeprefix(f"{tiny_kind.OFFICIAL_FOLDER}/")
            if name.startswith(("val/images/", f"train/{first}/images/", f"train/{last}/images/")):
                blobs[name] = tar.extractfile(member).read()
            elif name == "val/val_annotations.txt":
                annotations = tar.extractfile(member).read().decode()
    number = lambda name: int(name.rpartition("_")[2].split(".")[0])  # noqa: E731
    val_of = {}
    for line in annotations.splitlines():
        file, wnid = line.split("\t")[:2]
        val_of.setdefault(wnid, []).append(f"val/images/{file}")
    wanted = {
        f"train/{first}/images/{first}_0.JPEG": ("train", 0, first),
        f"train/{first}/images/{first}_10.JPEG": ("train", 10, first),
        f"train/{last}/images/{last}_499.JPEG": ("train", 99_999, last),
        min(val_of[first], key=number): ("val", 0, first),
        max(val_of[last], key=number): ("val", 9_999, last),
    }
    for name, (split, index, wnid) in wanted.items():
        with Image.open(io.BytesIO(blobs[name])) as image:
            pixels = np.asarray(image.convert("RGB").resize((side, side), Image.Resampling.BILINEAR))
        np.testing.assert_array_equal(getattr(dataset, f"{split}_images")[index], pixels, err_msg=name)
        assert dataset.classes[getattr(dataset, f"{split}_labels")[index]] == wnid


def test_second_load_comes_from_the_cache(tiny_imagenet, data_cache, monkeypatch):
    side = tiny_imagenet.train_images.shape[1]
    folder = Path(tiny_imagenet.train_images.filename).parent
    assert folder.parent == data_cache / "arrays" and not folder.name.startswith(".")
    before = cache_files(data_cache)

    def no_decoding(*args):
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(tiny_kind, "_decode", no_decoding)
    start = time.perf_counter()
    again = datasets.load(datasets.TINY_IMAGENET, side, data_dir=TINY_32PX, cache_dir=data_cache)
    seconds = time.perf_counter() - start
    print(f"warm load: {seconds * 1000:.1f} ms")
    assert seconds < 1.0
    assert cache_files(data_cache) == before  # nothing written, renamed or left over
    assert Path(again.train_images.filename) == folder / "train_images.npy"
    np.testing.assert_array_equal(again.val_images[:100], tiny_imagenet.val_images[:100])


@pytest.mark.slow
@needs_tiny
def test_killed_decode_leaves_no_cache_that_reads_as_complete(tmp_path):
    """SIGKILL a third of the way into a decode: only a temporary folder remains, never a final
    one, and the next load removes it."""
    code = "import sys; from transferlib import data; data.load('tiny_imagenet', 32, sys.argv[1], sys.argv[2])"
    env = {**os.environ, "PYTHONPATH": str(Path(datasets.__file__).parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(TINY_32PX), str(tmp_path)], env=env, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while sum(p.stat().st_size for p in tmp_path.glob("arrays/.*/decoded.u8")) < 10_000_000:
            assert process.poll() is None and time.monotonic() < deadline, "decode never started"
            time.sleep(0.05)
    finally:
        process.kill()  # SIGKILL: no cleanup code runs
        process.wait(timeout=10)
    left = [p.name for p in (tmp_path / "arrays").iterdir()]
    assert left and all(name.startswith(".") and name.endswith(".tmp") for name in left)
    again = datasets.load("tiny_imagenet", 32, TINY_32PX, tmp_path)  # the next start cleans up
    assert [p.name for p in (tmp_path / "arrays").iterdir()] == [Path(again.train_images.filename).parent.name]


# --- formats, download and errors, on a small Tiny ImageNet built here -----------------------


@pytest.mark.parametrize("side", [64, 32])
def test_folder_zip_and_tar_load_the_same_images(tmp_path, side):
    root = make_tiny(tmp_path / "data")
    wanted = expected(root, side)
    sources_by_kind = {"folder": root, "zip": archive(root, "zip"), "tar.gz": archive(root, "gztar")}
    for kind, source in sources_by_kind.items():
        dataset = datasets.load(datasets.TINY_IMAGENET, side, data_dir=source, cache_dir=tmp_path / kind)
        assert_dataset_equal(dataset, wanted)
        assert datasets.class_names(datasets.TINY_IMAGENET, data_dir=source) == list(wanted["classes"])


def test_lookup_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    root = make_tiny(tmp_path / "folder")
    zipped = archive(root, "zip")
    cache = tmp_path / "cache"
    (tmp_path / "env").mkdir()
    cached_zip = shutil.copy(zipped, tmp_path / "env" / zipped.name)
    assert tiny_kind.locate(tmp_path / "folder", cache) == root  # a folder holding tiny-imagenet-200/
    assert tiny_kind.locate(zipped, cache) == zipped  # an archive itself
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(tmp_path / "env"))
    assert tiny_kind.locate(None, cache) == cached_zip
    assert tiny_kind.locate(tmp_path / "folder", cache) == root  # the argument comes first
    monkeypatch.delenv("TRANSFER_DATA_DIR")
    cache.mkdir()
    shutil.move(cached_zip, cache / zipped.name)
    assert tiny_kind.locate(None, cache, download=False) == cache / zipped.name


def test_a_place_given_must_hold_the_data(tmp_path, monkeypatch):
    """data_dir or $TRANSFER_DATA_DIR set to a folder without Tiny ImageNet is an error naming
    it, even where another place (the environment, the cache) holds the data: no fall-back."""
    root = make_tiny(tmp_path / "elsewhere")
    cache = tmp_path / "cache"
    cache.mkdir()
    archive(root, "zip").rename(cache / "tiny-imagenet-200.zip")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(datasets.DataNotFoundError, match=rf"not found in {tmp_path / 'empty'} \(data_dir\)"):
        tiny_kind.locate(tmp_path / "empty", cache)
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(datasets.DataNotFoundError, match=r"\(\$TRANSFER_DATA_DIR\)(.|\n)*unset it"):
        tiny_kind.locate(None, cache)


def test_relative_env_path_resolves_from_where_the_command_was_typed(tmp_path, monkeypatch):
    """A kernel works in its notebook's folder; a relative $TRANSFER_DATA_DIR written for the
    folder its Jupyter server started in ($PWD) still finds the data."""
    make_tiny(tmp_path / "repo" / "data")
    (tmp_path / "repo" / "notebooks").mkdir()
    monkeypatch.setenv("TRANSFER_DATA_DIR", "data")
    monkeypatch.setenv("PWD", str(tmp_path / "repo"))
    monkeypatch.chdir(tmp_path / "repo" / "notebooks")
    assert paths.env_path("TRANSFER_DATA_DIR") == tmp_path / "repo" / "data"
    assert tiny_kind.locate(None, tmp_path / "cache") == tmp_path / "repo" / "data" / "tiny-imagenet-200"
    monkeypatch.chdir(tmp_path / "repo")  # the working folder first
    (tmp_path / "repo" / "notebooks" / "data").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "notebooks")
    assert paths.env_path("TRANSFER_DATA_DIR") == tmp_path / "repo" / "notebooks" / "data"


def test_download_checks_then_loads(tmp_path, serve, monkeypatch):
    """Nothing local: load downloads the zip from a real local HTTP server, checks it, decodes it."""
    root = make_tiny(tmp_path / "served")
    zipped = archive(root, "zip")
    url = f"{serve(zipped.parent)}/{zipped.name}"
    digest = hashlib.sha256(zipped.read_bytes()).hexdigest()
    monkeypatch.setattr(tiny_kind, "URL", url)
    monkeypatch.setattr(tiny_kind, "CHECKSUM", f"sha256:{digest}")
    monkeypatch.setattr(tiny_kind, "SIZE", zipped.stat().st_size)
    cache = tmp_path / "cache"
    dataset = datasets.load(datasets.TINY_IMAGENET, 32, cache_dir=cache)
    assert_dataset_equal(dataset, expected(root, 32))
    assert (cache / zipped.name).read_bytes() == zipped.read_bytes()
    assert not list(cache.glob(".*.part"))


def test_download_refuses_a_bad_checksum(tmp_path, serve):
    served = tmp_path / "served"
    served.mkdir()
    (served / "tiny-imagenet-200.zip").write_bytes(b"not the real thing")
    url = f"{serve(served)}/tiny-imagenet-200.zip"
    with pytest.raises(datasets.CorruptDataError, match="failed its check"):
        tiny_kind.fetch(url, tmp_path / "dest", "sha256:" + "0" * 64)
    assert list((tmp_path / "dest").iterdir()) == []  # neither the file nor its partial download
    good = hashlib.sha256(b"not the real thing").hexdigest()
    with pytest.raises(datasets.CorruptDataError, match="got 18 bytes"):
        tiny_kind.fetch(url, tmp_path / "dest", f"sha256:{good}", size=19)
    assert tiny_kind.fetch(url, tmp_path / "dest", f"sha256:{good}", size=18).read_bytes() == b"not the real thing"


def test_not_found_names_the_places_and_the_url(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}/tiny-imagenet-200.zip"
    monkeypatch.setattr(tiny_kind, "URL", url)
    monkeypatch.delenv("TRANSFER_DATA_DIR", raising=False)
    cache = tmp_path / "cache"
    with pytest.raises(datasets.DataNotFoundError) as caught:
        datasets.load(datasets.TINY_IMAGENET, 32, cache_dir=cache)
    message = str(caught.value)
    for part in (str(cache), url, "refused", "set TRANSFER_DATA_DIR"):
        assert part in message, part
    with pytest.raises(datasets.DataNotFoundError, match=r"not found in the cache (.|\n)*download=False"):
        datasets.class_names(datasets.TINY_IMAGENET, cache_dir=cache, download=False)


def test_corrupt_images_are_named_in_one_error(tmp_path):
    root = make_tiny(tmp_path / "data")
    bad_train = root / "train" / FAKE_WNIDS[0] / "images" / f"{FAKE_WNIDS[0]}_1.JPEG"
    bad_train.write_bytes(bad_train.read_bytes()[:200])  # cut short
    (root / "val" / "images" / "val_3.JPEG").write_bytes(b"this is no image")
    cache = tmp_path / "cache"
    with pytest.raises(datasets.CorruptDataError) as caught:
        datasets.load(datasets.TINY_IMAGENET, 32, data_dir=archive(root, "gztar"), cache_dir=cache)
    message = str(caught.value)
    assert "2 unreadable image(s)" in message
    assert f"tiny-imagenet-200/train/{FAKE_WNIDS[0]}/images/{FAKE_WNIDS[0]}_1.JPEG" in message
    assert "tiny-imagenet-200/val/images/val_3.JPEG" in message
    assert list((cache / "arrays").iterdir()) == []  # no cache, complete or not


def test_skip_bad_images_leaves_them_out_and_counts_them(tmp_path):
    root = make_tiny(tmp_path / "data")
    (root / "val" / "images" / "val_3.JPEG").write_bytes(b"this is no image")
    dataset = datasets.load(datasets.TINY_IMAGENET, 32, data_dir=root, cache_dir=tmp_path / "cache",
                           skip_bad_images=True)
    assert len(dataset.val_labels) == 5 and len(dataset.train_labels) == 4 * len(FAKE_WNIDS)
    skipped = json.loads((Path(dataset.val_images.filename).parent / "skipped.json").read_text())
    assert len(skipped) == 1 and "val/images/val_3.JPEG" in skipped[0]


@pytest.mark.parametrize("damage", ["no train images", "no train folder", "unknown val wnid", "no val image"])
def test_a_class_without_images_or_an_unknown_label_is_named(tmp_path, damage):
    root = make_tiny(tmp_path / "data")
    wnid = FAKE_WNIDS[1]
    if damage == "no train images":
        for image in (root / "train" / wnid / "images").iterdir():
            image.unlink()
    elif damage == "no train folder":
        shutil.rmtree(root / "train" / wnid)
    annotations = root / "val" / "val_annotations.txt"
    if damage == "unknown val wnid":
        annotations.write_text(annotations.read_text().replace(f"val_0.JPEG\t{FAKE_WNIDS[0]}", "val_0.JPEG\tn99999999"))
    if damage == "no val image":
        lines = annotations.read_text().splitlines(keepends=True)
        for line in lines:
            if f"\t{wnid}\t" in line:
                (root / "val" / "images" / line.split("\t")[0]).unlink()
        annotations.write_text("".join(line for line in lines if f"\t{wnid}\t" not in line))
    with pytest.raises(datasets.CorruptDataError) as caught:
        datasets.load(datasets.TINY_IMAGENET, 32, data_dir=root, cache_dir=tmp_path / "cache")
    message = str(caught.value)
    if damage == "unknown val wnid":
        assert "val/images/val_0.JPEG" in message and "n99999999" in message
    else:
        assert wnid in message and ("no train image" if "train" in damage else "no val image") in message


def test_a_folder_changed_after_decoding_is_decoded_again(tmp_path):
    """Replacing, adding or deleting an image of a decoded folder gives the new arrays."""
    root = make_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    first = datasets.load(datasets.TINY_IMAGENET, 32, data_dir=root, cache_dir=cache)
    image = root / "train" / FAKE_WNIDS[0] / "images" / f"{FAKE_WNIDS[0]}_0.JPEG"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(image)
    changed = datasets.load(datasets.TINY_IMAGENET, 32, data_dir=root, cache_dir=cache)
    assert not np.array_equal(first.train_images[0], changed.train_images[0])
    assert changed.train_images[0].max() == 0
    image.unlink()
    fewer = datasets.load(datasets.TINY_IMAGENET, 32, data_dir=root, cache_dir=cache)
    assert len(fewer.train_labels) == len(first.train_labels) - 1


def test_an_archive_changed_in_place_is_decoded_again(tmp_path):
    root = make_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    zipped = archive(root, "zip")
    first = datasets.load(datasets.TINY_IMAGENET, 32, data_dir=zipped, cache_dir=cache)
    (root / "val" / "images" / "val_0.JPEG").unlink()
    annotations = root / "val" / "val_annotations.txt"
    annotations.write_text("".join(annotations.read_text().splitlines(keepends=True)[1:]))
    os.replace(archive(root, "zip"), zipped)
    again = datasets.load(datasets.TINY_IMAGENET, 32, data_dir=zipped, cache_dir=cache)
    assert len(again.val_labels) == len(first.val_labels) - 1


def test_bad_size_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="size must be a positive int"):
        datasets.load(datasets.TINY_IMAGENET, 0, data_dir=tmp_path, cache_dir=tmp_path)


# --- tfds: the real cifar100 builder preparing a small archive in CIFAR-100's binary layout ----


def fake_cifar100(download_dir, train=200, test=50):
    """A cifar-100-binary.tar.gz of `train` + `test` images where tfds expects its download.

    tfds trusts a file under the name it derives from the URL and the registered checksum, so the
    real builder prepares this instead of the 161 MB original. Image i is filled with i % 256 and
    has fine label i % 100. Returns the fine label names.
    """
    from tensorflow_datasets.core.download import checksums, resource

    fine = sorted(name for names in splits.CIFAR100_SUPERCLASSES.values() for name in names)
    coarse = list(splits.CIFAR100_SUPERCLASSES)
    coarse_of = {name: coarse.index(c) for c, names in splits.CIFAR100_SUPERCLASSES.items() for name in names}

    def records(count, offset):
        return b"".join(
            bytes([coarse_of[fine[i % 100]], i % 100]) + np.full(3072, (i + offset) % 256, np.uint8).tobytes()
            for i in range(count)
        )

    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    members = {
        "train.bin": records(train, 0),
        "test.bin": records(test, 7),
        "coarse_label_names.txt": "\n".join(coarse).encode() + b"\n",
        "fine_label_names.txt": "\n".join(fine).encode() + b"\n",
    }
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-100-binary/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    download_dir.mkdir(parents=True)
    path = download_dir / resource.get_dl_fname(url, checksums.get_all_url_infos()[url].checksum)
    path.write_bytes(packed.getvalue())
    Path(f"{path}.INFO").write_text(json.dumps({"urls": [url]}))
    return fine


def test_tfds_cifar100_prepared_by_tfds_then_cached(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow_datasets")
    data_dir, cache = tmp_path / "tfds", tmp_path / "cache"
    fine = fake_cifar100(data_dir / "downloads")
    dataset = datasets.load("cifar100", 32, data_dir=data_dir, cache_dir=cache)
    assert dataset.classes == tuple(fine)
    assert datasets.class_names("cifar100", data_dir=data_dir) == fine
    assert dataset.train_images.shape == (200, 32, 32, 3) and dataset.val_images.shape == (50, 32, 32, 3)
    # tfds shuffles at preparation: match images to labels by their fill value
    for split, offset in [("train", 0), ("val", 7)]:
        images, labels = getattr(dataset, f"{split}_images"), getattr(dataset, f"{split}_labels")
        fills = images[:, 0, 0, 0].astype(int)
        assert (images == fills[:, None, None, None]).all()
        index = (fills - offset) % 256
        assert sorted(index.tolist()) == list(range(len(labels)))
        assert (labels == index % 100).all()
    assert splits.man_made_natural(dataset.classes)[0][:2] == ["bed", "bicycle"]

    with monkeypatch.context() as patch:
        patch.setattr(tfds_arrays, "_decode", lambda *args: pytest.fail("decoded again"))
        assert datasets.load("cifar100", 32, data_dir=data_dir, cache_dir=cache).classes == tuple(fine)
    smaller = datasets.load("cifar100", 16, data_dir=data_dir, cache_dir=cache, download=False)
    assert smaller.train_images.shape == (200, 16, 16, 3)
    assert (smaller.train_images == smaller.train_images[:, :1, :1, :1]).all()  # a flat image stays flat


def test_tfds_not_prepared_without_download(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(datasets.DataNotFoundError, match="not prepared .*download=False"):
        datasets.load("cifar100", 32, data_dir=tmp_path / "tfds", cache_dir=tmp_path / "cache", download=False)
