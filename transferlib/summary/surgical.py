"""The surgical study's claim (Lee et al., ICLR 2023) judged on a results table: its rows with a
``shift`` (``driver.grid._shift_cells``), the target half itself under a shift (``cell.shifts``).

The claim: when the target is the source's own task under a shift, tuning one block can match or
beat tuning all of them, and which block depends on the shift: the first for input-level shifts
(image corruptions), the last for output-level shifts (labels changed), a middle one for
feature-level shifts. Per shift, pre-registered contrasts (``contrasts``), written before any
number is seen; none picks its unit from the data it tests:

- input-level (noise, blur, contrast): unit 1 alone minus the mean of the other single units,
  above 0; and unit 1 alone minus full fine-tuning, above -1 point (it matches or beats it);
- output-level (labels): the last unit (the classifier) alone, the same two checks;
- feature-level (grey): the mean of the middle units (2..K-1) alone minus the mean of the first
  and the last alone, above 0. (Grey images are the nearest feature-level shift this data allows,
  see ``cell.shifts``: the weakest of the three claims.)

A replicate is a split (its random class partition, with the cells' own seeds): where a study
runs both directions, the split's two target halves are averaged into one value first. Each
check is a one-sample t-test over the replicates (``inference``); a shift's claim is supported
when every check is, each at its own level, contradicted when a check is at Holm's level across
the shift's checks (``inference.family``), inconclusive otherwise, with the replicates an
undecided check would need.
Values are the study's metric in points of top-1; ``verdicts`` shows each shift's verdict under
the other metrics beside it, and ``metric_changes`` names the verdicts that change with the metric.
Its figure is ``plots.surgical``.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..nets import units as unit_lists
from ..records import vocabulary
from . import inference
from .metrics import NAMES, changes_text
from .inference import INCONCLUSIVE

MARGIN = 0.01  # "matches": at most 1 point below full fine-tuning
LEVEL = {"noise": "input", "blur": "input", "contrast": "input", "grey": "feature", "labels": "output"}
CLAIM = ("Surgical fine-tuning (Lee et al., ICLR 2023): on the source's own task under a shift, tuning a "
         "single unit can match or beat tuning all of them, and the best unit depends on the shift: the first "
         "for input-level shifts (noise, blur, contrast), the last (the classifier) for output-level shifts "
         "(labels permuted), a middle one for feature-level shifts (here grey images).")


def split_off(df):
    """(the paper's rows, the surgical rows) of a results table: the paper's analyses never see
    a shifted target."""
    shifted = vocabulary.shifted(df)
    return df[~shifted], df[shifted]


def unit_order(params):
    """The study's units in order (``nets.units``; a user's function is built once to learn them)."""
    if unit_lists.is_function(params["network"]):
        return unit_lists.user_unit_names(params["network"], params["image_size"], params["width"],
                                          params["network_units"])
    return unit_lists.unit_names(params["network"], params["network_units"])


def label(df):
    """The surgical rows with the columns level, treatment ("scratch": a base, "probe": frozen
    units, "full": every unit learning, or "unit": unit k alone, its ``tuned_unit``) and k (1..K;
    0 otherwise)."""
    out = df.copy()
    out["level"] = [LEVEL.get(shift, "?") for shift in df["shift"]]
    out["treatment"] = np.select([df.kind == "base", ~df.fine_tuned.astype(bool), df.tuned_unit == 0],
                                 ["scratch", "probe", "full"], "unit")
    out["k"] = df.tuned_unit
    return out


class Contrast(NamedTuple):
    shift: str
    part: str
    formula: str
    claim: tuple            # inference's ("above", b)
    plus: tuple             # (treatment, k) pairs averaged with weight +1
    minus: tuple            # ... with weight -1


def contrasts(shift, names):
    """The pre-registered contrasts of ``shift`` for a network of units ``names`` (K of them)."""
    K = len(names)
    singles = [("unit", k) for k in range(1, K + 1)]
    level = LEVEL[shift]
    if level in ("input", "output"):
        k = 1 if level == "input" else K
        name = f"unit {k} ({names[k - 1]})"
        others = [s for s in singles if s[1] != k]
        return (Contrast(shift, f"{name} is the best single unit", f"{names[k - 1]} - mean of the other units",
                         ("above", 0.0), (("unit", k),), tuple(others)),
                Contrast(shift, f"{name} matches or beats full fine-tuning",
                         f"{names[k - 1]} - full fine-tuning", ("above", -MARGIN), (("unit", k),), (("full", 0),)))
    middle = [s for s in singles if 1 < s[1] < K]
    return (Contrast(shift, "a middle unit is best", f"mean of {names[1]}..{names[-2]} - mean of "
                     f"{names[0]} and {names[-1]}", ("above", 0.0), tuple(middle), (("unit", 1), ("unit", K))),)


def replicate_values(rows, metric):
    """{(treatment, k): Series of the metric per split} (directions of a split averaged)."""
    table = rows.groupby(["treatment", "k", "split"])[metric].mean()
    return {key: group.droplevel([0, 1]) for key, group in table.groupby(level=[0, 1])}


def _value(values, c):
    """Per split: the mean of ``plus`` minus the mean of ``minus`` (splits having them all)."""
    needed = [*c.plus, *c.minus]
    if any(key not in values for key in needed):
        return None
    frame = pd.DataFrame({key: values[key] for key in needed}).dropna()
    plus = frame[list(c.plus)].mean(axis=1)
    minus = frame[list(c.minus)].mean(axis=1)
    return (plus - minus).to_numpy(float)


class Check(NamedTuple):
    contrast: Contrast
    test: inference.Test | None
    verdict: str
    p_support: float
    p_contra: float
    needed: inference.Needed | None = None


def checks(labelled, metric, names):
    """Every check the study can make, each shift's checks judged as one family
    (``inference.family``)."""
    out = []
    for shift in sorted(labelled["shift"].unique(), key=list(LEVEL).index):
        values = replicate_values(labelled[labelled["shift"] == shift], metric)
        made = []
        for c in contrasts(shift, names):
            x = _value(values, c)
            made.append((c, None if x is None else inference.one_sample(x, c.claim)))
        tested = sum(t is not None for _, t in made)
        for (c, t), j in zip(made, inference.family([t for _, t in made])):
            if t is None:
                out.append(Check(c, None, "not made: the study lacks a network it needs", 1.0, 1.0))
                continue
            needed = (None if j.verdict != INCONCLUSIVE
                      else inference.replicates_needed(t, c.claim, family=tested))
            out.append(Check(c, t, j.verdict, j.p_support, j.p_contra, needed))
    return out


def verdicts(found, others=None):
    """One row per shift: the claim, its verdict and each check's part, in words; with ``others``
    ({metric: ``checks`` under it}) each shift's verdict and checks under each other metric beside
    them (columns "verdict, <metric>" and "checks, <metric>", named as ``metrics.NAMES``)."""
    table = _verdict_rows(found)
    for metric, other in (others or {}).items():
        theirs = _verdict_rows(other).set_index("shift")
        table[f"verdict, {NAMES[metric]}"] = table["shift"].map(theirs.verdict)
        table[f"checks, {NAMES[metric]}"] = table["shift"].map(theirs.checks)
    return table


def _verdict_rows(found):
    rows = []
    for shift in dict.fromkeys(ch.contrast.shift for ch in found):
        mine = [ch for ch in found if ch.contrast.shift == shift]
        verdict = inference.combined([ch.verdict for ch in mine])  # a check not made is not supported
        parts = "; ".join(f"{ch.contrast.part}: {ch.verdict}" + _interval(ch) for ch in mine)
        rows.append({"shift": shift, "level": LEVEL[shift], "verdict": verdict, "checks": parts})
    return pd.DataFrame(rows, columns=["shift", "level", "verdict", "checks"])


def metric_changes(found, others):
    """Sentences naming the checks (and shifts) whose verdict changes with the metric (``found``:
    ``checks`` under the study's metric; ``others``: {metric: ``checks`` under it}), or one saying
    none does."""
    if not others:
        return changes_text(None)
    mine = _verdict_rows(found).set_index("shift").verdict
    theirs = {m: _verdict_rows(other).set_index("shift").verdict for m, other in others.items()}
    changed = []
    for i, ch in enumerate(found):
        moved = [(m, other[i].verdict) for m, other in others.items() if other[i].verdict != ch.verdict]
        if moved:
            shift = ch.contrast.shift
            claim = [(m, theirs[m][shift]) for m, _ in moved if theirs[m][shift] != mine[shift]]
            changed.append(f"{shift}, {ch.contrast.part}: {ch.verdict} here, " + ", ".join(
                f"{v} with the {NAMES[m]}" for m, v in moved) + ("" if not claim else
                f" (the shift's claim: {mine[shift]} here, " + ", ".join(
                    f"{v} with the {NAMES[m]}" for m, v in claim) + ")"))
    return changes_text(changed)


def _interval(ch):
    t = ch.test
    if t is None:
        return ""
    if np.isnan(t.low):
        return f" ({100 * t.mean:+.1f} points, {t.replicates} replicate{'s' if t.replicates != 1 else ''}: no interval)"
    more = f"; needs {inference.needed_text(ch.needed, 'splits')}" if ch.needed else ""
    return f" ({100 * t.mean:+.1f} points, 95% interval {100 * t.low:+.1f} to {100 * t.high:+.1f}, {t.replicates} splits{more})"


def contrast_table(found):
    """Every check: contrast, claim, mean and 95% interval over the splits (points), replicates,
    p-values towards the claim (its own) and against it (Holm-adjusted over its shift's checks),
    verdict and replicates needed."""
    rows = [{"shift": ch.contrast.shift, "part": ch.contrast.part, "contrast": ch.contrast.formula,
             "claim": f"{ch.contrast.claim[0]} {100 * ch.contrast.claim[1]:+.0f}",
             "mean": 100 * ch.test.mean if ch.test else np.nan,
             "low": 100 * ch.test.low if ch.test else np.nan, "high": 100 * ch.test.high if ch.test else np.nan,
             "splits": ch.test.replicates if ch.test else 0, "p_support": ch.p_support, "p_contra": ch.p_contra,
             "verdict": ch.verdict,
             "replicates_needed": inference.needed_text(ch.needed, "splits") if ch.needed else ""}
            for ch in found]
    return pd.DataFrame(rows)


def preregistered(names, shifts=tuple(LEVEL)):
    """The contrasts of ``shifts`` for units ``names``, as a table, before any number."""
    return pd.DataFrame([{"shift": c.shift, "level": LEVEL[c.shift], "part": c.part, "contrast": c.formula,
                          "claim": f"{c.claim[0]} {100 * c.claim[1]:+.0f} points"}
                         for s in shifts for c in contrasts(s, names)])


def accuracy_table(labelled, metric, names):
    """Per shift and treatment (scratch, linear probe, full fine-tuning, each unit alone): the mean
    over splits, in points, and its spread (sd over splits)."""
    def treatment(r):
        return {"scratch": "from scratch", "probe": "linear probe (classifier fresh)",
                "full": "full fine-tuning"}.get(r.treatment) or f"{r.k}: {names[r.k - 1]} alone"
    per_split = labelled.groupby(["shift", "treatment", "k", "split"])[metric].mean().reset_index()
    per_split["network"] = [treatment(r) for r in per_split.itertuples()]
    out = per_split.groupby(["shift", "treatment", "k", "network"])[metric].agg(["mean", "std", "count"])
    out = out.reset_index().assign(mean=lambda d: 100 * d["mean"], std=lambda d: 100 * d["std"])
    order = {"scratch": 0, "probe": 1, "full": 2, "unit": 3}
    out = out.sort_values(["shift", "treatment", "k"], key=lambda s: s.map(order) if s.name == "treatment" else s)
    return out.drop(columns=["treatment", "k"]).rename(
        columns={"mean": "mean (%)", "std": "sd over splits (points)", "count": "splits"}).set_index(["shift", "network"])
