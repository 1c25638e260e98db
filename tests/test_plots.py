"""transferlib.plots: every figure renders to PNG for full, partial and single-network studies.

The studies are the synthetic fixture of test_results (made-up numbers for pure functions).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_results import reduced_rows, study_rows
from transferlib.summary import plots

STUDIES = {
    "full": dict(),
    "no_mmn_no_random": dict(splits=("r0", "r1"), random=False),
    "single_split": dict(splits=("r0",)),
    "one_network_per_point": dict(splits=("r0",), targets="B", ns=(1, 4, 7)),
}


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _save(fig, path):
    fig.savefig(path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", STUDIES)
def test_figures_render(name, tmp_path):
    df = pd.DataFrame(study_rows(**STUDIES[name]))
    for reference in (False, True):
        _save(plots.figure2(df, reference=reference), tmp_path / f"figure2_{reference}.png")
        _save(plots.figure3(df, reference=reference), tmp_path / f"figure3_{reference}.png")
    _save(plots.learning_curves(df), tmp_path / "curves.png")
    _save(plots.generality(df), tmp_path / "generality.png")
    with_reduced = pd.DataFrame(study_rows(**STUDIES[name]) + reduced_rows())
    _save(plots.reduced_data(with_reduced), tmp_path / "reduced.png")
    _save(plots.similarity(cka_table(df), with_reduced), tmp_path / "similarity.png")


def cka_table(df):
    """A made-up layer similarity table of the fine-tuned networks of ``df`` and of each split's
    bases, falling with the layer."""
    layers = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
    rows = [(s, f"{s}-baseB", f"{s}-baseA", "base", 0, i, name, 1 - i / 9, "h")
            for s in df.split.unique() for i, name in enumerate(layers, 1)]
    for r in df[df.fine_tuned].itertuples():
        pooled = "selffer+" if r.kind == "selffer" else "transfer+"
        rows += [(r.split, r.cell, r.source, pooled, r.n, i, name, 1 - i / (9 + r.n), "h")
                 for i, name in enumerate(layers, 1)]
    return pd.DataFrame(rows, columns=["split", "cell", "reference", "treatment", "n", "layer",
                                       "layer_name", "cka", "params_hash"])


def test_new_figures_say_what_the_study_lacks():
    df = pd.DataFrame(study_rows(splits=("r0",), random=False))
    assert _texts(plots.reduced_data(df)) == ["not in this study"] * 2
    assert _texts(plots.generality(df.iloc[:0])) == ["not in this study"] * 2
    assert _texts(plots.similarity(cka_table(df.iloc[:0]), df)) == ["not in this study"] * 3
    assert _texts(plots.similarity(cka_table(df), df)) == []


def test_figure3_says_what_the_study_lacks():
    df = pd.DataFrame(study_rows(splits=("r0",), random=False))
    assert _texts(plots.figure3(df)) == ["not in this study"] * 2
    assert _texts(plots.figure3(pd.DataFrame(study_rows()))) == []
    assert len(_texts(plots.figure2(df.iloc[:0]))) == 2


def test_figure2_draws_ci_only_over_several_networks():
    several = plots.figure2(pd.DataFrame(study_rows(splits=("r0",))))
    single = plots.figure2(pd.DataFrame(study_rows(splits=("r0",), targets="B")))
    assert several.axes[1].containers[0].has_yerr
    assert not any(c.has_yerr for c in single.axes[1].containers)


def test_conv1_filters_normalises_each_filter(tmp_path):
    w = np.random.default_rng(0).normal(size=(5, 5, 3, 10))
    w[..., 3] = 7.0  # a constant filter shows grey
    w[..., 4] *= 100
    fig = plots.conv1_filters(w, "conv1 of baseA")
    mosaic = fig.axes[0].images[0].get_array()
    assert mosaic.shape == (3 * 6 + 1, 4 * 6 + 1, 3)  # 10 filters: 3 x 4 grid, 1-pixel gaps
    for f, (r, c) in ((0, (0, 0)), (4, (1, 0))):
        tile = mosaic[1 + r * 6:(r + 1) * 6, 1 + c * 6:(c + 1) * 6]
        assert tile.min() == 0 and tile.max() == 1
    assert np.all(mosaic[1:6, 1 + 3 * 6:4 * 6] == 0.5)
    _save(fig, tmp_path / "conv1.png")


def test_conv1_filters_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\[k, k, 3, filters\]"):
        plots.conv1_filters(np.zeros((5, 5, 1, 4)))


def test_no_tensorflow_import():
    code = ("import sys, transferlib.table, transferlib.summary.plots; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(plots.__file__).parents[1])


def test_layer_axes_are_labelled_with_the_units_and_table1_spans_them(tmp_path):
    from transferlib.summary import findings, stats
    names = ("stem", "stage1", "stage2", "stage3", "stage4")
    df = pd.DataFrame(study_rows(splits=("r0",), ns=range(1, 6), random=False))
    df["unit"] = [names[n - 1] if n else "" for n in df.n]
    fig = plots.figure2(df)
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels == ["0\nbase", "1\nstem", "2\nstage1", "3\nstage2", "4\nstage3", "5\nstage4"]
    gen = plots.generality(df)
    assert gen.axes[0].get_xlim() == (0.5, 5.5)
    _save(fig, tmp_path / "figure2.png")
    assert [k for k in stats.table1(df).index if "-" in k] == ["1-5", "3-5", "5-5"]
    assert all(supported is None for _, supported, _ in findings.findings(df))
    caffenet = pd.DataFrame(study_rows(splits=("r0",), random=False))  # no unit column: conv1..
    assert [t.get_text() for t in plots.figure2(caffenet).axes[1].get_xticklabels()][1:3] == ["1\nconv1", "2\nconv2"]
    assert [k for k in stats.table1(caffenet).index if "-" in k] == ["1-7", "3-7", "5-7"]
