"""The statistics of a results table: per-treatment means with confidence intervals, values
relative to the base, Table 1, generality scores and the reduced-data gains. Pure pandas."""

import math

import numpy as np
import pandas as pd

from ..vocabulary import DISSIMILAR_SPLIT, POOLED, is_caffenet, label, treatment, units
from .paper import PAPER_REFERENCE

METRICS = ("top1", "top5", "best10_top1")
LAYER_RANGES = ((1, 7), (3, 7), (5, 7))


def layer_ranges(df):
    """Table 1's ranges of n: the paper's 1-7, 3-7, 5-7 for the CaffeNet; for other networks
    1-top, 3-top, 5-top up to the study's last unit (those that exist)."""
    if is_caffenet(df):
        return LAYER_RANGES
    top = max(units(df), default=1)
    return tuple((lo, top) for lo in (1, 3, 5) if lo <= top)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # Student's t, 97.5% quantile, dof 1..30



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


def relative_to_base(df, metric="top1"):
    """Non-base rows, labelled, with `base` (its base's metric: same split, same target half)
    and `relative` = metric / base - 1 (Figure 3, bottom); NaN where the base is missing."""
    out = _with_base(df, metric)
    return out.assign(relative=out[metric] / out["base"] - 1)


def t_quantile(dof):
    """Student's t 97.5% quantile (two-sided 95%): a table for dof <= 30, beyond it the
    Cornish-Fisher expansion around the normal quantile (error < 1e-3)."""
    if dof < 1:
        raise ValueError(f"t quantile needs dof >= 1, got {dof}")
    if dof <= len(_T975):
        return _T975[dof - 1]
    z = 1.959964
    return z + (z ** 3 + z) / (4 * dof) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * dof ** 2)


def summary_stats(df, metric="top1", relative=False):
    """Per tasks, pooled treatment and n: networks, mean, std and ci95 (half-width of the 95%
    confidence interval of the mean, t-distribution over networks; NaN for a single network)
    of the metric, or with relative=True of the metric relative to its base (non-base rows)."""
    if relative:
        data = relative_to_base(df, metric).rename(columns={"relative": "value"})
    else:
        _check_metric(metric)
        data = label(df).rename(columns={metric: "value"})
    data = data.dropna(subset=["value"])
    rows = []
    for (tasks, pooled, n), g in data.groupby(["tasks", "pooled", "n"], sort=False):
        k = len(g)
        std = g.value.std(ddof=1) if k > 1 else math.nan
        ci = t_quantile(k - 1) * std / math.sqrt(k) if k > 1 else math.nan
        rows.append({"tasks": tasks, "treatment": pooled, "n": int(n), "networks": k,
                     "mean": g.value.mean(), "std": std, "ci95": ci})
    out = pd.DataFrame(rows, columns=["tasks", "treatment", "n", "networks", "mean", "std", "ci95"])
    order = {t: i for i, t in enumerate(POOLED)}
    return (out.sort_values(["tasks", "treatment", "n"], key=lambda s: s.map(order)
                            if s.name == "treatment" else s).reset_index(drop=True))


def table1(df, metric="top1"):
    """The paper's Table 1 on the similar-task (random) splits, both directions pooled.

    Per n, the mean over AnB+ networks (and BnA+) of its metric minus its base's (same split and
    target) and minus the BnB+ (AnA+) of the same n, split and target; then the ranges 1-7, 3-7
    and 5-7 as the mean of the per-n means of the layers measured in the range (each layer
    weighs the same). Differences in top-1 (0.016 = 1.6 points); the paper columns hold Table
    1's values for the ranges.
    """
    rows = _with_base(df, metric)
    rows = rows[rows.tasks == "similar"]
    selffer = rows[rows.pooled == "selffer+"].set_index(["split", "target", "n"])[metric]
    boost = rows[rows.pooled == "transfer+"].join(selffer.rename("selffer"),
                                                 on=["split", "target", "n"])
    boost = boost.assign(over_base=boost[metric] - boost.base,
                         over_selffer=boost[metric] - boost.selffer)
    per_n = boost.groupby("n").agg(networks=(metric, "size"), over_base=("over_base", "mean"),
                                   over_selffer=("over_selffer", "mean"))
    table = per_n.rename(index=str)
    for lo, hi in layer_ranges(df):
        part = per_n[(per_n.index >= lo) & (per_n.index <= hi)]
        table.loc[f"{lo}-{hi}"] = [part.networks.sum(), part.over_base.mean(),
                                   part.over_selffer.mean()]
    paper = PAPER_REFERENCE["table1"]
    table["paper_over_base"] = [paper[k][0] if k in paper else math.nan for k in table.index]
    table["paper_over_selffer"] = [paper[k][1] if k in paper else math.nan for k in table.index]
    table["networks"] = table.networks.astype(int)
    table.index.name = "layers"
    return table.rename(columns={"over_base": "AnB+ - baseB", "over_selffer": "AnB+ - BnB+",
                                 "paper_over_base": "paper AnB+ - baseB",
                                 "paper_over_selffer": "paper AnB+ - BnB+"})


GENERALITY = ("AnB / baseB", "AnB / BnB", "co-adaptation", "specificity")


def generality(df, metric="top1"):
    """How general each layer is, per n, on the similar-task splits, both directions pooled.

    Per target half of a split: AnB / baseB and AnB / BnB (AnB and BnB frozen, of the same n,
    split and target), and the paper's two effects separated, in top-1: co-adaptation = baseB -
    BnB (lost when the upper layers must relearn alone on top of frozen ones) and specificity =
    BnB - AnB (lost because the copied features come from the other task); they sum to baseB -
    AnB. Columns: networks (AnB networks of the n), the mean baseB, BnB and AnB, and the mean of
    each score over the networks (NaN where a term is missing).
    """
    rows = _with_base(df, metric)
    rows = rows[rows.tasks == "similar"]
    keys = ["split", "target", "n"]
    selffer = rows[rows.pooled == "selffer"].set_index(keys)[metric].rename("selffer")
    anb = rows[rows.pooled == "transfer"].join(selffer, on=keys)
    anb = anb.assign(**{"AnB / baseB": anb[metric] / anb.base, "AnB / BnB": anb[metric] / anb.selffer,
                        "co-adaptation": anb.base - anb.selffer, "specificity": anb.selffer - anb[metric]})
    table = anb.groupby("n").agg(networks=(metric, "size"), baseB=("base", "mean"),
                                 BnB=("selffer", "mean"), AnB=(metric, "mean"),
                                 **{c: (c, "mean") for c in GENERALITY})
    return table.astype({"networks": int})


def reduced_data(df, metric="top1"):
    """The reduced-data cells (images_per_class = k > 0), both directions pooled: per tasks,
    treatment (base, transfer+), n (0 for base) and k the networks, their mean metric, and for
    AnB+ the mean gain over the base of the same k, split and target half; `full` and
    `full_gain` are the same on all the data (the full-data network of the same split, target,
    treatment and n). NaN where a network has not finished. Where a copied, fine-tuned
    network helps most: compare gain across k, and with full_gain."""
    _check_metric(metric)
    keys = ["split", "target", "kind", "n", "fine_tuned"]
    full = df[df.images_per_class == 0].set_index(keys)[metric].rename("full")
    data = df[df.images_per_class > 0].join(full, on=keys)
    data["treatment"] = [treatment(r, pooled=True) for r in data.to_dict("records")]
    data["tasks"] = np.where(data.split == DISSIMILAR_SPLIT, "dissimilar", "similar")
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


