"""What a cell's notebook shows of its results (``cell.tables``): each metric named for
what it is, and a missing baseline said as what to do."""

import json
from types import SimpleNamespace

from transferlib.cell import tables


def trained(validations):
    return SimpleNamespace(top1=0.5, top5=0.9, best10_top1=0.55, validations=validations, train_seconds=3.0)


def test_best10_is_shown_only_after_ten_validations():
    assert "best-10" not in tables.metrics_table(trained(4)).to_html()  # it would be the mean of 4
    assert "best-10 top-1 (%)" in tables.metrics_table(trained(10)).to_html()


def test_a_baseline_not_trained_by_hand_says_how_to_train_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFER_RESULTS_DIR", str(tmp_path))
    said = tables.beside_its_base(trained(4), "r0-A3B+", "r0-baseB", target="B").data
    assert "was not trained in this folder" in said and "`cell = 'r0-baseB'`, `target = 'B'`" in said
    (tmp_path / "r0-baseB.json").write_text(json.dumps({"top1": 0.4}))
    assert "+10.0" in tables.beside_its_base(trained(4), "r0-A3B+", "r0-baseB", target="B").to_html()


def test_a_baseline_the_runner_has_not_finished_is_said_so(tmp_path):
    said = tables.beside_its_base(trained(4), "r0-A3B+", "r0-baseB", str(tmp_path / "r0-A3B+.json"),
                                  target="B").data
    assert "had not finished when this network did" in said
