"""The tests behind the verdicts: one claim about a mean difference, tested from replicates.

A claim is ("below", b), ("above", b) or ("within", margin). Each is tested one-sided at ALPHA
both ways: towards the claim (p_support) and against it (p_contra), so that a verdict is wrong
at most ALPHA of the time in either direction, and the interval shown is the two-sided
1 - 2 ALPHA (95%) one. "within" is two one-sided tests (TOST) against -margin and +margin: the
claim is supported when the 95% interval lies inside the margin, contradicted when it lies
wholly beyond one side of it (the two sides cannot both hold, so neither p is
doubled). Student's t from scipy; the replicates a check would need at the observed
mean and spread from the tests' power (scipy's non-central t), with the range the spread's own
95% interval allows.

A claim of several checks is judged by ``family``: supported when every check is supported at
its own one-sided ALPHA (an intersection-union test: all parts must hold, so no correction is
due, and the claim is wrong at most ALPHA of the time), contradicted when any check is
contradicted at Holm's adjusted level (a union: any one part is enough, so the family is
corrected). One part read alone as "supported" carries only its own ALPHA.
"""

import math
from typing import NamedTuple

import numpy as np
from scipy import special, stats

ALPHA = 0.025  # each one-sided test; the intervals shown are 95%
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
POWER = 0.8    # for the replicates a check would need
MAX_REPLICATES = 1000


class Test(NamedTuple):
    mean: float
    low: float       # the 95% interval (NaN without one)
    high: float
    replicates: int  # of the first group (the only one in a one-sample test)
    sd: float        # of the replicates (pooled over both groups of a two-sample test)
    p_support: float  # one-sided p towards the claim (1.0 where untestable)
    p_contra: float   # one-sided p against it
    others: int = 0   # replicates of the second group of a two-sample test


def _p_values(claim, p_less, p_greater):
    """(p_support, p_contra) from a test's one-sided p-values at each bound of the claim:
    p_less(b), p_greater(b) test mean < b and mean > b."""
    kind, bound = claim
    if kind == "below":
        return p_less(bound), p_greater(bound)
    if kind == "above":
        return p_greater(bound), p_less(bound)
    support = max(p_greater(-bound), p_less(bound))
    return support, min(p_greater(bound), p_less(-bound))  # disjoint: one side can be true


def _t_test(mean, se, dof, claim):
    """(low, high, p_support, p_contra) of a mean with standard error ``se`` on Student's t with
    ``dof`` degrees of freedom (the arithmetic of scipy's ttest_1samp and Welch's ttest_ind,
    vectorised over the claim's bounds)."""
    half = special.stdtrit(dof, 1 - ALPHA) * se  # scipy.stats.t's own functions, without its checks
    p_less = lambda b: float(special.stdtr(dof, (mean - b) / se))  # noqa: E731
    p_greater = lambda b: float(special.stdtr(dof, -(mean - b) / se))  # noqa: E731
    return (mean - half, mean + half, *_p_values(claim, p_less, p_greater))


def one_sample(values, claim):
    """Test the mean of ``values`` (one per replicate) against ``claim``."""
    x = np.asarray(values, dtype=float)
    k = len(x)
    mean = float(x.mean()) if k else math.nan
    if k < 2:
        return Test(mean, math.nan, math.nan, k, math.nan, 1.0, 1.0)
    sd = float(x.std(ddof=1))
    if sd == 0:  # identical replicates (ties on a small validation set): no spread to test with
        return Test(mean, math.nan, math.nan, k, 0.0, 1.0, 1.0)
    low, high, p_support, p_contra = _t_test(mean, sd / math.sqrt(k), k - 1, claim)
    return Test(mean, low, high, k, sd, p_support, p_contra)


def two_sample(a, b, claim):
    """Test mean(a) - mean(b) (independent replicates, Welch's t) against ``claim``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    mean = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
    if len(a) < 2 or len(b) < 2:
        return Test(mean, math.nan, math.nan, len(a), math.nan, 1.0, 1.0, len(b))
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    sd = float(math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1))
                         / (len(a) + len(b) - 2)))
    if va + vb == 0:
        return Test(mean, math.nan, math.nan, len(a), 0.0, 1.0, 1.0, len(b))
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    low, high, p_support, p_contra = _t_test(mean, math.sqrt(va + vb), dof, claim)
    return Test(mean, low, high, len(a), sd, p_support, p_contra, len(b))


def verdict(p_support, p_contra):
    """A check's verdict from its one-sided p-values towards its claim (its own) and against it
    (Holm-adjusted over its family)."""
    return SUPPORTED if p_support < ALPHA else CONTRADICTED if p_contra < ALPHA else INCONCLUSIVE


class Judged(NamedTuple):
    verdict: str
    p_support: float  # the check's own: all parts must hold for support
    p_contra: float   # Holm-adjusted over the family: any part contradicts


def family(tests):
    """Each of a claim's checks (a Test, or None where it could not be made) judged as one
    family: ``Judged`` per check, None where not made."""
    made = [i for i, t in enumerate(tests) if t is not None]
    contra = dict(zip(made, holm([tests[i].p_contra for i in made])))
    return [None if t is None else Judged(verdict(t.p_support, contra[i]), float(t.p_support),
                                          float(contra[i]))
            for i, t in enumerate(tests)]


def combined(verdicts):
    """A claim's verdict from its checks': contradicted when one is, supported when every one is
    (and there is one), inconclusive otherwise."""
    return (CONTRADICTED if CONTRADICTED in verdicts else
            SUPPORTED if verdicts and all(v == SUPPORTED for v in verdicts) else INCONCLUSIVE)


def holm(p_values):
    """Holm's step-down adjustment of a family's p-values (NaN read as 1): the k-th smallest
    times (m - k + 1), made monotone, at most 1; statsmodels' multipletests "holm" gives the
    same (tests/test_verdicts_simulated.py)."""
    # not multipletests itself: it runs a full garbage collection at every call, which made the
    # simulated studies ten times slower
    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out


def _tost_power(mean, sd, margin, n, alpha):
    """TOST's power with ``n`` replicates: both one-sided tests pass (the non-central t of each,
    less the chance that either fails)."""
    se = sd / math.sqrt(n)
    crit = stats.t.ppf(1 - alpha, n - 1)
    return (stats.nct.sf(crit, n - 1, (margin + mean) / se)
            + stats.nct.sf(crit, n - 1, (margin - mean) / se) - 1)


def _one_sided_power(effect, n, alpha, groups):
    """A one-sided t-test's power with ``n`` replicates (per group) at ``effect`` = gap / sd."""
    dof = groups * (n - 1)
    return stats.nct.sf(stats.t.ppf(1 - alpha, dof), dof, effect * math.sqrt(n / groups))


def _fewest(power):
    """The fewest replicates in 2..MAX_REPLICATES at which ``power(n)`` (rising with n) reaches
    POWER, by bisection; None if not even at MAX_REPLICATES."""
    if power(MAX_REPLICATES) < POWER:
        return None
    low, high = 1, MAX_REPLICATES  # power(low) < POWER <= power(high)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if mid < 2 or power(mid) < POWER else (low, mid)
    return high


class Needed(NamedTuple):
    n: int | None     # at the observed spread; None: more than MAX_REPLICATES, or unknown
    low: int | None   # at the low end of the spread's 95% interval
    high: int | None  # at its high end (None: more than MAX_REPLICATES)
    way: str          # "support" or "contradict": where the observed mean points


def _fewest_at(mean, sd, claim, alpha, groups, inside):
    kind, bound = claim
    if kind == "within" and inside:
        return _fewest(lambda n: _tost_power(mean, sd, bound, n, alpha))
    gap = abs(abs(mean) - bound) if kind == "within" else abs(mean - bound)
    return _fewest(lambda n: _one_sided_power(gap / sd, n, alpha, groups))


def spread_interval(sd, dof):
    """The 95% interval of a standard deviation ``sd`` estimated with ``dof`` degrees of freedom
    (chi-square's): with 2, about 0.5 to 6 times ``sd``."""
    return (sd * math.sqrt(dof / stats.chi2.ppf(1 - ALPHA, dof)),
            sd * math.sqrt(dof / stats.chi2.ppf(ALPHA, dof)))


def replicates_needed(test, claim, groups=1, family=1):
    """``Needed``: about how many replicates (per group, for a two-sample test) would decide
    ``claim`` with POWER at the test's observed mean and spread, and the range the spread's 95%
    interval allows. Towards support one-sided at ALPHA (every part must hold: no correction),
    towards contradiction at ALPHA / ``family`` (Bonferroni's bound on Holm's correction over
    that many checks)."""
    kind, bound = claim
    mean, sd = test.mean, test.sd
    inside = (abs(mean) < bound if kind == "within" else mean < bound if kind == "below"
              else mean > bound)
    way = "support" if inside else "contradict"
    if not (sd > 0) or math.isnan(mean):
        return Needed(None, None, None, way)
    alpha = ALPHA if inside else ALPHA / family
    dof = test.replicates + test.others - (2 if test.others else 1)
    low_sd, high_sd = spread_interval(sd, dof)
    n, low, high = (_fewest_at(mean, s, claim, alpha, groups, inside) for s in (sd, low_sd, high_sd))
    return Needed(n, low, high, way)


def needed_text(needed, unit):
    """'about 12 splits (4 to 300 within the spread's 95% interval)' of a ``Needed``."""
    if needed.n is None:
        return f"more than {MAX_REPLICATES} {unit} at this mean and spread"
    high = f"more than {MAX_REPLICATES}" if needed.high is None else str(needed.high)
    return (f"about {needed.n} {unit} ({needed.low} to {high} within the spread's 95% interval)"
            if (needed.low, needed.high) != (needed.n, needed.n) else f"about {needed.n} {unit}")


def spearman(x, y):
    """(rho, exact two-sided permutation p-value, smallest |rho| with p <= 0.05 at len(x) points)
    of the pairs (x, y); NaNs where there are under 3 pairs or either is constant. The
    permutations re-pair x's ranks with y's: Pearson's r of the ranks, Spearman's rho."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, math.nan
    rx, ry = (_unit(stats.rankdata(v)) for v in (x, y))
    test = stats.permutation_test((rx,), lambda v, axis: np.sum(v * ry, axis=axis), vectorized=True,
                                        permutation_type="pairings", n_resamples=9999, random_state=0)
    null = np.sort(np.abs(test.null_distribution))
    beyond = 1 - np.searchsorted(null, null - 1e-12) / len(null)  # P(|null| >= each value)
    reaching = null[beyond <= 0.05]
    rho = stats.spearmanr(x, y).statistic
    return float(rho), float(test.pvalue), float(reaching.min()) if len(reaching) else math.nan


def _unit(ranks):
    centred = ranks - ranks.mean()
    return centred / np.linalg.norm(centred)
