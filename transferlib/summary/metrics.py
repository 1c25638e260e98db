"""The one number a study reports per network, and whether its bases had finished learning.

Three metrics, each a column of the labelled table (``with_metrics``):

- ``best10`` (column best10_top1): the paper's, the mean of the 10 highest validations. Harmless
  only where the curves are flat at the end and one validation is precise: otherwise it averages
  the luckiest validations and rewards noise.
- ``final`` (top1): the last validation.
- ``last_k`` (lastk_top1): the mean of the last k validations at the final learning rate, past
  the drop's transient (k = LAST_K, fewer where the final rate held for fewer; ``curves.last_k``):
  as steady as best-10, without its bias.

``choose`` picks the metric by rule and says why; a study's params may name one (``metric``).
``convergence`` is the report's opening table: per base, how much it still rose at the end.
"""

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import yaml

from ..parameters import BASE_RISE_LIMIT, METRIC_COLUMNS, MOMENTUM, completed
from ..records import layout
from ..records.table import read as read_table
from ..records.curves import LAST_K, before_last_drop, last_k, rise, rise_se, scatter, still_rising
from ..records.vocabulary import paper_grid

COLUMNS = METRIC_COLUMNS
NAMES = {"best10_top1": "top-1, mean of the 10 best validations", "top1": "final top-1",
         "lastk_top1": "top-1, mean of the last validations at the final learning rate",
         "top5": "final top-5"}
FLAT = BASE_RISE_LIMIT / 100  # a rise over the last fifth below this (1 point, as a fraction): flat
PRECISE = 0.01    # one validation's standard error below 1 point: precise
CONVERGED = 50    # validations from which the 10 best are at most a fifth of them
# Validation images per class of the datasets whose validation sets are fixed (PAPER.md: ImageNet's
# 50 a class; Tiny ImageNet 50; CIFAR 100 and 1,000). A folder's depends on its files: unknown.
VAL_IMAGES_PER_CLASS = {"tiny_imagenet": 50, "imagenet2012": 50, "imagenet_resized/32x32": 50,
                        "imagenet_resized/64x64": 50, "cifar100": 100, "cifar10": 1000}


class Choice(NamedTuple):
    column: str  # best10_top1, top1 or lastk_top1
    reason: str


def validation_se(accuracy, images):
    """The standard error of one validation's top-1 at ``accuracy`` on ``images`` images (the
    binomial's); NaN where the count is unknown."""
    if not images:
        return math.nan
    return math.sqrt(accuracy * (1 - accuracy) / images)


def with_metrics(df, lr_drops=(), val_every=None, momentum=MOMENTUM):
    """``df`` with the column lastk_top1 (``last_k`` of each row's history under the study's
    ``lr_drops``, past the drop's transient: ``val_every`` steps a validation, None for a
    schedule in epochs); NaN for rows without a history."""
    return df.assign(lastk_top1=[last_k(h, lr_drops, steps_per_validation=val_every, momentum=momentum)
                                 for h in df.history])


def read_results(study_dir):
    """A study's results (``study_dir``: its folder, or its results.csv) as a DataFrame, one row
    per network, with ``lastk_top1`` read from the schedule in its params.yaml (``with_metrics``).

    >>> from pathlib import Path
    >>> from transferlib import read_results
    >>> df = read_results(Path(__file__).parents[2] / "docs" / "surgical")  # a published run
    >>> len(df), sorted(df.kind.unique())
    (102, ['base', 'selffer'])
    >>> df[["cell", "top1", "lastk_top1"]].columns.tolist()
    ['cell', 'top1', 'lastk_top1']
    """
    folder = Path(study_dir)
    folder = folder if folder.is_dir() else folder.parent
    saved = folder / layout.PARAMS
    params = completed(yaml.safe_load(saved.read_text()))[0] if saved.is_file() else {}
    return with_metrics(read_table(study_dir), params.get("lr_drops", ()), params.get("val_every"),
                        params.get("momentum", MOMENTUM))


def changes_text(changed):
    """The sentence a report gives of the verdicts that change with the metric, ``changed`` (each
    in words; None: no other metric was compared)."""
    if changed is None:
        return "No other metric to compare with."
    return ("Verdicts that change with the metric: " + "; ".join(changed) + "." if changed else
            "No verdict changes with the metric.")


def half_classes(halves):
    """{(split, half): classes} of a study's halves.json ({split: {A: [...], B: [...]}}), with
    ("all", "AB") for the cells trained on all of them."""
    if not halves:
        return {}
    out = {(split, half): len(classes) for split, h in halves.items() for half, classes in h.items()}
    out[("all", "AB")] = len({c for h in halves.values() for classes in h.values() for c in classes})
    return out


def validation_images(params, halves):
    """{(split, half): validation images} of a study from its params (dict) and halves.json, the
    training images each class held out (``val_holdout``) included; {} where the dataset's count
    per class is not fixed (a folder of your images)."""
    per_class = VAL_IMAGES_PER_CLASS.get(params.get("dataset"))
    if not per_class:
        return {}
    per_class += params.get("val_holdout", 0)
    return {key: per_class * count for key, count in half_classes(halves).items()}


def _full(df):
    return paper_grid(df)


def choose(df, named=None, val_images=None):
    """The study's metric as a ``Choice``: ``named`` (best10, final or last_k) where the params
    name one, else by rule. best10 only when it cannot reward noise: every network validated at
    least CONVERGED times, the curves are flat over their last fifth (the mean rise of the bases,
    and of all networks, under FLAT; with no curves in the table, best-10 minus final under
    FLAT) and one validation's standard error
    is under PRECISE (from ``val_images``, {(split, half): images}); else last_k (where
    ``with_metrics`` has added it: it needs the schedule), or final."""
    if named:
        if named not in COLUMNS:
            raise ValueError(f"metric: {named!r} is not one of {', '.join(COLUMNS)}")
        return Choice(COLUMNS[named], f"named in the study's params (metric: {named})")
    full = _full(df)
    curves = all(len(h) >= 2 for h in full.history) and "lastk_top1" in df
    problems = []
    if not (full.validations >= CONVERGED).all():
        problems.append(f"some networks validated fewer than {CONVERGED} times "
                        f"({full.validations.min()}), so their 10 best reach into early training")
    if curves:
        rises = np.array([rise(h) for h in full.history])
        bases = rises[(full.kind == "base").to_numpy()]
        mean_rise = max(np.nanmean(rises), np.nanmean(bases) if len(bases) else -np.inf, key=abs)
        flat = (f"the bases rose {100 * np.nanmean(bases):+.1f} points on average over their last "
                f"fifth (all networks {100 * np.nanmean(rises):+.1f})" if len(bases) else
                f"the curves rose {100 * mean_rise:+.1f} points on average over their last fifth")
    else:
        mean_rise = float((full.best10_top1 - full.top1).mean())
        flat = f"best-10 minus final top-1 is {100 * mean_rise:+.2f} points on average (no curves)"
    if not abs(mean_rise) < FLAT:
        problems.append(flat)
    se = largest_se(full, val_images)
    if math.isnan(se):
        problems.append("the validation set's size is unknown, so one validation's precision is")
    elif se >= PRECISE:
        problems.append(f"one validation's standard error is up to {100 * se:.1f} points")
    if not problems:
        return Choice("best10_top1", f"best-10, the paper's: {flat} and one validation's standard "
                                     f"error is at most {100 * se:.2f} points")
    why = "; ".join(problems)
    if curves:
        return Choice("lastk_top1", f"the mean of the last validations at the final learning rate "
                                    f"(up to {LAST_K}), not best-10: {why}")
    return Choice("top1", f"final top-1 (no last-k: the table keeps no curves, or they were not read "
                          f"with the schedule), not best-10: {why}")


def largest_se(df, val_images):
    """The largest standard error of one validation among ``df``'s networks (NaN where a
    network's validation set size is not in ``val_images``)."""
    if not val_images or not len(df):
        return math.nan
    images = [val_images.get((s, t)) for s, t in zip(df.split, df.target)]
    if not all(images):
        return math.nan
    return max(validation_se(p, n) for p, n in zip(df.top1, images))


def convergence(df, column, val_images=None, lr_drops=()):
    """Per full-data base: validations, its rise over the last fifth of the validations before the
    last learning-rate drop (at the rate that taught it: a curve flat at a tenth of it is no
    plateau) and that rise's standard error (from the validations' scatter), whether it was still
    rising there (``curves.still_rising``, the runner's guard), how far consecutive validations
    moved over that fifth (the standard deviation of their changes), its rise over the last fifth
    of all its validations, one validation's binomial standard error (from the validation set's
    size), and the top selffer minus the base on ``column``, all in points."""
    full = _full(df)
    bases = full[full.kind == "base"]
    selffers = full[(full.kind == "selffer") & ~full.fine_tuned]
    rows = []
    for b in bases.itertuples():
        images = (val_images or {}).get((b.split, b.target))
        own = selffers[(selffers.split == b.split) & (selffers.target == b.target)]
        top = own[own.n == own.n.max()] if len(own) else own
        taught = before_last_drop(b.history, lr_drops)
        rows.append({"base": b.cell, "validations": b.validations,
                     "rise before the last drop": 100 * rise(taught),
                     "rise se": 100 * rise_se(taught),
                     "still rising": still_rising(taught),
                     "step sd": 100 * math.sqrt(2) * scatter(taught),
                     "rise over last fifth": 100 * rise(b.history),
                     "validation se": 100 * validation_se(b.top1, images),
                     "validation images": images or math.nan,
                     "top selffer - base": (100 * (top[column].iloc[0] - getattr(b, column))
                                            if len(top) else math.nan),
                     "top selffer": top.cell.iloc[0] if len(top) else ""})
    return pd.DataFrame(rows, columns=["base", "validations", "validation images", "rise before the last drop",
                                       "rise se", "still rising", "step sd", "rise over last fifth", "validation se",
                                       "top selffer", "top selffer - base"])


def bases_converged(table):
    """Whether a ``convergence`` table's bases had stopped learning at the rate that taught them:
    none still rising beyond noise, and their mean rise before the last drop under FLAT."""
    return not (table["still rising"].any() or table["rise before the last drop"].mean() >= 100 * FLAT)


def convergence_warning(table):
    """A plain warning where the bases had not stopped learning (``bases_converged``), else ""."""
    if not len(table) or bases_converged(table):
        return ""
    rising = table[table["still rising"]]
    rises = table["rise before the last drop"]
    names = ", ".join(f"{b} {r:+.1f}" for b, r in zip(rising.base, rising["rise before the last drop"]))
    return (f"Warning: the bases had not stopped learning at the rate that taught them: "
            f"{len(rising)} of {len(table)} still rose beyond noise over the last fifth of their "
            f"validations before the last drop{f' ({names} points)' if names else ''}, and their mean "
            f"rise there was {rises.mean():+.1f} points (1 or more reads as still learning). A selffer "
            "or fine-tuned network starts from its base and trains a whole schedule again, so every "
            "comparison of one with its base is confounded by that extra training: those checks are "
            "held inconclusive, and only the base-free contrasts (networks of one half against each "
            "other) are judged.")
