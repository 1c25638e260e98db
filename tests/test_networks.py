"""Networks beyond the CaffeNet: ResNets and a user's function, their transfer units, and
BatchNorm under freezing (frozen: weights and moving statistics bit-identical, inference mode;
fine-tuned: both updated). Tiny networks: width 0.125, 32 px, a few images."""

import sys
import textwrap

import keras
import numpy as np
import pytest

from transferlib.nets import units
from transferlib.cell import architectures, networks, train, transfer
from transferlib.driver import grid
from transferlib.driver.params import ParamsError, Params


def test_one_registry_names_every_built_in_network():
    """Each built-in network has a builder registered by name (``cell.architectures``) and an entry
    of ``nets.units.NETWORKS``, and the units the driver reads there without a framework are the
    ones its network has, the CaffeNet's included."""
    assert set(architectures._BUILDERS) == set(units.NETWORKS)
    for name in units.NETWORKS:
        assert networks.build(name, 3, 32, width=0.125).names == units.unit_names(name)
    with pytest.raises(ValueError, match="resnet19 has no entry in nets.units.NETWORKS"):
        architectures.register("resnet19")


def test_resnet_units_in_order_and_every_weight_in_one_unit():
    net = networks.build("resnet18", 5, 32, width=0.125, seed=0)
    assert net.names == ("stem", "stage1", "stage2", "stage3", "stage4", "head")
    assert net.names == units.unit_names("resnet18")  # what the driver knows without TensorFlow
    blocks = networks.build("resnet18", 5, 32, width=0.125, network_units="blocks")
    assert blocks.names == ("stem", "stage1_block1", "stage1_block2", "stage2_block1", "stage2_block2",
                            "stage3_block1", "stage3_block2", "stage4_block1", "stage4_block2", "head")
    for n in (net, blocks):
        members = [name for _, layers in n.units for name in layers]
        assert len(members) == len(set(members))  # no layer in two units
        weighted = {l.name for l in n.model.layers if l.weights}
        assert weighted <= set(members)  # every weight belongs to a unit
    assert net.model.output_shape == (None, 5)
    r50 = networks.build("resnet50", 3, 32, width=0.125)
    assert r50.names == units.unit_names("resnet50")
    assert sum(name.endswith("_conv3") for name in (l.name for l in r50.model.layers)) == 3 + 4 + 6 + 3
    assert networks.build("resnet18", 3, 224, width=0.125).model.get_layer("stem_pool")  # ImageNet stem


def _bn_values(model, names):
    return {f"{l.name}/{w.path}": np.array(w) for name in names for l in [model.get_layer(name)] for w in l.weights}


def _fit(model, steps=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 32, 32, 3)).astype("float32") * 3 + 1  # far from the moving stats' start
    y = rng.integers(0, 3, 16)
    train.compile_model(model, lr=0.1, lr_drops=(), total_steps=steps)
    model.fit(x, y, batch_size=8, epochs=1, steps_per_epoch=2, verbose=0)
    return x


@pytest.mark.slow
@pytest.mark.parametrize("fine_tuned", [False, True])
def test_batchnorm_frozen_bit_identical_fine_tuned_updated(fine_tuned):
    base = networks.build("resnet18", 3, 32, width=0.125, seed=1).model
    rng = np.random.default_rng(3)
    for layer in base.layers:  # a base whose BatchNorm is not at its initial values, as a trained one
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([np.abs(w + rng.normal(0, 0.5, w.shape)).astype("float32") for w in layer.get_weights()])
    net = transfer.transfer_network(base, 2, 3, fine_tuned=fine_tuned, seed=2, network="resnet18", image_size=32,
                                    width=0.125)
    copied = [name for _, layers in net.units[:2] for name in layers]
    fresh = [name for _, layers in net.units[2:] for name in layers]
    before = _bn_values(net.model, copied)
    assert all(np.array_equal(v, w) for v, w in zip(before.values(), _bn_values(base, copied).values()))
    assert any("moving_mean" in k for k in before) and any("moving_variance" in k for k in before)
    fresh_before = _bn_values(net.model, fresh)
    x = _fit(net.model)
    after = _bn_values(net.model, copied)
    changed = {k for k in before if not np.array_equal(before[k], after[k])}
    if fine_tuned:  # every copied weight and every moving statistic learns
        assert changed == set(before)
    else:
        assert changed == set()  # bit-identical: kernels, gamma, beta, moving mean and variance
        stem_bn = net.model.get_layer("stem_bn")
        probe = keras.Model(net.model.input, stem_bn.output)
        # frozen BN runs in inference mode even when the model is called in training mode
        np.testing.assert_array_equal(np.asarray(probe(x, training=True)), np.asarray(probe(x, training=False)))
    fresh_after = _bn_values(net.model, fresh)
    assert any("moving_mean" in k and not np.array_equal(fresh_before[k], fresh_after[k]) for k in fresh_after)


def test_fresh_units_are_initialised_as_a_new_network_and_copied_ones_come_from_the_base():
    base = networks.build("resnet18", 4, 32, width=0.125, seed=1).model
    net = transfer.transfer_network(base, 3, 4, fine_tuned=False, seed=7, network="resnet18", image_size=32, width=0.125)
    new = networks.build("resnet18", 4, 32, width=0.125, seed=7).model
    np.testing.assert_array_equal(net.model.get_layer("stage2_block1_conv1").kernel, base.get_layer("stage2_block1_conv1").kernel)
    np.testing.assert_array_equal(net.model.get_layer("stage3_block1_conv1").kernel, new.get_layer("stage3_block1_conv1").kernel)
    assert not net.model.get_layer("stage2_block2_bn1").trainable and net.model.get_layer("stage3_block1_bn1").trainable
    with pytest.raises(ValueError, match=r"n must be in 0..5 \(head, the classifier, is copied only with every unit"):
        transfer.transfer_network(base, 7, 4, fine_tuned=False, seed=0, network="resnet18", image_size=32, width=0.125)


USER_MODULE = '''
import keras
from keras import layers


def skip_net(num_classes, image_size, width=1.0, seed=0):
    """Units by prefix; a residual connection from unit "low" over unit "mid" into "top"."""
    x0 = keras.Input((image_size, image_size, 3))
    low = layers.Conv2D(4, 3, padding="same", name="low_conv")(x0)
    low = layers.BatchNormalization(name="low_bn")(low)
    mid = layers.Conv2D(4, 3, padding="same", activation="relu", name="mid_conv")(low)
    top = layers.Add(name="top_add")([low, mid])  # crosses the low/mid and mid/top boundaries
    top = layers.Conv2D(4, 3, padding="same", name="top_conv")(top)
    pooled = layers.GlobalAveragePooling2D(name="head_pool")(top)
    return keras.Model(x0, layers.Dense(num_classes, activation="softmax", name="head_fc")(pooled))


def declared(num_classes, image_size, width=1.0, seed=0):
    model = skip_net(num_classes, image_size)
    return model, {"first": ["low_conv", "low_bn", "mid_conv"], "second": ["top_add", "top_conv"],
                   "classifier": ["head_pool", "head_fc"]}
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_nets.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    yield "my_nets"
    sys.modules.pop("my_nets", None)


@pytest.mark.slow
def test_user_function_as_module_function(user_module):
    net = networks.build("my_nets:skip_net", 3, 16)
    assert net.names == ("low", "mid", "top", "head")  # the prefix convention
    declared = networks.build("my_nets:declared", 3, 16)
    assert declared.names == ("first", "second", "classifier")
    base = networks.build("my_nets:skip_net", 3, 16, seed=1).model
    for n in (1, 2):  # the residual from low crosses the unit boundaries
        t = transfer.transfer_network(base, n, 3, fine_tuned=False, seed=5, network="my_nets:skip_net", image_size=16)
        assert t.model.get_layer("top_add").input[0].name == t.model.get_layer("low_bn").output.name
        np.testing.assert_array_equal(t.model.get_layer("low_conv").kernel, base.get_layer("low_conv").kernel)
        before = [np.array(w) for w in t.model.get_layer("low_bn").weights]
        x = np.random.default_rng(0).normal(size=(8, 16, 16, 3)).astype("float32")
        train.compile_model(t.model, lr=0.1, lr_drops=(), total_steps=1)
        t.model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
        assert all(np.array_equal(b, np.array(w)) for b, w in zip(before, t.model.get_layer("low_bn").weights))
    # the driver learns the units in a subprocess (no TensorFlow in the driver) and checks n
    params = Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "network": "my_nets:skip_net",
                               "image_size": 16, "treatments": ["AnB"], "directions": ["AnB"]})
    cells = grid.expand(params, [f"c{i}" for i in range(4)])
    assert [(c.n, c.unit) for c in cells if c.n] == [(1, "low"), (2, "mid"), (3, "top")]
    assert cells[0].parameters["network"] == "my_nets:skip_net"
    with pytest.raises(ParamsError, match=r"layers: 4 not allowed; expected each an integer n in 1..3"):
        grid.expand(Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "network": "my_nets:skip_net",
                                      "image_size": 16, "layers": [4]}), ["a", "b"])
    with pytest.raises(ParamsError, match="model: my_nets:nothing could not be built: .*has no function nothing"):
        grid.expand(Params.from_dict({"dataset": "tiny_imagenet", "epochs": 1, "network": "my_nets:nothing"}),
                    ["a", "b"])


def test_params_check_n_against_the_model_units():
    p = Params.from_dict({"dataset": "cifar100", "epochs": 1, "network": "resnet18"})
    assert p.layers == "all"
    cells = grid.expand(p, ["a", "b", "c", "d"])
    assert sorted({(c.n, c.unit) for c in cells if c.n}) == [(1, "stem"), (2, "stage1"), (3, "stage2"),
                                                              (4, "stage3"), (5, "stage4")]
    with pytest.raises(ParamsError, match=r"layers: 6 not allowed.* in 1..5 .*stem, stage1.*head is never copied"):
        Params.from_dict({"dataset": "cifar100", "epochs": 1, "network": "resnet18", "layers": [6]})
    assert Params.from_dict({"dataset": "cifar100", "epochs": 1, "network": "resnet18", "network_units": "blocks",
                             "layers": [9]}).layers == (9,)
    with pytest.raises(ParamsError, match="network: got 'resnet19'.*did you mean 'resnet18'"):
        Params.from_dict({"dataset": "cifar100", "epochs": 1, "network": "resnet19"})
    with pytest.raises(ParamsError, match="image_size: got 48; expected one of 32, 64, 227 for the caffenet"):
        Params.from_dict({"dataset": "cifar100", "epochs": 1, "image_size": 48})
    assert Params.from_dict({"dataset": "cifar100", "epochs": 1, "image_size": 48, "network": "resnet50"})


def test_caffenet_cells_keep_their_hashes_and_resnet_cells_differ():
    def hashes(**kw):
        return {c.id: c.params_hash for c in grid.expand(Params.from_dict(
            {"dataset": "cifar100", "epochs": 1, "layers": [2], **kw}), ["a", "b", "c", "d"])}
    assert hashes() == hashes(network="caffenet", network_units="stages", val_fraction=0.1)
    assert set(hashes().values()).isdisjoint(hashes(network="resnet18").values())


def test_results_table_names_units_and_older_tables_read_as_caffenet(tmp_path):
    from transferlib.records import table, vocabulary
    row = {"cell": "r0-A2B", "split": "r0", "kind": "transfer", "source": "r0-baseA", "target": "B", "n": 2,
           "fine_tuned": False, "images_per_class": 0, "top1": 0.5, "top5": 0.9, "best10_top1": 0.5,
           "validations": 1, "train_seconds": 1.0, "wall_seconds": 1.0, "params_hash": "x", "history": [0.5]}
    old = tmp_path / "old.csv"  # a table written before units: no unit column
    old.write_text("cell,split,kind,source,target,n,fine_tuned,images_per_class,top1,top5,best10_top1,validations,"
                   "train_seconds,wall_seconds,params_hash,history\n"
                   + "r0-A2B,r0,transfer,r0-baseA,B,2,False,0,0.5,0.9,0.5,1,1.0,1.0,x,[0.5]\n")
    assert list(table.read(old).unit) == ["conv2"]
    table.append_row(old, {**row, "cell": "r0-A3B", "n": 3})  # an old table takes new rows
    assert list(table.read(old).unit) == ["conv2", "conv3"] and list(table.read(old).block_size) == [0, 0]
    new = tmp_path / "new.csv"
    table.append_row(new, {**row, "unit": "stage1"})
    df = table.read(new)
    assert list(df.unit) == ["stage1"] and vocabulary.units(df) == {2: "stage1"}
    assert not vocabulary.is_caffenet(df) and vocabulary.is_caffenet(table.read(old))
