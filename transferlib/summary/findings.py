"""The paper's findings 2-7 (PAPER.md) judged on a study's results table.

Every finding is a few pre-registered contrasts (``CONTRASTS``), written down before any
number is seen: none picks its layer from the data it then tests. Each is a difference of
networks from their own bases (accuracy, 0.01 = 1 point) combined per replicate and tested
(``inference``): supported, contradicted, or inconclusive with the replicates it would need.

A replicate is a split: its two directions share the class partition and both bases, so they
are averaged into one value (the direction-level interval is shown beside it as a sensitivity).
The man-made/natural split and the all-classes networks are one partition each: there the two
directions are the replicates, as said where they are used. A finding is supported when every
check is, each at its own level (``inference.family``: an intersection-union test), contradicted
when a check is at Holm's level across the finding's checks, inconclusive otherwise; its text
shows each part, so a decided part is never hidden.

A contrast whose terms' weights sum to zero compares networks of the same target half and split,
so their base cancels (``Contrast.base_free``): it stands while the bases still learn. Where they
did, the other checks, each against a base, are confounded and stay inconclusive (``checks``'s
``bases_converged``).
"""

import math
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..records.vocabulary import is_caffenet, units
from . import inference
from .inference import CONTRADICTED, INCONCLUSIVE, SUPPORTED, combined
from .metrics import NAMES, changes_text, choose
from .paper import PAPER_REFERENCE
from .stats import from_base, table1

NOT_JUDGED = "not judged"  # a study of another network than the CaffeNet
MARGIN = 0.01      # within ±1 point of top-1: "equals its base"
CONTROL_MARGIN = 0.005  # AnB+ within ±0.5 point of BnB+: the official logs' +0.97 against +0.94
BASE_FREE_DATE = "2026-12-07"  # the base-free contrasts, written before the findings run they judge
CHANCE_KEPT = 0.25  # at most a quarter of the base's accuracy above chance kept: "near chance"
ALL_N = (1, 2, 3, 4, 5, 6, 7)


class Term(NamedTuple):
    treatment: str  # pooled treatment (vocabulary.POOLED)
    ns: tuple       # its mean over these n; each must be measured, unless ``some``
    weight: float
    some: bool = False  # "over n": the mean over those of ``ns`` the study and the replicate have


class Contrast(NamedTuple):
    finding: int
    part: str       # the part of the claim it checks
    formula: str
    claim: tuple    # ("below", b), ("above", b) or ("within", margin)
    terms: tuple    # of Term: the value of a replicate is sum(weight * mean over ns of x)
    tasks: str | None = "similar"  # the rows' tasks (None: any)
    versus: str | None = None      # a second group's tasks: Welch's t of tasks minus versus
    versus_terms: tuple = ()       # the second group's terms (default: the same terms)
    share: bool = False            # x = the share of the base's accuracy above chance kept,
    #                                (metric - chance) / (base - chance), the highest over ns;
    #                                else x = metric - base
    registered: str = "2026-12-03"  # the date it was written down, before the runs it judges

    @property
    def base_free(self):
        """Whether the base cancels: differences of networks sharing a base, weights summing to 0."""
        return not (self.share or self.versus) and abs(sum(t.weight for t in self.terms)) < 1e-9


def _at(treatment, ns):
    """The terms of one treatment's mean at exactly these n."""
    return (Term(treatment, ns, 1.0),)


def _over_n(treatment, ns=ALL_N, weight=1.0):
    return Term(treatment, ns, weight, some=True)


CLAIMS = {  # the paper's findings, as far as the contrasts test them
    2: "BnB dips at n=4,5 below n=2 and 7, and is back at base by n=7",
    3: "BnB+ stays at base, on average over n",
    4: "AnB equals base at n=1,2, drops at 4-7, below BnB at 4-7 and more so at 7 than at 4",
    5: "AnB+ beats base on average over n=1-7, and (the official logs) by as much as BnB+",
    6: "AnB falls faster with n on dissimilar tasks",
    7: "random frozen layers fall at n=1,2, near chance from n=3, below dissimilar AnB",
}
CONTRASTS = (
    Contrast(2, "dips at n=4, 5", "mean(BnB4, BnB5) - mean(BnB2, BnB7)", ("below", 0.0),
             (Term("BnB", (4, 5), 1.0), Term("BnB", (2, 7), -1.0))),
    Contrast(2, "back at base by n=7", "BnB7 - base", ("within", MARGIN), _at("BnB", (7,))),
    Contrast(3, "at base on average over n", "mean over n=1-7 of BnB+ - base", ("within", MARGIN),
             (_over_n("BnB+"),)),
    *(Contrast(4, "drops at n=4-7", f"AnB{n} - base", ("below", 0.0), _at("AnB", (n,)))
      for n in (4, 5, 6, 7)),
    *(Contrast(4, "equal at n=1, 2", f"AnB{n} - base", ("within", MARGIN), _at("AnB", (n,)))
      for n in (1, 2)),
    *(Contrast(4, "below BnB at n=4-7", f"BnB{n} - AnB{n}", ("above", 0.0),
               (Term("BnB", (n,), 1.0), Term("AnB", (n,), -1.0)), registered=BASE_FREE_DATE)
      for n in (4, 5, 6, 7)),
    Contrast(4, "more specific at n=7 than at 4", "(BnB7 - AnB7) - (BnB4 - AnB4)", ("above", 0.0),
             (Term("BnB", (7,), 1.0), Term("AnB", (7,), -1.0), Term("BnB", (4,), -1.0),
              Term("AnB", (4,), 1.0)), registered=BASE_FREE_DATE),
    Contrast(5, "beats base", "mean over n=1-7 of AnB+ - base", ("above", 0.0), (_over_n("AnB+"),)),
    Contrast(5, "as much as its control BnB+", "mean over n=1-7 of (AnB+ - base) - (BnB+ - base)",
             ("within", CONTROL_MARGIN), (_over_n("AnB+"), _over_n("BnB+", weight=-1.0)),
             registered=BASE_FREE_DATE),
    Contrast(6, "falls faster", "AnB7 - base, dissimilar minus similar", ("below", 0.0),
             _at("AnB", (7,)), tasks="dissimilar", versus="similar"),
    *(Contrast(7, "falls at n=1, 2", f"random{n} - base", ("below", 0.0), _at("random", (n,)),
               tasks=None) for n in (1, 2)),
    Contrast(7, "near chance from n=3", "highest over n=3-7 of (random - chance) / (base - chance)",
             ("below", CHANCE_KEPT),
             (_over_n("random", (3, 4, 5, 6, 7)),), tasks=None, share=True),
    Contrast(7, "below dissimilar AnB", "mean over n=1-7 of random - base, minus the same of "
             "dissimilar AnB", ("below", 0.0), (_over_n("random"),), tasks=None,
             versus="dissimilar", versus_terms=(_over_n("AnB"),)),
)


def preregistered():
    """CONTRASTS as a table: finding, part, contrast, claim (points; shares as fractions), the
    replicate, whether it needs no base, and the date it was written down."""
    def claim(c):
        kind, bound = c.claim
        level = f"{bound:.2f}" if c.share else f"{100 * bound:g}"
        return f"within ±{level}" if kind == "within" else f"{kind} {level}"
    return pd.DataFrame([(c.finding, c.part, c.formula, claim(c), _replicate(c), c.base_free, c.registered)
                         for c in CONTRASTS],
                        columns=["finding", "part", "contrast", "claim", "replicate", "base-free",
                                 "registered"]).set_index("finding")


_UNITS = {"similar": "similar: a split", "dissimilar": "dissimilar: a direction (one partition)",
          None: "any: a split (random splits), a direction (one partition)"}


def _replicate(c):
    return ", ".join(_UNITS[g] for g in ((c.tasks, c.versus) if c.versus else (c.tasks,)))


class Check(NamedTuple):
    contrast: Contrast
    test: inference.Test
    verdict: str
    p_support: float  # its own (every part must hold)
    p_contra: float   # Holm-adjusted over the finding's checks (any part contradicts)
    ns: dict            # {treatment: the n used}
    directions: inference.Test  # the sensitivity: each direction its own replicate
    missing: tuple = ()  # ((network, n), ...) the study lacks, where the check could not be made
    confounded: bool = False  # against a base that was still learning: held inconclusive


class Finding(NamedTuple):
    number: int
    claim: str
    verdict: str  # SUPPORTED, CONTRADICTED, INCONCLUSIVE, or NOT_JUDGED (another network)
    parts: str    # each part's state, in one line
    evidence: str
    checks: tuple = ()

    @property
    def text(self):
        return f"Finding {self.number} ({self.claim}): {self.verdict}: {self.parts}." + (
            f" {self.evidence}" if self.evidence else "")


def _points(x):
    return f"{100 * x:+.1f}"


def _rows(df, metric, classes=None):
    """Full-data non-base rows with x = metric - own base (``difference``) and the share of the
    base's accuracy above chance kept (``share``; chance 1 / the half's ``classes``, {(split,
    half): count}, else 0), and each row's replicate: its split for random splits, else its
    direction."""
    rows = from_base(df, metric)
    chance = np.array([1 / classes[k] if classes and k in classes else 0.0
                       for k in zip(rows.split, rows.target)])
    rows = rows.assign(share=(rows[metric] - chance) / (rows.base - chance))
    rows = rows.dropna(subset=["difference"])
    direction = rows.split + "/" + rows.target
    return rows.assign(direction=direction,
                       replicate=np.where(rows.tasks == "similar", rows.split, direction))


class _Replicates:
    """The study's networks as one value per replicate, per (treatment, n), for the contrasts
    to combine (numpy over the rows, once per study)."""

    def __init__(self, rows):
        self.tasks, self.pooled = rows.tasks.to_numpy(), rows.pooled.to_numpy()
        self.n = rows.n.to_numpy()
        self.x = {False: rows.difference.to_numpy(float), True: rows.share.to_numpy(float)}
        self.codes = {unit: pd.factorize(rows[unit])[0] for unit in ("replicate", "direction")}
        self._measured = {}

    def group(self, tasks):
        return np.ones(len(self.tasks), bool) if tasks is None else self.tasks == tasks

    def measured(self, terms, tasks):
        """The n of each term the study measured in ``tasks``."""
        if tasks not in self._measured:
            group = self.group(tasks)
            self._measured[tasks] = {t: set(self.n[group & (self.pooled == t)])
                                     for t in set(self.pooled[group])}
        found = self._measured[tasks]
        return [tuple(n for n in term.ns if n in found.get(term.treatment, ())) for term in terms]

    def values(self, terms, ns, tasks, unit, share):
        """Per replicate (``unit``: replicate or direction), the sum over terms of weight x (the
        mean, or with ``share`` the highest, over the term's n: all of them, or for a ``some``
        term those the replicate has; x itself the mean over the replicate's networks); a
        replicate lacking a term is left out."""
        codes, x, group = self.codes[unit], self.x[share], self.group(tasks)
        size = codes.max() + 1 if len(codes) else 0
        total = np.zeros(size)
        for term, term_ns in zip(terms, ns):
            per_n = []
            for n in term_ns:
                pick = group & (self.pooled == term.treatment) & (self.n == n)
                count = np.bincount(codes[pick], minlength=size)
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_n.append(np.bincount(codes[pick], weights=x[pick], minlength=size) / count)
            per_n = np.array(per_n)  # nan where a replicate lacks the network
            with warnings.catch_warnings():  # all-nan: the replicate lacks the term: left out
                warnings.simplefilter("ignore", RuntimeWarning)
                if term.some:
                    per_n = np.nanmax(per_n, axis=0) if share else np.nanmean(per_n, axis=0)
                else:
                    per_n = per_n.max(axis=0) if share else per_n.mean(axis=0)
            total = total + term.weight * per_n
        return total[~np.isnan(total)]


def _usable(terms, found):
    """Per term, the n a contrast uses: all its n, or for a ``some`` term those measured; ()
    where the study lacks the term."""
    return [n if n == term.ns or (term.some and n) else () for term, n in zip(terms, found)]


def _test(replicates, c, unit):
    """(Test, {treatment: ns}, missing) of contrast ``c`` with replicates ``unit``; missing:
    ``_lacking``'s list, where the check cannot be made."""
    found = replicates.measured(c.terms, c.tasks)
    ns = _usable(c.terms, found)
    if c.versus:
        other_terms = c.versus_terms or c.terms
        other_found = replicates.measured(other_terms, c.versus)
        other_ns = _usable(other_terms, other_found)
        missing = _lacking(c.terms, found, c.tasks) + _lacking(other_terms, other_found, c.versus)
        ns = other_ns = [tuple(sorted(set(a) & set(b))) for a, b in zip(ns, other_ns)]
        if not missing and not all(ns):
            missing = [(f"{t.treatment} at the same n in both groups", ()) for t, n in zip(c.terms, ns) if not n]
        if missing:
            return None, {}, missing
        return (inference.two_sample(replicates.values(c.terms, ns, c.tasks, unit, c.share),
                                     replicates.values(other_terms, other_ns, c.versus, unit, c.share),
                                     c.claim),
                _used(c.terms, ns), [])
    missing = _lacking(c.terms, found, c.tasks)
    if missing:
        return None, {}, missing
    return (inference.one_sample(replicates.values(c.terms, ns, c.tasks, unit, c.share), c.claim),
            _used(c.terms, ns), [])


_NAMES = {"random": "random-weights networks"}


def _lacking(terms, found, tasks):
    """[(network, the n lacking)] of the ``terms`` the study cannot give (``found``: the n it
    measured of each)."""
    where = f" ({tasks})" if tasks and tasks != "similar" else ""
    return [(_NAMES.get(t.treatment, t.treatment) + where,
             tuple(t.ns if t.some else [n for n in t.ns if n not in f]))
            for t, f, n in zip(terms, found, _usable(terms, found)) if not n]


def _absent(missing):
    """'the study has no X at n=..., nor Y at n=...' of ``_lacking``'s pairs, each network once."""
    ns = {}
    for name, n in missing:
        ns.setdefault(name, set()).update(n)
    return "the study has no " + ", nor ".join(f"{name} at n={_n_text(n)}" if n else name
                                              for name, n in ns.items())


def _n_text(ns):
    """1-7 for a run of n, else the n listed: 4, 5."""
    ns = sorted(ns)
    if len(ns) > 2 and ns == list(range(ns[0], ns[-1] + 1)):
        return f"{ns[0]}-{ns[-1]}"
    return ", ".join(map(str, ns))


def _used(terms, ns):
    used = {}
    for term, n in zip(terms, ns):
        used.setdefault(term.treatment, set()).update(n)
    return {t: tuple(sorted(n)) for t, n in used.items()}


def checks(df, metric, classes=None, bases_converged=True):
    """Every contrast of ``CONTRASTS`` tested on the study (``Check``), each finding's checks
    judged as one family (``inference.family``); ``classes``: {(split, half): classes}
    (metrics.half_classes), for chance. Where ``bases_converged`` is False, a check against a
    base is shown but held inconclusive: its base was still learning."""
    replicates = _Replicates(_rows(df, metric, classes))
    made = []
    for number in CLAIMS:
        family = [c for c in CONTRASTS if c.finding == number]
        tested = [(c, *_test(replicates, c, "replicate"), _test(replicates, c, "direction")[0])
                  for c in family]
        judged = inference.family([test for _, test, _, _, _ in tested])
        for (c, test, ns, missing, directions), j in zip(tested, judged):
            if test is None:
                made.append(Check(c, None, INCONCLUSIVE, 1.0, 1.0, {}, None, missing))
                continue
            confounded = not (bases_converged or c.base_free)
            made.append(Check(c, test, INCONCLUSIVE if confounded else j.verdict, j.p_support,
                              j.p_contra, ns, directions, confounded=confounded))
    return made


def verdicts(made):
    """{finding: verdict} of ``checks``' output: contradicted when a check is, supported when
    every check is, inconclusive otherwise."""
    return {number: combined([c.verdict for c in made if c.contrast.finding == number])
            for number in CLAIMS}


def _unit(c, count):
    word = "split" if (c.tasks == "similar" and not c.versus) else "replicate"
    return f"{count} {word}{'' if count == 1 else 's'}"


def _show(c, x):
    return f"{x:.2f}" if c.share else _points(x)


def _needed(check):
    """``inference.Needed`` of an undecided check."""
    c = check.contrast
    family = sum(1 for other in CONTRASTS if other.finding == c.finding)
    return inference.replicates_needed(check.test, c.claim, groups=2 if c.versus else 1,
                                       family=family)


def _needs(check):
    c = check.contrast
    if check.confounded:
        return "a base that has stopped learning (or the base-free checks)"
    if "dissimilar" in (c.tasks, c.versus):  # one partition: its two directions are all there is
        return "more seeds of each direction of the one man-made/natural partition"
    splits = c.tasks == "similar" and not c.versus
    unit = "splits" if splits else "replicates"
    needed = _needed(check)
    if not (check.test and check.test.sd > 0):
        return f"at least 2 {unit} with a spread"
    text = inference.needed_text(needed, unit)
    if needed.n is None:
        return text
    both = splits and check.directions is not None and check.directions.replicates > check.test.replicates
    return (f"{text}{' of both directions' if both else ''}{' per group' if c.versus else ''}"
            f" to {needed.way} it at this mean and spread")


def _clause(check):
    """One check in words: its contrast, mean, interval, replicates, claim and verdict."""
    c, t = check.contrast, check.test
    if t is None:
        return f"{c.formula}: not measured: {_absent(check.missing)}"
    kind, bound = c.claim
    level = f"{bound:.2f}" if c.share else f"{100 * bound:g}"
    want = f"within ±{level}" if kind == "within" else f"{kind} {level}"
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
        f", needs {_needs(check)}" if check.verdict == INCONCLUSIVE else "")
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
                        key=lambda c: math.inf if c.confounded else (_needed(c).n or math.inf))
            out.append(f"{part}: undecided, needs {_needs(worst)}")
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
             and c.contrast.tasks == "similar" and not c.contrast.versus]
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
                [m for c in found for m in c.missing]), "", tuple(found)))
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
                         "needs": _needs(check) if check.verdict == INCONCLUSIVE and t else "",
                         "directions: low": scale * d.low if d else math.nan,
                         "directions: high": scale * d.high if d else math.nan,
                         "directions": d.replicates if d else 0})
    return pd.DataFrame(rows).set_index("finding") if rows else pd.DataFrame()
