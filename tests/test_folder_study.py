"""A smoke study end to end through the real notebooks: a small ResNet-18 on a folder of class
folders written by the test, its transfer units through the grid, results.csv, CKA and figures."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

# Every test here starts processes or trains: the slow tier.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def write_folder(root, classes=4, train=12, val=4):
    """train/<class>/ and val/<class>/ of 40 px PNGs: class k a stripe of its own colour on noise."""
    rng = np.random.default_rng(0)
    for k in range(classes):
        for side, count in (("train", train), ("val", val)):
            folder = root / side / f"class{k}"
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 80, (40, 40, 3), dtype=np.uint8)
                pixels[10 * k:10 * k + 10, :, k % 3] = 250
                Image.fromarray(pixels).save(folder / f"{i}.png")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("folder-study")
    write_folder(tmp / "images")
    params = {"study": "folder-smoke", "dataset": "folder", "data_dir": str(tmp / "images"),
              "network": "resnet18", "width": 0.125, "image_size": 32, "splits": [0],
              "treatments": ["BnB", "AnB+"], "layers": [2], "directions": ["AnB"], "epochs": 1,
              "batch_size": 8, "lr": 0.01, "lr_drops": [], "cka_images": 8}
    path = tmp / "folder-smoke.yaml"
    path.write_text(yaml.safe_dump(params))
    env = dict(os.environ, TRANSFER_CACHE_DIR=str(tmp / "cache"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "transferlib", "run", str(path), "--results", str(tmp / "results")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp / "results" / "folder-smoke"


def test_folder_resnet_study_runs_through_the_notebooks(study):
    df = pd.read_csv(study / "results.csv", keep_default_na=False)
    assert list(df.cell) == ["r0-baseA", "r0-baseB", "r0-B2B", "r0-A2B+"]
    assert list(df.unit) == ["", "", "stage1", "stage1"]  # n = 2: the stem and stage1 copied
    log = json.loads((study / "cells" / "r0-A2B+.ipynb").read_text())
    text = "".join(str(v) for c in log["cells"] for o in c.get("outputs", [])
                   for v in [o.get("text", ""), o.get("data", {}).get("text/markdown", "")])
    assert "units 1..2 (stem, stage1) copied from **r0-baseA**" in text
    assert "base r0-baseA loaded from r0-baseA.keras" in text
    html = [o.get("data", {}).get("text/html", "") for c in log["cells"] for o in c.get("outputs", [])]
    tables = "".join(h if isinstance(h, str) else "".join(h) for h in html)
    table = next(t for t in tables.split("</table>") if "copied-fine-tuned" in t)
    assert table.count("copied-fine-tuned") == 2 and all(u in table for u in ("stem", "stage4", "head"))
    cka = pd.read_csv(study / "cka.csv")
    assert list(cka[cka.cell == "r0-A2B+"].layer_name) == ["stem", "stage1", "stage2", "stage3", "stage4", "head"]
    assert (study / "figure2.png").is_file() and (study / "summary.html").is_file()
    assert (study / "table1.csv").read_text().splitlines()[0].startswith("layers")
