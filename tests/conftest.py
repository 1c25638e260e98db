"""Shared fixtures (the real 32 px Tiny ImageNet archive from ../shared/datasets) and the test
tiers: ``pytest -m "not slow"`` is the fast tier (pure functions, tiny arrays: under 3 minutes
on 2 cores), ``pytest`` the full suite. A test is slow where it starts the runner, kernels or
other processes (the modules in PROCESSES), reads real data (a fixture in REAL_DATA), or is
marked ``@pytest.mark.slow`` by hand (long simulations, training)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROCESSES = {"test_data_train", "test_executors", "test_faults", "test_folder_study", "test_gpu_run",
             "test_install", "test_jax_backend", "test_kernels", "test_notebooks", "test_ray",
             "test_study", "test_warm_up"}
REAL_DATA = {"tiny_imagenet", "fake_imagenet", "data_cache"}

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
TINY_32PX = SHARED_DATASETS / "tiny-imagenet-200-32px.tar.gz"


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


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__ in PROCESSES or REAL_DATA & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
