"""The networks trained on the first k images per class, and the gain of transfer there."""

from matplotlib.figure import Figure

from .. import metrics
from .. import stats as statistics
from .style import STYLE, chosen_metric, suptitle


def reduced_data(df, metric=None):
    """Reduced-data networks (stats.reduced_data), similar tasks. Left: the base and AnB+ per n
    trained on the first k images per class, against k; dotted, the same networks on all the
    data. Right: AnB+ minus the base of the same k, against k; dotted, the same on all the data
    (Table 1's AnB+ - baseB). None where the study has no reduced-data networks."""
    metric = chosen_metric(df, metric)
    table = statistics.reduced_data(df, metric)
    table = table[table.tasks == "similar"]
    if not len(table):
        return None
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    suptitle(fig, "Reduced data", metric)
    acc, gain = fig.subplots(1, 2)
    for ax, ylabel in ((acc, metrics.NAMES[metric]), (gain, "AnB+ - base (points)")):
        ax.set_xlabel("training images per class (k)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    ks = sorted(table.images_per_class.unique())
    for ax in (acc, gain):
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(ks, [str(k) for k in ks])
    acc.set_title("trained on the first k images per class")
    gain.set_title("gain of AnB+ over the base at the same k")
    gain.axhline(0, color="black", lw=1)
    ns = sorted(table.n[table.treatment == "AnB+"].unique())
    for t, n in [("base", 0)] + [("AnB+", n) for n in ns]:
        rows = table[(table.treatment == t) & (table.n == n)]
        shade = 1.0 if t == "base" else 0.4 + 0.6 * (ns.index(n) + 1) / len(ns)
        style = dict(color=STYLE[t]["color"], alpha=shade, marker=STYLE[t]["marker"],
                     mfc=STYLE[t]["mfc"])
        name = "base" if t == "base" else f"AnB+ n={n}"
        acc.plot(rows.images_per_class, rows["mean"], label=name, **style)
        level = dict(ls=":", lw=1.2, color=style["color"], alpha=shade)
        if rows.full.notna().any():
            acc.axhline(rows.full.mean(), **level)
        if t == "AnB+":
            gain.plot(rows.images_per_class, 100 * rows.gain, label=name, **style)
            if rows.full_gain.notna().any():
                gain.axhline(100 * rows.full_gain.mean(), **level)
    for ax in (acc, gain):
        ax.plot([], [], ls=":", color="grey", label="all images (dotted)")
        ax.legend(loc="best", fontsize="small")
    return fig
