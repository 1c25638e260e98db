"""The paper's vocabulary for a results table's rows.

A row's ``treatment`` is baseA/baseB (baseAB: all classes), BnB/AnA (selffer), AnB/BnA
(transfer; AnBcut where the head follows unit n, copying a pretrained source), a "+" for
fine-tuned, or random; its ``pooled`` treatment is the paper's name for
direction AnB (base, BnB, BnB+, AnB, AnB+, random), so that both directions of every split are
averaged together, as in the paper's figures and in params files. ``tasks`` is "similar" for the
random splits, "dissimilar" for the man-made/natural split and "all classes" for the cells
trained on all the study's classes (the paper's 1000-class base and random frozen weights).
A replicate is one (split, target half): the unit the summary's intervals count.
"""

import numpy as np
import pandas as pd

from ..nets.units import CAFFENET_UNITS

KINDS = ("base", "selffer", "transfer", "random")
DISSIMILAR_SPLIT = "mmn"
ALL_SPLIT = "all"
DISSIMILAR_HALVES = {"A": "man-made", "B": "natural"}  # the grid's halves of the mmn split
POOLED = ("base", "BnB", "BnB+", "AnB", "AnB+", "random")
TASKS = ("similar", "dissimilar", "all classes")


def treatment(row, pooled=False):
    """The paper's name of a row's network: baseA/baseB, BnB/AnA, AnB/BnA (+ if fine-tuned) or
    random; with pooled=True the name of direction AnB: base, BnB(+), AnB(+), random."""
    kind, target = row["kind"], row["target"]
    cut = row.get("cut")  # absent, or missing (NaN) in a table made by hand: not cut
    plus = ("cut" if isinstance(cut, (bool, np.bool_)) and cut else "") + ("+" if row["fine_tuned"] else "")
    if kind == "random":
        return "random"
    if kind == "base":
        return "base" if pooled else f"base{target}"
    if pooled:
        return ("BnB" if kind == "selffer" else "AnB") + plus
    source = target if kind == "selffer" else "AB"[target == "A"]
    return f"{source}n{target}{plus}"


def tasks(split):
    """similar | dissimilar | all classes, for the cells of ``split`` (an array or one name)."""
    split = np.asarray(split)
    return np.where(split == DISSIMILAR_SPLIT, TASKS[1], np.where(split == ALL_SPLIT, TASKS[2],
                                                                  TASKS[0]))


def shifted(df):
    """Which rows of a results table are a surgical study's cells: those with a ``shift`` (a
    table made by hand may leave the column out)."""
    return df["shift"].fillna("").ne("") if "shift" in df else pd.Series(False, index=df.index)


def paper_grid(df):
    """The rows of `df` in the paper's grid: trained on all the data, on whole images (the
    reduced-data, block-shuffled and shifted-target (``shift``, summary.surgical) cells are
    left to their own sections). A table made by hand may leave out block_size and shift."""
    return df[(df.images_per_class == 0) & (df.get("block_size", 0) == 0) & ~shifted(df)]


def label(df):
    """The rows of `df` in the paper's grid (``paper_grid``), with the columns treatment, pooled
    and tasks."""
    out = paper_grid(df).copy()
    rows = out[[c for c in ("kind", "target", "fine_tuned", "cut") if c in out]].to_dict("records")
    out["treatment"] = [treatment(r) for r in rows]
    out["pooled"] = [treatment(r, pooled=True) for r in rows]
    out["tasks"] = tasks(out.split)
    return out


def units(df):
    """{n: name of the n-th transfer unit} of a results table (its ``unit`` column), n = 1..:
    the CaffeNet's conv1..fc7 where the table names none."""
    names = {n: CAFFENET_UNITS[n - 1] for n in range(1, 8)} if is_caffenet(df) else {}
    if "unit" in df:
        names.update({int(n): u for n, u in zip(df.n, df.unit) if n > 0 and u})
    return dict(sorted(names.items()))


def is_caffenet(df):
    """Whether the table's networks are the paper's CaffeNet (their units conv1..fc8)."""
    if "unit" not in df:
        return True
    return all(u == "" or (0 < n <= 8 and u == CAFFENET_UNITS[n - 1]) for n, u in zip(df.n, df.unit))
