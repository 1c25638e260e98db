"""The study report's opening block and its tables' units (``summary.report``)."""

import datetime

import pandas as pd

from transferlib import parameters, version
from transferlib.summary import report


def test_the_opening_block_says_what_the_study_is_and_what_made_it():
    params, _ = parameters.completed({"study": "mine", "dataset": "cifar100", "network": "resnet18",
                                      "iterations": 4000, "val_every": 500, "lr_drops": [0.5]})
    df = pd.DataFrame({"cell": ["r0-baseA", "r0-baseB", "r3-baseA", "mmn-baseA"], "split": ["r0", "r0", "r3", "mmn"],
                       "code_version": ["0.1.0+g0c92742"] * 4})
    halves = {"r0": {"A": list("abc"), "B": list("def")}}
    block = report.identity(params, df, halves, "last-10 top-1", "python -m transferlib run mine.yaml",
                            made=datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone.utc))
    for said in ("# mine: study summary", "cifar100, 3 classes per half, 32 px", "resnet18, units: stages",
                 "4,000 iterations, a validation every 500; batch 256", "divided by 10 at 50% of the schedule",
                 "4 in 3 splits (mmn, r0, r3): 3 replicates", "last-10 top-1",
                 "| networks trained by | transferlib 0.1.0+g0c92742, every network |",
                 f"| report drawn | 2026-01-02 03:04 UTC by transferlib {version.code_version()} |",
                 "`python -m transferlib run mine.yaml`"):
        assert said in block, said


def test_the_opening_block_names_the_cells_of_each_code_version_where_they_differ():
    df = pd.DataFrame({"cell": ["r0-baseA", "r0-baseB", "r0-A2B", "r0-B2B"],
                       "code_version": ["0.1.0+g0c92742", "", "0.1.0+gabcdef0.dirty", "0.1.0+g0c92742"]})
    assert report.code_versions(df) == ("mixed: 0.1.0+g0c92742: r0-baseA, r0-B2B; unknown (not recorded): r0-baseB; "
                                        "0.1.0+gabcdef0.dirty: r0-A2B")
    assert report.code_versions(df[df.code_version == ""]) == "transferlib unknown (not recorded), every network"


def test_tables_show_accuracies_in_points_and_ratios_as_ratios():
    table = pd.DataFrame({"AnB": [0.41234], "AnB / baseB": [0.91234]})
    out = report.shown(table, points=("AnB",), names={"AnB": "AnB (%)"})
    assert out.to_dict("records") == [{"AnB (%)": 41.2, "AnB / baseB": 0.91}]
