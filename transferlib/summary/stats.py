"""The statistics of a results table: per-treatment means with confidence intervals,
differences from the base in accuracy points, Table 1, generality scores and the reduced-data
gains. Pure pandas (the intervals are ``inference.one_sample``'s); the metric is a column
(summary.metrics).

The intervals here count each network once (the figures' error bars); the verdicts count a split
once (findings). Every "relative to base" quantity is a difference of accuracies (0.01 = 1
point), as in the paper.
"""

import math

import numpy as np
import pandas as pd

from ..records.vocabulary import POOLED, is_caffenet, label, paper_grid, tasks, treatment, units
from . import inference
from .metrics import NAMES
from .paper import PAPER_REFERENCE

METRICS = tuple(NAMES)
LAYER_RANGES = ((1, 7), (3, 7), (5, 7))


def layer_ranges(df):
    """Table 1's ranges of n: the paper's 1-7, 3-7, 5-7 for the CaffeNet; for other networks
    1-top, 3-top, 5-top up to the study's last unit (those that exist)."""
    if is_caffenet(df):
        return LAYER_RANGES
    top = max(units(df), default=1)
    return tuple((lo, top) for lo in (1, 3, 5) if lo <= top)


def _check_metric(metric):
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r} is not one of {METRICS}")


def _with_base(df, metric):
    """Labelled non-base rows with `base`: the metric of the base of the same split and target
    (NaN until that base has finished)."""
    _check_metric(metric)
    df = label(df)
    bases = df[df.kind == "base"].set_index(["split", "target"])[metric].rename("base")
    return df[df.kind != "base"].join(bases, on=["split", "target"])


def from_base(df, metric="top1"):
    """Non-base rows, labelled, with `base` (its base's metric: same split, same target half)
    and `difference` = metric - base (Figure 3, bottom; 0.01 = 1 point); NaN where the base is
    missing."""
    out = _with_base(df, metric)
    return out.assign(difference=out[metric] - out["base"])


def summary_stats(df, metric="top1", difference=False):
    """Per tasks, pooled treatment and n: networks (each its own replicate), mean, std and ci95
    (half-width of the 95% confidence interval of the mean, t-distribution over networks; NaN
    for a single network) of the metric, or with difference=True of the metric minus its base's
    (non-base rows)."""
    if difference:
        data = from_base(df, metric).rename(columns={"difference": "value"})
    else:
        _check_metric(metric)
        data = label(df).rename(columns={metric: "value"})
    data = data.dropna(subset=["value"])
    rows = []
    for (group, pooled, n), g in data.groupby(["tasks", "pooled", "n"], sort=False):
        test = inference.one_sample(g.value, ("above", 0.0))  # its interval; the claim is not read
        rows.append({"tasks": group, "treatment": pooled, "n": int(n), "networks": len(g),
                     "mean": test.mean, "std": g.value.std(ddof=1) if len(g) > 1 else math.nan,
                     "ci95": 0.0 if test.sd == 0 else test.mean - test.low})
    out = pd.DataFrame(rows, columns=["tasks", "treatment", "n", "networks", "mean", "std", "ci95"])
    order = {t: i for i, t in enumerate(POOLED)}
    return (out.sort_values(["tasks", "treatment", "n"], key=lambda s: s.map(order)
                            if s.name == "treatment" else s).reset_index(drop=True))


TABLE1 = ("AnB+ - base", "AnB+ - BnB+", "AnB+ - base, paired")


def table1(df, metric="top1"):
    """The paper's Table 1 on the similar-task (random) splits, both directions pooled, in
    accuracy points (1.0 = one point of top-1).

    As the paper: per n, the mean of the AnB+ (and BnA+) networks minus the mean of all the
    half bases ("AnB+ - base"), and minus the mean of the BnB+ (AnA+) networks of the same n
    ("AnB+ - BnB+"); beside it, "AnB+ - base, paired": the mean over AnB+ networks of each
    one's metric minus its own base's (same split and target). The ranges 1-7, 3-7 and 5-7 are
    the mean of the per-n values of the layers measured in the range (each layer weighs the
    same); the paper columns hold Table 1's values for the ranges as printed, and "paper AnB+ -
    base, paired" the same official networks each against its own base (every official AnB+
    trained on a B half and every BnB+ on an A half, so the printed values mix the halves'
    difficulty into the boost). The column axis is named after the metric.
    """
    rows = _with_base(df, metric)
    rows = rows[rows.tasks == "similar"]
    bases = label(df)
    base_mean = bases[(bases.kind == "base") & (bases.tasks == "similar")][metric].mean()
    plus = rows[rows.pooled == "AnB+"]
    selffer = rows[rows.pooled == "BnB+"].groupby("n")[metric].mean()
    per_n = plus.groupby("n").agg(networks=(metric, "size"), mean=(metric, "mean"))
    per_n[TABLE1[0]] = 100 * (per_n["mean"] - base_mean)
    per_n[TABLE1[1]] = 100 * (per_n["mean"] - selffer.reindex(per_n.index))
    per_n[TABLE1[2]] = 100 * (plus[metric] - plus.base).groupby(plus.n).mean()
    table = per_n.drop(columns="mean").rename(index=str)
    for lo, hi in layer_ranges(df):
        part = per_n[(per_n.index >= lo) & (per_n.index <= hi)]
        table.loc[f"{lo}-{hi}"] = [part.networks.sum()] + [part[c].mean() for c in TABLE1]
    paper = PAPER_REFERENCE["table1"]
    for i, column in enumerate(TABLE1[:2]):
        table[f"paper {column}"] = [paper[k][i] if k in paper else math.nan for k in table.index]
    paired = PAPER_REFERENCE["table1_paired"]
    table[f"paper {TABLE1[2]}"] = [paired[k][0] if k in paired else math.nan for k in table.index]
    table["networks"] = table.networks.astype(int)
    table.index.name = "layers"
    table.columns.name = f"{NAMES[metric]}, points"
    return table


GENERALITY = ("AnB / baseB", "AnB / BnB", "co-adaptation", "specificity")


def generality(df, metric="top1"):
    """How general each layer is, per n, on the similar-task splits, both directions pooled.

    Per target half of a split: the ratios AnB / baseB and AnB / BnB (AnB and BnB frozen, of
    the same n, split and target), and the paper's two effects separated, in accuracy (0.01 = 1
    point): co-adaptation = baseB - BnB (lost when the upper layers must relearn alone on top of
    frozen ones) and specificity = BnB - AnB (lost because the copied features come from the
    other task); they sum to baseB - AnB. Columns: networks (AnB networks of the n), the mean
    baseB, BnB and AnB, and the mean of each score over the networks (NaN where a term is
    missing).
    """
    rows = _with_base(df, metric)
    rows = rows[rows.tasks == "similar"]
    keys = ["split", "target", "n"]
    selffer = rows[rows.pooled == "BnB"].set_index(keys)[metric].rename("selffer")
    anb = rows[rows.pooled == "AnB"].join(selffer, on=keys)
    anb = anb.assign(**{"AnB / baseB": anb[metric] / anb.base, "AnB / BnB": anb[metric] / anb.selffer,
                        "co-adaptation": anb.base - anb.selffer, "specificity": anb.selffer - anb[metric]})
    table = anb.groupby("n").agg(networks=(metric, "size"), baseB=("base", "mean"),
                                 BnB=("selffer", "mean"), AnB=(metric, "mean"),
                                 **{c: (c, "mean") for c in GENERALITY})
    return table.astype({"networks": int})


def reduced_data(df, metric="top1"):
    """The reduced-data cells (images_per_class = k > 0), both directions pooled: per tasks,
    treatment (base, AnB+), n (0 for base) and k the networks, their mean metric, and for
    AnB+ the mean gain over the base of the same k, split and target half; `full` and
    `full_gain` are the same on all the data (the full-data network of the same split, target,
    treatment and n). NaN where a network has not finished. Where a copied, fine-tuned
    network helps most: compare gain across k, and with full_gain."""
    _check_metric(metric)
    keys = ["split", "target", "kind", "n", "fine_tuned"]
    full = paper_grid(df).set_index(keys)[metric].rename("full")
    data = df[df.images_per_class > 0].join(full, on=keys)
    data["treatment"] = [treatment(r, pooled=True) for r in data.to_dict("records")]
    data["tasks"] = tasks(data.split)
    base = data.kind == "base"
    for column, value in ((metric, "base"), ("full", "full_base")):
        data = data.join(data[base].set_index(["split", "target", "images_per_class"])[column]
                         .rename(value), on=["split", "target", "images_per_class"])
    data["gain"] = np.where(base, math.nan, data[metric] - data.base)
    data["full_gain"] = np.where(base, math.nan, data.full - data.full_base)
    out = data.groupby(["tasks", "treatment", "n", "images_per_class"]).agg(
        networks=(metric, "size"), mean=(metric, "mean"), gain=("gain", "mean"),
        full=("full", "mean"), full_gain=("full_gain", "mean"))
    return out.reset_index()
