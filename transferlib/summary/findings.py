"""The paper's findings 2-7 (PAPER.md) judged on a study's results table."""

import math

from .paper import PAPER_REFERENCE
from ..vocabulary import is_caffenet, units
from .stats import LAYER_RANGES, summary_stats, table1

# Tolerances of the verdicts in findings(), on a treatment's mean top-1 relative to its base's.
EQUAL_TOL = 0.02         # |relative| <= 2% of the base's top-1: "equals its base"
DROP_TOL = 0.02          # relative < -2%: "drops"; also the least gap that is "falls faster"
NEAR_CHANCE_REL = -0.75  # relative <= -75%, a quarter of the base's top-1 left: "near chance"


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
    if not is_caffenet(df):  # the findings name the CaffeNet's layers (n = 1, 2, 3-6, 7)
        why = "not judged: the paper's findings are about the CaffeNet's layers; this study's units are " + \
              ", ".join(units(df).values())
        return [(k, None, f"Finding {k}: {why}") for k in range(2, 8)]
    stats = summary_stats(df, metric, relative=True)
    return [_finding2(stats), _finding3(stats), _finding4(stats), _finding5(df, metric),
            _finding6(stats), _finding7(stats)]
