"""The paper's Figure 3: dissimilar tasks, random frozen weights and every treatment's difference
from its base, the panels the study has networks for."""

import math

from matplotlib.figure import Figure

from ...records import vocabulary
from .. import metrics, paper
from .. import stats as statistics
from .style import REFERENCE, STYLE, TASKS, base_mean, chosen_metric, fit_y, layer_axis, mean_lines, suptitle


def _dissimilar_panel(ax, data, metric):
    """One line per target half of the man-made/natural split: its base at n = 0, then its
    AnB (BnA) networks, as the paper."""
    ax.set_title("dissimilar tasks: AnB and BnA per target half")
    rows = data[(data.tasks == "dissimilar") & data.pooled.isin(("base", "AnB"))]
    for target, group in sorted(vocabulary.DISSIMILAR_HALVES.items()):
        mine = rows[rows.target == target]
        base = mine[mine.pooled == "base"][metric].mean()
        means = mine[mine.pooled == "AnB"].groupby("n")[metric].mean()
        x, y = list(means.index), list(means.values)
        if not math.isnan(base):
            x, y = [0] + x, [base] + y
        style = dict(color=STYLE["AnB"]["color"], mec=STYLE["AnB"]["color"],
                     mfc="white" if group == "natural" else STYLE["AnB"]["mfc"])
        ax.plot(x, y, marker="D", ls=TASKS["dissimilar"]["ls"], label=f"target {group}", **style)
    ax.legend(loc="lower left", fontsize="small")


def _random_panel(ax, data, stats):
    """The random frozen networks against n from their base (the 1000-class base for those
    trained on all classes), with the AnB means (similar, dissimilar) for comparison."""
    ax.set_title("random frozen weights")
    for tasks in TASKS:
        if ((data.tasks == tasks) & (data.pooled == "random")).any():
            mean_lines(ax, stats, tasks, ("random",), start=base_mean(stats, tasks))
    for tasks in ("similar", "dissimilar"):
        mean_lines(ax, stats, tasks, ("AnB",), start=base_mean(stats, tasks), thin=True)
    ax.legend(loc="lower left", fontsize="small")


def _difference_panel(ax, stats, reference):
    ax.set_title("mean difference from the base (same split and half; random: its base)")
    ax.axhline(0, color="black", lw=1)
    for tasks in TASKS:
        mean_lines(ax, stats, tasks, vocabulary.POOLED[1:], scale=100, start=0.0)
    if reference:
        for tasks, by_treatment in paper.PAPER_REFERENCE["difference"].items():
            for t, values in by_treatment.items():
                ls = TASKS["all classes" if t == "random" else tasks]["ls"]
                ax.plot(range(8), [0] + [100 * v for v in values.values()],
                        color=STYLE[t]["color"], **{**REFERENCE, "ls": ls})
        ax.plot([], [], color="grey", **REFERENCE, label="paper, ImageNet (faint)")
    ax.legend(loc="lower left", fontsize="small", ncols=2)


def figure3(df, reference=False, metric=None):
    """The paper's Figure 3, with the panels the study has cells for. Upper: the dissimilar
    (man-made/natural) split, one line per target half (AnB, BnA); random frozen weights
    against n, from their base, with the AnB means for comparison. Bottom: every treatment's
    mean difference from its base in accuracy points, similar (solid), dissimilar (dash-dot)
    and all classes (dotted); reference=True adds the paper's faintly. None where the study has
    no network but bases."""
    metric = chosen_metric(df, metric)
    data = vocabulary.label(df)
    stats = statistics.summary_stats(df, metric)
    differences = statistics.summary_stats(df, metric, difference=True)
    if not len(differences):
        return None
    dissimilar = ((data.tasks == "dissimilar") & (data.pooled == "AnB")).any()
    random = (data.pooled == "random").any()
    upper = [panel for panel, have in ((lambda ax: _dissimilar_panel(ax, data, metric), dissimilar),
                                       (lambda ax: _random_panel(ax, data, stats), random)) if have]
    fig = Figure(figsize=(12, 10 if upper else 5), layout="constrained")
    drawn = [what for what, have in (("dissimilar tasks", dissimilar), ("random weights", random)) if have]
    suptitle(fig, f"Figure 3: {', '.join(drawn + ['difference from base'])}", metric)
    grid = fig.add_gridspec(2 if upper else 1, max(1, len(upper)))
    for i, panel in enumerate(upper):
        ax = fig.add_subplot(grid[0, i])
        layer_axis(ax, metrics.NAMES[metric], df)
        panel(ax)
        fit_y(ax)
    bottom = fig.add_subplot(grid[-1, :])
    layer_axis(bottom, f"{metrics.NAMES[metric]} minus base (points)", df)
    _difference_panel(bottom, differences, reference)
    fit_y(bottom)
    return fig
