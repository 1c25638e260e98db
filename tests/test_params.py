"""Params files: defaults, round trip, and one clear ParamsError per kind of mistake."""

import dataclasses
import json
import re
import subprocess
import sys

import pytest
import yaml
from pathlib import Path

from transferlib import parameters
from transferlib.driver.params import RULES, Params, ParamsError, load_params

MINIMAL = {"dataset": "cifar100", "epochs": 3}


def write(tmp_path, text, name="study.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def error(d):
    with pytest.raises(ParamsError) as e:
        Params.from_dict({**MINIMAL, **d})
    return str(e.value)


def test_defaults_are_the_papers():
    p = Params.from_dict(MINIMAL)
    assert (p.study, p.data_dir, p.image_size, p.width, p.classes) == ("study", None, 32, 1.0, "all")
    assert p.treatments == ("BnB", "BnB+", "AnB", "AnB+")
    assert p.layers == (1, 2, 3, 4, 5, 6, 7) and p.directions == ("AnB", "BnA")
    assert (p.batch_size, p.lr, p.momentum, p.weight_decay) == (256, 0.01, 0.9, 5e-4)
    assert p.lr_drops == pytest.approx((2 / 9, 4 / 9, 6 / 9, 8 / 9))
    assert (p.splits, p.seed, p.results_dir) == ((0,), 0, "results")
    assert (p.executor, p.ray_address, p.cpus_per_cell, p.gpus_per_cell) == ("local", None, 1.0, 0.0)


def test_file_loads_and_round_trips(tmp_path):
    (tmp_path / "data").mkdir()
    path = write(tmp_path, """\
# Tiny study: what it is, how to run it, how long it takes.
dataset: tiny_imagenet
data_dir: data
image_size: 64
width: 0.5
classes: 20
splits: [0, 1, man_made_natural]
treatments: [BnB, AnB+, random]
layers: [1, 4, 7]
directions: [AnB]
epochs: 2
lr: 1
lr_drops: [0.5]
weight_decay: 5e-4
""", name="tiny.yaml")
    p = load_params(path)
    assert p.study == "tiny" and p.file == str(path)
    assert p.data_dir == str((Path.cwd() / "data").resolve())  # the working folder's, made absolute
    assert p.splits == (0, 1, "man_made_natural") and p.classes == 20
    assert p.lr == 1.0 and isinstance(p.lr, float) and p.weight_decay == 5e-4
    again = write(tmp_path, yaml.safe_dump(p.to_dict()), name="again.yaml")
    assert load_params(again) == p
    assert Params.from_dict(p.to_dict()) == p


def test_class_ids_and_empty_file(tmp_path):
    p = Params.from_dict({**MINIMAL, "classes": ["apple", "bus"]})
    assert p.classes == ("apple", "bus")
    with pytest.raises(ParamsError, match=r"empty\.yaml: 2 problems:\n  dataset: missing.*\n  epochs: missing"):
        load_params(write(tmp_path, "# nothing yet\n", name="empty.yaml"))


@pytest.mark.parametrize("d, expected", [
    ({"layrs": [1]}, ["layrs: unknown key; did you mean 'layers'?"]),
    ({"frobnicate": 1}, ["frobnicate: unknown key; known keys: study, dataset"]),
    ({"epochs": "10"}, ["epochs: got '10'; expected an integer >= 1"]),
    ({"epochs": 0}, ["epochs: got 0"]),
    ({"batch_size": 2.5}, ["batch_size: got 2.5"]),
    ({"lr": 0}, ["lr: got 0; expected a number > 0"]),
    ({"width": True}, ["width: got True"]),
    ({"layers": [0, 3, 8]}, ["layers: 0, 8 not allowed", "an integer n in 1..7"]),
    ({"layers": 3}, ["layers: got 3; expected 'all' or a non-empty list"]),
    ({"layers": [2, 2]}, ["layers: 2 repeated"]),
    ({"treatments": ["AnB", "AnBB"]}, ["treatments: 'AnBB' (did you mean 'AnB'?) not allowed",
                                       "'BnB', 'BnB+', 'AnB', 'AnB+', 'random'"]),
    ({"directions": ["AnA"]}, ["directions: 'AnA'", "one of 'AnB', 'BnA'"]),
    ({"splits": ["man_made"]}, ["splits: 'man_made' (did you mean 'man_made_natural'?)",
                                "a split seed (an integer >= 0) or 'man_made_natural'"]),
    ({"splits": [-1]}, ["splits: -1 not allowed"]),
    ({"splits": []}, ["splits: got []; expected a non-empty list"]),
    ({"image_size": 48}, ["image_size: got 48; expected one of 32, 64, 227"]),
    ({"classes": 1}, ["classes: got 1", "a class count >= 2"]),
    ({"classes": "some"}, ["classes: got 'some'; expected 'all' or"]),
    ({"classes": ["a", 3]}, ["classes: 3 not allowed"]),
    ({"lr_drops": [0.5, 1.0]}, ["lr_drops: 1.0 not allowed", "strictly between 0 and 1"]),
    ({"lr_drops": [0.6, 0.3]}, ["lr_drops: got [0.6, 0.3]; expected increasing values"]),
    ({"momentum": 1}, ["momentum: got 1; expected a number in [0, 1)"]),
    ({"lr": float("inf")}, ["lr: got inf; expected a number > 0"]),
    ({"momentum": float("nan")}, ["momentum: got nan; expected a number in [0, 1)"]),
    ({"data_dir": 5}, ["data_dir: got 5; expected null or a folder path"]),
    ({"study": "a/b"}, ["study: got 'a/b'"]),
    ({"seed": -3}, ["seed: got -3"]),
    ({"iterations": 1000, "val_every": 100}, ["epochs, iterations: both set"]),
    ({"epochs": None, "iterations": 1000}, ["val_every: missing"]),
    ({"val_every": 100}, ["val_every: only goes with iterations"]),
    ({"epochs": None, "iterations": 1000, "val_every": 300}, ["val_every: 300 does not divide iterations (1000)"]),
    ({"dataset": "imagenet2012"}, ["epochs: imagenet2012 is read as records", "give iterations and val_every"]),
    ({"precision": "bf16"}, ["precision: got 'bf16'", "'mixed_bfloat16'"]),
    ({"checkpoint": "yes"}, ["checkpoint: got 'yes'; expected true or false"]),
    ({"all_classes": ["random", "AnB"]}, ["all_classes: 'AnB' not allowed"]),
    ({"executor": "dask"}, ["executor: got 'dask'; expected one of 'local', 'ray'"]),
    ({"executor": "Ray"}, ["executor: got 'Ray'", "(did you mean 'ray'?)"]),
    ({"gpus_per_cell": -0.5}, ["gpus_per_cell: got -0.5; expected a number >= 0"]),
    ({"cpus_per_cell": 0}, ["cpus_per_cell: got 0; expected a number > 0"]),
    ({"ray_address": 6379}, ["ray_address: got 6379; expected null or a Ray address"]),
    ({"cka_images": -1}, ["cka_images: got -1; expected an integer >= 0"]),
    ({"transfer_scores": "yes"}, ["transfer_scores: got 'yes'; expected true or false"]),
    ({"dataset": "imagenet2012", "epochs": None, "iterations": 1000, "val_every": 100, "transfer_scores": True},
     ["transfer_scores: imagenet2012 is read as records"]),
    ({"reduced_images_per_class": [50, 0]}, ["reduced_images_per_class: 0 not allowed",
                                             "an integer k >= 1"]),
    ({"reduced_images_per_class": [50, 10]}, ["reduced_images_per_class: got [50, 10]; "
                                              "expected increasing values"]),
    ({"reduced_layers": [8]}, ["reduced_layers: 8 not allowed"]),
    ({"model": "resnet18"}, ["model: renamed network; write `network: resnet18`"]),
    ({"units": "blocks"}, ["units: renamed network_units; write `network_units: blocks`"]),
])
def test_each_mistake_names_its_key(d, expected):
    message = error(d)
    assert message.startswith("<dict>: ")
    for text in expected:
        assert text in message


def test_all_problems_reported_together():
    message = error({"epochs": 0, "layers": [9], "directoins": ["AnB"]})
    assert message.startswith("<dict>: 3 problems:")
    for key in ("epochs:", "layers:", "directoins: unknown key; did you mean 'directions'?"):
        assert f"\n  {key}" in message


def test_each_rule_across_keys_names_the_keys_it_reads():
    assert [rule.__name__ for rule in RULES] == [  # the order their problems are reported in
        "_schedule", "_treatments_by_split", "_layers_by_treatment", "_pretrained_source", "_network_units",
        "_skip_needs_tiny_imagenet", "_scores_need_decoded_images", "_shift_needs_decoded_images",
        "_base_iterations_fit", "_shift_iterations_fit", "_block_shuffle_fits", "_holdout_fits",
        "_halves_take_a_list"]
    keys = {f.name for f in dataclasses.fields(Params)} - {"file"}
    for rule in RULES:
        assert rule.__doc__ and rule.reads and set(rule.reads) <= keys, rule.__name__


HALVES = {"A": ["apple", "bus"], "B": ["cat", "dog"]}
SKIPS = [  # (rule, a key it reads, given, the keys of the problems): without the skip, one more problem
    ("_schedule", "epochs", {"epochs": "10"}, ["epochs"]),
    ("_treatments_by_split", "splits", {"splits": [1, -1], "treatments": {1: ["AnB"]}}, ["splits"]),
    ("_layers_by_treatment", "treatments", {"treatments": ["AnB", "AnBB"], "layers": {"AnB": [1]}}, ["treatments"]),
    ("_pretrained_source", "source_network", {"source_network": 5, "source_units": ["a"]}, ["source_network"]),
    ("_network_units", "network", {"network": "resnet19", "layers": [8]}, ["network"]),
    ("_skip_needs_tiny_imagenet", "dataset", {"dataset": 5, "skip_bad_images": True}, ["dataset"]),
    ("_shift_needs_decoded_images", "target_shift",
     {"dataset": "imagenet2012", "epochs": None, "iterations": 60, "val_every": 6, "image_size": 227,
      "source_network": "s.keras", "target_shift": ["noise"]}, ["target_shift", "source_network"]),
    ("_base_iterations_fit", "iterations", {"epochs": None, "iterations": "x", "val_every": 6, "base_iterations": 12},
     ["iterations"]),
    ("_shift_iterations_fit", "val_every", {"epochs": None, "iterations": 60, "val_every": -1, "shift_iterations": 24},
     ["val_every"]),
    ("_block_shuffle_fits", "image_size", {"image_size": "big", "block_shuffle": [5]}, ["image_size"]),
    ("_halves_take_a_list", "halves", {"halves": HALVES, "splits": [0], "treatments": {0: ["AnB"]}}, ["halves"]),
]


@pytest.mark.parametrize("name, key, given, keys", SKIPS, ids=[s[0] for s in SKIPS])
def test_a_problem_in_a_key_skips_the_rules_that_read_it(name, key, given, keys, monkeypatch):
    def problems():
        with pytest.raises(ParamsError) as e:
            Params.from_dict({**MINIMAL, **given})
        return e.value.problems
    assert [p.partition(":")[0] for p in problems()] == keys
    rule = next(r for r in RULES if r.__name__ == name)
    monkeypatch.setattr(rule, "reads", tuple(k for k in rule.reads if k != key))
    assert len(problems()) == len(keys) + 1  # undeclared, the rule judges the refused value too


def test_yaml_errors_name_file_and_line(tmp_path):
    path = write(tmp_path, "dataset: cifar100\nepochs: 3\nlayers: [1, 2\n")
    with pytest.raises(ParamsError, match=rf"^{re.escape(str(path))}:4: YAML syntax error"):
        load_params(path)
    path = write(tmp_path, "dataset: cifar100\nepochs: 3\nepochs: 4\n")
    with pytest.raises(ParamsError, match=rf"^{re.escape(str(path))}:3: YAML syntax error: key 'epochs' is set"):
        load_params(path)
    path = write(tmp_path, "- dataset\n")
    with pytest.raises(ParamsError, match="expected `key: value` lines, got list"):
        load_params(path)


def test_missing_file(tmp_path):
    with pytest.raises(ParamsError, match=r"nope\.yaml: cannot read the params file"):
        load_params(tmp_path / "nope.yaml")


def test_params_error_is_a_value_error():
    assert issubclass(ParamsError, ValueError)


def test_a_half_of_one_class_is_refused():
    from transferlib.driver import grid
    p = Params.from_dict({"dataset": "tiny_imagenet", "classes": 3, "epochs": 1})
    with pytest.raises(ParamsError, match=r"split r0 leaves half . \(1\) with fewer than 2 classes"):
        grid.expand(p, [f"n{i:08d}" for i in range(10)])


def test_a_saved_study_with_old_key_names_reads_with_the_new_ones():
    """A study folder's params.yaml written before the renames (and a hand-made one with only
    its dataset) completes to the same names the notebooks and the summary use."""
    params, assumed = parameters.completed({"dataset": "tiny_imagenet", "model": "resnet18", "units": "blocks"})
    assert (params["network"], params["network_units"]) == ("resnet18", "blocks")
    assert "model" not in params and "network" not in assumed and "width" in assumed
    assert params["width"] == Params.from_dict(MINIMAL).width


def test_a_key_declared_once_reaches_the_params_file_the_grid_and_both_notebooks():
    """One Parameter added to ``parameters.PARAMETERS`` (and nothing else) is a params-file key
    with its check, is injected into every cell's notebook, enters the params_hash when set,
    and has its line in both notebooks' parameters cells."""
    script = """
import dataclasses, json
from transferlib import checks, parameters as P
new = P.Parameter("dropout", 0.0, "a new key", type=float, hashed="when set",
                  check=checks.real(lambda v: 0 <= v < 1, "a number in [0, 1)"))
P.PARAMETERS += (new,)
P.STUDY += (new,)
from transferlib.driver import grid
from transferlib.driver.params import Params, ParamsError
wnids = [f"n{i:08d}" for i in range(10)]
cells = grid.expand(Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "dropout": 0.5,
                                      "classes": wnids, "layers": [1]}), wnids)
plain = grid.expand(Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "classes": wnids,
                                      "layers": [1]}), wnids)
try:
    Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "dropout": 2})
    error = None
except ParamsError as e:
    error = str(e)
print(json.dumps({"values": sorted({c.parameters["dropout"] for c in cells}),
                  "plain": [c.parameters["dropout"] for c in plain][:1],
                  "hash_moves": all(a.params_hash != b.params_hash for a, b in zip(cells, plain)),
                  "error": error, "cells": [P.parameters_cell(n) for n in P.NOTEBOOKS]}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert out["values"] == [0.5] and out["plain"] == [0.0] and out["hash_moves"]
    assert "dropout: got 2; expected a number in [0, 1)" in out["error"]
    assert all("\ndropout = 0.0 " in cell and "# a new key" in cell for cell in out["cells"])


def test_an_override_is_the_same_value_written_in_the_file(tmp_path):
    """`run study epochs=2 splits=[0,1]` gives the Params, the cells and the hashes that the file
    with those values written in it gives."""
    from transferlib.driver import grid
    from test_grid import WNIDS
    base = "dataset: tiny_imagenet\nepochs: 5\nsplits: [0]\ntreatments: [AnB]\nlayers: [3]\n"
    overridden = load_params(write(tmp_path, base, "quick.yaml"), ["epochs=2", "splits=[0, 1]", "lr=5e-3"])
    (tmp_path / "written").mkdir()
    written = load_params(write(tmp_path / "written", base.replace("epochs: 5", "epochs: 2")
                                .replace("splits: [0]", "splits: [0, 1]") + "lr: 5e-3\n", "quick.yaml"))
    assert overridden == dataclasses.replace(written, file=overridden.file)
    assert overridden.to_dict() == written.to_dict()  # what the study folder's params.yaml records
    cells = [(c.id, c.params_hash, c.parameters) for c in grid.expand(overridden, WNIDS)]
    assert cells == [(c.id, c.params_hash, c.parameters) for c in grid.expand(written, WNIDS)]
    assert overridden.file.endswith("quick.yaml with epochs=2 splits=[0, 1] lr=5e-3")


@pytest.mark.parametrize("overrides, expected", [
    (["epoch=2"], "epoch: unknown key; did you mean 'epochs'?"),
    (["epochs=two"], "epochs: got 'two'; expected an integer >= 1"),
    (["epochs"], "'epochs': an override is key=value"),
    (["splits=[0,"], "splits: '[0,' is not a YAML value"),
])
def test_a_bad_override_is_refused_with_its_key(tmp_path, overrides, expected):
    with pytest.raises(ParamsError, match=re.escape(expected)):
        load_params(write(tmp_path, "dataset: tiny_imagenet\nepochs: 5\n"), overrides)
