"""The results table (results/<study>/results.csv) and the paper's numbers computed from it.

One row per finished cell, columns COLUMNS (see notes/CONTRACT.md). Pure pandas: importing this
module never imports TensorFlow. Every number the summary prints (Table 1, relative drops, means
with confidence intervals, the verdict on each of the paper's findings) is a function of the
table alone, so it can be recomputed exactly from results.csv.

Vocabulary (the paper's): a row's `treatment` is baseA/baseB, BnB/AnA (selffer), AnB/BnA
(transfer), a "+" for fine-tuned, or random; its `pooled` treatment drops the direction (base,
selffer, selffer+, transfer, transfer+, random) so both directions of every split are averaged
together, as in the paper's figures. `tasks` is "similar" for the random splits and "dissimilar"
for the man-made/natural split.
"""

import csv
import fcntl
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("cell", "split", "kind", "source", "target", "n", "fine_tuned", "images_per_class",
           "top1", "top5", "best10_top1", "epochs", "train_seconds", "wall_seconds", "params_hash",
           "history")
KINDS = ("base", "selffer", "transfer", "random")
METRICS = ("top1", "top5", "best10_top1")
DISSIMILAR_SPLIT = "mmn"
POOLED = ("base", "selffer", "selffer+", "transfer", "transfer+", "random")
LAYER_RANGES = ((1, 7), (3, 7), (5, 7))

# Tolerances of the verdicts in findings(), on a treatment's mean top-1 relative to its base's.
EQUAL_TOL = 0.02         # |relative| <= 2% of the base's top-1: "equals its base"
DROP_TOL = 0.02          # relative < -2%: "drops"; also the least gap that is "falls faster"
NEAR_CHANCE_REL = -0.75  # relative <= -75%, a quarter of the base's top-1 left: "near chance"

_INTS = ("n", "images_per_class", "epochs")
_FLOATS = ("top1", "top5", "best10_top1", "train_seconds", "wall_seconds")
_BOOLS = {"True": True, "true": True, "1": True, "False": False, "false": False, "0": False}
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # Student's t, 97.5% quantile, dof 1..30


def _paper_reference():
    means = {
        "selffer": (.6267, .6235, .6211, .6048, .5935, .6188, .6232),
        "transfer": (.6282, .6239, .6189, .5998, .5780, .5806, .5425),
        "selffer+": (.6177, .6215, .6313, .6287, .6301, .6276, .6266),
        "transfer+": (.6373, .6358, .6426, .6398, .6446, .6460, .6465),
        "random": (.4917, .4026, .0011, .0191, .0499, .0145, .0146),
    }
    means = {t: dict(zip(range(1, 8), v)) for t, v in means.items()}
    base, base1000 = .6251, .5763  # the random networks were trained on all 1000 classes
    relative = {t: {n: v / (base1000 if t == "random" else base) - 1 for n, v in m.items()}
                for t, m in means.items()}
    dissimilar = dict(zip(range(1, 8), (.003, -.009, -.032, -.073, -.130, -.166, -.250)))
    return {
        "dataset": "ImageNet (ILSVRC-2012), 500 + 500 classes",
        "metric": "best10_top1",
        "base": {"mean": base, "min": .6151, "max": .6341, "networks": 8, "base1000": base1000},
        "means": means,
        "relative": {"similar": relative, "dissimilar": {"transfer": dissimilar}},
        "dissimilar_base": {"natural": .6534, "man-made": .5372},
        "similar_transfer_relative_n7": -.083,
        "table1": {"1-7": (.016, .014), "3-7": (.018, .014), "5-7": (.021, .017)},
    }


PAPER_REFERENCE = _paper_reference()
"""The paper's ImageNet numbers (PAPER.md): per pooled treatment and n the mean top-1 ("means")
and the same relative to the base ("relative", similar tasks; dissimilar: transfer only), the
bases, and Table 1 as {layers: (AnB+ - baseB, AnB+ - BnB+)} in top-1 (0.016 = 1.6 points)."""


def read(path):
    """The results table at `path` (a results.csv or the study directory holding one), typed:
    n, images_per_class and epochs int, fine_tuned bool, the metrics float, history a list of floats."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no results table at {path}: run the study's cells first "
                                "(or pass the study directory that holds results.csv)")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}; expected {list(COLUMNS)}")
    df = df[list(COLUMNS)]
    duplicated = sorted(set(df.cell[df.cell.duplicated()]))
    if duplicated:
        raise ValueError(f"{path}: cells {duplicated} appear more than once")
    for col, allowed in (("kind", KINDS), ("target", ("A", "B", "AB"))):  # AB: all classes
        bad = df.cell[~df[col].isin(allowed)].tolist()
        if bad:
            raise ValueError(f"{path}: cells {bad} have a {col} outside {allowed}")
    fine_tuned = df.fine_tuned.map(_BOOLS)
    if fine_tuned.isna().any():
        raise ValueError(f"{path}: cells {df.cell[fine_tuned.isna()].tolist()} have a "
                         f"fine_tuned that is not True or False")
    df["fine_tuned"] = fine_tuned.astype(bool)
    try:
        for col in _INTS:
            df[col] = df[col].astype(int)
        for col in _FLOATS:
            df[col] = df[col].astype(float)
        df["history"] = df.history.map(lambda h: json.loads(h) if h else []).astype(object)
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{path}: unreadable value ({e}); fix or delete that row") from e
    return df


def _format(row):
    """`row` as the strings results.csv holds, after checking its keys."""
    missing = [c for c in COLUMNS if c not in row]
    unknown = [k for k in row if k not in COLUMNS]
    if missing or unknown:
        raise ValueError(f"result row for cell {row.get('cell')!r}: missing keys {missing}, "
                         f"unknown keys {unknown}; expected {list(COLUMNS)}")
    if not isinstance(row["fine_tuned"], (bool, np.bool_)):
        raise ValueError(f"result row {row['cell']!r}: fine_tuned must be a bool, "
                         f"got {row['fine_tuned']!r}")
    out = {c: str(row[c]) for c in COLUMNS}
    out.update({c: str(int(row[c])) for c in _INTS})
    out.update({c: repr(float(row[c])) for c in _FLOATS})  # repr: floats round-trip exactly
    out["fine_tuned"] = str(bool(row["fine_tuned"]))
    if not isinstance(row["history"], str):
        out["history"] = json.dumps([float(v) for v in row["history"]])
    return out


def append_row(path, row):
    """Add one finished cell's row (a dict with the keys COLUMNS) to the results table at
    `path`, or replace the row with the same cell id in its place."""
    new = _format(row)

    def update(rows):
        if any(r["cell"] == new["cell"] for r in rows):
            return [new if r["cell"] == new["cell"] else r for r in rows]
        return rows + [new]
    _rewrite(path, update)


def keep_only(path, hashes):
    """Drop the rows whose (cell, params_hash) is not in the mapping `hashes`: cells no longer
    in the study, or computed with other parameters."""
    _rewrite(path, lambda rows: [r for r in rows if hashes.get(r["cell"]) == r["params_hash"]])


def _rewrite(path, update):
    """Replace the table at `path` with `update(rows)` (rows as dicts of strings).

    Safe against concurrent writers (an exclusive flock on `<path>.lock`) and against being
    killed: the whole table is written to a temporary file that then replaces it at once, so a
    reader sees the old table or the new one, never half a row.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = []
        if path.exists():
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                if tuple(reader.fieldnames or ()) != COLUMNS:
                    raise ValueError(f"{path} has columns {reader.fieldnames}, expected "
                                     f"{list(COLUMNS)}: move it aside to start a new table")
                rows = list(reader)
        new_rows = update(rows)
        if path.exists() and new_rows == rows:
            return  # unchanged: keep the file and its mtime (the summary is redrawn on change)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(new_rows)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise


def treatment(row, pooled=False):
    """The paper's name of a row's network: baseA/baseB, BnB/AnA, AnB/BnA (+ if fine-tuned) or
    random; with pooled=True the name without direction: base, selffer(+), transfer(+), random."""
    kind, target = row["kind"], row["target"]
    plus = "+" if row["fine_tuned"] else ""
    if kind == "random":
        return "random"
    if kind == "base":
        return "base" if pooled else f"base{target}"
    if pooled:
        return kind + plus
    source = target if kind == "selffer" else "AB"[target == "A"]
    return f"{source}n{target}{plus}"


def label(df):
    """The rows of `df` trained on all the data (images_per_class 0; the reduced-data cells are
    left to `reduced_data`), with the columns treatment, pooled and tasks (similar | dissimilar)."""
    out = df[df.images_per_class == 0].copy()
    out["treatment"] = [treatment(r) for r in out.to_dict("records")]
    out["pooled"] = [treatment(r, pooled=True) for r in out.to_dict("records")]
    out["tasks"] = np.where(out.split == DISSIMILAR_SPLIT, "dissimilar", "similar")
    return out


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
    for lo, hi in LAYER_RANGES:
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


def _pct(x):
    return f"{100 * x:+.1f}%"


def _points(x):
    return f"{100 * x:+.2f} points"


def _series(stats, tasks, pooled):
    """{n: mean} of one tasks/treatment from summary_stats."""
    s = stats[(stats.tasks == tasks) & (stats.treatment == pooled)]
    return dict(zip(s.n, s["mean"]))


def _list(means, ns):
    return ", ".join(f"n={n} {_pct(means[n])}" for n in ns)


def _verdict(number, claim, checks, notes=()):
    """One finding from its checks [(ok, clause)]: supported when all hold, not supported when
    one fails, else not measured; `notes` (the paper's numbers...) are quoted after them."""
    oks = [ok for ok, _ in checks]
    supported = False if False in oks else None if None in oks else True
    word = {True: "supported", False: "not supported", None: "not measured"}[supported]
    clauses = [clause for _, clause in checks] + list(notes)
    return number, supported, f"Finding {number} ({claim}): {word}: " + "; ".join(clauses) + "."


def _unmeasured(number, claim, what):
    return number, None, f"Finding {number} ({claim}): not measured: {what}."


def _equal_at(means, ns, name):
    ns = [n for n in ns if n in means]
    if not ns:
        return None, f"no {name} at n=1,2"
    ok = all(abs(means[n]) <= EQUAL_TOL for n in ns)
    return ok, f"{name} {_list(means, ns)} ({'' if ok else 'not '}within ±{EQUAL_TOL:.0%} of base)"


def _finding2(stats):
    claim = "BnB equals base at n=1,2, dips at 3-6, recovers by 7"
    bnb = _series(stats, "similar", "selffer")
    if not bnb:
        return _unmeasured(2, claim, "the study has no BnB")
    checks = [_equal_at(bnb, (1, 2), "BnB")]
    middle = [n for n in (3, 4, 5, 6) if n in bnb]
    if not middle:
        checks.append((None, "no BnB at n=3-6"))
    else:
        low = min(middle, key=bnb.get)
        ok = bnb[low] < -DROP_TOL
        checks.append((ok, f"lowest of n=3-6 at n={low}: {_pct(bnb[low])} "
                           f"({'' if ok else 'no '}drop below -{DROP_TOL:.0%})"))
        if 7 not in bnb:
            checks.append((None, "no BnB at n=7"))
        else:
            ok = bnb[7] - bnb[low] >= DROP_TOL
            checks.append((ok, f"n=7 {_pct(bnb[7])} ({'' if ok else 'no '}recovery of at least "
                               f"{DROP_TOL:.0%} of base from the dip)"))
    paper = PAPER_REFERENCE["relative"]["similar"]["selffer"]
    return _verdict(2, claim, checks, [f"paper {_list(paper, (1, 2, 5, 7))}"])


def _finding3(stats):
    claim = "BnB+ stays at base for every n"
    bnb = _series(stats, "similar", "selffer+")
    if not bnb:
        return _unmeasured(3, claim, "the study has no BnB+")
    low, high = min(bnb, key=bnb.get), max(bnb, key=bnb.get)
    ok = bnb[low] >= -EQUAL_TOL
    paper = PAPER_REFERENCE["relative"]["similar"]["selffer+"].values()
    return _verdict(3, claim, [
        (ok, f"BnB+ ranges from {_pct(bnb[low])} (n={low}) to {_pct(bnb[high])} (n={high}) "
             f"({'never' if ok else 'falls'} below -{EQUAL_TOL:.0%})")],
        [f"paper {_pct(min(paper))} to {_pct(max(paper))}"])


def _finding4(stats):
    claim = "AnB equals base at n=1,2, drops at 4-7"
    anb = _series(stats, "similar", "transfer")
    if not anb:
        return _unmeasured(4, claim, "the study has no AnB")
    checks = [_equal_at(anb, (1, 2), "AnB")]
    late = [n for n in (4, 5, 6, 7) if n in anb]
    if not late:
        checks.append((None, "no AnB at n=4-7"))
    else:
        ok = all(anb[n] < -DROP_TOL for n in late)
        checks.append((ok, f"{_list(anb, late)} ({'all' if ok else 'not all'} below "
                           f"-{DROP_TOL:.0%})"))
    paper = PAPER_REFERENCE["relative"]["similar"]["transfer"]
    return _verdict(4, claim, checks, [f"paper {_list(paper, (1, 2, 4, 7))}"])


def _finding5(df, metric):
    claim = "AnB+ beats baseB on average over n=1-7"
    table = table1(df, metric)
    boost = table.loc["1-7", "AnB+ - baseB"]
    if math.isnan(boost):
        return _unmeasured(5, claim, "the study has no AnB+ with its base")
    per_n = table.loc[[k for k in table.index if "-" not in k], "AnB+ - baseB"]
    ranges = ", ".join(f"{k} {_points(table.loc[k, 'AnB+ - baseB'])} (paper "
                       f"{_points(table.loc[k, 'paper AnB+ - baseB'])})"
                       for k in (f"{lo}-{hi}" for lo, hi in LAYER_RANGES))
    return _verdict(5, claim, [
        (boost > 0, f"AnB+ - baseB in top-1 over layers {ranges}; positive at "
                    f"{(per_n > 0).sum()} of {len(per_n)} n")])


def _finding6(stats):
    claim = "AnB falls faster with n on dissimilar tasks"
    dis = _series(stats, "dissimilar", "transfer")
    sim = _series(stats, "similar", "transfer")
    if not dis:
        return _unmeasured(6, claim, "the study has no man-made/natural split")
    common = sorted(set(dis) & set(sim))
    if not common:
        return _unmeasured(6, claim, "the study has no random-split AnB at the n of the "
                                     "man-made/natural AnB")
    n = common[-1]
    ok = dis[n] < sim[n] - DROP_TOL
    return _verdict(6, claim, [
        (ok, f"AnB relative to base at n={n}: {_pct(dis[n])} dissimilar against {_pct(sim[n])} "
             f"similar ({'' if ok else 'not '}lower by more than {DROP_TOL:.0%} of base)")],
        [f"paper at n=7: {_pct(PAPER_REFERENCE['relative']['dissimilar']['transfer'][7])} "
         f"against {_pct(PAPER_REFERENCE['similar_transfer_relative_n7'])} on its Figure 3 "
         f"random split ({_pct(PAPER_REFERENCE['relative']['similar']['transfer'][7])} over "
         "all its splits)"])


def _finding7(stats):
    claim = "random frozen layers fall at n=1,2, near chance from n=3, below dissimilar AnB"
    rnd = _series(stats, "similar", "random")
    if not rnd:
        return _unmeasured(7, claim, "the study has no random-weights cells")
    checks, notes = [], []
    for ns, test, what in (((1, 2), lambda v: v < -DROP_TOL, f"below -{DROP_TOL:.0%}"),
                           ((3, 4, 5, 6, 7), lambda v: v <= NEAR_CHANCE_REL,
                            f"near chance: at or below {_pct(NEAR_CHANCE_REL)}")):
        have = [n for n in ns if n in rnd]
        if not have:
            checks.append((None, f"no random cells at n={ns[0]}-{ns[-1]}"))
        else:
            ok = all(test(rnd[n]) for n in have)
            checks.append((ok, f"random {_list(rnd, have)} ({'' if ok else 'not all '}{what})"))
    dis = _series(stats, "dissimilar", "transfer")
    common = sorted(set(rnd) & set(dis))
    if common:
        ok = all(rnd[n] < dis[n] for n in common)
        checks.append((ok, f"{'below' if ok else 'not always below'} the dissimilar AnB "
                           f"({_list(dis, common)})"))
    else:
        notes.append("not compared with a dissimilar AnB (none at the random cells' n)")
    paper = PAPER_REFERENCE["relative"]["similar"]["random"]
    notes.append(f"paper (relative to the 1000-class base) {_list(paper, (1, 2, 3, 7))}")
    return _verdict(7, claim, checks, notes)


def findings(df, metric="top1"):
    """The paper's findings 2-7 (PAPER.md) judged on this study: a list of (number, supported,
    text), supported True/False, or None where the study did not measure it. Judged on each
    treatment's mean metric relative to its base (similar tasks unless stated) against the
    module's EQUAL_TOL, DROP_TOL and NEAR_CHANCE_REL; the text quotes the study's numbers and
    the paper's."""
    stats = summary_stats(df, metric, relative=True)
    return [_finding2(stats), _finding3(stats), _finding4(stats), _finding5(df, metric),
            _finding6(stats), _finding7(stats)]
