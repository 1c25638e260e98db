"""Surgical fine-tuning (issue 28, items 1, 2 and 6): shifted targets (``cell.shifts``), every unit
copied with only unit k learning (``cell.transfer``) and the grid's "@<shift>" cells.

Known truth: in a surgical cell only unit k changes; every other unit, BatchNorm's moving mean
and variance included, stays bit-identical to the base (the CaffeNet and a ResNet). A shift is
drawn from the study's data_seed alone, so every cell and every pipeline sees the same images;
the labels shift leaves no permuted class with its label."""

import keras
import numpy as np
import pytest

from transferlib.cell import data, networks, shifts, train, transfer
from transferlib.driver import grid
from transferlib.driver.params import Params, ParamsError

WNIDS = [f"n{i:08d}" for i in range(20)]


def study(**kw):
    return Params.from_dict({"dataset": "tiny_imagenet", "classes": 10, "epochs": 1, "splits": [0, 1],
                             "directions": ["AnB"], **kw})


def _subset(n=12, classes=4, size=36, seed=0):
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % classes).astype(np.int32)
    return data.Subset(tuple(f"c{i}" for i in range(classes)), rng.integers(0, 256, (n, size, size, 3), np.uint8),
                       labels, rng.integers(0, 256, (n, size, size, 3), np.uint8), labels.copy())


# --- shifts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shift", ["noise", "blur", "contrast", "grey", "labels"])
def test_a_shift_is_drawn_from_the_data_seed_alone(shift):
    subset = _subset()
    a, b = shifts.apply(subset, shift, 3, seed=7), shifts.apply(subset, shift, 3, seed=7)
    for field in ("train_images", "val_images", "train_labels", "val_labels"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    changed = [f for f in ("train_images", "val_images", "train_labels", "val_labels")
               if not np.array_equal(getattr(a, f), getattr(subset, f))]
    assert changed == (["train_labels", "val_labels"] if shift == "labels" else ["train_images", "val_images"])
    assert a.train_images.dtype == np.uint8 and a.train_images.shape == subset.train_images.shape
    if shift == "noise":  # drawn: another seed, other noise
        assert not np.array_equal(a.train_images, shifts.apply(subset, shift, 3, seed=8).train_images)
    if shift == "labels":  # drawn: another seed, another permutation
        assert not np.array_equal(shifts.label_permutation(10, 5, 7), shifts.label_permutation(10, 5, 8))


def test_shifts_do_what_they_say():
    subset = _subset()
    grey = shifts.apply(subset, "grey", 5, 0).train_images.astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 1 and np.abs(grey[..., 1] - grey[..., 2]).max() <= 1
    low = shifts.apply(subset, "contrast", 5, 0).train_images.astype(float)
    assert low.std(axis=(1, 2, 3)).max() < 0.2 * subset.train_images.astype(float).std(axis=(1, 2, 3)).min()
    blurred = shifts.apply(subset, "blur", 5, 0).train_images.astype(float)
    assert np.abs(np.diff(blurred, axis=1)).mean() < 0.5 * np.abs(np.diff(subset.train_images.astype(float), axis=1)).mean()
    weak, strong = (np.abs(shifts.apply(subset, "noise", s, 0).train_images.astype(float)
                           - subset.train_images).mean() for s in (1, 5))
    assert 0 < weak < strong


@pytest.mark.parametrize("classes", [2, 3, 5, 10, 100])
@pytest.mark.parametrize("seed", range(5))
def test_labels_shift_is_a_derangement_at_severity_5(classes, seed):
    perm = shifts.label_permutation(classes, 5, seed)
    assert sorted(perm) == list(range(classes))
    assert (perm != np.arange(classes)).all()  # no class keeps its label
    for severity in (1, 3):
        perm = shifts.label_permutation(classes, severity, seed)
        moved = perm != np.arange(classes)
        assert sorted(perm) == list(range(classes)) and moved.sum() == max(2, round(classes * severity / 5))


def test_bad_shift_input_gets_one_clear_error_before_compute():
    with pytest.raises(ParamsError) as e:
        study(target_shift=["nosie", "labels"], shift_severity=7)
    text = str(e.value)
    assert "target_shift: 'nosie'" in text and "did you mean 'noise'" in text and "shift_severity: " in text
    assert "1..5" in text
    with pytest.raises(ParamsError, match="target_shift: imagenet2012 is read as records"):
        Params.from_dict({"dataset": "imagenet2012", "iterations": 10, "val_every": 5, "image_size": 227,
                          "target_shift": ["noise"]})
    with pytest.raises(ValueError, match="shift: got 'nosie'; expected one of noise"):
        shifts.apply(_subset(), "nosie", 3, 0)
    with pytest.raises(ValueError, match="shift_severity: got 0"):
        shifts.apply(_subset(), "noise", 0, 0)


@pytest.mark.parametrize("kind", ["numpy", "tf"])
def test_every_pipeline_sees_the_shifted_images(kind):
    subset = shifts.apply(_subset(), "noise", 3, seed=0)
    _, val = data.pipelines(subset, image_size=32, batch_size=12, seed=0, kind="numpy")
    _, other = data.pipelines(subset, image_size=32, batch_size=12, seed=5, kind=kind)
    np.testing.assert_allclose(np.asarray(next(iter(val))[0]), np.asarray(next(iter(other))[0]), atol=1e-5)


# --- the grid -------------------------------------------------------------------------------

def test_shift_cells_ids_and_values():
    cells = {c.id: c for c in grid.expand(study(treatments=[], target_shift=["noise", "labels"],
                                                shift_images_per_class=50, shift_severity=4), WNIDS)}
    noise = [c for c in cells.values() if c.id.startswith("r0-") and c.id.endswith("@noise")]
    assert [c.id for c in noise] == ["r0-baseB@noise", "r0-B7B@noise", "r0-B8B+@noise"] + [
        f"r0-B8B+{u}@noise" for u in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")]
    surgical_cell = cells["r0-B8B+conv3@noise"]
    p = surgical_cell.parameters
    assert (p["n"], p["tuned_unit"], p["shift"], p["shift_severity"], p["images_per_class"]) == (8, 3, "noise", 4, 50)
    assert surgical_cell.unit == "conv3" and surgical_cell.source == "r0-baseB" and p["target_base"] == "r0-baseB@noise"
    assert p["classes"] == p["source_classes"] and p["cka_images"] == 0
    probe, full = cells["r0-B7B@noise"].parameters, cells["r0-B8B+@noise"].parameters
    assert (probe["n"], probe["fine_tuned"], probe["tuned_unit"]) == (7, False, 0)
    assert (full["n"], full["fine_tuned"], full["tuned_unit"]) == (8, True, 0)
    shifted = [c.parameters for c in cells.values() if c.parameters["shift"]]
    assert {(q["shift_severity"], q["data_seed"]) for q in shifted} == {(4, 0)}  # the same in every cell
    assert len({c.parameters["seed"] for c in cells.values()}) == len(cells)  # each cell its own seed
    timed = {c.id: c.parameters["iterations"] for c in grid.expand(
        study(epochs=None, iterations=60, val_every=6, treatments=[], target_shift=["blur"], shift_iterations=24), WNIDS)}
    assert timed["r0-baseB"] == 60 and {v for k, v in timed.items() if "@" in k} == {24}
    with pytest.raises(ParamsError, match="shift_iterations: 25 needs iterations and a val_every that divides it"):
        study(epochs=None, iterations=60, val_every=6, target_shift=["blur"], shift_iterations=25)
    resnet = [c.id for c in grid.expand(study(treatments=[], network="resnet18", target_shift=["grey"]), WNIDS)
              if c.split == "r0"]
    assert resnet[-6:] == [f"r0-B6B+{u}@grey" for u in ("stem", "stage1", "stage2", "stage3", "stage4", "head")]


def test_the_paper_cells_keep_their_hashes_beside_a_surgical_study():
    plain = {c.id: c.params_hash for c in grid.expand(study(), WNIDS)}
    shifted = {c.id: c.params_hash for c in grid.expand(study(target_shift=["noise"]), WNIDS)}
    assert plain.items() <= shifted.items()
    assert len(shifted) > len(plain)


# --- every unit copied, only unit k learning -----------------------------------------------

def _base(network):
    net = networks.build(network, 3, 32, width=0.125, seed=1)
    rng = np.random.default_rng(3)
    for layer in net.model.layers:  # BatchNorm away from its initial values, as a trained base's
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([np.abs(w + rng.normal(0, 0.5, w.shape)).astype("float32") for w in layer.get_weights()])
    return net


def _values(model, net):
    return [{f"{name}/{w.path}": np.array(w) for name in members for w in model.get_layer(name).weights}
            for _, members in net.units]


def test_n_equal_k_copies_every_unit_and_only_unit_k_learns():
    base = _base("resnet18")
    net = transfer.transfer_network(base.model, 6, 3, fine_tuned=True, seed=2, tuned_unit=3, network="resnet18",
                                    image_size=32, width=0.125)
    for mine, theirs in zip(_values(net.model, net), _values(base.model, net)):
        assert mine.keys() == theirs.keys() and all(np.array_equal(mine[k], theirs[k]) for k in mine)
    assert [all(net.model.get_layer(m).trainable for m in members) for _, members in net.units] == [
        False, False, True, False, False, False]
    full = transfer.transfer_network(base.model, 6, 3, fine_tuned=True, seed=2, network="resnet18", image_size=32,
                                     width=0.125)
    assert all(layer.trainable for _, members in full.units for layer in map(full.model.get_layer, members))
    with pytest.raises(ValueError, match="needs the base's own 3 classes"):
        transfer.transfer_network(base.model, 6, 4, fine_tuned=True, seed=2, tuned_unit=1, network="resnet18",
                                  image_size=32, width=0.125)
    with pytest.raises(ValueError, match="tuned_unit must be in 0..6"):
        transfer.transfer_network(base.model, 6, 3, fine_tuned=True, seed=2, tuned_unit=7, network="resnet18",
                                  image_size=32, width=0.125)
    with pytest.raises(ValueError, match=r"needs every unit copied from a base: n = 6, got n = 3"):
        transfer.transfer_network(base.model, 3, 3, fine_tuned=True, seed=2, tuned_unit=2, network="resnet18",
                                  image_size=32, width=0.125)


@pytest.mark.slow
@pytest.mark.parametrize("network, k", [("caffenet", 1), ("caffenet", 5), ("caffenet", 8),
                                        ("resnet18", 1), ("resnet18", 3), ("resnet18", 6)])
def test_a_surgical_cell_changes_only_unit_k(network, k):
    """Trained as a cell trains (``train.train``, the paper's solver with weight decay): unit k
    changes, every other unit stays bit-identical to the base, BatchNorm's moving statistics
    included (Keras 3: a BatchNorm with trainable False runs in inference mode)."""
    base = _base(network)
    K = len(base.units)
    net = transfer.transfer_network(base.model, K, 3, fine_tuned=True, seed=2, tuned_unit=k, network=network,
                                    image_size=32, width=0.125)
    subset = shifts.apply(_subset(n=48, classes=3, seed=1), "noise", 5, seed=0)
    train_ds, val_ds = data.pipelines(subset, image_size=32, batch_size=16, seed=0)
    train.train(net.model, train_ds, val_ds, iterations=4, val_every=4, lr=0.05, lr_drops=(), seed=0,
                progress=False, print_fn=None)
    after, of_base = _values(net.model, net), _values(base.model, net)
    for i, (mine, theirs) in enumerate(zip(after, of_base), 1):
        changed = {key for key in mine if not np.array_equal(mine[key], theirs[key])}
        if i == k:
            assert changed == set(mine), (net.units[i - 1][0], set(mine) - changed)  # every weight, every statistic
        else:
            assert changed == set(), (net.units[i - 1][0], changed)  # bit-identical, BatchNorm's included
    if network == "resnet18":
        tuned = {key for key in after[k - 1] if "moving_mean" in key or "moving_variance" in key}
        frozen = {key for values in after[:k - 1] + after[k:] for key in values if "moving_" in key}
        assert frozen and (tuned or k == K)  # statistics there to change (the head has none); frozen ones did not


def test_a_cell_loads_its_half_shifted_the_same_whatever_its_own_seed(monkeypatch):
    """``inputs.load_data``, as both notebooks call it: the selected images shifted from
    data_seed, the cell's seed only ordering its batches; a bad shift refused before any data is read."""
    from types import SimpleNamespace

    from transferlib.cell import inputs

    whole = _subset(n=40, classes=4, seed=2)
    fake = SimpleNamespace(name="fake", classes=whole.classes, train_images=whole.train_images,
                           train_labels=whole.train_labels, val_images=whole.val_images, val_labels=whole.val_labels)
    monkeypatch.setattr(inputs.datasets, "load", lambda *a, **k: fake)
    classes = ["c1", "c3"]
    kw = dict(image_size=32, batch_size=8, shift="noise", shift_severity=3, data_seed=5)
    one, *_ = inputs.load_data("fake", classes, seed=1, **kw)
    two, *_ = inputs.load_data("fake", classes, seed=2, **kw)
    want = shifts.apply(data.select(fake, classes), "noise", 3, 5)
    for field in ("train_images", "val_images", "train_labels", "val_labels"):
        np.testing.assert_array_equal(getattr(one, field), getattr(want, field))
        np.testing.assert_array_equal(getattr(two, field), getattr(want, field))
    plain, *_ = inputs.load_data("fake", classes, seed=1, image_size=32, batch_size=8)
    assert not np.array_equal(plain.train_images, one.train_images)
    monkeypatch.setattr(inputs.datasets, "load", lambda *a, **k: pytest.fail("data read before the check"))
    with pytest.raises(ValueError, match="shift_severity: got 9"):
        inputs.load_data("fake", classes, seed=1, image_size=32, batch_size=8, shift="blur", shift_severity=9)
