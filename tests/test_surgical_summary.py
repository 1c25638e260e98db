"""The surgical summary (``summary.surgical``) on simulated studies with a known truth: the best
unit planted where the claim says gives "supported", planted elsewhere "contradicted", none at
all rarely anything but "inconclusive"; shifted cells never reach the paper's analyses."""

import numpy as np
import pandas as pd
import pytest

from transferlib.nets.units import CAFFENET_UNITS
from transferlib.summary import inference, metrics, surgical

NAMES = list(CAFFENET_UNITS)


def simulated(best, shift="noise", splits=5, gap=0.05, sd=0.01, seed=0, full=None):
    """A surgical table: every unit alone at 0.40, unit ``best`` (0: none) ``gap`` above, full
    fine-tuning at ``full`` (default: 0.40), noise of ``sd`` per network."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(splits):
        split = f"r{s}"
        level = rng.normal(0, 0.03)  # a split's own difficulty, shared by its networks
        nets = [(f"{split}-baseB@{shift}", "base", False, 0, 0.30),
                (f"{split}-B7B@{shift}", "selffer", False, 0, 0.38),
                (f"{split}-B8B+@{shift}", "selffer", True, 0, 0.40 if full is None else full)]
        nets += [(f"{split}-B8B+{u}@{shift}", "selffer", True, k, 0.40 + (gap if k == best else 0))
                 for k, u in enumerate(NAMES, 1)]
        rows += [{"cell": cell, "split": split, "kind": kind, "target": "B", "fine_tuned": fine,
                  "shift": shift, "tuned_unit": k, "top1": v + level + rng.normal(0, sd)}
                 for cell, kind, fine, k, v in nets]
    rows.append({"cell": "r0-baseB", "split": "r0", "kind": "base", "target": "B", "fine_tuned": False,
                 "shift": "", "tuned_unit": 0, "top1": 0.5})
    return pd.DataFrame(rows)


def verdict(df, shift):
    _, shifted = surgical.split_off(df)
    found = surgical.checks(surgical.label(shifted), "top1", NAMES)
    table = surgical.verdicts(found)
    return table.set_index("shift").verdict[shift], found


def test_split_off_keeps_shifted_cells_out_of_the_paper_rows():
    paper, shifted = surgical.split_off(simulated(1))
    assert list(paper.cell) == ["r0-baseB"] and shifted.cell.str.endswith("@noise").all()
    labelled = surgical.label(shifted)
    r0 = labelled[labelled.split == "r0"].set_index("cell")
    assert r0.loc["r0-baseB@noise", "treatment"] == "scratch" and r0.loc["r0-B7B@noise", "treatment"] == "probe"
    assert r0.loc["r0-B8B+@noise", "treatment"] == "full"
    assert (r0.loc["r0-B8B+conv3@noise", "treatment"], r0.loc["r0-B8B+conv3@noise", "k"]) == ("unit", 3)


@pytest.mark.parametrize("shift, best", [("noise", 1), ("blur", 1), ("labels", 8), ("grey", 4)])
def test_the_claimed_unit_planted_best_is_supported(shift, best):
    assert verdict(simulated(best, shift), shift)[0] == inference.SUPPORTED


@pytest.mark.parametrize("shift, best", [("noise", 8), ("labels", 1), ("grey", 1)])
def test_another_unit_planted_best_is_contradicted(shift, best):
    assert verdict(simulated(best, shift, gap=0.2), shift)[0] == inference.CONTRADICTED  # its mean of the others: gap / 7


def test_full_fine_tuning_far_better_contradicts_matching_it():
    found = verdict(simulated(1, "noise", full=0.50), "noise")[1]
    assert [ch.verdict for ch in found] == [inference.SUPPORTED, inference.CONTRADICTED]


def test_nothing_there_is_rarely_decided():
    decided = sum(verdict(simulated(0, "contrast", gap=0, seed=s), "contrast")[1][0].verdict == inference.SUPPORTED
                  for s in range(200))
    assert decided <= 200 * 0.025 * 2.5  # one-sided 2.5%, with room for chance


def test_no_contrast_picks_its_unit_from_the_data():
    for shift in surgical.LEVEL:
        a = surgical.contrasts(shift, NAMES)
        assert a == surgical.contrasts(shift, NAMES)  # a function of the shift and units only
    table = surgical.preregistered(NAMES)
    assert set(table["shift"]) == set(surgical.LEVEL)
    assert "conv1 - mean of the other units" in set(table.contrast)
    assert "fc8 - mean of the other units" in set(table.contrast)


@pytest.mark.slow
def test_the_summary_notebook_shows_the_surgical_section_only_with_surgical_cells(tmp_path):
    """A surgical-only study (treatments: [], its bases and "@<shift>" cells) summarised end to end:
    the paper's sections find no networks, the surgical one writes its verdicts and figure."""
    import json

    import yaml

    from transferlib.driver import runner
    from transferlib.records import table

    rows = []
    for r in simulated(1, "noise", splits=3).to_dict("records") + simulated(8, "labels", splits=3).to_dict("records"):
        n = 0 if "base" in r["cell"] else 7 if "B7B@" in r["cell"] else 8
        unit = next((u for u in NAMES if f"+{u}@" in r["cell"]), "")
        rows.append({**r, "kind": "base" if n == 0 else "selffer", "source": "" if n == 0 else r["split"] + "-baseB",
                     "n": n, "unit": unit, "fine_tuned": "+" in r["cell"], "images_per_class": 0 if "@" not in r["cell"] else 100,
                     "top5": 0.9, "best10_top1": r["top1"], "validations": 5, "train_seconds": 1.0, "wall_seconds": 1.0,
                     "params_hash": "x", "history": [r["top1"]] * 5})
    rows = list({r["cell"]: r for r in rows}.values())
    with open(tmp_path / "results.csv", "w") as f:
        table.write(rows, f)
    (tmp_path / "halves.json").write_text(json.dumps({f"r{s}": {"A": ["a", "b"], "B": ["c", "d"]} for s in range(3)}))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"dataset": "tiny_imagenet", "treatments": [], "directions": ["AnB"],
                                                          "target_shift": ["noise", "labels"], "iterations": 20, "val_every": 4}))
    runner.redraw_summary(tmp_path, out=lambda *a: None)
    verdicts = pd.read_csv(tmp_path / "surgical_verdicts.csv")
    assert list(verdicts["shift"]) == ["noise", "labels"] and (tmp_path / "surgical.png").is_file()
    assert "Surgical fine-tuning" in (tmp_path / "summary.html").read_text()


def test_each_shifts_verdict_is_shown_under_every_other_metric_and_a_change_is_named():
    """Issue 36, item 6: as the paper's findings, the surgical verdicts under each metric beside the
    chosen one, in surgical_verdicts.csv's columns, and a sentence naming what changes."""
    df = simulated(1, "noise")
    conv1 = df.cell.str.contains(r"\+conv1@")
    df["lastk_top1"] = df.top1
    df["best10_top1"] = df.top1.where(~conv1, df.top1 - 0.1)  # conv1 worst under best-10
    _, shifted = surgical.split_off(df)
    labelled = surgical.label(shifted)
    found = {m: surgical.checks(labelled, m, NAMES) for m in ("top1", "lastk_top1", "best10_top1")}
    others = {m: found[m] for m in ("lastk_top1", "best10_top1")}
    table = surgical.verdicts(found["top1"], others).set_index("shift")
    lastk, best10 = (f"verdict, {metrics.NAMES[m]}" for m in ("lastk_top1", "best10_top1"))
    assert table.loc["noise", "verdict"] == table.loc["noise", lastk] == inference.SUPPORTED
    assert table.loc["noise", best10] == inference.CONTRADICTED
    assert table.loc["noise", f"checks, {metrics.NAMES['best10_top1']}"].startswith(
        "unit 1 (conv1) is the best single unit: contradicted (-")
    said = surgical.metric_changes(found["top1"], others)
    assert said.startswith("Verdicts that change with the metric: noise, unit 1 (conv1) is the best single unit: "
                           f"supported here, contradicted with the {metrics.NAMES['best10_top1']}")
    assert "(the shift's claim: supported here, contradicted with the" in said and "last validations" not in said
    assert surgical.metric_changes(found["top1"], {"lastk_top1": found["lastk_top1"]}) == \
        "No verdict changes with the metric."
    assert surgical.metric_changes(found["top1"], {}) == "No other metric to compare with."
    assert list(surgical.verdicts(found["top1"]).columns) == ["shift", "level", "verdict", "checks"]
