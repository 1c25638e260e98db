"""transferlib.records.table and transferlib.summary: the results table and the arithmetic on it.

The rows are a synthetic fixture for pure functions (made-up top-1 values with a known shape),
not a stand-in for training: every expectation is computed here by hand from the rows.
"""

import json
import math
import multiprocessing
import re

import numpy as np
import pandas as pd
import pytest

from transferlib import atomic
from transferlib.records import table as results_table, vocabulary
from transferlib.summary import findings, findings_text, inference, metrics, paper
from transferlib.summary import stats as summary

# Relative change of each treatment from its base per n = 1..7 (paper-like shapes).
SHAPES = {
    ("selffer", False): (0, 0, -.01, -.04, -.05, -.02, 0),
    ("selffer", True): (.01, .01, .01, .02, .02, .02, .02),  # the official logs: as much as AnB+
    ("transfer", False): (0, 0, -.02, -.06, -.10, -.15, -.20),
    ("transfer", True): (.01, .01, .01, .02, .02, .02, .02),
    ("random", False): (-.2, -.4, -.98, -.98, -.98, -.98, -.98),
}
DISSIMILAR_TRANSFER = (0, -.01, -.03, -.08, -.14, -.2, -.35)


def _row(cell, split, kind, source, target, n, fine_tuned, top1, images_per_class=0):
    return dict(cell=cell, split=split, kind=kind, source=source, target=target, n=n,
                fine_tuned=fine_tuned, images_per_class=images_per_class, top1=top1,
                top5=min(1.0, top1 + 0.2),
                best10_top1=top1 + 0.001, validations=3, train_seconds=1.5, wall_seconds=9.5, params_hash="abc",
                history=[top1 / 3, top1 / 2, top1])


def study_rows(splits=("r0", "r1", "mmn"), ns=range(1, 8), targets="AB", random=True,
               shapes=SHAPES, seed=0):
    """Rows of a synthetic study: bases near 0.5, every other cell its base times
    (1 + shape) plus a little noise; random cells only on random splits."""
    rng = np.random.default_rng(seed)
    rows = []
    for split in splits:
        for x in targets:
            base = 0.5 + rng.normal(0, 0.01)
            rows.append(_row(f"{split}-base{x}", split, "base", "", x, 0, False, base))
            for n in ns:
                for s in "AB":
                    kind = "selffer" if s == x else "transfer"
                    for ft in (False, True):
                        shape = shapes[kind, ft][n - 1]
                        if split == "mmn" and (kind, ft) == ("transfer", False):
                            shape = DISSIMILAR_TRANSFER[n - 1]
                        rows.append(_row(f"{split}-{s}{n}{x}{'+' * ft}", split, kind,
                                         f"{split}-base{s}", x, n, ft,
                                         base * (1 + shape) + rng.normal(0, 0.002)))
                if random and split != "mmn":
                    rows.append(_row(f"{split}-R{n}{x}", split, "random", "", x, n, False,
                                     base * (1 + shapes["random", False][n - 1]) + rng.normal(0, 0.002)))
    return rows


def write(path, rows):
    for row in rows:
        results_table.append_row(path, row)
    return results_table.read(path)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The full synthetic study, written with append_row and read back."""
    return write(tmp_path_factory.mktemp("study") / "results.csv", study_rows())


def test_read_round_trips_types_and_values(tmp_path):
    rows = study_rows(splits=("r0",), ns=(1,), random=False)
    df = write(tmp_path / "results.csv", rows)
    assert tuple(df.columns) == results_table.COLUMNS
    assert df.n.dtype == np.int64 and df.validations.dtype == np.int64
    assert df.fine_tuned.dtype == bool and df.top1.dtype == np.float64
    got = df.set_index("cell")
    for row in rows:
        assert got.loc[row["cell"], "top1"] == row["top1"]  # exact: floats written with repr
        assert got.loc[row["cell"], "history"] == row["history"]
        assert got.loc[row["cell"], "fine_tuned"] == row["fine_tuned"]
    assert got.loc["r0-baseA", "source"] == ""
    assert results_table.read(tmp_path).equals(df)  # the study directory works too


def test_read_reports_missing_file_and_columns(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results table"):
        results_table.read(tmp_path / "nowhere.csv")
    pd.DataFrame({"cell": ["x"], "top1": [0.5]}).to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(ValueError, match="lacks the columns.*'split'"):
        results_table.read(tmp_path)


def test_read_reports_bad_values(tmp_path):
    row = {k: str(v) for k, v in study_rows(splits=("r0",), ns=(), random=False)[0].items()}
    pd.DataFrame([{**row, "fine_tuned": "maybe"}]).to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(ValueError, match=r"cells \['r0-baseA'\] have a fine_tuned"):
        results_table.read(tmp_path)
    pd.DataFrame([{**row, "top1": "high"}]).to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(ValueError, match="unreadable value.*high"):
        results_table.read(tmp_path)


def test_read_a_table_without_rows(tmp_path):
    (tmp_path / "results.csv").write_text(",".join(results_table.COLUMNS) + "\n")
    df = results_table.read(tmp_path)
    assert len(df) == 0 and df.fine_tuned.dtype == bool and df.n.dtype == np.int64
    assert {f.verdict for f in findings_text.findings(df, "top1")} == {findings.INCONCLUSIVE}


def test_a_table_with_the_old_epochs_column_reads_and_grows(tmp_path):
    path = tmp_path / "results.csv"
    first, second = study_rows(splits=("r0",), ns=(), random=False)
    write(path, [first])
    old = path.read_text().replace(",validations,", ",epochs,")
    path.write_text(old)
    assert results_table.read(path).validations.tolist() == [3]
    results_table.append_row(path, second)
    assert path.read_text().splitlines()[0] == ",".join(results_table.COLUMNS)
    assert results_table.read(path).validations.tolist() == [3, 3]


def test_append_row_replaces_the_same_cell(tmp_path):
    path = tmp_path / "results.csv"
    base_a, base_b = study_rows(splits=("r0",), ns=(), random=False)
    write(path, [base_a, base_b, {**base_a, "top1": 0.123}])
    df = results_table.read(path)
    assert list(df.cell) == ["r0-baseA", "r0-baseB"]
    assert df.set_index("cell").loc["r0-baseA", "top1"] == 0.123
    before = path.stat().st_mtime_ns
    results_table.append_row(path, base_b)  # the same row again: the table is left as it is
    assert path.stat().st_mtime_ns == before


def test_append_row_refuses_wrong_keys_before_writing(tmp_path):
    path = tmp_path / "results.csv"
    row = study_rows(splits=("r0",), ns=(), random=False)[0]
    with pytest.raises(ValueError, match=r"missing keys \['history'\], unknown keys \['extra'\]"):
        results_table.append_row(path, {**{k: v for k, v in row.items() if k != "history"},
                                  "extra": 1})
    assert not path.exists()


def test_append_row_leaves_the_table_whole_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    first, second = study_rows(splits=("r0",), ns=(), random=False)
    results_table.append_row(path, first)
    before = path.read_bytes()

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        results_table.append_row(path, second)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]  # no temporary or lock file left


def test_append_row_from_two_processes_loses_nothing(tmp_path):
    path = tmp_path / "results.csv"
    rows = study_rows(splits=("r0",), random=False)  # 58 rows
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap_async(results_table.append_row, [(path, r) for r in rows], chunksize=1).get(120)
    df = results_table.read(path)
    assert sorted(df.cell) == sorted(r["cell"] for r in rows)


def test_treatment_names():
    def name(kind, target, fine_tuned=False, pooled=False):
        return vocabulary.treatment(dict(kind=kind, target=target, fine_tuned=fine_tuned), pooled)

    assert [name("base", "A"), name("base", "B"), name("base", "B", pooled=True)] == [
        "baseA", "baseB", "base"]
    assert [name("selffer", "B"), name("selffer", "B", True), name("selffer", "A")] == [
        "BnB", "BnB+", "AnA"]
    assert [name("transfer", "B"), name("transfer", "B", True), name("transfer", "A", True)] == [
        "AnB", "AnB+", "BnA+"]
    assert [name("selffer", "A", True, True), name("transfer", "A", False, True)] == [
        "BnB+", "AnB"]  # pooled: the paper's (and params files') names, whatever the direction
    assert name("random", "A") == name("random", "B", pooled=True) == "random"


def test_the_1000_class_cells_are_their_own_group(tmp_path):
    rows = study_rows(splits=("r0",), ns=(1,), random=False)
    rows += [_row("all-baseAB", "all", "base", "", "AB", 0, False, 0.9),
             _row("all-R1AB", "all", "random", "", "AB", 1, False, 0.45)]
    df = write(tmp_path / "results.csv", rows)
    labelled = vocabulary.label(df).set_index("cell")
    assert labelled.loc["all-baseAB", "tasks"] == "all classes"
    assert labelled.loc["r0-baseA", "tasks"] == "similar"
    stats = summary.summary_stats(df)
    half_bases = stats[(stats.tasks == "similar") & (stats.treatment == "base")]
    assert half_bases.networks.item() == 2  # the 1000-class base is not a third half base
    assert half_bases["mean"].item() == pytest.approx(df.top1[df.cell.isin(
        ["r0-baseA", "r0-baseB"])].mean())
    random = summary.from_base(df).set_index("cell").loc["all-R1AB"]
    assert random.difference == pytest.approx(0.45 - 0.9)  # from the 1000-class base


def test_table1_equals_hand_computation(study):
    top1 = dict(zip(study.cell, study.top1))
    similar = [f"{split}-base{x}" for split in ("r0", "r1") for x in "AB"]  # mmn left out
    base = np.mean([top1[c] for c in similar])
    over_base, over_selffer, paired = {}, {}, {}
    for n in range(1, 8):
        plus = {(split, x): top1[f"{split}-{s}{n}{x}+"]
                for split in ("r0", "r1") for x, s in (("B", "A"), ("A", "B"))}
        selffer = [top1[f"{split}-{x}{n}{x}+"] for split, x in plus]
        over_base[n] = 100 * (np.mean(list(plus.values())) - base)
        over_selffer[n] = 100 * (np.mean(list(plus.values())) - np.mean(selffer))
        paired[n] = 100 * np.mean([v - top1[f"{split}-base{x}"] for (split, x), v in plus.items()])
    table = summary.table1(study)
    assert list(table.index) == ["1", "2", "3", "4", "5", "6", "7", "1-7", "3-7", "5-7"]
    assert table.columns.name == "final top-1, points"
    for n in range(1, 8):
        assert table.loc[str(n), "networks"] == 4
        assert table.loc[str(n), "AnB+ - base"] == pytest.approx(over_base[n], abs=1e-12)
        assert table.loc[str(n), "AnB+ - BnB+"] == pytest.approx(over_selffer[n], abs=1e-12)
        assert table.loc[str(n), "AnB+ - base, paired"] == pytest.approx(paired[n], abs=1e-12)
    for lo, hi in ((1, 7), (3, 7), (5, 7)):
        layers = range(lo, hi + 1)
        key = f"{lo}-{hi}"
        assert table.loc[key, "AnB+ - base"] == pytest.approx(
            sum(over_base[n] for n in layers) / len(layers), abs=1e-12)
        assert table.loc[key, "AnB+ - BnB+"] == pytest.approx(
            sum(over_selffer[n] for n in layers) / len(layers), abs=1e-12)
        assert table.loc[key, "paper AnB+ - base"] == paper.PAPER_REFERENCE["table1"][key][0]
    assert table.loc["1-7", "networks"] == 28


def test_table1_ranges_average_the_measured_layers(tmp_path):
    df = write(tmp_path / "results.csv", study_rows(splits=("r0",), ns=(2, 6), random=False))
    table = summary.table1(df)
    assert list(table.index) == ["2", "6", "1-7", "3-7", "5-7"]
    assert table.loc["5-7", "AnB+ - base"] == table.loc["6", "AnB+ - base"]
    assert table.loc["1-7", "AnB+ - base"] == pytest.approx(
        (table.loc["2", "AnB+ - base"] + table.loc["6", "AnB+ - base"]) / 2)


def test_from_base_is_a_difference_in_accuracy(study):
    top1 = dict(zip(study.cell, study.top1))
    diff = summary.from_base(study).set_index("cell")
    assert "r0-baseA" not in diff.index and len(diff) == len(study) - 6
    for cell, base in (("r0-A3B", "r0-baseB"), ("r1-B7A+", "r1-baseA"), ("mmn-A7B", "mmn-baseB"),
                       ("r0-R4A", "r0-baseA")):
        assert diff.loc[cell, "difference"] == pytest.approx(top1[cell] - top1[base], abs=1e-15)
    orphan = summary.from_base(study[study.cell != "r1-baseA"]).set_index("cell")
    assert math.isnan(orphan.loc["r1-B7A+", "difference"])
    assert not math.isnan(orphan.loc["r1-A7B+", "difference"])


def test_intervals_over_replicates():  # the one interval: stats' error bars are inference's
    mean, low, high = inference.one_sample([0.4, 0.5, 0.6], ("above", 0.0))[:3]
    assert (mean, high - mean) == pytest.approx((0.5, 4.302653 * 0.1 / math.sqrt(3)))  # t(.975, 2)
    assert mean - low == pytest.approx(high - mean)
    single = inference.one_sample([0.4], ("above", 0.0))
    assert single.mean == 0.4 and math.isnan(single.low)


def test_summary_stats_mean_and_ci():
    rows = [_row(f"r{i}-A1B", f"r{i}", "transfer", f"r{i}-baseA", "B", 1, False, v)
            for i, v in enumerate((0.4, 0.5, 0.6))]
    rows.append(_row("mmn-A1B", "mmn", "transfer", "mmn-baseA", "B", 1, False, 0.3))
    stats = summary.summary_stats(pd.DataFrame(rows)).set_index("tasks")
    assert stats.loc["similar", "networks"] == 3
    assert stats.loc["similar", "mean"] == pytest.approx(0.5)
    assert stats.loc["similar", "ci95"] == pytest.approx(4.302653 * 0.1 / math.sqrt(3))
    assert stats.loc["dissimilar", "mean"] == 0.3
    assert math.isnan(stats.loc["dissimilar", "ci95"])


def test_summary_stats_difference_is_the_mean_of_differences_from_base(study):
    diff = summary.from_base(study)
    expected = diff[(diff.pooled == "AnB") & (diff.n == 7) & (diff.tasks == "similar")]
    stats = summary.summary_stats(study, difference=True)
    got = stats[(stats.treatment == "AnB") & (stats.n == 7) & (stats.tasks == "similar")]
    assert got["mean"].item() == pytest.approx(expected.difference.mean())
    assert set(stats.treatment) == set(vocabulary.POOLED) - {"base"}


def _verdicts(df):
    return {f.number: f.verdict for f in findings_text.findings(df, "top1")}


FOUR_SPLITS = ("r0", "r1", "r2", "r3", "mmn")


@pytest.fixture(scope="module")
def four_splits(tmp_path_factory):
    """The synthetic study on 4 random splits: 4 replicates, enough for Holm's correction."""
    return write(tmp_path_factory.mktemp("four") / "results.csv", study_rows(splits=FOUR_SPLITS))


def test_findings_support_a_paper_like_study(four_splits):
    found = findings_text.findings(four_splits, "top1")
    assert [f.number for f in found] == [2, 3, 4, 5, 6, 7]
    assert all(f.verdict == findings.SUPPORTED for f in found), found
    text = {f.number: f.text for f in found}
    assert "over 4 splits" in text[2] and "95% interval [" in text[2] and "paper" in text[2]
    assert "2 dissimilar and 4 similar replicates" in text[6] and "-25.0 dissimilar" in text[6]
    assert "over 8" in text[4]  # the direction-level sensitivity
    for f in found:
        assert "nan" not in f.text and " of 1 " not in f.text, f.text


def test_two_splits_cannot_decide_what_four_do(tmp_path):
    """2 random splits, AnB at n = 1, 2 half a point above its base in r0 and a third below in
    r1: 1 degree of freedom cannot show it within 1 point, and the undecided part says how many
    splits would, while the clear drops at n = 4..7 are supported."""
    rows = study_rows(splits=("r0", "r1"), random=False)
    for row in rows:
        if row["kind"] == "transfer" and not row["fine_tuned"] and row["n"] in (1, 2):
            base = next(r["top1"] for r in rows if r["cell"] == f"{row['split']}-base{row['target']}")
            row["top1"] = base + (0.005 if row["split"] == "r0" else -0.003)
    found = {f.number: f for f in findings_text.findings(write(tmp_path / "results.csv", rows), "top1")}
    assert found[4].verdict == findings.INCONCLUSIVE
    assert re.search(r"drops at n=4-7: supported; equal at n=1, 2: undecided, needs about \d+ splits "
                     r"\(\d+ to (\d+|more than 1000) within the spread's 95% interval\) of both directions "
                     r"to support it", found[4].parts), found[4].parts


def test_one_replicate_is_never_supported(tmp_path):
    df = write(tmp_path / "results.csv", study_rows(splits=("r0", "mmn"), targets="B"))
    found = findings_text.findings(df, "top1")
    assert {f.verdict for f in found} == {findings.INCONCLUSIVE}
    for f in found:
        assert "no interval" in f.text and re.search(r"from 1 (split|\w+ and 1 \w+ replicates|replicate)\b",
                                                     f.text), f.text
        assert "nan" not in f.text, f.text
        assert re.search(r"needs (at least 2 (splits|replicates) with a spread|more seeds)", f.text), f.text


def test_an_interval_across_the_bound_is_inconclusive(tmp_path):
    rows = study_rows(splits=("r0", "r1"), random=False)
    for row in rows:  # AnB+ 3 points above its base in r0, 2 below in r1: the mean, +0.5, is noise
        if row["kind"] == "transfer" and row["fine_tuned"]:
            base = next(r["top1"] for r in rows if r["cell"] == f"{row['split']}-base{row['target']}")
            row["top1"] = base + (0.03 if row["split"] == "r0" else -0.02)
    assert _verdicts(write(tmp_path / "results.csv", rows))[5] == findings.INCONCLUSIVE


def test_findings_unmeasured_without_mmn_and_random(four_splits):
    df = four_splits[(four_splits.split != "mmn") & (four_splits.kind != "random")]
    found = {f.number: f for f in findings_text.findings(df, "top1")}
    assert found[6].text == ("Finding 6 (AnB falls faster with n on dissimilar tasks): "
                             "inconclusive: not measured: the study has no AnB (dissimilar) at n=7.")
    assert found[7].verdict == findings.INCONCLUSIVE
    assert found[7].text.endswith("not measured: the study has no random-weights networks at n=1-7, "
                                  "nor AnB (dissimilar) at n=1-7.")
    assert all(found[n].verdict == findings.SUPPORTED for n in (2, 3, 4, 5))


def test_findings_contradict_what_the_numbers_contradict(four_splits, tmp_path):
    shapes = {**SHAPES, ("selffer", True): (-.1,) * 7, ("transfer", True): (-.05,) * 7}
    df = write(tmp_path / "results.csv", study_rows(splits=FOUR_SPLITS, random=False, shapes=shapes))
    found = _verdicts(df)
    assert found[3] == found[5] == findings.CONTRADICTED and found[2] == findings.SUPPORTED


def test_findings_partial_grid(tmp_path):
    df = write(tmp_path / "results.csv", study_rows(splits=FOUR_SPLITS[:4], ns=(1, 2), random=False))
    found = {f.number: f for f in findings_text.findings(df, "top1")}
    assert found[2].text.endswith("not measured: the study has no BnB at n=4, 5, 7.")
    assert found[4].verdict == findings.INCONCLUSIVE
    assert found[4].parts == ("drops at n=4-7: not measured; equal at n=1, 2: supported; below BnB at n=4-7: "
                              "not measured; more specific at n=7 than at 4: not measured")
    assert "AnB4 - base: not measured: the study has no AnB at n=4" in found[4].text


def test_verdict_table_names_the_metric(four_splits):
    table = findings_text.verdict_table(findings_text.findings(four_splits, "top1"), "top1",
                                   {"best10_top1": findings_text.findings(four_splits, "best10_top1")})
    assert list(table.index) == [2, 3, 4, 5, 6, 7]
    assert list(table.columns) == ["claim", "verdict", "parts", "evidence",
                                   "verdict, top-1, mean of the 10 best validations"]
    assert table.columns.name == "final top-1" and (table.verdict == "supported").all()
    assert findings_text.metric_changes(table) == "No verdict changes with the metric."
    changed = table.assign(**{"verdict, top-1, mean of the 10 best validations": "inconclusive"})
    assert findings_text.metric_changes(changed).startswith(
        "Verdicts that change with the metric: finding 2: supported here, inconclusive with the "
        "top-1, mean of the 10 best validations;")


def test_paper_reference():
    ref = paper.PAPER_REFERENCE
    assert ref["base"]["mean"] == .6251 and ref["means"]["AnB+"][7] == .6465
    assert ref["difference"]["dissimilar"]["AnB"][7] == -.25
    assert ref["difference"]["similar"]["AnB"][7] == pytest.approx(.5425 - .6251)
    assert ref["difference"]["similar"]["random"][3] == pytest.approx(.0011 - .5763)
    assert ref["table1"]["5-7"] == (2.1, 1.7)


def test_history_is_json_in_the_file(tmp_path):
    path = tmp_path / "results.csv"
    row = study_rows(splits=("r0",), ns=(), random=False)[0]
    results_table.append_row(path, {**row, "history": np.array([0.25, 0.5])})
    raw = pd.read_csv(path, dtype=str)
    assert json.loads(raw.history[0]) == [0.25, 0.5]


def reduced_rows(ks=(10, 50), ns=(3, 7), split="r0"):
    """Reduced-data cells of one split, direction AnB: baseB and AnB+ per n at each k, the
    copies gaining more from the base the fewer the images."""
    rows = []
    for k in ks:
        base = 0.1 + k / 500
        rows.append(_row(f"{split}-baseB-k{k}", split, "base", "", "B", 0, False, base, k))
        rows += [_row(f"{split}-A{n}B+-k{k}", split, "transfer", f"{split}-baseA", "B", n, True,
                      base + n / k, k) for n in ns]
    return rows


def test_generality_separates_co_adaptation_from_specificity(study):
    top1 = dict(zip(study.cell, study.top1))
    table = summary.generality(study)
    assert list(table.index) == list(range(1, 8))
    for n in range(1, 8):
        pairs = [(top1[f"{s}-base{x}"], top1[f"{s}-{x}{n}{x}"], top1[f"{s}-{o}{n}{x}"])
                 for s in ("r0", "r1") for x, o in (("B", "A"), ("A", "B"))]  # mmn left out
        row = table.loc[n]
        assert row.networks == 4
        assert row["AnB / baseB"] == pytest.approx(np.mean([t / b for b, _, t in pairs]), rel=1e-12)
        assert row["AnB / BnB"] == pytest.approx(np.mean([t / s for _, s, t in pairs]), rel=1e-12)
        assert row["co-adaptation"] == pytest.approx(np.mean([b - s for b, s, _ in pairs]), abs=1e-12)
        assert row["specificity"] == pytest.approx(np.mean([s - t for _, s, t in pairs]), abs=1e-12)
        assert row["co-adaptation"] + row["specificity"] == pytest.approx(row.baseB - row.AnB, abs=1e-12)


def test_reduced_cells_stay_out_of_the_papers_numbers(study, tmp_path):
    both = write(tmp_path / "results.csv", study_rows() + reduced_rows())
    pd.testing.assert_frame_equal(summary.table1(both), summary.table1(study))
    pd.testing.assert_frame_equal(summary.generality(both), summary.generality(study))
    assert findings_text.findings(both, "top1") == findings_text.findings(study, "top1")
    assert len(vocabulary.label(both)) == len(study)
    assert len(summary.reduced_data(study)) == 0
    assert metrics.choose(both) == metrics.choose(study)


def test_reduced_data_gain_over_the_base_of_the_same_k(tmp_path):
    df = write(tmp_path / "results.csv", study_rows(splits=("r0",)) + reduced_rows())
    top1 = dict(zip(df.cell, df.top1))
    table = summary.reduced_data(df).set_index(["treatment", "n", "images_per_class"])
    for k in (10, 50):
        assert table.loc[("base", 0, k), "mean"] == top1[f"r0-baseB-k{k}"]
        assert np.isnan(table.loc[("base", 0, k), "gain"])
        assert table.loc[("base", 0, k), "full"] == top1["r0-baseB"]
        for n in (3, 7):
            row = table.loc[("AnB+", n, k)]
            assert row.gain == pytest.approx(top1[f"r0-A{n}B+-k{k}"] - top1[f"r0-baseB-k{k}"], abs=1e-12)
            assert row.full == top1[f"r0-A{n}B+"]
            assert row.full_gain == pytest.approx(top1[f"r0-A{n}B+"] - top1["r0-baseB"], abs=1e-12)
    assert (table.networks == 1).all() and len(table) == 6
