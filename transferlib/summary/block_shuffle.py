"""Block-shuffled targets judged (Neyshabur, Sedghi and Zhang, "What is being transferred in
transfer learning?", NeurIPS 2020): how much of transfer's gain is feature reuse.

The study's ``block_shuffle`` cells train the target half's base and AnB+ at the top n on images
cut into b x b blocks in a seeded order (``data.block_shuffle``); whole images are the block side
equal to the image's. The gain of a b is AnB+ minus the base on the same images. The paper's
claim, pre-registered here as two checks on the study's smallest b (its design, not its data,
picks it): the gain there is above 0 (low-level statistics transfer), and below the gain on
whole images (the rest is reused features). A replicate is a split, its two directions averaged
as for the paper's findings (``findings``). The claim is supported when both checks are, each at
its own level, contradicted when one is at Holm's level across the two (``inference.family``).
``check_table`` shows each check under the other metrics beside it, and ``metric_changes`` names
the verdicts that change with the metric.
"""

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..records.vocabulary import paper_grid
from . import inference
from .metrics import NAMES, changes_text
from .inference import INCONCLUSIVE

CLAIM = "the gain under the smallest blocks is above 0 and below the gain under whole images"
GAIN_COLUMNS = ("split", "target", "b", "n", "base", "AnB+", "gain")


class Check(NamedTuple):
    part: str
    formula: str
    claim: tuple  # as inference's: ("above", 0.0) or ("below", 0.0)
    test: inference.Test
    verdict: str
    p_support: float  # its own
    p_contra: float   # Holm-adjusted over the two checks


def gains(df, metric, side):
    """Per split, target half and block side b (``side``: whole images), the base and the AnB+
    at the block cells' n on the same images, and the gain AnB+ - base; empty without block cells."""
    blocks = df[df.get("block_size", 0) > 0]
    if not len(blocks):
        return pd.DataFrame(columns=GAIN_COLUMNS)
    top = int(blocks.n.max())
    whole = paper_grid(df)
    whole = whole[whole.split.isin(blocks.split)]
    cells = pd.concat([blocks, whole])
    cells = cells[(cells.kind == "base") | ((cells.kind == "transfer") & cells.fine_tuned & (cells.n == top))]
    cells = cells.assign(b=np.where(cells.block_size > 0, cells.block_size, side),
                         role=np.where(cells.kind == "base", "base", "AnB+"))
    out = cells.pivot_table(index=["split", "target", "b"], columns="role", values=metric).reset_index()
    out = out.dropna(subset=[c for c in ("base", "AnB+") if c in out]).reindex(columns=list(GAIN_COLUMNS))
    out["n"] = top
    out["gain"] = out["AnB+"] - out["base"]
    return out.sort_values(["split", "target", "b"], ignore_index=True)


def per_split(gained):
    """{b: the gain per split, its directions averaged} (a Series indexed by split)."""
    means = gained.groupby(["b", "split"]).gain.mean()
    return {int(b): means.loc[b] for b in means.index.get_level_values("b").unique()}


def summary_table(gained):
    """Per b: splits, mean base and AnB+, the mean gain and its 95% interval over splits (points
    as fractions, as the metrics)."""
    splits = per_split(gained)
    rows = []
    for b, values in sorted(splits.items()):
        at = gained[gained.b == b]
        test = inference.one_sample(values.to_numpy(), ("above", 0.0))
        rows.append((b, len(values), at.base.mean(), at["AnB+"].mean(), test.mean, test.low, test.high))
    return pd.DataFrame(rows, columns=["b", "splits", "base", "AnB+", "gain", "low", "high"]).set_index("b")


def checks(gained, side):
    """The two pre-registered checks (``Check``) at the smallest b below ``side``; [] where the
    study has no block cells or no whole-image gain."""
    splits = per_split(gained)
    shuffled = [b for b in splits if b < side]
    if not shuffled or side not in splits:
        return []
    b = min(shuffled)
    above = splits[b].to_numpy()
    paired = (splits[b] - splits[side]).dropna().to_numpy()
    planned = ((f"above 0 under {b} px blocks", f"gain(b={b})", ("above", 0.0), above),
               (f"below the whole-image gain", f"gain(b={b}) - gain(whole)", ("below", 0.0), paired))
    tests = [inference.one_sample(values, claim) for _, _, claim, values in planned]
    return [Check(part, formula, claim, test, *j)
            for (part, formula, claim, _), test, j in zip(planned, tests, inference.family(tests))]


def verdict(made):
    """(verdict, text) of the claim: contradicted when a check is, supported when both are,
    inconclusive otherwise, each check with its interval and, undecided, the splits it needs."""
    if not made:
        return INCONCLUSIVE, "not judged: the study has no block-shuffled cells beside whole images"
    overall = inference.combined([c.verdict for c in made])
    return overall, f"{CLAIM}: {overall}. " + "; ".join(map(_clause, made)) + "."


def _clause(check):
    t = check.test
    shown = f"{check.formula} = {100 * t.mean:+.1f} points"
    if math.isnan(t.low):
        return f"{check.part}: {shown} over {t.replicates} split(s), no interval: {check.verdict}"
    text = (f"{check.part}: {shown}, 95% interval {100 * t.low:+.1f} to {100 * t.high:+.1f} over "
            f"{t.replicates} splits: {check.verdict}")
    if check.verdict == INCONCLUSIVE:
        needed = inference.replicates_needed(t, check.claim, family=2)
        text += f"; {inference.needed_text(needed, 'splits')}" + (
            f" would {needed.way} it at this mean and spread" if needed.n else "")
    return text


def check_table(made, others=None):
    """The checks as a table: contrast, claim, mean and 95% interval (fractions, as the
    metrics), splits, the p-values (towards the claim its own, against it Holm-adjusted) and the
    verdict; with ``others`` ({metric: ``checks`` under it}) each check's mean, interval and
    verdict under each other metric beside them (columns "mean, <metric>", "low, <metric>",
    "high, <metric>", "verdict, <metric>", named as ``metrics.NAMES``)."""
    table = pd.DataFrame([(c.part, c.formula, f"{c.claim[0]} 0", c.test.mean, c.test.low,
                           c.test.high, c.test.replicates, c.p_support, c.p_contra, c.verdict)
                          for c in made],
                         columns=["check", "contrast", "claim", "mean", "low", "high", "splits",
                                  "p towards", "p against (Holm)", "verdict"])
    for metric, other in (others or {}).items():
        theirs = {c.formula: c for c in other}
        for column, value in (("mean", lambda c: c.test.mean), ("low", lambda c: c.test.low),
                              ("high", lambda c: c.test.high), ("verdict", lambda c: c.verdict)):
            table[f"{column}, {NAMES[metric]}"] = [value(theirs[f]) if f in theirs else math.nan
                                                   for f in table.contrast]
    return table


def metric_changes(made, others):
    """Sentences naming the checks (and the claim) whose verdict changes with the metric
    (``made``: ``checks`` under the study's metric; ``others``: {metric: ``checks`` under it}),
    each with its mean and interval there, or one saying none does."""
    if not others:
        return changes_text(None)
    changed = []
    for c in made:
        moved = [(m, o) for m, other in others.items() for o in other
                 if o.formula == c.formula and o.verdict != c.verdict]
        if moved:
            changed.append(f"{c.formula}: {c.verdict} here, " + ", ".join(
                f"{o.verdict} with the {NAMES[m]} ({100 * o.test.mean:+.1f} points, 95% interval "
                f"{100 * o.test.low:+.1f} to {100 * o.test.high:+.1f})" for m, o in moved))
    overall = inference.combined([c.verdict for c in made])
    claim = [(m, inference.combined([o.verdict for o in other])) for m, other in others.items()]
    claim = [(m, v) for m, v in claim if v != overall]
    if claim:
        changed.append(f"the claim: {overall} here, " + ", ".join(f"{v} with the {NAMES[m]}" for m, v in claim))
    return changes_text(changed)
