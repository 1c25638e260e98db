"""The paper's findings 2-7 in words: the judged contrasts (``findings``) written as the report
shows them.

A ``Finding`` is a claim (``findings.CLAIMS``), its verdict, each part's state in one line and
the evidence: every check's contrast, mean, 95% interval, replicates, p-values and verdict, the
replicates an undecided check would need, the direction-level sensitivity and the paper's own
numbers. The tables are the contrasts as written down (``preregistered``), the verdicts under
each metric (``verdict_table``, ``metric_changes``) and every check (``contrast_table``). A
study of another network than the CaffeNet is not judged: the contrasts name the CaffeNet's
layers.
"""

import math
from typing import NamedTuple

import pandas as pd

from ..records.vocabulary import is_caffenet, units
from . import inference
from .findings import CLAIMS, CONTRASTS, NOT_JUDGED, checks, needed
from .inference import INCONCLUSIVE, combined
from .metrics import NAMES, changes_text, choose
from .paper import PAPER_REFERENCE
from .stats import table1


class Finding(NamedTuple):
    number: int
    claim: str
    verdict: str  # SUPPORTED, CONTRADICTED, INCONCLUSIVE, or NOT_JUDGED (another network)
    parts: str    # each part's state, in one line
    evidence: str
    checks: tuple = ()  # of findings.Check

    @property
    def text(self):
        return f"Finding {self.number} ({self.claim}): {self.verdict}: {self.parts}." + (
            f" {self.evidence}" if self.evidence else "")


def _points(x):
    return f"{100 * x:+.1f}"


def _claim_text(c):
    """A contrast's claim: "below 0", "within ±1" (points; shares as fractions)."""
    kind, bound = c.claim
    level = f"{bound:.2f}" if c.share else f"{100 * bound:g}"
    return f"within ±{level}" if kind == "within" else f"{kind} {level}"


def preregistered():
    """CONTRASTS as a table: finding, part, contrast, claim (points; shares as fractions), the
    replicate, whether it needs no base, and the date it was written down."""
    return pd.DataFrame([(c.finding, c.part, c.formula, _claim_text(c), _replicate(c), c.base_free,
                          c.registered) for c in CONTRASTS],
                        columns=["finding", "part", "contrast", "claim", "replicate", "base-free",
                                 "registered"]).set_index("finding")


_UNITS = {"similar": "similar: a split", "dissimilar": "dissimilar: a direction (one partition)",
          None: "any: a split (random splits), a direction (one partition)"}


def _replicate(c):
    return ", ".join(_UNITS[g] for g in ((c.tasks, c.versus) if c.versus else (c.tasks,)))


_NAMES = {"random": "random-weights networks"}


def _network(lacking):
    """A ``findings.Lacking``'s network: "random-weights networks", "AnB (dissimilar)"."""
    if not lacking.ns:
        return f"{lacking.treatment} at the same n in both groups"
    where = f" ({lacking.tasks})" if lacking.tasks and lacking.tasks != "similar" else ""
    return _NAMES.get(lacking.treatment, lacking.treatment) + where


def _absent(missing):
    """'the study has no X at n=..., nor Y at n=...' of ``findings.Lacking``s, each network once."""
    ns = {}
    for lacking in missing:
        ns.setdefault(_network(lacking), set()).update(lacking.ns)
    return "the study has no " + ", nor ".join(f"{name} at n={_n_text(n)}" if n else name
                                              for name, n in ns.items())


def _n_text(ns):
    """1-7 for a run of n, else the n listed: 4, 5."""
    ns = sorted(ns)
    if len(ns) > 2 and ns == list(range(ns[0], ns[-1] + 1)):
        return f"{ns[0]}-{ns[-1]}"
    return ", ".join(map(str, ns))


def _unit(c, count):
    word = "split" if c.per_split else "replicate"
    return f"{count} {word}{'' if count == 1 else 's'}"


def _show(c, x):
    return f"{x:.2f}" if c.share else _points(x)


def _needs_text(check):
    """What would decide an undecided check, in words: more replicates (``findings.needed``) at
    its mean and spread, a spread at all, a base that has stopped learning, or more seeds of the
    one man-made/natural partition."""
    c = check.contrast
    if check.confounded:
        return "a base that has stopped learning (or the base-free checks)"
    if "dissimilar" in (c.tasks, c.versus):  # one partition: its two directions are all there is
        return "more seeds of each direction of the one man-made/natural partition"
    unit = "splits" if c.per_split else "replicates"
    if not (check.test and check.test.sd > 0):
        return f"at least 2 {unit} with a spread"
    count = needed(check)
    text = inference.needed_text(count, unit)
    if count.n is None:
        return text
    both = (c.per_split and check.directions is not None
            and check.directions.replicates > check.test.replicates)
    return (f"{text}{' of both directions' if both else ''}{' per group' if c.versus else ''}"
            f" to {count.way} it at this mean and spread")


def _clause(check):
    """One check in words: its contrast, mean, interval, replicates, claim and verdict."""
    c, t = check.contrast, check.test
    if t is None:
        return f"{c.formula}: not measured: {_absent(check.missing)}"
    want = _claim_text(c)
    unit = (f"{t.replicates} {c.tasks or 'random'} and {t.others} {c.versus} replicates" if c.versus
            else _unit(c, t.replicates))
    ns = _ns_note(check)
    if math.isnan(t.low):
        body = f"{c.formula}{ns} {_show(c, t.mean)} from {unit}, no interval (claim: {want})"
    else:
        body = (f"{c.formula}{ns} {_show(c, t.mean)}, 95% interval [{_show(c, t.low)}, "
                f"{_show(c, t.high)}] over {unit} (claim: {want}; p {check.p_support:.3f} for, "
                f"Holm p {check.p_contra:.3f} against)")
    verdict = check.verdict + (" (its base was still learning)" if check.confounded else "") + (
        f", needs {_needs_text(check)}" if check.verdict == INCONCLUSIVE else "")
    return f"{body}: {verdict}"


def _ns_note(check):
    """Where the study measured fewer n than the contrast names, which it used."""
    c = check.contrast
    notes = [f"{t} at n={','.join(map(str, n))}" for t, n in check.ns.items()
             if set(n) != {m for term in c.terms if term.treatment == t for m in term.ns}]
    return f" ({'; '.join(notes)} measured)" if notes else ""


def _part_states(found):
    """Each part of one finding's checks in words ("drops at n=4-7: supported"), in the order of
    CONTRASTS."""
    parts = {}
    for check in found:
        parts.setdefault(check.contrast.part, []).append(check)
    out = []
    for part, group in parts.items():
        state = combined([c.verdict for c in group])
        undecided = [c for c in group if c.verdict == INCONCLUSIVE]
        if state == INCONCLUSIVE and all(c.test is None for c in undecided):
            out.append(f"{part}: not measured")
        elif state == INCONCLUSIVE:
            worst = max((c for c in undecided if c.test),
                        key=lambda c: math.inf if c.confounded else (needed(c).n or math.inf))
            out.append(f"{part}: undecided, needs {_needs_text(worst)}")
        else:
            out.append(f"{part}: {state}")
    return out


def _paper(number, metric_df):
    ref = PAPER_REFERENCE
    sim = ref["difference"]["similar"]
    if number == 2:
        return (f"paper (official logs, each network against its own base): dip {ref['dip']:+.2f} "
                f"points, BnB7 - base {ref['bnb7_paired']:+.2f}")
    if number == 3:
        return f"paper: BnB+ - base {_points(min(sim['BnB+'].values()))} to {_points(max(sim['BnB+'].values()))} over n"
    if number == 4:
        return "paper " + ", ".join(f"n={n} {_points(sim['AnB'][n])}" for n in (1, 2, 4, 7))
    if number == 5:
        paired = ref["table1_paired"]["1-7"]
        text = (f"paper (official logs, each network against its own base, the mean over n=1-7 of the "
                f"per-n means as in this contrast): AnB+ {paired[0]:+.2f}, BnB+ {paired[1]:+.2f}, so AnB+ - "
                f"BnB+ {paired[0] - paired[1]:+.2f} (pooled over networks both +0.97; every official AnB+ "
                "trained on a B half, every BnB+ on an A half)")
        if metric_df is not None:
            table = table1(*metric_df)
            ranges = ", ".join(f"{k} {table.loc[k, 'AnB+ - base']:+.2f} (paper {table.loc[k, 'paper AnB+ - base']:+.1f})"
                               for k in ("1-7", "3-7", "5-7") if k in table.index
                               and not math.isnan(table.loc[k, "AnB+ - base"]))
            if ranges:
                text += f"; Table 1 as printed (unpaired), AnB+ mean - base mean in points: {ranges}"
        return text
    if number == 6:
        return (f"paper at n=7 {_points(ref['difference']['dissimilar']['AnB'][7])} dissimilar, "
                f"{_points(ref['similar_AnB_difference_n7'])} similar")
    return "paper " + ", ".join(f"n={n} {_points(ref['difference']['similar']['random'][n])}"
                                for n in (1, 2, 3, 7)) + " (from the 1000-class base)"


def _sensitivity(found):
    shown = [c for c in found if c.directions is not None and not math.isnan(c.directions.low)
             and c.contrast.per_split]
    if not shown:
        return ""
    return ("each direction its own replicate (not independent: a sensitivity): " + "; ".join(
        f"{c.contrast.formula} [{_show(c.contrast, c.directions.low)}, {_show(c.contrast, c.directions.high)}]"
        f" over {c.directions.replicates}" for c in shown))


PARTITION = ("the man-made/natural split is one partition: its two directions are its replicates, "
             "so this verdict is about this partition only")


def findings(df, metric=None, classes=None, bases_converged=True):
    """The paper's findings 2-7 (PAPER.md) judged on ``df`` with ``metric`` (a column: see
    summary.metrics; None: the one ``metrics.choose`` picks from the table as it is; ``classes``:
    {(split, half): classes}, for chance in finding 7; ``bases_converged``: see ``checks``): a
    list of Finding, its text quoting each check's mean, interval, replicates, p-values and
    verdict, the direction-level sensitivity and the paper's numbers. A study of another network than the CaffeNet is not judged (the contrasts name the
    CaffeNet's layers)."""
    metric = metric or choose(df).column
    if not is_caffenet(df):
        why = ("the paper's findings are about the CaffeNet's layers; this study's units are "
               + ", ".join(units(df).values()))
        return [Finding(k, CLAIMS[k], NOT_JUDGED, why, "") for k in CLAIMS]
    made = checks(df, metric, classes, bases_converged)
    out = []
    for number, claim in CLAIMS.items():
        found = [c for c in made if c.contrast.finding == number]
        if all(c.test is None for c in found):
            out.append(Finding(number, claim, INCONCLUSIVE, "not measured: " + _absent(
                [lacking for c in found for lacking in c.missing]), "", tuple(found)))
            continue
        verdict = combined([c.verdict for c in found])
        notes = [_clause(c) for c in found] + [s for s in (_sensitivity(found),) if s]
        if any("dissimilar" in (c.contrast.tasks, c.contrast.versus) and c.test for c in found):
            notes.append(PARTITION)
        notes.append(_paper(number, (df, metric) if number == 5 else None))
        out.append(Finding(number, claim, verdict, "; ".join(_part_states(found)),
                           "; ".join(notes) + ".", tuple(found)))
    return out


def verdict_table(found, metric, others=None):
    """The findings as a table: finding, claim, verdict, its parts and the evidence, and with
    ``others`` ({metric: findings}) the verdict under each other metric beside it; the column
    axis names the metric judged."""
    rows = [(f.number, f.claim, f.verdict, f.parts, f.evidence) for f in found]
    table = pd.DataFrame(rows, columns=["finding", "claim", "verdict", "parts", "evidence"])
    for other, other_found in (others or {}).items():
        table[f"verdict, {NAMES[other]}"] = [f.verdict for f in other_found]
    table.columns.name = NAMES[metric]
    return table.set_index("finding")


def metric_changes(table):
    """Sentences naming the findings whose verdict changes with the metric (a ``verdict_table``
    with other metrics), or one saying none does."""
    others = [c for c in table.columns if c.startswith("verdict, ")]
    changed = [f"finding {k}: {row.verdict} here, " + ", ".join(
        f"{row[c]} with the {c.removeprefix('verdict, ')}" for c in others if row[c] != row.verdict)
        for k, row in table.iterrows() if any(row[c] != row.verdict for c in others)]
    return changes_text(changed if others else None)


def contrast_table(found):
    """Every check of ``found`` (Findings) in one table: contrast, replicates, mean and 95%
    interval in points (shares as fractions), whether it needs no base, its p-values (towards the
    claim its own, against it Holm-adjusted), verdict, replicates it would need, and the
    direction-level interval."""
    rows = []
    for f in found:
        for check in f.checks:
            c, t, d = check.contrast, check.test, check.directions
            scale = 1.0 if c.share else 100.0
            rows.append({"finding": f.number, "part": c.part, "contrast": c.formula,
                         "replicates": t.replicates if t else 0,
                         "mean": scale * t.mean if t else math.nan,
                         "low": scale * t.low if t else math.nan,
                         "high": scale * t.high if t else math.nan,
                         "base-free": c.base_free,
                         "p support": check.p_support, "p contra (Holm)": check.p_contra,
                         "verdict": check.verdict,
                         "needs": _needs_text(check) if check.verdict == INCONCLUSIVE and t else "",
                         "directions: low": scale * d.low if d else math.nan,
                         "directions: high": scale * d.high if d else math.nan,
                         "directions": d.replicates if d else 0})
    return pd.DataFrame(rows).set_index("finding") if rows else pd.DataFrame()
