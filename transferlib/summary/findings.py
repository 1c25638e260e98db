"""The paper's findings 2-7 (PAPER.md) judged on a study's results table: the contrasts and
their verdicts (how they are written: ``findings_text``).

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
(``findings_text``) shows each part, so a decided part is never hidden.

A contrast whose terms' weights sum to zero compares networks of the same target half and split,
so their base cancels (``Contrast.base_free``): it stands while the bases still learn. Where they
did, the other checks, each against a base, are confounded and stay inconclusive (``checks``'s
``bases_converged``).
"""

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import inference
from .inference import CONTRADICTED, INCONCLUSIVE, SUPPORTED, combined
from .stats import from_base

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

    @property
    def per_split(self):
        """Whether its replicates are the random splits (one group of similar tasks), not a
        partition's directions."""
        return self.tasks == "similar" and not self.versus


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


class Check(NamedTuple):
    contrast: Contrast
    test: inference.Test
    verdict: str
    p_support: float  # its own (every part must hold)
    p_contra: float   # Holm-adjusted over the finding's checks (any part contradicts)
    ns: dict            # {treatment: the n used}
    directions: inference.Test  # the sensitivity: each direction its own replicate
    missing: tuple = ()  # of Lacking: what the study lacks, where the check could not be made
    confounded: bool = False  # against a base that was still learning: held inconclusive


class Lacking(NamedTuple):
    treatment: str     # a term's pooled treatment the study cannot give
    tasks: str | None  # in these tasks
    ns: tuple          # at these n; () where both groups have it, but at no n in common


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


def _term_ns(terms, found):
    """Per term, the n a contrast uses (``found``: the n the study measured of each): all its n,
    or for a ``some`` term those measured; () where the study lacks the term."""
    return [n if n == term.ns or (term.some and n) else () for term, n in zip(terms, found)]


def _test(replicates, c, unit):
    """(Test, {treatment: ns}, missing) of contrast ``c`` with replicates ``unit``; missing:
    ``_lacking``'s list, where the check cannot be made."""
    found = replicates.measured(c.terms, c.tasks)
    ns = _term_ns(c.terms, found)
    if c.versus:
        other_terms = c.versus_terms or c.terms
        other_found = replicates.measured(other_terms, c.versus)
        other_ns = _term_ns(other_terms, other_found)
        missing = _lacking(c.terms, found, c.tasks) + _lacking(other_terms, other_found, c.versus)
        ns = other_ns = [tuple(sorted(set(a) & set(b))) for a, b in zip(ns, other_ns)]
        if not missing and not all(ns):
            missing = [Lacking(t.treatment, None, ()) for t, n in zip(c.terms, ns) if not n]
        if missing:
            return None, {}, missing
        return (inference.two_sample(replicates.values(c.terms, ns, c.tasks, unit, c.share),
                                     replicates.values(other_terms, other_ns, c.versus, unit, c.share),
                                     c.claim),
                _by_treatment(c.terms, ns), [])
    missing = _lacking(c.terms, found, c.tasks)
    if missing:
        return None, {}, missing
    return (inference.one_sample(replicates.values(c.terms, ns, c.tasks, unit, c.share), c.claim),
            _by_treatment(c.terms, ns), [])


def _lacking(terms, found, tasks):
    """[Lacking] of the ``terms`` the study cannot give (``found``: the n it measured of each)."""
    return [Lacking(t.treatment, tasks, tuple(t.ns if t.some else [n for n in t.ns if n not in f]))
            for t, f, n in zip(terms, found, _term_ns(terms, found)) if not n]


def _by_treatment(terms, ns):
    """{treatment: the n used} of the terms' n (``_term_ns``), each treatment's n merged."""
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


def needed(check):
    """``inference.Needed``: the replicates that would decide an undecided check, its finding's
    checks its family."""
    c = check.contrast
    family = sum(1 for other in CONTRASTS if other.finding == c.finding)
    return inference.replicates_needed(check.test, c.claim, groups=2 if c.versus else 1,
                                       family=family)
