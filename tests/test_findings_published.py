"""The published runs (docs/findings/, on a CPU, docs/findings-gpu/, docs/block-shuffle/ and
docs/surgical/) are reproducible from their own tables: the summary redrawn from the published
results.csv, with no training, no data and no saved networks, gives the published verdicts and
Table 1 (and the block-shuffle gains, the surgical verdicts) exactly."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNS = {"findings": "Warning: 5 of 6 bases still rose more than 1 point",  # what each report says of its bases
        "findings-gpu": "Every base rose at most 1 point over its last fifth",
        "block-shuffle": "Warning: 2 of 8 bases still rose more than 1 point",
        "surgical": "Warning: 1 of 3 bases still rose more than 1 point"}
REDRAWN = {"block-shuffle": ("block_shuffle.csv", "block_shuffle_verdicts.csv"),  # beyond verdicts.csv, table1.csv
           "surgical": ("surgical_verdicts.csv",)}
JUDGED = {"surgical": ("surgical_verdicts.csv", "shift")}  # the study's verdicts: those of its own claim
FIGURES = {"surgical": ("surgical.png",)}  # where not figures 2 and 3 (a study of its bases and shifted targets)
REDRAWN_FROM = ("results.csv", "params.yaml", "halves.json")  # what the summary reads


@pytest.mark.slow
@pytest.mark.parametrize("study", RUNS)
def test_the_published_report_redraws_from_the_published_table(tmp_path, study):
    published = ROOT / "docs" / study
    for name in REDRAWN_FROM:
        shutil.copy(published / name, tmp_path / name)
    done = subprocess.run([sys.executable, "-m", "transferlib", "summary", str(tmp_path)], cwd=tmp_path,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("TRANSFER_")},
                               "TRANSFER_CACHE_DIR": str(tmp_path / "no-data")},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("verdicts.csv", "table1.csv", *REDRAWN.get(study, ())):
        assert (tmp_path / name).read_text() == (published / name).read_text(), f"{name} differs"
    report = (tmp_path / "summary.html").read_text()
    opens = [report.index(f'id="{h}') for h in (f"{study}:-study-summary", "What-this-summary-holds",
                                                "Did-the-bases-converge", "The-contrasts", "Verdicts-on", "Table-1")]
    assert opens == sorted(opens), "the report opens with what the study is, convergence, contrasts, verdicts"
    assert RUNS[study] in report


@pytest.mark.parametrize("study", RUNS)
def test_the_published_folder_holds_what_the_docs_link_and_no_networks(study):
    published = ROOT / "docs" / study
    files = {p.name for p in published.iterdir()}
    assert {"summary.html", *FIGURES.get(study, ("figure2.png", "figure3.png")), "learning_curves.png",
            "results.csv", "table1.csv", "verdicts.csv", *REDRAWN.get(study, ())} <= files
    assert not [p for p in published.rglob("*") if p.suffix in (".keras", ".h5", ".npy")]
    assert sum(p.stat().st_size for p in published.rglob("*") if p.is_file()) < 10 * 2**20
    page = (ROOT / "docs" / f"{study}.md").read_text()
    table, key = JUDGED.get(study, ("verdicts.csv", "finding"))
    verdicts = pd.read_csv(published / table, keep_default_na=False)
    for row in verdicts.itertuples():  # the page's verdict table says what the run said
        assert f"| {getattr(row, key)} | {row.verdict} |" in page, getattr(row, key)
