"""What a validation curve says about its end: how much it still rose over its last fifth, how
much one validation scatters, and whether it had stopped rising (the runner's base guard and
the summary's convergence table read the same numbers); and its last-k mean, the summary's
steadiest metric, which a cell also logs (``records.tensorboard``)."""

import math

import numpy as np

from ..parameters import BASE_RISE_LIMIT
from ..solver import MOMENTUM

LAST_K = 10  # validations averaged by ``last_k``


def rise(history):
    """How much a curve still rose over the last fifth of its validations: the mean of its last
    tenth minus the mean of the tenth before (NaN under 2 validations)."""
    tenth = len(history) // 10 or 1
    if len(history) < 2 * tenth:
        return math.nan
    return float(np.mean(history[-tenth:]) - np.mean(history[-2 * tenth:-tenth]))


def scatter(history):
    """How much one validation scatters around the curve over its last fifth: the standard
    deviation of successive differences over sqrt(2), which a slow trend barely moves (NaN under
    3 validations). Smaller than the binomial standard error: every validation sees the same
    images."""
    if len(history) < 3:
        return math.nan
    last = np.asarray(history[-max(3, len(history) // 5):], dtype=float)
    return float(np.diff(last).std(ddof=1) / math.sqrt(2))


def rise_se(history):
    """The standard error of ``rise``: two means of a tenth's validations, each scattering by
    ``scatter``."""
    return scatter(history) * math.sqrt(2 / (len(history) // 10 or 1))


def still_rising(history, limit=BASE_RISE_LIMIT):
    """Whether a curve (top-1 as fractions) rose more than ``limit`` points over its last fifth,
    and by more than twice its standard error: a rise that noise alone is unlikely to make. With
    50 validations of 1,000 images, a flat curve is taken for rising about 3% of the time and
    one rising 3 points is caught 85% of the time (99% with 100 validations; simulated:
    tests/test_curves.py)."""
    up, se = 100 * rise(history), 100 * rise_se(history)
    return bool(up > limit and up > 2 * se)


def first_at_final_lr(validations, lr_drops):
    """Index (0-based) of the first of ``validations`` evenly spaced validations whose whole
    stretch of training ran at the final learning rate; 0 without drops. Keras's piecewise
    schedule (cell.train.lr_schedule) keeps the old rate up to and including the step at the
    last drop's fraction f, so validation i (0-based) qualifies when i > f * validations."""
    if not lr_drops:
        return 0
    return min(validations - 1, math.floor(max(lr_drops) * validations + 1e-9) + 1)


def transient_steps(momentum=MOMENTUM):
    """How many steps after a learning-rate drop a network still falls: Caffe's update keeps its
    momentum history across the drop, so the weights coast on steps taken at the old rate until
    that history has decayed (to momentum ** 40 = 1.5% at 0.9, 4 / (1 - momentum) steps; the
    findings run's bases fell at the first validation after the drop and were back three
    validations, 42 steps, later)."""
    return math.ceil(4 / (1 - momentum))


def first_settled(validations, lr_drops, steps_per_validation=None, momentum=MOMENTUM):
    """Index (0-based) of the first validation at the final learning rate that ends after the
    last drop's transient (``transient_steps``); with ``steps_per_validation`` unknown (a
    schedule in epochs), the one after the first at the final rate. 0 without drops."""
    first = first_at_final_lr(validations, lr_drops)
    if not lr_drops:
        return first
    if steps_per_validation:
        # validation i ends (i + 1 - f * validations) validations' steps after the drop
        after = math.floor(transient_steps(momentum) / steps_per_validation
                           + max(lr_drops) * validations - 1 + 1e-9) + 1
    else:
        after = first + 1
    return min(validations - 1, max(first, after))


def last_k(history, lr_drops, k=LAST_K, steps_per_validation=None, momentum=MOMENTUM):
    """The mean of the last ``k`` values of ``history`` trained wholly at the final learning
    rate and past the drop's transient (``first_settled``; all of those, if fewer than k; NaN for
    an empty history)."""
    if not len(history):
        return math.nan
    start = max(first_settled(len(history), lr_drops, steps_per_validation, momentum), len(history) - k)
    return float(np.mean(history[start:]))


def before_last_drop(history, lr_drops):
    """The validations that ended at or before the last learning-rate drop: the curve at the
    rate that taught the network (the whole curve without drops). A curve flat only after a
    drop to a tiny rate has not converged."""
    if not lr_drops:
        return list(history)
    return list(history[:math.floor(max(lr_drops) * len(history) + 1e-9)])
