"""Layer similarity (linear CKA) next to the transfer curves."""

from matplotlib.figure import Figure

from ...records import vocabulary
from .. import metrics
from .. import stats as statistics
from .style import FIGURE2, STYLE, base_mean, chosen_metric, fit_y, layer_axis, mean_lines, suptitle


def _layer_names_axis(ax, ylabel, names):
    ax.set_xticks(list(names), [f"{i}\n{name}" for i, name in names.items()])
    ax.set_xlim(0.5, max(names, default=8) + 0.5)
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def _descendant_panel(ax, rows, pooled, title):
    """CKA of each fine-tuned network to its base per layer: one line per n (mean over
    networks), darker for larger n, a marker on layer n (the last copied one)."""
    ax.set_title(title)
    ns = sorted(rows.n.unique())
    color = STYLE[pooled]["color"]
    for i, n in enumerate(ns):
        mean = rows[rows.n == n].groupby("layer").cka.mean()
        shade = 0.35 + 0.65 * (i + 1) / len(ns)
        ax.plot(mean.index, mean.values, color=color, alpha=shade, lw=1.5, label=f"n={n}")
        if n in mean.index:
            ax.plot(n, mean[n], marker=STYLE[pooled]["marker"], color=color, alpha=shade, ms=7)
    ax.legend(loc="lower left", fontsize="small", ncols=2)


def _bases_panel(ax, pair, title):
    """CKA of baseA and baseB per layer: a thin line per split, the mean thick."""
    ax.set_title(title)
    for _, rows in pair.groupby("split"):
        ax.plot(rows.layer, rows.cka, color="black", lw=0.6, alpha=0.4)
    mean = pair.groupby("layer").cka.mean()
    ax.plot(mean.index, mean.values, color="black", marker="o", mfc="white", lw=2,
            label=f"mean of {pair.split.nunique()} split(s)")
    ax.legend(loc="lower left", fontsize="small")


def similarity(cka, df, metric=None):
    """Layer similarity next to the transfer curves, the panels the study has data for: each
    treatment's mean metric against n (as Figure 2, bottom); linear CKA of baseA and baseB per
    layer (a thin line per split, the mean thick); CKA of AnB+ to baseA and of BnB+ to baseB
    per layer, a line per n marked at layer n. ``cka`` is the table of
    ``study_folder.similarity_table`` (columns split, cell, reference, treatment, n, layer,
    layer_name, cka); None where it is empty: the study measured no layer similarity."""
    if not len(cka):
        return None
    metric = chosen_metric(df, metric)
    data = vocabulary.label(df)
    data = data[data.tasks == "similar"]
    names = dict(zip(cka.layer, cka.layer_name))
    # The classifier, the last unit (fc8 of the CaffeNet), holds other classes in networks of
    # other tasks: it is not compared across tasks.
    classifier = cka.layer_name[cka.layer == cka.layer.max()].iloc[0]
    pair = cka[(cka.treatment == "base") & (cka.layer_name != classifier)]
    anb = cka[(cka.treatment == "AnB+") & (cka.layer_name != classifier)]
    bnb = cka[cka.treatment == "BnB+"]
    panels = [(draw, by_layer) for draw, by_layer, have in (
        (lambda ax: _curves_panel(ax, data, metric), False, data.pooled.isin(FIGURE2).any()),
        (lambda ax: _bases_panel(ax, pair, f"baseA against baseB ({classifier} left out: other classes)"),
         True, len(pair)),
        (lambda ax: _descendant_panel(ax, anb, "AnB+", f"AnB+ against its baseA ({classifier} left out: "
                                                       "other classes)"), True, len(anb)),
        (lambda ax: _descendant_panel(ax, bnb, "BnB+", "BnB+ against its baseB"), True, len(bnb))) if have]
    rows = (len(panels) + 1) // 2
    fig = Figure(figsize=(12 if len(panels) > 1 else 6, 4.5 * rows), layout="constrained")
    suptitle(fig, "Layer similarity (linear CKA) and transfer", metric)
    for i, (draw, by_layer) in enumerate(panels):
        ax = fig.add_subplot(rows, 2 if len(panels) > 1 else 1, i + 1)
        if by_layer:
            _layer_names_axis(ax, "linear CKA", names)
            ax.set_ylim(min(-0.02, cka.cka.min() - 0.02), 1.02)
        else:
            layer_axis(ax, metrics.NAMES[metric], df)
        draw(ax)
    return fig


def _curves_panel(ax, data, metric):
    """Each treatment's mean metric against n on the similar tasks (Figure 2, bottom)."""
    ax.set_title("transfer curves: mean per treatment (similar tasks)")
    stats = statistics.summary_stats(data, metric)
    mean_lines(ax, stats, "similar", FIGURE2, start=base_mean(stats, "similar"))
    ax.legend(loc="lower left", fontsize="small")
    fit_y(ax)
