"""What the summary's figures share: each treatment's colour and marker (``STYLE``, under the
paper's names), the line of each kind of task, the layer axis, the y axis fitted to what is
drawn, and each treatment's mean per n with its 95% interval (over MIN_CI or more networks).
"""

import math

import numpy as np
import pandas as pd

from ...records import vocabulary
from .. import metrics

STYLE = {
    "base": dict(marker="o", color="black", mfc="white", label="baseA, baseB"),
    "BnB": dict(marker="o", color="#08306b", mfc="#08306b", label="selffer BnB"),
    "BnB+": dict(marker="P", color="#6baed6", mfc="#6baed6", label="selffer BnB+"),
    "AnB": dict(marker="D", color="#cb181d", mfc="#cb181d", label="transfer AnB"),
    "AnB+": dict(marker="X", color="#fc9272", mfc="#fc9272", label="transfer AnB+"),
    "random": dict(marker="s", color="#737373", mfc="#737373", label="random, frozen"),
    "AnBcut": dict(marker="s", color="#238b45", mfc="#238b45", label="AnBcut: frozen, features at n"),
    "AnBcut+": dict(marker="^", color="#74c476", mfc="#74c476", label="AnBcut+: the same fine-tuned"),
}
OFFSET = {"base": 0.0, "BnB": -0.15, "BnB+": -0.05, "AnB": 0.05, "AnB+": 0.15, "random": 0.0}
JITTER = 0.04
TASKS = {"similar": dict(ls="-", suffix=""),
          "dissimilar": dict(ls="-.", suffix=" (man-made/natural)"),
          "all classes": dict(ls=":", suffix=" (all classes)")}
MIN_CI = 3  # replicates from which a confidence interval is drawn
XLABEL = "n: units copied (the network is chopped after unit n and retrained)"
REFERENCE = dict(ls="--", alpha=0.3, lw=1.5)


def chosen_metric(df, metric):
    """``metric``, or by default the one ``metrics.choose`` picks from the table as it is."""
    return metric or metrics.choose(df).column


def suptitle(fig, what, metric):
    fig.suptitle(f"{what} ({metrics.NAMES[metric]})")


def layer_axis(ax, ylabel, df=None):
    """n on the x axis, each tick labelled with the name of the n-th unit (conv1.. for the
    CaffeNet, stem, stage1.. for a ResNet: ``vocabulary.units``), 0 the base."""
    names = vocabulary.units(df) if df is not None else vocabulary.units(pd.DataFrame({"n": []}))
    top = max(names, default=7)
    ax.set_xticks(range(top + 1), ["0\nbase"] + [f"{n}\n{names.get(n, '')}" for n in range(1, top + 1)])
    ax.set_xlim(-0.5, top + 0.5)
    ax.set_xlabel(XLABEL)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def fit_y(*axes, margin=0.08):
    """The y axis of ``axes`` (sharing it) spanning what is drawn on them (lines and error
    bars), plus a margin."""
    values = []
    for ax in axes:
        values += [y for line in ax.get_lines() for y in np.asarray(line.get_ydata(), float)]
        values += [y for coll in ax.collections for seg in coll.get_segments() for _, y in seg]
    values = [v for v in values if math.isfinite(v)]
    if values:
        lo, hi = min(values), max(values)
        pad = margin * (hi - lo) or 0.01 * max(abs(hi), 1e-3)
        for ax in axes:
            ax.set_ylim(lo - pad, hi + pad)


def scatter(ax, data, metric, treatments):
    """Every network as a marker at its n, shifted per treatment and jittered."""
    rng = np.random.default_rng(0)
    for t in treatments:
        rows = data[data.pooled == t]
        if len(rows):
            x = rows.n + OFFSET[t] + rng.uniform(-JITTER, JITTER, len(rows))
            ax.plot(x, rows[metric], ls="none", ms=6, mec=STYLE[t]["color"], **STYLE[t])


def mean_lines(ax, stats, tasks, treatments, *, scale=1.0, start=None, label=True, thin=False):
    """Each treatment's mean per n joined by a line (from ``start`` = (mean, replicates) at
    n=0 when given), with 95% CI bars at the points of MIN_CI or more networks; thin and
    unlabelled lines (label=False) go over a scatter of the same networks."""
    for t in treatments:
        s = stats[(stats.tasks == tasks) & (stats.treatment == t)]
        if not len(s):
            continue
        x, y = list(s.n), list(s["mean"] * scale)
        if start is not None and t != "base":
            x, y = [0] + x, [start * scale] + y
        ax.plot(x, y, ls=TASKS[tasks]["ls"], lw=1.0 if thin else 1.8,
                marker=None if thin else STYLE[t]["marker"], ms=5, color=STYLE[t]["color"],
                mfc=STYLE[t]["mfc"], label=STYLE[t]["label"] + TASKS[tasks]["suffix"]
                if label else None)
        ci = s[s.networks >= MIN_CI]
        if len(ci) and not thin:
            ax.errorbar(ci.n, ci["mean"] * scale, yerr=ci.ci95 * scale, fmt="none", capsize=3,
                        color=STYLE[t]["color"])


def base_mean(stats, tasks):
    """The mean of the tasks' base networks, or None."""
    s = stats[(stats.tasks == tasks) & (stats.treatment == "base")]
    return s["mean"].iloc[0] if len(s) else None


FIGURE2 = ("base", "BnB", "BnB+", "AnB", "AnB+")  # Figure 2's treatments, drawn again beside it
