"""Block-shuffled targets against the block side: the networks and the gain of transfer."""

import numpy as np
from matplotlib.figure import Figure

from .. import block_shuffle as shuffled
from .. import metrics
from .style import STYLE, suptitle


def block_shuffle(gained, side, metric):
    """Block-shuffled targets (``summary.block_shuffle``) against the block side b, whole images
    at the image's side: the base and AnB+ (means over networks, one dot per network), and AnB+'s
    gain over the base on the same images, per split (its directions averaged) and its mean with
    the 95% interval over splits."""
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    suptitle(fig, "Block-shuffled targets", metric)
    acc, gain = fig.subplots(1, 2)
    bs = sorted(int(b) for b in gained.b.unique())
    for ax, ylabel in ((acc, metrics.NAMES[metric]), (gain, "AnB+ - base on the same images (points)")):
        ax.set_xscale("log", base=2)
        ax.minorticks_off()
        ax.set_xticks(bs, [f"{b}\n(whole)" if b == side else str(b) for b in bs])
        ax.set_xlabel("block side b (px)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    n = int(gained.n.iloc[0])
    acc.set_title("trained on images cut into b x b blocks")
    for role, name in (("base", "base"), ("AnB+", f"AnB+ n={n}")):
        style = STYLE[role]
        acc.scatter(gained.b, 100 * gained[role], s=12, alpha=0.35, color=style["color"])
        means = gained.groupby("b")[role].mean()
        acc.plot(means.index, 100 * means, marker=style["marker"], color=style["color"], mfc=style["mfc"],
                 label=name)
    acc.legend(loc="best", fontsize="small")
    table = shuffled.summary_table(gained)
    gain.set_title("gain of transfer, per split and mean (95% interval over splits)")
    gain.axhline(0, color="black", lw=1)
    for b, values in shuffled.per_split(gained).items():
        gain.scatter([b] * len(values), 100 * values, s=14, alpha=0.5, color=STYLE["AnB+"]["color"])
    errors = 100 * np.array([table.gain - table.low, table.high - table.gain])
    gain.errorbar(table.index, 100 * table.gain, yerr=np.nan_to_num(errors), marker="X", capsize=4,
                  color=STYLE["AnB"]["color"], label="mean over splits")
    gain.legend(loc="best", fontsize="small")
    return fig
