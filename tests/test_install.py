"""transferlib installed from its wheel (not editable) runs a bundled study by name from any
folder: the notebooks and params files ship inside the package."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import SHARED_DATASETS, TINY_32PX

# Every test here starts processes or trains: the slow tier.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True, timeout=300)
    return next(out.glob("transferlib-*.whl"))


def test_the_wheel_holds_the_notebooks_the_studies_and_the_resources(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("transferlib/notebooks/base.ipynb", "transferlib/notebooks/transfer.ipynb",
                   "transferlib/notebooks/summary.ipynb", "transferlib/studies/quick.yaml",
                   "transferlib/studies/smoke.yaml", "transferlib/resources/tiny_imagenet_wnids.txt"):
        assert needed in names, needed


@pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")
def test_installed_wheel_runs_the_smoke_study_from_another_folder(wheel, tmp_path, data_cache, tiny_imagenet):
    """``pip install <wheel>`` alone, into a fresh virtual environment: pyproject's dependencies
    come from the package index (pip's cache, after the README's install), and the console
    script ``transferlib`` lists the studies, runs the smoke study from another folder (three of
    its cells: a base of each half and a transfer, so that both cell notebooks and the summary
    run from the installed copy) and redraws its summary without data."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}  # no checkout
    env |= {"TRANSFER_DATA_DIR": str(SHARED_DATASETS), "TRANSFER_CACHE_DIR": str(data_cache),
            "PATH": f"{venv / 'bin'}:{env['PATH']}"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=elsewhere,
                               env=env, capture_output=True, text=True, timeout=1500)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = subprocess.run([str(python), "-c", "import transferlib; print(transferlib.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not this checkout
    script = str(venv / "bin" / "transferlib")
    listed = subprocess.run([script, "studies"], cwd=elsewhere, env=env, capture_output=True, text=True,
                            timeout=120)
    assert "quick" in listed.stdout and "smoke" in listed.stdout and "Measured" in listed.stdout
    run = subprocess.run([script, "run", "smoke", "treatments=[AnB]", "reduced_images_per_class=[]"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (elsewhere / "results" / "smoke" / "summary.html").is_file()
    assert sorted(p.name for p in (elsewhere / "results" / "smoke" / "cells").glob("*.json")) == [
        "r0-A2B.json", "r0-baseA.json", "r0-baseB.json"]
    redrawn = subprocess.run([script, "summary", "results/smoke"], cwd=elsewhere,
                             env={**env, "TRANSFER_DATA_DIR": "/nowhere"}, capture_output=True, text=True,
                             timeout=600)
    assert redrawn.returncode == 0 and "redrawn" in redrawn.stdout, redrawn.stdout + redrawn.stderr
