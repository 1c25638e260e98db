"""Every network's learning curve: validation top-1 at each validation, per treatment."""

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ...records import vocabulary
from .style import STYLE, TASKS


def _mean_curve(curves):
    """The per-validation mean of validation curves of possibly different lengths."""
    padded = np.full((len(curves), max(map(len, curves))), np.nan)
    for i, h in enumerate(curves):
        padded[i, :len(h)] = h
    return np.nanmean(padded, axis=0)


def learning_curves(df):
    """Per pooled treatment, validation top-1 at each validation (the history column): a thin
    line per network, the mean thicker with a marker per validation (solid for similar tasks,
    dash-dot for dissimilar, dotted for all classes), and in the other treatments' panels the
    half bases' mean (similar tasks) dashed in black, so that a lasting boost over the base can
    be seen validation by validation. None where the table keeps no curves."""
    data = vocabulary.label(df)
    data = data[data.history.map(len) > 0]
    treatments = [t for t in STYLE if (data.pooled == t).any()]
    if not treatments:
        return None
    cols = min(3, len(treatments))
    rows = math.ceil(len(treatments) / cols)
    fig = Figure(figsize=(4.5 * cols, 3.5 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    bases = data.history[(data.pooled == "base") & (data.tasks == "similar")].tolist()
    names = sorted(set(data.treatment[data.pooled == "base"]))  # a source's study: baseB alone
    base_names = [n for n in names if n != "baseAB"] or names  # the halves' bases, as drawn in solid
    for ax, t in zip(axes, treatments):
        color = STYLE[t]["color"]
        if bases and t != "base":
            mean = _mean_curve(bases)
            ax.plot(range(1, len(mean) + 1), mean, color="black", lw=1.2, ls="--", marker=".",
                    label="base mean")
        for tasks, style in TASKS.items():
            curves = data.history[(data.pooled == t) & (data.tasks == tasks)].tolist()
            if not curves:
                continue
            for h in curves:
                ax.plot(range(1, len(h) + 1), h, color=color, lw=0.6, alpha=0.35, ls=style["ls"])
            mean = _mean_curve(curves)
            ax.plot(range(1, len(mean) + 1), mean, color=color, lw=2.2, ls=style["ls"],
                    marker=STYLE[t]["marker"], ms=4, mfc=STYLE[t]["mfc"],
                    label=f"mean of {len(curves)}{style['suffix']}")
        ax.set_title(", ".join(base_names) if t == "base" else STYLE[t]["label"])
        ax.set_xlabel("validation")
        ax.set_ylabel("validation top-1")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(0.5, data.history.map(len).max() + 0.5)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
    for ax in axes[len(treatments):]:
        ax.set_axis_off()
    return fig
