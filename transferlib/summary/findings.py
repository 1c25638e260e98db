"""The paper's findings 2-7 (PAPER.md) judged on a study's results table.

Each finding is a few checks on differences from the base (accuracy points), each check decided
from the 95% t-interval of its mean over the replicates (one per split and target half):
supported when the whole interval is on the claim's side of the bound, contradicted when the
whole interval is on the other side, inconclusive when it straddles the bound or when there are
fewer than 2 replicates (one network proves nothing about noise). A finding is supported when
every check is, contradicted when one is, inconclusive otherwise (also where the study lacks
the treatment).
"""

import math
from typing import NamedTuple

import pandas as pd

from .paper import PAPER_REFERENCE
from ..vocabulary import is_caffenet, units
from .stats import METRIC_NAMES, difference_interval, from_base, interval, reported_metric, table1

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
NOT_JUDGED = "not judged"  # a study of another network than the CaffeNet
EQUAL_TOL = 0.01   # a difference within ±1 point of top-1: "equals its base"
CHANCE_KEPT = 0.25  # at most a quarter of the base's accuracy kept: "near chance"


class Finding(NamedTuple):
    number: int
    claim: str
    verdict: str  # SUPPORTED, CONTRADICTED, INCONCLUSIVE, or NOT_JUDGED (another network)
    text: str


def _points(x):
    return f"{100 * x:+.1f}"


def _count(k, what):
    return f"{k} {what}{'' if k == 1 else 's'}"


def _check(values, claim, what, scale=100.0, unit=" points"):
    """(verdict, clause) of one check on per-replicate ``values``: claim ("below", b), ("above",
    b) or ("within", tol) against the 95% interval of their mean."""
    mean, low, high = interval(values)
    return _decide(mean, low, high, claim, what, _count(len(values), "replicate"), scale, unit)


def _decide(mean, low, high, claim, what, replicates, scale=100.0, unit=" points"):
    """(verdict, clause) of a mean and its 95% interval (NaN bounds: no interval) against the
    claim; values shown times ``scale`` (points) with ``unit``."""
    kind, bound = claim
    digits = 1 if scale == 100 else 2
    sign = "+" if unit else ""  # differences signed, shares not
    show = lambda x: f"{scale * x:{sign}.{digits}f}"  # noqa: E731
    level = f"{scale * abs(bound):.{digits}f}" if bound else "0"
    want = {"below": f"below {'-' if bound < 0 else ''}{level}",
            "above": f"above {'-' if bound < 0 else ''}{level}", "within": f"within ±{level}"}[kind]
    if math.isnan(low):
        return INCONCLUSIVE, (f"{what} {show(mean)}{unit} from {replicates}, no interval "
                              f"(claim: {want})")
    if kind == "within":
        verdict = (SUPPORTED if -bound <= low and high <= bound else
                   CONTRADICTED if high < -bound or low > bound else INCONCLUSIVE)
    else:
        inside, outside = (high < bound, low > bound) if kind == "below" else (low > bound,
                                                                                high < bound)
        verdict = SUPPORTED if inside else CONTRADICTED if outside else INCONCLUSIVE
    return verdict, (f"{what} {show(mean)}{unit}, 95% interval [{show(low)}, {show(high)}] over "
                     f"{replicates} (claim: {want}): {verdict}")


def _finding(number, claim, checks, notes=()):
    verdicts = [v for v, _ in checks]
    verdict = (CONTRADICTED if CONTRADICTED in verdicts else
               SUPPORTED if verdicts and all(v == SUPPORTED for v in verdicts) else INCONCLUSIVE)
    clauses = [c for _, c in checks] + list(notes)
    return Finding(number, claim, verdict, f"Finding {number} ({claim}): {verdict}: "
                                           + "; ".join(clauses) + ".")


def _unmeasured(number, claim, what):
    return Finding(number, claim, INCONCLUSIVE, f"Finding {number} ({claim}): {INCONCLUSIVE}: "
                                               f"not measured: {what}.")


def _per_n(diff, group, pooled):
    """{n: Series of differences per replicate (split, target)} of one tasks group and
    treatment."""
    rows = diff[(diff.tasks == group) & (diff.pooled == pooled)].dropna(subset=["difference"])
    return {n: g.set_index(["split", "target"]).difference for n, g in rows.groupby("n")}


def _missing(name, ns):
    return INCONCLUSIVE, f"no {name} at n={'-'.join(map(str, sorted({ns[0], ns[-1]})))}"


def _equal_checks(series, ns, name):
    checks = [_check(series[n], ("within", EQUAL_TOL), f"{name} - base at n={n}")
              for n in ns if n in series]
    return checks or [_missing(name, ns)]


def _paper(treatment, ns, group="similar"):
    ref = PAPER_REFERENCE["difference"][group][treatment]
    return "paper " + ", ".join(f"n={n} {_points(ref[n])}" for n in ns)


def _finding2(diff):
    claim = "BnB equals base at n=1,2, dips at 3-6, recovers by 7"
    bnb = _per_n(diff, "similar", "BnB")
    if not bnb:
        return _unmeasured(2, claim, "the study has no BnB")
    checks = _equal_checks(bnb, (1, 2), "BnB")
    middle = [n for n in (3, 4, 5, 6) if n in bnb]
    if middle:
        dip = min(middle, key=lambda n: bnb[n].mean())
        checks.append(_check(bnb[dip], ("below", 0.0), f"BnB - base at its dip n={dip}"))
        if 7 in bnb:
            recovery = (bnb[7] - bnb[dip]).dropna()
            checks.append(_check(recovery, ("above", 0.0), f"BnB at n=7 - BnB at n={dip}"))
        else:
            checks.append(_missing("BnB", (7,)))
    else:
        checks.append(_missing("BnB", (3, 6)))
    return _finding(2, claim, checks, [_paper("BnB", (1, 2, 5, 7))])


def _finding3(diff):
    claim = "BnB+ stays at base for every n"
    bnb = _per_n(diff, "similar", "BnB+")
    if not bnb:
        return _unmeasured(3, claim, "the study has no BnB+")
    lowest = pd.concat(bnb.values()).groupby(level=[0, 1]).min()
    ref = PAPER_REFERENCE["difference"]["similar"]["BnB+"].values()
    return _finding(3, claim, [_check(lowest, ("above", -EQUAL_TOL),
                                      "each replicate's lowest BnB+ - base over n")],
                    [f"paper means {_points(min(ref))} to {_points(max(ref))}"])


def _finding4(diff):
    claim = "AnB equals base at n=1,2, drops at 4-7"
    anb = _per_n(diff, "similar", "AnB")
    if not anb:
        return _unmeasured(4, claim, "the study has no AnB")
    checks = _equal_checks(anb, (1, 2), "AnB")
    checks += ([_check(anb[n], ("below", 0.0), f"AnB - base at n={n}") for n in (4, 5, 6, 7)
                if n in anb] or [_missing("AnB", (4, 7))])
    return _finding(4, claim, checks, [_paper("AnB", (1, 2, 4, 7))])


def _finding5(df, diff, metric):
    claim = "AnB+ beats base on average over n=1-7"
    plus = diff[(diff.tasks == "similar") & (diff.pooled == "AnB+")].dropna(subset=["difference"])
    if not len(plus):
        return _unmeasured(5, claim, "the study has no AnB+ with its base")
    per_replicate = plus.groupby(["split", "target"]).difference.mean()
    table = table1(df, metric)
    ranges = ", ".join(f"{k} {table.loc[k, 'AnB+ - base']:+.2f} (paper "
                       f"{table.loc[k, 'paper AnB+ - base']:+.1f})"
                       for k in ("1-7", "3-7", "5-7") if not math.isnan(table.loc[k, "AnB+ - base"]))
    return _finding(5, claim, [_check(per_replicate, ("above", 0.0),
                                      "each replicate's mean AnB+ - base over its n")],
                    [f"Table 1, AnB+ mean - base mean in points: {ranges}"])


def _finding6(diff):
    claim = "AnB falls faster with n on dissimilar tasks"
    dis, sim = _per_n(diff, "dissimilar", "AnB"), _per_n(diff, "similar", "AnB")
    if not dis:
        return _unmeasured(6, claim, "the study has no man-made/natural split")
    common = sorted(set(dis) & set(sim))
    if not common:
        return _unmeasured(6, claim, "the study has no random-split AnB at the n of the "
                                     "man-made/natural AnB")
    n = common[-1]
    mean, low, high = difference_interval(dis[n], sim[n])
    check = _decide(mean, low, high, ("below", 0.0),
                    f"AnB - base at n={n}, dissimilar {_points(dis[n].mean())} minus similar "
                    f"{_points(sim[n].mean())}:",
                    f"{_count(len(dis[n]), 'dissimilar replicate')} and "
                    f"{_count(len(sim[n]), 'similar replicate')}")
    ref = PAPER_REFERENCE
    return _finding(6, claim, [check], [
        f"paper at n=7 {_points(ref['difference']['dissimilar']['AnB'][7])} dissimilar, "
        f"{_points(ref['similar_AnB_difference_n7'])} similar"])


def _finding7(diff, metric):
    claim = "random frozen layers fall at n=1,2, near chance from n=3, below dissimilar AnB"
    rnd = diff[diff.pooled == "random"].dropna(subset=["difference"])
    if not len(rnd):
        return _unmeasured(7, claim, "the study has no random-weights cells")
    by_n = {n: g.set_index(["split", "target"]) for n, g in rnd.groupby("n")}
    checks = [_check(by_n[n].difference, ("below", 0.0), f"random - base at n={n}")
              for n in (1, 2) if n in by_n]
    late = [by_n[n][metric] / by_n[n].base for n in (3, 4, 5, 6, 7) if n in by_n]
    if late:
        kept = pd.concat(late).groupby(level=[0, 1]).max()
        checks.append(_check(kept, ("below", CHANCE_KEPT), "each replicate's highest share of "
                             "its base's accuracy kept at n>=3", scale=1.0, unit=""))
    dis = _per_n(diff, "dissimilar", "AnB")
    common = sorted(set(by_n) & set(dis))
    if common:
        mine = pd.concat([by_n[n].difference for n in common]).groupby(level=[0, 1]).mean()
        theirs = pd.concat([dis[n] for n in common]).groupby(level=[0, 1]).mean()
        mean, low, high = difference_interval(mine, theirs)
        checks.append(_decide(mean, low, high, ("below", 0.0),
                              f"random minus dissimilar AnB (each - its base, mean over n="
                              f"{common[0]}-{common[-1]})" if len(common) > 1 else
                              f"random minus dissimilar AnB (each - its base, n={common[0]})",
                              f"{_count(len(mine), 'random replicate')} and "
                              f"{_count(len(theirs), 'dissimilar replicate')}"))
    return _finding(7, claim, checks, [_paper("random", (1, 2, 3, 7)) + " (from the 1000-class "
                                       "base)"])


def findings(df, metric=None):
    """The paper's findings 2-7 (PAPER.md) judged on this study's `metric` (default: its
    reported one, stats.reported_metric): a list of Finding
    (number, claim, verdict, text), the text quoting each check's mean, interval and replicates
    and the paper's numbers. A study of another network than the CaffeNet is not judged (the
    findings name the CaffeNet's layers: n = 1, 2, 3-6, 7)."""
    metric = metric or reported_metric(df)
    if not is_caffenet(df):
        why = ("not judged: the paper's findings are about the CaffeNet's layers; this study's units are "
               + ", ".join(units(df).values()))
        return [Finding(k, "", NOT_JUDGED, f"Finding {k}: {NOT_JUDGED}: {why}") for k in range(2, 8)]
    diff = from_base(df, metric)
    return [_finding2(diff), _finding3(diff), _finding4(diff), _finding5(df, diff, metric),
            _finding6(diff), _finding7(diff, metric)]


def verdict_table(found, metric):
    """The findings as a table: finding, the paper's claim, verdict, and the evidence; the
    column axis names the metric judged."""
    table = pd.DataFrame([(f.number, f.claim, f.verdict, f.text.split(": ", 2)[2])
                          for f in found], columns=["finding", "claim", "verdict", "evidence"])
    table.columns.name = METRIC_NAMES[metric]
    return table.set_index("finding")
