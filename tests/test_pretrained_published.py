"""The published run of a pretrained source (docs/pretrained-fer/, docs/pretrained.md): its
report redraws from its own table with no data, training or networks, and every number the
page and the README quote is the one its tables hold."""

import re
from pathlib import Path

import pandas as pd
import pytest

from test_findings_published import redrawn

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "docs" / "pretrained-fer"
KEPT = ("results.csv", "params.yaml", "halves.json", "source_scores.csv")  # what the redraw reads
NUMBER = r"[+-]?\d+\.\d"
QUOTED = re.compile(rf"({NUMBER})%?(?: points)?,? \(({NUMBER}) to ({NUMBER})\)")


def _triples():
    """Every (mean, low, high) of freeze_depth.csv, in points as the page rounds them."""
    depth = pd.read_csv(PUBLISHED / "freeze_depth.csv")
    out = set()
    for m, lo, hi in (("mean", "low", "high"), *((p, f"{p}_low", f"{p}_high") for p in ("to_base", "to_reference"))):
        out |= {tuple(f"{v:+.1f}" for v in row) for row in depth[[m, lo, hi]].dropna().itertuples(index=False)}
    return out


@pytest.mark.parametrize("page", ["docs/pretrained.md", "README.md"])
def test_every_interval_quoted_is_one_the_run_holds(page):
    text = " ".join((ROOT / page).read_text().split())
    if page == "README.md":  # its paragraph on this run
        text = text[text.index("**How deep to freeze"):].split("- **", 1)[0]
    quoted = [tuple(f"{float(v):+.1f}" for v in q) for q in QUOTED.findall(text)]
    assert quoted
    assert not [q for q in quoted if q not in _triples()], [q for q in quoted if q not in _triples()]


def test_the_table_of_the_page_is_the_run_s_means():
    depth = pd.read_csv(PUBLISHED / "freeze_depth.csv").set_index(["treatment", "n"])["mean"]
    page = (ROOT / "docs" / "pretrained.md").read_text()
    for n, unit in enumerate(("activation_2", "add_1", "add_2", "add_3"), start=1):
        cells = " | ".join(f"{depth[t, n]:.1f}" for t in ("AnB", "AnB+", "AnBcut", "AnBcut+"))
        assert f"| {n} (`{unit}`) | {cells} |" in page, n


@pytest.mark.slow
def test_the_report_redraws_from_the_published_table(tmp_path):
    redrawn(PUBLISHED, KEPT, tmp_path)
    for name in ("freeze_depth.csv", "source_scores.csv", "source_correlations.csv"):
        assert (tmp_path / name).read_text() == (PUBLISHED / name).read_text(), f"{name} differs"
    assert "Freeze nothing: fine-tune the whole source" in (tmp_path / "summary.html").read_text()
    assert not [p for p in PUBLISHED.rglob("*") if p.suffix in (".keras", ".h5")]
