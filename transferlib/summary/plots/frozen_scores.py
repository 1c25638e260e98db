"""Scores of each base's frozen features per layer beside the transfers measured."""

import math

from matplotlib.figure import Figure

from ...records import vocabulary
from .. import metrics, transferability
from .. import stats as statistics
from .style import base_mean, chosen_metric, fit_y, layer_axis, mean_lines, suptitle


_SCORE_COLOR = "#54278f"


def transfer_scores(scores, correlations, df, metric=None):
    """Each base's frozen unit-n features scored on the other half (``layer_scores``) beside the
    transfers measured. First panel: the mean AnB and AnB+ per n on the similar tasks (Figure 2,
    bottom), from the bases at n = 0; then one panel per score: a thin line per source base and
    target half, the mean thick, titled with its Spearman rho against AnB and AnB+ and the exact
    p-value (``layer_scores.rank_correlations``). None where ``scores`` is empty."""
    if not len(scores):
        return None
    metric = chosen_metric(df, metric)
    data = vocabulary.label(df)
    data = data[data.tasks == "similar"]
    fig = Figure(figsize=(12, 8), layout="constrained")
    suptitle(fig, "Scores of frozen features per layer, beside the transfers measured", metric)
    axes = fig.subplots(2, 2).ravel()
    for ax in axes:
        layer_axis(ax, "", df)
    for ax in axes[1:]:
        ax.set_xlabel("n: the base's unit n, frozen, on the other half's images")
    measured = axes[0]
    measured.set_title("measured: mean AnB and AnB+ per n (similar tasks)")
    measured.set_ylabel(metrics.NAMES[metric])
    stats = statistics.summary_stats(data, metric)
    mean_lines(measured, stats, "similar", ("base", "AnB", "AnB+"), start=base_mean(stats, "similar"))
    measured.legend(loc="lower left", fontsize="small")
    fit_y(measured)
    for ax, (column, name) in zip(axes[1:], transferability.NAMES.items()):
        for _, rows in scores.groupby(["split", "source", "target"]):
            ax.plot(rows.n, rows[column], color=_SCORE_COLOR, lw=0.7, alpha=0.4)
        mean = scores.groupby("n")[column].mean()
        ax.plot(mean.index, mean.values, color=_SCORE_COLOR, lw=2, marker="o",
                label=f"mean of {scores.groupby(['split', 'target']).ngroups} base(s) on the other half")
        said = correlations[correlations.prediction == name]
        ax.set_title(f"{name}\n" + "; ".join(f"{r.measured}: rho {r.rho:+.2f}, p {r.p:.2g}"
                                            for r in said.itertuples() if not math.isnan(r.rho)), fontsize="medium")
        ax.set_ylabel(name)
        ax.legend(loc="best", fontsize="small")
    for ax in axes:
        ax.set_xlim(-0.5 if ax is measured else 0.5, max(vocabulary.units(df), default=7) + 0.5)
    return fig
