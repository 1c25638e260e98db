"""How general each layer is: the ratios and the drop split into co-adaptation and specificity."""

import numpy as np
from matplotlib.figure import Figure

from ...records import vocabulary
from .. import stats as statistics
from .style import STYLE, chosen_metric, layer_axis, suptitle


def generality(df, metric=None):
    """How general each layer is (stats.generality). Left: AnB / baseB and AnB / BnB against
    n. Right: the drop baseB - AnB per n stacked from its two effects, co-adaptation (baseB -
    BnB) and specificity (BnB - AnB), in top-1 points; negative parts stack below zero. None
    where the study has no AnB beside its BnB."""
    metric = chosen_metric(df, metric)
    table = statistics.generality(df, metric)
    if not len(table):
        return None
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    suptitle(fig, "Generality per layer", metric)
    ratios, stacked = fig.subplots(1, 2)
    for ax, ylabel in ((ratios, "ratio of top-1"), (stacked, "top-1 lost (points)")):
        layer_axis(ax, ylabel, df)
        ax.set_xlim(0.5, max(vocabulary.units(df), default=7) + 0.5)
    ratios.set_title("generality of layer n (similar tasks)")
    ratios.axhline(1, color="black", lw=1)
    for column, t in (("AnB / baseB", "AnB"), ("AnB / BnB", "BnB")):
        ratios.plot(table.index, table[column], marker=STYLE["AnB"]["marker"],
                    color=STYLE[t]["color"], label=column)
    ratios.legend(loc="best", fontsize="small")
    stacked.set_title("baseB - AnB = co-adaptation + specificity")
    stacked.axhline(0, color="black", lw=1)
    up, down = np.zeros(len(table)), np.zeros(len(table))
    for column, t in (("co-adaptation", "BnB"), ("specificity", "AnB")):
        values = 100 * table[column].fillna(0).to_numpy()
        bottom = np.where(values >= 0, up, down)
        stacked.bar(table.index, values, bottom=bottom, width=0.6, color=STYLE[t]["color"],
                    alpha=0.8, label=f"{column} ({'baseB - BnB' if t == 'BnB' else 'BnB - AnB'})")
        up, down = up + np.maximum(values, 0), down + np.minimum(values, 0)
    total = 100 * (table["co-adaptation"] + table["specificity"])
    stacked.plot(table.index, total, ls="none", marker="_", ms=18, mew=2, color="black",
                 label="baseB - AnB")
    stacked.legend(loc="best", fontsize="small")
    return fig
