"""The metric a study reports and the convergence of its bases, on the published findings run
and on curves built to a known shape."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from transferlib.records import curves, table
from transferlib.summary import metrics

PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "findings"


def test_the_final_learning_rate_begins_after_the_last_drop():
    # 50 validations, drop at 0.75: validation 38 (index 37) straddles iteration 450 of 600
    assert curves.first_at_final_lr(50, [0.75]) == 38
    assert curves.first_at_final_lr(50, [0.5, 0.75]) == 38
    assert curves.first_at_final_lr(10, [0.8]) == 9  # step 8 of 10 still at the old rate
    assert curves.first_at_final_lr(50, []) == 0


def test_last_k_averages_only_validations_at_the_final_rate_past_the_transient():
    history = list(range(50))
    assert curves.last_k(history, [0.75]) == np.mean(range(40, 50))
    # index 45 straddles the drop at step 540 of 600; 46 ends 24 steps after it and 47 36, within
    # the 40 steps of Caffe's momentum transient at 0.9; 48 ends 48 steps after it
    assert curves.last_k(history, [0.9], steps_per_validation=12) == 48.5
    assert curves.last_k(history, [0.9]) == np.mean(range(47, 50))  # steps unknown: one left out
    assert curves.last_k(history, [0.9], steps_per_validation=100) == np.mean(range(46, 50))  # 100 steps: past it
    assert curves.last_k(history, [0.9], steps_per_validation=12, momentum=0.5) == np.mean(range(46, 50))
    assert curves.last_k(history[:3], []) == 1.0
    assert np.isnan(curves.last_k([], [0.5]))


def test_a_fall_after_the_drop_never_enters_last_k():
    """The surgical run's schedule (240 steps, a validation every 12, the drop at 180): a fall in
    the 40 steps after the drop (validations 16-18, 1-based) leaves last-k unmoved."""
    flat = [0.6] * 20
    fallen = flat[:15] + [0.45, 0.5, 0.55] + flat[18:]
    assert curves.last_k(fallen, [0.75], steps_per_validation=12) == pytest.approx(0.6)
    assert curves.first_settled(20, [0.75], 12) == 18


def _published():
    params = yaml.safe_load((PUBLISHED / "params.yaml").read_text())
    halves = yaml.safe_load((PUBLISHED / "halves.json").read_text())
    df = metrics.with_metrics(table.read(PUBLISHED), params["lr_drops"], params["val_every"])
    return df, metrics.validation_images(params, halves)


def test_the_published_run_reports_last_k_and_says_why():
    """750 validation images a half: one validation's standard error is up to 1.8 points, so the
    10 best of each curve would reward noise, though its bases had stopped rising."""
    df, images = _published()
    assert set(images.values()) == {750, 1500}  # 5 classes a half, 10 in all, 50 + 100 held out a class
    choice = metrics.choose(df, val_images=images)
    assert choice.column == "lastk_top1" and choice.reason.endswith("standard error is up to 1.8 points")
    assert metrics.choose(df, "best10").column == "best10_top1"  # the params may name one
    with pytest.raises(ValueError, match="metric: 'best' is not one of best10, final, last_k"):
        metrics.choose(df, "best")


def test_best10_only_where_flat_and_precise():
    df, images = _published()
    flat = df.assign(history=[[h[-1]] * len(h) for h in df.history])
    rising = df.assign(history=[list(np.asarray(h) + np.linspace(0, 0.2, len(h))) for h in df.history])
    precise = {k: 25_000 for k in images}
    assert metrics.choose(flat, val_images=precise).column == "best10_top1"
    assert metrics.choose(df, val_images=precise).column == "best10_top1"      # the run's own curves end flat
    assert metrics.choose(flat, val_images=images).column == "lastk_top1"      # imprecise
    assert metrics.choose(rising, val_images=precise).column == "lastk_top1"   # still rising
    assert metrics.choose(flat).column == "lastk_top1"                         # size unknown
    no_curves = flat.assign(history=[[] for _ in flat.history])
    assert metrics.choose(no_curves, val_images=images).column == "top1"


def test_the_convergence_table_of_the_published_run():
    """The bases are judged before the last drop, at the rate that taught them: 100 validations,
    the drop at 900 of 1,200 steps, so the first 75."""
    df, images = _published()
    table_ = metrics.convergence(df, "lastk_top1", images, [0.75]).set_index("base")
    assert sorted(table_.index) == [f"r{s}-base{h}" for s in range(8) for h in "AB"]
    r2b = table_.loc["r2-baseB"]
    history = df.set_index("cell").history["r2-baseB"]
    taught = history[:75]  # validation 75 ends at step 900, the drop
    assert r2b["rise before the last drop"] == pytest.approx(100 * (np.mean(taught[-7:]) - np.mean(taught[-14:-7])))
    assert r2b["step sd"] == pytest.approx(100 * np.diff(taught[-15:]).std(ddof=1))  # the fifth's changes
    assert r2b["rise over last fifth"] == pytest.approx(100 * (np.mean(history[-10:]) - np.mean(history[-20:-10])))
    top1 = df.set_index("cell").top1["r2-baseB"]
    assert r2b["validation se"] == pytest.approx(100 * np.sqrt(top1 * (1 - top1) / 750))
    assert r2b["top selffer"] == "r2-B7B"
    assert not table_["still rising"].any() and metrics.bases_converged(table_)
    assert metrics.convergence_warning(table_.reset_index()) == ""


def test_bases_still_learning_before_the_drop_are_named():
    rising = [0.3 + 0.01 * i for i in range(38)] + [0.8] * 12  # 1 point a validation until the drop
    flat = [0.5] * 50
    df = pd.DataFrame({"cell": ["r0-baseA", "r0-baseB"], "split": "r0", "kind": "base", "target": ["A", "B"],
                       "n": 0, "fine_tuned": False, "images_per_class": 0, "block_size": 0, "top1": [0.8, 0.5],
                       "validations": 50, "history": [rising, flat], "lastk_top1": [0.8, 0.5]})
    table_ = metrics.convergence(df, "lastk_top1", lr_drops=[0.75])
    assert list(table_["still rising"]) == [True, False] and not metrics.bases_converged(table_)
    warning = metrics.convergence_warning(table_)
    assert "1 of 2 still rose beyond noise" in warning and "r0-baseA +3.0" in warning
    assert "r0-baseB" not in warning and "base-free" in warning


def test_a_folder_of_images_has_no_known_validation_size():
    assert metrics.validation_images({"dataset": "folder"}, {"h": {"A": [0], "B": [1]}}) == {}
    sized = metrics.validation_images({"dataset": "cifar100"}, {"r0": {"A": [0, 1], "B": [2]}})
    assert sized == {("r0", "A"): 200, ("r0", "B"): 100, ("all", "AB"): 300}
    assert pd.isna(metrics.largest_se(pd.DataFrame({"split": ["r0"], "target": ["A"], "top1": [0.5]}), {}))
