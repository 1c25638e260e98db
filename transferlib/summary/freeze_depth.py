"""How deep to freeze a pretrained source: a study's frozen and fine-tuned copies of its units
1..n per cut n, against training from scratch and against the whole source fine-tuned, and the
recommendation of a rule written down before any number (``RULE``).

The study copies units 1..n of a pretrained source (K-1 units; its head, unit K, is never
copied) into a network trained on the target B, for n = 1..K-1. Per replicate (a split):
base, the same architecture trained from scratch on B; AnB (AnB+ fine-tuned), units 1..n copied
frozen, the source's units above n freshly initialised and a new head; AnBcut (AnBcut+), units
1..n copied frozen, then global average pooling and a new classifier: feature extraction at
unit n, the practitioner's recipe. At the top n the two constructions are one network, trained
once as AnB(+) and read as AnBcut(+) too (``label``). Every difference pairs networks of the
same split (``inference.one_sample`` of per-split differences). The table holds fractions
(0.01 = 1 point); what is shown is in points.
"""

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import inference
from .inference import ALPHA, CONTRADICTED, SUPPORTED
from .plots import STYLE

TREATMENTS = ("base", "AnB", "AnB+", "AnBcut", "AnBcut+")
METRICS = ("top1", "best10_top1", "lastk_top1")
MARGIN = 0.01  # "within 1 point" of top-1
SCORES = ("linear_probe", "logme", "h_score", "leep")  # no-training scores of the source's unit n
REFERENCE = "AnB+"  # at the top n: the whole source fine-tuned
FREEZE_NOTHING = "freeze nothing: fine-tune the whole source"
BEATS = ("above", 0.0)
WITHIN = ("within", MARGIN)


class Rule(NamedTuple):
    text: str
    registered: str  # the date it was written down, before any study it judges was summarised
    amended: str = ""  # what was reworded after a study was read, and why


RULE = Rule(
    "Reference: the whole source fine-tuned (AnB+ at the top n), fixed in advance. For n = 1, 2, "
    "... in order, test whether the frozen copy AnBcut_n is within 1 point of the reference: "
    "two one-sided t-tests, each at ALPHA = 0.025, of the per-split differences AnBcut_n - "
    "reference against -1 and +1 point (its 95% interval inside ±1 point). Stop at the first n "
    "not established; recommend the deepest n established: freeze units 1..n and train a new "
    "head. None established: where n = 1's frozen copy is shown to lie outside ±1 point (its "
    "interval beyond a bound), freeze nothing and fine-tune the whole source; otherwise "
    "undecided, with the splits n = 1's test would need. A fixed "
    "sequence: the chance of recommending an n whose frozen copy is not within 1 point of the "
    "reference is at most ALPHA. Beside it, at the recommended n, each one-sided at ALPHA and "
    "read on its own (outside the sequence's guarantee, since the data chose n): fine-tuning "
    "beats freezing (AnBcut+_n - AnBcut_n > 0), and the frozen copy beats training from scratch "
    "(AnBcut_n - base > 0).",
    "2026-12-07",
    "2026-12-07, after reading pretrained-fer: where n = 1's equivalence was contradicted, the rule "
    "said \"undecided, needs about 2 splits\"; it now says what its sequence decided, to freeze "
    "nothing. Which n is recommended, and when, is unchanged.")


def label(df):
    """The base and transfer rows of a study's table with ``treatment`` (TREATMENTS): base, AnB(+)
    without ``cut``, AnBcut(+) with it; the top n's AnB and AnB+ rows appear again as AnBcut and
    AnBcut+ where the table has no cut rows there (the study trains one network for both).
    One clear error where the table lacks a column or has no base."""
    missing = {"split", "kind", "n", "unit", "fine_tuned", "cut"} - set(df.columns)
    if missing:
        raise ValueError(f"the results table lacks the column(s) {sorted(missing)}")
    if not (df.kind == "base").any():
        raise ValueError("the results table has no base (kind 'base', the target trained from "
                         "scratch): every difference to base pairs with the base of its split")
    out = df[df.kind.isin(("base", "transfer"))].copy()
    out["treatment"] = ["base" if k == "base" else "AnB" + "cut" * bool(c) + "+" * bool(f)
                        for k, c, f in zip(out.kind, out.cut, out.fine_tuned)]
    top = _top(out)
    if top and not ((out.n == top) & out.cut.astype(bool)).any():
        copies = out[(out.n == top) & out.treatment.isin(("AnB", "AnB+"))]
        out = pd.concat([out, copies.assign(treatment=copies.treatment.str.replace("AnB", "AnBcut"))])
    return out.reset_index(drop=True)


def _top(labelled):
    """The deepest cut n of the table's transfers (0 without any)."""
    return int(labelled.n.to_numpy()[labelled.kind.to_numpy() == "transfer"].max(initial=0))


def _wide(labelled, metric):
    """The metric as [split x (treatment, n)]; one clear error for a metric the table lacks or
    two networks of one split, treatment and n."""
    if metric not in METRICS or metric not in labelled:
        raise ValueError(f"metric {metric!r} is not one of the table's {[m for m in METRICS if m in labelled]}")
    twice = labelled[labelled.duplicated(["split", "treatment", "n"], keep=False)]
    if len(twice):
        raise ValueError(f"more than one network per split, treatment and n: {twice.cell.tolist()}")
    return labelled.pivot(index="split", columns=["treatment", "n"], values=metric).astype(float)


def _units(labelled):
    """{n: the name of the source's unit n}."""
    return dict(zip(labelled.n, labelled.unit))


def _column(wide, treatment, n):
    """One network's metric per split, an array (NaN where the split lacks it)."""
    return wide[treatment, n].to_numpy() if (treatment, n) in wide.columns else np.full(len(wide), np.nan)


def _paired(a, b, claim=BEATS):
    """``inference.Test`` of a - b (arrays over the same splits) over the splits that have both."""
    difference = a - b
    return inference.one_sample(difference[~np.isnan(difference)], claim)


def curves(df, metric="top1"):
    """Per treatment and n (base at n = 0), in points: the splits, the mean over them and its 95%
    interval; the paired difference to the base of the same split and to the reference (AnB+ at
    the top n, the whole source fine-tuned), each with its 95% interval; and ``to_best``, the
    mean less the highest mean of the table (descriptive only: a best picked from these numbers
    is no reference to test against)."""
    labelled = label(df)
    wide = 100 * _wide(labelled, metric)
    units = _units(labelled)
    base, reference = _column(wide, "base", 0), _column(wide, REFERENCE, _top(labelled))
    rows = []
    for treatment in TREATMENTS:
        for n in sorted(n for t, n in wide.columns if t == treatment):
            values = wide[treatment, n].to_numpy()
            own, to_base, to_ref = (inference.one_sample(values[~np.isnan(values)], BEATS), _paired(values, base),
                                    _paired(values, reference))
            rows.append((treatment, n, units.get(n, ""), own.replicates, own.mean, own.low, own.high,
                         to_base.mean, to_base.low, to_base.high, to_ref.mean, to_ref.low, to_ref.high))
    out = pd.DataFrame(rows, columns=["treatment", "n", "unit", "splits", "mean", "low", "high", "to_base",
                                      "to_base_low", "to_base_high", "to_reference", "to_reference_low",
                                      "to_reference_high"])
    return out.assign(to_best=out["mean"] - out["mean"].max())


class Recommendation(NamedTuple):
    verdict: str              # "freeze units 1..n and train a new head", FREEZE_NOTHING or "undecided"
    n: int | None
    unit: str | None          # the name of unit n
    fine_tuning: str | None   # AnBcut+_n - AnBcut_n > 0: supported, contradicted or inconclusive
    from_scratch: str | None  # AnBcut_n - base > 0: the same
    needed: str | None        # undecided: the splits n = 1's test would need
    evidence: pd.DataFrame    # each test used, in order: its mean and 95% interval in points
    text: str                 # one Markdown paragraph


def recommend(df, metric="top1"):
    """How deep to freeze, by ``RULE``: the fixed sequence of equivalence tests of AnBcut_n to
    the whole source fine-tuned, then fine-tuning and training from scratch at the n chosen."""
    labelled = label(df)
    wide, top = _wide(labelled, metric), _top(labelled)
    if not top:
        raise ValueError("the results table has no transfer rows: no cut n to recommend")
    reference = _column(wide, REFERENCE, top)
    tests, chosen = [], None
    for n in range(1, top + 1):
        tests.append((f"AnBcut{n} - AnB+{top}", WITHIN, _paired(_column(wide, "AnBcut", n), reference, WITHIN)))
        if tests[-1][2].p_support >= ALPHA:
            break
        chosen = n
    if chosen is None:
        if _verdict(tests[0][2]) == CONTRADICTED:
            return _recommendation(FREEZE_NOTHING, None, None, None, None, None, tests, metric, top)
        return _recommendation("undecided", None, None, None, None, _needed(tests[0][2]), tests, metric, top)
    frozen = _column(wide, "AnBcut", chosen)
    tests += [(f"AnBcut+{chosen} - AnBcut{chosen}", BEATS, _paired(_column(wide, "AnBcut+", chosen), frozen)),
              (f"AnBcut{chosen} - base", BEATS, _paired(frozen, _column(wide, "base", 0)))]
    unit = _units(labelled).get(chosen, "")
    return _recommendation(f"freeze units 1..{chosen} and train a new head", chosen, unit,
                           _verdict(tests[-2][2]), _verdict(tests[-1][2]), None, tests, metric, top)


def _verdict(test):
    return inference.verdict(test.p_support, test.p_contra)


def _needed(test):
    """The splits an equivalence test would need to be decided, in words."""
    if not test.sd > 0:
        return "more splits with some spread between them (under 2, or all alike: nothing to test with)"
    needed = inference.replicates_needed(test, WITHIN)
    goal = "establish" if needed.way == "support" else "rule out"
    return f"{inference.needed_text(needed, 'splits')} to {goal} n = 1's equivalence"


def _recommendation(verdict, n, unit, fine_tuning, from_scratch, needed, tests, metric, top):
    evidence = pd.DataFrame(
        [(contrast, f"within ±{100 * bound:g}" if kind == "within" else f"{kind} {100 * bound:g}",
          t.replicates, 100 * t.mean, 100 * t.low, 100 * t.high, t.p_support, _verdict(t))
         for contrast, (kind, bound), t in tests],
        columns=["contrast", "claim (points)", "splits", "mean", "low", "high", "p_support", "verdict"])
    return Recommendation(verdict, n, unit, fine_tuning, from_scratch, needed, evidence,
                          _text(verdict, n, unit, needed, evidence, metric, top))


def _shown(row):
    """A test of ``evidence`` (its row) in words."""
    interval = "" if math.isnan(row["low"]) else f" (95% interval {row['low']:+.1f} to {row['high']:+.1f})"
    return f"{row['contrast']} = {row['mean']:+.1f} points{interval}, over {row['splits']} splits"


def _text(verdict, n, unit, needed, evidence, metric, top):
    """The recommendation and its evidence as one Markdown paragraph."""
    rule = (f"(the rule registered {RULE.registered}: equivalence within ±{100 * MARGIN:g} point of "
            f"the whole source fine-tuned, AnB+{top}, tested n = 1, 2, ... in order, on {metric})")
    sequence = evidence.iloc[: len(evidence) - (0 if n is None else 2)]
    steps = "; ".join(f"{_shown(r)}: {'established' if r['verdict'] == SUPPORTED else 'not established'}"
                      for _, r in sequence.iterrows())
    if verdict == FREEZE_NOTHING:
        return (f"**Freeze nothing: fine-tune the whole source** {rule}. {steps}: even unit 1 frozen stays "
                f"more than {100 * MARGIN:g} point from the whole source fine-tuned.")
    if n is None:
        return f"**Undecided** {rule}. {steps}. Deciding it needs {needed}."
    fine, scratch = (evidence.iloc[i] for i in (-2, -1))
    return (f"**Freeze units 1..{n} (through `{unit}`) and train a new head** {rule}. {steps}. "
            f"Fine-tuning beats freezing at n = {n}: {fine['verdict']}, {_shown(fine)}. "
            f"The frozen copy beats training from scratch: {scratch['verdict']}, {_shown(scratch)}.")


def correlations(scores, curve):
    """Spearman's rho between each score (SCORES; per n, the mean of ``scores``'s rows; a column
    absent or all NaN left out) and the measured mean AnBcut and AnB per n of ``curve`` (a
    ``curves`` table), over the n both have: rho, its exact permutation p-value and the smallest
    |rho| reaching p <= 0.05 (``inference.spearman``), and the p-value Holm-adjusted across
    the scores set against the same curve."""
    predicted = scores.groupby("n")[[s for s in SCORES if s in scores and scores[s].notna().any()]].mean()
    rows = []
    for measured in ("AnBcut", "AnB"):
        mean = curve[curve.treatment == measured].set_index("n")["mean"].dropna()
        for score in predicted:
            values = predicted[score].dropna()
            common = sorted(set(mean.index) & set(values.index))
            rows.append((score, measured, len(common),
                         *inference.spearman(values[common].to_numpy(), mean[common].to_numpy())))
    out = pd.DataFrame(rows, columns=["score", "measured", "cuts", "rho", "p", "needed_rho"]).assign(p_holm=math.nan)
    made = out.p.notna()
    out.loc[made, "p_holm"] = out[made].groupby("measured").p.transform(inference.holm)
    return out


_OFFSET = {"AnB": -0.15, "AnB+": -0.05, "AnBcut": 0.05, "AnBcut+": 0.15}


def figure(df, metric="top1"):
    """The four treatments' mean ``metric`` per cut n in points with 95% interval bars, x labelled
    with the source's unit names; the base (trained from scratch) as a band, its mean and
    interval; the reference (AnB+ at the top n) ringed. None where the table has no transfers."""
    table = curves(df, metric)
    transfers = table[table.treatment != "base"]
    if transfers.empty:
        return None
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    base = table[table.treatment == "base"].iloc[0]
    ax.axhline(base["mean"], color="black", lw=1, label="base: trained from scratch, 95% interval")
    if not math.isnan(base.low):
        ax.axhspan(base.low, base.high, color="black", alpha=0.1, lw=0)
    for treatment, offset in _OFFSET.items():
        rows = transfers[transfers.treatment == treatment]
        ax.errorbar(rows.n + offset, rows["mean"], yerr=[rows["mean"] - rows.low, rows.high - rows["mean"]],
                    capsize=3, lw=1.2, **STYLE[treatment])
    top = transfers.n.max()
    reference = transfers[(transfers.treatment == REFERENCE) & (transfers.n == top)]
    if len(reference):
        ax.plot(top + _OFFSET[REFERENCE], reference["mean"], ls="none", marker="o", ms=16, mfc="none",
                color="black", label=f"reference: the whole source fine-tuned ({REFERENCE} at n = {top})")
    units = transfers.drop_duplicates("n").sort_values("n")
    ax.set_xticks(units.n, [f"{n}\n{u}" for n, u in zip(units.n, units.unit)], fontsize="small")
    ax.set_xlabel("n: the source's units 1..n copied")
    ax.set_ylabel(f"{metric} (points)")
    ax.set_title(f"How deep to freeze: {metric} per cut n, mean over splits and 95% interval")
    ax.legend(loc="best", fontsize="small")
    return fig
