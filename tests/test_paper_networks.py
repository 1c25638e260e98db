"""The real summary on the paper's own networks: an exact reproduction must read as one.

``../shared/paper/official_networks.csv`` holds the 148 networks whose Caffe logs the official
repository (yosinski/convnet_transfer) publishes, each with its best-10 and final top-1. They
are written here into a results.csv as transferlib's runner would, and the summary's
statistics, Table 1, findings and Figures 2 and 3 are run on it. The expected numbers are the
issue's (12, point 10), recomputed from the same logs; the paper prints them rounded.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transferlib import table
from transferlib.summary import findings, plots, stats

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "paper" / "official_networks.csv"
pytestmark = pytest.mark.skipif(not OFFICIAL.exists(), reason=f"{OFFICIAL} is absent")

# The official natman split's half A is natural, B man-made; transferlib's mmn A is man-made.
_HALF = {"natman": {"A": "B", "B": "A"}}


def _split(split):
    return {"natman": "mmn", "all": "all"}.get(split, f"r{split}")


def official_rows():
    """The official networks as results.csv rows (cell ids as transferlib's grid names them)."""
    rows = []
    for r in pd.read_csv(OFFICIAL, dtype=str, keep_default_na=False).to_dict("records"):
        split, n, k = _split(r["split"]), int(r["n"]), int(r["images_per_class"])
        half = _HALF.get(r["split"], {})
        target = "AB" if r["target"] == "all" else half.get(r["target"], r["target"])
        kind = "base" if r["kind"] == "reduced_base" else r["kind"]
        plus = "+" if r["fine_tuned"] == "True" else ""
        source = ""
        if kind == "base":
            cell = f"{split}-base{target}" + (f"-k{k}" if k else "")
        elif kind == "random":
            cell = f"{split}-R{n}{target}"
        else:
            source_half = half.get(r["source"][-1], r["source"][-1])
            source = f"{split}-base{source_half}"
            cell = f"{split}-{source_half}{n}{target}{plus}"
        rows.append(dict(cell=cell, split=split, kind=kind, source=source, target=target, n=n,
                         fine_tuned=bool(plus), images_per_class=k,
                         top1=float(r["final_top1"]), top5=math.nan,
                         best10_top1=float(r["best10_top1"]), validations=int(r["validations"]),
                         train_seconds=0.0, wall_seconds=0.0, params_hash="official",
                         history=[]))
    return rows


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    path = tmp_path_factory.mktemp("paper") / "results.csv"
    for row in official_rows():
        table.append_row(path, row)
    return table.read(path)


def test_the_paper_reports_the_mean_of_the_10_best(paper):
    assert len(paper) == 148
    assert stats.reported_metric(paper) == "best10_top1"
    assert stats.reported_metric(paper.assign(validations=49)) == "top1"
