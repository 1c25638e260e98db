"""The paper's figures drawn from a results table (transferlib.records.table.read).

figure2 and figure3 are the paper's Figures 2 and 3, conv1_filters shows learned first-layer
features, learning_curves the validation top-1 of every network; beyond the paper, similarity
draws the layer similarity (linear CKA) next to the transfer curves, generality the per-layer
generality scores, reduced_data the networks trained on k images per class and transfer_scores
the scores of frozen features per layer beside AnB and AnB+. Each returns a
matplotlib Figure built without pyplot (no global state, works under any backend, Agg
included), or None where the study has no networks for it, and draws only the panels the study
has data for: `fig.savefig(path)` writes it; a notebook displays a returned Figure once
`%matplotlib inline` has run. Both directions of a split are pooled under the paper's names
(BnB stands for BnB and AnA, AnB for AnB and BnA). Every figure's title names its metric, by
default the one summary.metrics.choose picks; confidence intervals are drawn only
over 3 or more replicates, and the y axes span the plotted values.
"""

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..cell.conv1_figure import conv1_filters  # noqa: F401  (the summary draws it too)
from ..records import vocabulary
from . import metrics
from . import paper
from . import stats as statistics
from . import transferability

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
_OFFSET = {"base": 0.0, "BnB": -0.15, "BnB+": -0.05, "AnB": 0.05, "AnB+": 0.15, "random": 0.0}
_JITTER = 0.04
_TASKS = {"similar": dict(ls="-", suffix=""),
          "dissimilar": dict(ls="-.", suffix=" (man-made/natural)"),
          "all classes": dict(ls=":", suffix=" (all classes)")}
MIN_CI = 3  # replicates from which a confidence interval is drawn
_XLABEL = "n: units copied (the network is chopped after unit n and retrained)"
_REFERENCE = dict(ls="--", alpha=0.3, lw=1.5)


def _metric(df, metric):
    """``metric``, or by default the one ``metrics.choose`` picks from the table as it is."""
    return metric or metrics.choose(df).column


def _title(fig, what, metric):
    fig.suptitle(f"{what} ({metrics.NAMES[metric]})")


def _layer_axis(ax, ylabel, df=None):
    """n on the x axis, each tick labelled with the name of the n-th unit (conv1.. for the
    CaffeNet, stem, stage1.. for a ResNet: ``vocabulary.units``), 0 the base."""
    names = vocabulary.units(df) if df is not None else vocabulary.units(pd.DataFrame({"n": []}))
    top = max(names, default=7)
    ax.set_xticks(range(top + 1), ["0\nbase"] + [f"{n}\n{names.get(n, '')}" for n in range(1, top + 1)])
    ax.set_xlim(-0.5, top + 0.5)
    ax.set_xlabel(_XLABEL)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def _fit_y(*axes, margin=0.08):
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


def _scatter(ax, data, metric, treatments):
    """Every network as a marker at its n, shifted per treatment and jittered."""
    rng = np.random.default_rng(0)
    for t in treatments:
        rows = data[data.pooled == t]
        if len(rows):
            x = rows.n + _OFFSET[t] + rng.uniform(-_JITTER, _JITTER, len(rows))
            ax.plot(x, rows[metric], ls="none", ms=6, mec=STYLE[t]["color"], **STYLE[t])


def _mean_lines(ax, stats, tasks, treatments, *, scale=1.0, start=None, label=True, thin=False):
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
        ax.plot(x, y, ls=_TASKS[tasks]["ls"], lw=1.0 if thin else 1.8,
                marker=None if thin else STYLE[t]["marker"], ms=5, color=STYLE[t]["color"],
                mfc=STYLE[t]["mfc"], label=STYLE[t]["label"] + _TASKS[tasks]["suffix"]
                if label else None)
        ci = s[s.networks >= MIN_CI]
        if len(ci) and not thin:
            ax.errorbar(ci.n, ci["mean"] * scale, yerr=ci.ci95 * scale, fmt="none", capsize=3,
                        color=STYLE[t]["color"])


def _base_mean(stats, tasks):
    """The mean of the tasks' base networks, or None."""
    s = stats[(stats.tasks == tasks) & (stats.treatment == "base")]
    return s["mean"].iloc[0] if len(s) else None


_FIG2 = ("base", "BnB", "BnB+", "AnB", "AnB+")


def figure2(df, reference=False, metric=None):
    """The paper's Figure 2 on the similar-task (random) splits. Top: every network's metric
    against n (the half bases at n = 0, white circles). Bottom: each treatment's mean per n,
    lines from the mean of the half bases at n = 0, 95% CI bars over 3 or more networks.
    reference=True adds the paper's ImageNet means (dashed, faint) to the bottom panel; they
    are its mean of the 10 best validations on ImageNet, so only comparable for an ImageNet
    study. None where the study has no similar-task networks."""
    metric = _metric(df, metric)
    data = vocabulary.label(df)
    data = data[data.tasks == "similar"]
    if not data.pooled.isin(_FIG2).any():
        return None
    fig = Figure(figsize=(9, 9), layout="constrained")
    _title(fig, "Figure 2: similar tasks (random splits)", metric)
    top, bottom = fig.subplots(2, 1, sharex=True, sharey=True)
    for ax in (top, bottom):
        _layer_axis(ax, metrics.NAMES[metric], df)
    top.set_title("every network")
    _scatter(top, data, metric, _FIG2)
    top.legend(loc="lower left", fontsize="small")
    bottom.set_title(f"mean per treatment (95% CI over {MIN_CI} or more networks), from the mean of both halves'\n"
                     "bases at n = 0 as the paper draws it; the verdicts subtract each network's own base (Figure 3)")
    stats = statistics.summary_stats(data, metric)
    _mean_lines(bottom, stats, "similar", _FIG2, start=_base_mean(stats, "similar"))
    if reference:
        ref = paper.PAPER_REFERENCE
        for i, t in enumerate(_FIG2[1:]):
            bottom.plot(range(8), [ref["base"]["mean"]] + list(ref["means"][t].values()),
                        color=STYLE[t]["color"], **_REFERENCE,
                        label=None if i else "paper, ImageNet (dashed)")
    bottom.legend(loc="lower left", fontsize="small")
    _fit_y(top, bottom)
    return fig


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
        ax.plot(x, y, marker="D", ls=_TASKS["dissimilar"]["ls"], label=f"target {group}", **style)
    ax.legend(loc="lower left", fontsize="small")


def _random_panel(ax, data, stats):
    """The random frozen networks against n from their base (the 1000-class base for those
    trained on all classes), with the AnB means (similar, dissimilar) for comparison."""
    ax.set_title("random frozen weights")
    for tasks in _TASKS:
        if ((data.tasks == tasks) & (data.pooled == "random")).any():
            _mean_lines(ax, stats, tasks, ("random",), start=_base_mean(stats, tasks))
    for tasks in ("similar", "dissimilar"):
        _mean_lines(ax, stats, tasks, ("AnB",), start=_base_mean(stats, tasks), thin=True)
    ax.legend(loc="lower left", fontsize="small")


def _difference_panel(ax, stats, reference):
    ax.set_title("mean difference from the base (same split and half; random: its base)")
    ax.axhline(0, color="black", lw=1)
    for tasks in _TASKS:
        _mean_lines(ax, stats, tasks, vocabulary.POOLED[1:], scale=100, start=0.0)
    if reference:
        for tasks, by_treatment in paper.PAPER_REFERENCE["difference"].items():
            for t, values in by_treatment.items():
                ls = _TASKS["all classes" if t == "random" else tasks]["ls"]
                ax.plot(range(8), [0] + [100 * v for v in values.values()],
                        color=STYLE[t]["color"], **{**_REFERENCE, "ls": ls})
        ax.plot([], [], color="grey", **_REFERENCE, label="paper, ImageNet (faint)")
    ax.legend(loc="lower left", fontsize="small", ncols=2)


def figure3(df, reference=False, metric=None):
    """The paper's Figure 3, with the panels the study has cells for. Upper: the dissimilar
    (man-made/natural) split, one line per target half (AnB, BnA); random frozen weights
    against n, from their base, with the AnB means for comparison. Bottom: every treatment's
    mean difference from its base in accuracy points, similar (solid), dissimilar (dash-dot)
    and all classes (dotted); reference=True adds the paper's faintly. None where the study has
    no network but bases."""
    metric = _metric(df, metric)
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
    _title(fig, f"Figure 3: {', '.join(drawn + ['difference from base'])}", metric)
    grid = fig.add_gridspec(2 if upper else 1, max(1, len(upper)))
    for i, panel in enumerate(upper):
        ax = fig.add_subplot(grid[0, i])
        _layer_axis(ax, metrics.NAMES[metric], df)
        panel(ax)
        _fit_y(ax)
    bottom = fig.add_subplot(grid[-1, :])
    _layer_axis(bottom, f"{metrics.NAMES[metric]} minus base (points)", df)
    _difference_panel(bottom, differences, reference)
    _fit_y(bottom)
    return fig


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
    for ax, t in zip(axes, treatments):
        color = STYLE[t]["color"]
        if bases and t != "base":
            mean = _mean_curve(bases)
            ax.plot(range(1, len(mean) + 1), mean, color="black", lw=1.2, ls="--", marker=".",
                    label="base mean")
        for tasks, style in _TASKS.items():
            curves = data.history[(data.pooled == t) & (data.tasks == tasks)].tolist()
            if not curves:
                continue
            for h in curves:
                ax.plot(range(1, len(h) + 1), h, color=color, lw=0.6, alpha=0.35, ls=style["ls"])
            mean = _mean_curve(curves)
            ax.plot(range(1, len(mean) + 1), mean, color=color, lw=2.2, ls=style["ls"],
                    marker=STYLE[t]["marker"], ms=4, mfc=STYLE[t]["mfc"],
                    label=f"mean of {len(curves)}{style['suffix']}")
        ax.set_title(STYLE[t]["label"])
        ax.set_xlabel("validation")
        ax.set_ylabel("validation top-1")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(0.5, data.history.map(len).max() + 0.5)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
    for ax in axes[len(treatments):]:
        ax.set_axis_off()
    return fig


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
    metric = _metric(df, metric)
    data = vocabulary.label(df)
    data = data[data.tasks == "similar"]
    names = dict(zip(cka.layer, cka.layer_name))
    # The classifier, the last unit (fc8 of the CaffeNet), holds other classes in networks of
    # other tasks: it is not compared across tasks.
    classifier = cka.layer_name[cka.layer == cka.layer.max()].iloc[0]
    pair = cka[(cka.treatment == "base") & (cka.layer_name != classifier)]
    anb = cka[(cka.treatment == "AnB+") & (cka.layer_name != classifier)]
    bnb = cka[cka.treatment == "BnB+"]
    panels = [(draw, layer_axis) for draw, layer_axis, have in (
        (lambda ax: _curves_panel(ax, data, metric), False, data.pooled.isin(_FIG2).any()),
        (lambda ax: _bases_panel(ax, pair, f"baseA against baseB ({classifier} left out: other classes)"),
         True, len(pair)),
        (lambda ax: _descendant_panel(ax, anb, "AnB+", f"AnB+ against its baseA ({classifier} left out: "
                                                       "other classes)"), True, len(anb)),
        (lambda ax: _descendant_panel(ax, bnb, "BnB+", "BnB+ against its baseB"), True, len(bnb))) if have]
    rows = (len(panels) + 1) // 2
    fig = Figure(figsize=(12 if len(panels) > 1 else 6, 4.5 * rows), layout="constrained")
    _title(fig, "Layer similarity (linear CKA) and transfer", metric)
    for i, (draw, layer_axis) in enumerate(panels):
        ax = fig.add_subplot(rows, 2 if len(panels) > 1 else 1, i + 1)
        if layer_axis:
            _layer_names_axis(ax, "linear CKA", names)
            ax.set_ylim(min(-0.02, cka.cka.min() - 0.02), 1.02)
        else:
            _layer_axis(ax, metrics.NAMES[metric], df)
        draw(ax)
    return fig


def _curves_panel(ax, data, metric):
    """Each treatment's mean metric against n on the similar tasks (Figure 2, bottom)."""
    ax.set_title("transfer curves: mean per treatment (similar tasks)")
    stats = statistics.summary_stats(data, metric)
    _mean_lines(ax, stats, "similar", _FIG2, start=_base_mean(stats, "similar"))
    ax.legend(loc="lower left", fontsize="small")
    _fit_y(ax)


def generality(df, metric=None):
    """How general each layer is (stats.generality). Left: AnB / baseB and AnB / BnB against
    n. Right: the drop baseB - AnB per n stacked from its two effects, co-adaptation (baseB -
    BnB) and specificity (BnB - AnB), in top-1 points; negative parts stack below zero. None
    where the study has no AnB beside its BnB."""
    metric = _metric(df, metric)
    table = statistics.generality(df, metric)
    if not len(table):
        return None
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    _title(fig, "Generality per layer", metric)
    ratios, stacked = fig.subplots(1, 2)
    for ax, ylabel in ((ratios, "ratio of top-1"), (stacked, "top-1 lost (points)")):
        _layer_axis(ax, ylabel, df)
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


def reduced_data(df, metric=None):
    """Reduced-data networks (stats.reduced_data), similar tasks. Left: the base and AnB+ per n
    trained on the first k images per class, against k; dotted, the same networks on all the
    data. Right: AnB+ minus the base of the same k, against k; dotted, the same on all the data
    (Table 1's AnB+ - baseB). None where the study has no reduced-data networks."""
    metric = _metric(df, metric)
    table = statistics.reduced_data(df, metric)
    table = table[table.tasks == "similar"]
    if not len(table):
        return None
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    _title(fig, "Reduced data", metric)
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


def block_shuffle(gained, side, metric):
    """Block-shuffled targets (``summary.block_shuffle``) against the block side b, whole images
    at the image's side: the base and AnB+ (means over networks, one dot per network), and AnB+'s
    gain over the base on the same images, per split (its directions averaged) and its mean with
    the 95% interval over splits."""
    from . import block_shuffle as shuffled

    fig = Figure(figsize=(12, 4.5), layout="constrained")
    _title(fig, "Block-shuffled targets", metric)
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


_SCORE_COLOR = "#54278f"


def transfer_scores(scores, correlations, df, metric=None):
    """Each base's frozen unit-n features scored on the other half (``layer_scores``) beside the
    transfers measured. First panel: the mean AnB and AnB+ per n on the similar tasks (Figure 2,
    bottom), from the bases at n = 0; then one panel per score: a thin line per source base and
    target half, the mean thick, titled with its Spearman rho against AnB and AnB+ and the exact
    p-value (``layer_scores.rank_correlations``). None where ``scores`` is empty."""
    if not len(scores):
        return None
    metric = _metric(df, metric)
    data = vocabulary.label(df)
    data = data[data.tasks == "similar"]
    fig = Figure(figsize=(12, 8), layout="constrained")
    _title(fig, "Scores of frozen features per layer, beside the transfers measured", metric)
    axes = fig.subplots(2, 2).ravel()
    for ax in axes:
        _layer_axis(ax, "", df)
    for ax in axes[1:]:
        ax.set_xlabel("n: the base's unit n, frozen, on the other half's images")
    measured = axes[0]
    measured.set_title("measured: mean AnB and AnB+ per n (similar tasks)")
    measured.set_ylabel(metrics.NAMES[metric])
    stats = statistics.summary_stats(data, metric)
    _mean_lines(measured, stats, "similar", ("base", "AnB", "AnB+"), start=_base_mean(stats, "similar"))
    measured.legend(loc="lower left", fontsize="small")
    _fit_y(measured)
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


def cka_figure(matrix, title="Linear CKA, layer by layer"):
    """A heat map of a ``cka_matrix`` (rows one model's layers, columns the other's), 0 to 1.

    >>> import pandas as pd
    >>> from transferlib import cka_figure
    >>> matrix = pd.DataFrame([[1.0, 0.4], [0.5, 0.9]], index=["conv1", "fc8"], columns=["conv1", "fc8"])
    >>> fig = cka_figure(matrix)
    >>> fig.axes[0].get_title()
    'Linear CKA, layer by layer'
    """
    fig = Figure(figsize=(1.2 + 0.5 * matrix.shape[1], 1.0 + 0.5 * matrix.shape[0]), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(matrix.to_numpy(float), vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=90)
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    ax.set_xlabel(matrix.columns.name or "")
    ax.set_ylabel(matrix.index.name or "")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="CKA")
    return fig
