"""The paper's Figure 2: the similar-task networks against n."""

from matplotlib.figure import Figure

from ...records import vocabulary
from .. import metrics, paper
from .. import stats as statistics
from .style import (FIGURE2, MIN_CI, REFERENCE, STYLE, base_mean, chosen_metric, fit_y, layer_axis,
                    mean_lines, scatter, suptitle)


def figure2(df, reference=False, metric=None):
    """The paper's Figure 2 on the similar-task (random) splits. Top: every network's metric
    against n (the half bases at n = 0, white circles). Bottom: each treatment's mean per n,
    lines from the mean of the half bases at n = 0, 95% CI bars over 3 or more networks.
    reference=True adds the paper's ImageNet means (dashed, faint) to the bottom panel; they
    are its mean of the 10 best validations on ImageNet, so only comparable for an ImageNet
    study. None where the study has no similar-task networks."""
    metric = chosen_metric(df, metric)
    data = vocabulary.label(df)
    data = data[data.tasks == "similar"]
    if not data.pooled.isin(FIGURE2).any():
        return None
    fig = Figure(figsize=(9, 9), layout="constrained")
    suptitle(fig, "Figure 2: similar tasks (random splits)", metric)
    top, bottom = fig.subplots(2, 1, sharex=True, sharey=True)
    for ax in (top, bottom):
        layer_axis(ax, metrics.NAMES[metric], df)
    top.set_title("every network")
    scatter(top, data, metric, FIGURE2)
    top.legend(loc="lower left", fontsize="small")
    bottom.set_title(f"mean per treatment (95% CI over {MIN_CI} or more networks), from the mean of both halves'\n"
                     "bases at n = 0 as the paper draws it; the verdicts subtract each network's own base (Figure 3)")
    stats = statistics.summary_stats(data, metric)
    mean_lines(bottom, stats, "similar", FIGURE2, start=base_mean(stats, "similar"))
    if reference:
        ref = paper.PAPER_REFERENCE
        for i, t in enumerate(FIGURE2[1:]):
            bottom.plot(range(8), [ref["base"]["mean"]] + list(ref["means"][t].values()),
                        color=STYLE[t]["color"], **REFERENCE,
                        label=None if i else "paper, ImageNet (dashed)")
    bottom.legend(loc="lower left", fontsize="small")
    fit_y(top, bottom)
    return fig
