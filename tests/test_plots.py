"""transferlib.summary.plots: every figure renders to PNG for full, partial and single-network
studies, and draws what the summary's tables hold, checked through its matplotlib objects.

The studies are the synthetic fixture of test_results (made-up numbers for pure functions).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_results import reduced_rows, study_rows
from transferlib.cell.conv1_figure import conv1_filters
from transferlib.records import vocabulary
from transferlib.summary import metrics, plots, stats

STUDIES = {
    "full": dict(),
    "no_mmn_no_random": dict(splits=("r0", "r1"), random=False),
    "single_split": dict(splits=("r0",)),
    "one_network_per_point": dict(splits=("r0",), targets="B", ns=(1, 4, 7)),
}


def _save(fig, path):
    fig.savefig(path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
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
        pooled = "BnB+" if r.kind == "selffer" else "AnB+"
        rows += [(r.split, r.cell, r.source, pooled, r.n, i, name, 1 - i / (9 + r.n), "h")
                 for i, name in enumerate(layers, 1)]
    return pd.DataFrame(rows, columns=["split", "cell", "reference", "treatment", "n", "layer",
                                       "layer_name", "cka", "params_hash"])


def test_a_figure_is_left_out_where_the_study_lacks_its_networks_and_a_panel_where_it_lacks_data():
    df = pd.DataFrame(study_rows(splits=("r0",), random=False))
    assert plots.reduced_data(df) is None and plots.generality(df.iloc[:0]) is None
    assert plots.figure2(df.iloc[:0]) is None and plots.figure3(df[df.kind == "base"]) is None
    assert plots.similarity(cka_table(df.iloc[:0]), df) is None
    cka = cka_table(df)
    assert len(plots.similarity(cka, df).axes) == 4
    bases_only = plots.similarity(cka[cka.treatment == "base"], df)
    assert [ax.get_title() for ax in bases_only.axes] == [
        "transfer curves: mean per treatment (similar tasks)", "baseA against baseB (fc8 left out: other classes)"]
    assert "random" not in plots.figure3(df)._suptitle.get_text()  # its title names only what it draws


def test_figure3_draws_only_the_panels_the_study_has():
    df = pd.DataFrame(study_rows(splits=("r0",), random=False))
    assert len(plots.figure3(df).axes) == 1
    full = plots.figure3(pd.DataFrame(study_rows()))
    assert len(full.axes) == 3 and "random weights" in full._suptitle.get_text()


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def _stat(table, tasks, treatment):
    s = table[(table.tasks == tasks) & (table.treatment == treatment)]
    return list(s.n), list(s["mean"])


@pytest.mark.parametrize("metric", ["top1", "best10_top1"])
def test_figure2_plots_the_summary_tables_numbers(metric):
    df = pd.DataFrame(study_rows(splits=("r0", "r1")))
    fig = plots.figure2(df, metric=metric)
    assert metrics.NAMES[metric] in fig.get_suptitle()
    top, bottom = fig.axes
    assert top.get_ylabel() == metrics.NAMES[metric]
    table = stats.summary_stats(df, metric)
    _, (base,) = _stat(table, "similar", "base")
    data = df[df.split.isin(["r0", "r1"])]
    for t in vocabulary.POOLED[:-1]:  # the paper's treatments but random
        style = plots.STYLE[t]
        ns, means = _stat(table, "similar", t)
        line = _lines(bottom)[style["label"]]
        if t == "base":
            assert list(line.get_xdata()) == [0] and list(line.get_ydata()) == [base]
        else:
            assert list(line.get_xdata()) == [0] + ns
            assert list(line.get_ydata()) == pytest.approx([base] + means, abs=1e-15)
        labelled = vocabulary.label(data)
        rows = labelled[labelled.pooled == t]
        assert sorted(_lines(top)[style["label"]].get_ydata()) == sorted(rows[metric])


def test_figure3_plots_the_differences_in_points():
    df = pd.DataFrame(study_rows())
    fig = plots.figure3(df, metric="top1")
    assert "final top-1" in fig.get_suptitle()
    bottom = fig.axes[-1]
    table = stats.summary_stats(df, "top1", difference=True)
    for tasks, suffix in (("similar", ""), ("dissimilar", " (man-made/natural)")):
        ns, means = _stat(table, tasks, "AnB")
        line = _lines(bottom)["transfer AnB" + suffix]
        assert list(line.get_xdata()) == [0] + ns
        assert list(line.get_ydata()) == pytest.approx([0] + [100 * m for m in means])
    left = fig.axes[0]
    natural = df[(df.split == "mmn") & (df.target == "B")]
    line = _lines(left)["target natural"]
    assert line.get_ydata()[0] == natural[natural.kind == "base"].top1.item()
    assert line.get_ydata()[7] == natural[(natural.kind == "transfer") & ~natural.fine_tuned
                                          & (natural.n == 7)].top1.item()


def _drawn(ax):
    """The lowest and highest value drawn on ``ax`` and the axes sharing its y axis."""
    values = []
    for sibling in ax.get_shared_y_axes().get_siblings(ax):
        values += [y for line in sibling.get_lines() for y in line.get_ydata()]
        values += [y for coll in sibling.collections for seg in coll.get_segments() for _, y in seg]
    return min(values), max(values)


def test_axes_follow_the_data_and_cis_need_three_replicates():
    rows = study_rows(splits=("r0",), random=False)  # 2 networks per point: no CI
    for row in rows:
        if row["kind"] == "base":  # bases far apart: a 2-network CI would span ~1.3
            row["top1"] = 0.45 if row["target"] == "A" else 0.55
    single = plots.figure2(pd.DataFrame(rows))
    assert not single.axes[1].collections  # no error bars
    several = plots.figure2(pd.DataFrame(study_rows(splits=("r0", "r1"))))
    assert several.axes[1].collections  # 4 networks per point: 95% CI bars
    for fig in (single, several, plots.figure3(pd.DataFrame(study_rows()))):
        for ax in fig.axes:
            lo, hi = _drawn(ax)
            bottom, top = ax.get_ylim()
            assert bottom <= lo and hi <= top
            assert top - bottom <= 1.2 * (hi - lo), (ax.get_title(), (bottom, top), (lo, hi))


def test_conv1_filters_normalises_each_filter(tmp_path):
    w = np.random.default_rng(0).normal(size=(5, 5, 3, 10))
    w[..., 3] = 7.0  # a constant filter shows grey
    w[..., 4] *= 100
    fig = conv1_filters(w, "conv1 of baseA")
    mosaic = fig.axes[0].images[0].get_array()
    assert mosaic.shape == (3 * 6 + 1, 4 * 6 + 1, 3)  # 10 filters: 3 x 4 grid, 1-pixel gaps
    for f, (r, c) in ((0, (0, 0)), (4, (1, 0))):
        tile = mosaic[1 + r * 6:(r + 1) * 6, 1 + c * 6:(c + 1) * 6]
        assert tile.min() == 0 and tile.max() == 1
    assert np.all(mosaic[1:6, 1 + 3 * 6:4 * 6] == 0.5)
    _save(fig, tmp_path / "conv1.png")


def test_conv1_filters_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\[k, k, 3, filters\]"):
        conv1_filters(np.zeros((5, 5, 1, 4)))


def test_no_tensorflow_import():
    code = ("import sys, transferlib.records.table, transferlib.summary.plots; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(plots.__file__).parents[1])


def test_layer_axes_are_labelled_with_the_units_and_table1_spans_them(tmp_path):
    from transferlib.summary import findings, findings_text, stats
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
    assert {f.verdict for f in findings_text.findings(df)} == {findings.NOT_JUDGED}
    caffenet = pd.DataFrame(study_rows(splits=("r0",), random=False))  # no unit column: conv1..
    assert [t.get_text() for t in plots.figure2(caffenet).axes[1].get_xticklabels()][1:3] == ["1\nconv1", "2\nconv2"]
    assert [k for k in stats.table1(caffenet).index if "-" in k] == ["1-7", "3-7", "5-7"]
