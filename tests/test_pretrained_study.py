"""A study of a pretrained source_network: its params, its cells, a bad source refused before
any cell runs, and a run on real data through to the report's "How deep to freeze". The source
is built and saved by the test (tests/test_pretrained.py's), so nothing is downloaded."""

import json

import pytest
import yaml

from conftest import SHARED_DATASETS, TINY_32PX
from transferlib.__main__ import main
from transferlib.driver import grid
from transferlib.driver.params import Params, ParamsError
from transferlib.parameters import PRETRAINED_TREATMENTS
from transferlib.records import table

WNIDS = [f"n{i:08d}" for i in range(12)]


def study(**overrides):
    return Params.from_dict({"dataset": "tiny_imagenet", "epochs": 2, "classes": 6, "splits": [0, 1],
                             "source_network": "source.keras", **overrides})


def test_a_source_study_defaults_to_its_four_treatments_at_every_n_on_target_b():
    params = study()
    assert params.treatments == PRETRAINED_TREATMENTS and params.layers == "all" and params.directions == ("AnB",)
    assert Params.from_dict(params.to_dict()) == params


@pytest.mark.parametrize("given, message", [
    ({"network": "resnet18"}, "network: not with source_network"),
    ({"treatments": ["BnB", "AnB"]}, "treatments: BnB not with source_network"),
    ({"directions": ["AnB", "BnA"]}, "directions: with source_network the target is the study's classes"),
    ({"splits": [0, "man_made_natural"]}, "splits: with source_network each split is a replicate seed"),
    ({"block_shuffle": [4]}, "block_shuffle: not with source_network"),
    ({"source_network": None, "treatments": ["AnBcut"]}, "treatments: AnBcut copy a pretrained source_network"),
    ({"source_network": None, "source_units": ["a"]}, "source_units: goes with source_network"),
])
def test_what_a_source_study_cannot_do_is_refused_with_the_key_named(given, message):
    with pytest.raises(ParamsError, match=message):
        study(**given)


@pytest.fixture
def saved_source(tmp_path):
    from test_pretrained import tiny_source
    path = tmp_path / "source.keras"
    tiny_source().save(path)
    return str(path)


@pytest.mark.slow  # the source's units are learnt in a subprocess
def test_cells_per_replicate_base_and_each_treatment_at_each_n_no_cut_at_the_top(saved_source):
    cells = grid.expand(study(source_network=saved_source), WNIDS)
    r0 = [c for c in cells if c.split == "r0"]
    assert [c.id for c in r0] == ["r0-baseB", "r0-A1B", "r0-A1B+", "r0-A1Bcut", "r0-A1Bcut+",
                                  "r0-A2B", "r0-A2B+", "r0-A2Bcut", "r0-A2Bcut+", "r0-A3B", "r0-A3B+"]
    assert len(cells) == 2 * len(r0) and all(c.needs == () and c.target == "B" for c in cells)
    assert [c.unit for c in r0[1:5]] == ["block1"] * 4 and [c.cut for c in r0[1:5]] == [False, False, True, True]
    assert {c.parameters["classes"] == cells[0].parameters["classes"] for c in cells} == {True}  # all, every split
    assert len({c.parameters["seed"] for c in cells}) == len(cells)  # each replicate its own draws
    again = {c.id: c.params_hash for c in grid.expand(study(source_network=saved_source, source_bn_update=True),
                                                      WNIDS)}
    changed = {c.id for c in cells if again[c.id] != c.params_hash}
    assert changed == {c.id for c in cells if c.kind == "transfer"}  # the bases do not read it


@pytest.mark.slow
@pytest.mark.parametrize("given, message", [
    ({"source_network": "keras.applications.ResNet50", "image_size": 16}, "cannot be built at image_size 16"),
    ({"source_network": "nowhere.keras"}, "nowhere.keras: no such file"),
])
def test_a_bad_source_is_refused_before_any_cell_runs(tmp_path, capsys, given, message):
    params = tmp_path / "bad.yaml"
    params.write_text(yaml.safe_dump({"dataset": "tiny_imagenet", "data_dir": str(SHARED_DATASETS), "classes": 4,
                                      "epochs": 1, **given}))
    assert main(["run", str(params), "--results", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert "source_network: " in err and message in err
    assert not (tmp_path / "results" / "bad" / "results.csv").exists()


@pytest.mark.slow
def test_a_source_study_runs_on_real_data_and_reports_how_deep_to_freeze(tmp_path, saved_source):
    if not TINY_32PX.exists():
        pytest.skip(f"{TINY_32PX} is absent")
    params = tmp_path / "frozen.yaml"
    params.write_text(yaml.safe_dump({
        "dataset": "tiny_imagenet", "data_dir": str(SHARED_DATASETS), "classes": 4, "splits": [0],
        "source_network": saved_source, "source_preprocess": "keras.applications.mobilenet_v2:preprocess_input",
        "layers": [1], "iterations": 10, "val_every": 5, "batch_size": 16, "lr": 0.001}))
    assert main(["run", str(params), "--results", str(tmp_path / "results"), "--workers", "2"]) == 0
    folder = tmp_path / "results" / "frozen"
    df = table.read(folder)
    assert sorted(zip(df.cell, df.cut, df.fine_tuned)) == [
        ("r0-A1B", False, False), ("r0-A1B+", False, True), ("r0-A1Bcut", True, False),
        ("r0-A1Bcut+", True, True), ("r0-baseB", False, False)]
    report = "\n".join("".join(map(str, (o.get("text", ""), *o.get("data", {}).get("text/markdown", ""))))
                       for c in json.loads((folder / "summary.ipynb").read_text())["cells"]
                       for o in c.get("outputs", []))
    assert "The rule" in report and "Undecided" in report  # one replicate decides nothing
    assert "has no BnB or baseA" in report
    assert (folder / "freeze_depth.csv").exists() and (folder / "freeze_depth.png").exists()
