"""A pretrained network as the source (cell.pretrained): each kind of source, its units, its
preprocessing, the copied units bit-identical, BatchNorm kept as Keras users are told to, and
every bad source refused before training. Offline: each test builds its own weights, at 32 px."""

import sys
import textwrap

import keras
import numpy as np
import pytest

from transferlib.cell import pretrained, train, transfer

RESNET50 = "keras.applications.ResNet50"
MOBILENET = "keras.applications.MobileNetV2"


def tiny_source(seed=0):
    """A small pretrained-like source: three conv stages with BatchNorm whose weights and moving
    statistics are far from their initial values."""
    keras.utils.set_random_seed(seed)
    x = inputs = keras.Input((32, 32, 3))
    for s in (1, 2, 3):
        x = keras.layers.Conv2D(4, 3, strides=2 if s > 1 else 1, padding="same", name=f"block{s}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block{s}_bn")(x)
        x = keras.layers.ReLU(name=f"block{s}_relu")(x)
    model = keras.Model(inputs, x, name="tiny")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([np.abs(w + rng.normal(0, 0.5, w.shape)).astype("float32") for w in layer.get_weights()])
    return model


def _values(model, names):
    return {f"{name}/{w.path}": np.array(w) for name in names for w in model.get_layer(name).weights}


def _layers(net, n):
    return [name for _, members in net.units[:n] for name in members if net.model.get_layer(name).weights]


@pytest.fixture
def saved(tmp_path):
    source = tiny_source()
    path = tmp_path / "source.keras"
    source.save(path)
    return str(path), source


def test_keras_file_units_and_copied_units_bit_identical(saved):
    path, source = saved
    net = transfer.transfer_network(path, 2, 5, image_size=32, fine_tuned=True, seed=1)
    assert net.names == ("block1", "block2", "block3", "head")
    assert net.model.output_shape == (None, 5)
    copied = _layers(net, 2)
    assert copied == ["block1_conv", "block1_bn", "block2_conv", "block2_bn"]
    for key, value in _values(source, copied).items():
        assert np.array_equal(value, _values(net.model, copied)[key]), key
    fresh = _values(net.model, ["block3_conv"])
    assert not any(np.array_equal(v, _values(source, ["block3_conv"])[k]) for k, v in fresh.items())


def test_source_units_list_the_layer_that_ends_each_unit(saved):
    path, source = saved
    units = pretrained.units(source, ["block1_relu", "block3_bn"])
    assert [name for name, _ in units] == ["block1_relu", "block3_bn", "block3_relu"]
    assert units[1][1] == ("block2_conv", "block2_bn", "block2_relu", "block3_conv", "block3_bn")


@pytest.mark.parametrize("source, names", [
    (RESNET50, ("conv1", "conv2", "conv3", "conv4", "conv5")),
    (MOBILENET, ("Conv1", *(f"block_{i}" for i in range(1, 17)), "Conv_1")),
])
def test_application_from_a_local_weights_file(tmp_path, source, names):
    keras.utils.set_random_seed(7)
    weighted = getattr(keras.applications, source.split(".")[-1])(weights=None, include_top=False,
                                                                   input_shape=(32, 32, 3))
    path = tmp_path / "w.weights.h5"
    weighted.save_weights(path)
    net = transfer.transfer_network(source, 1, 3, image_size=32, fine_tuned=False, seed=1, weights=str(path))
    assert net.names == (*names, "head")
    members = [name for _, layers in net.units for name in layers]
    assert len(members) == len(set(members))  # no layer in two units
    assert {l.name for l in net.model.layers if l.weights} <= set(members)  # every weight in a unit
    copied = _layers(net, 1)
    for key, value in _values(weighted, copied).items():
        assert np.array_equal(value, _values(net.model, copied)[key]), key
    assert not any(net.model.get_layer(name).trainable for name in copied)  # frozen
    above = _layers(net, 2)[len(copied)]
    assert not np.array_equal(weighted.get_layer(above).get_weights()[0], net.model.get_layer(above).get_weights()[0])


def test_function_source(tmp_path, monkeypatch):
    (tmp_path / "my_source.py").write_text(textwrap.dedent("""
        import keras

        def backbone(image_size):
            x = inputs = keras.Input((image_size, image_size, 3))
            for s in (1, 2):
                x = keras.layers.Conv2D(4, 3, name=f"stage{s}_conv")(x)
            return keras.Model(inputs, x)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_source", raising=False)
    assert pretrained.check("my_source:backbone", 32) == ("stage1", "stage2", "head")
    net = transfer.transfer_network("my_source:backbone", 1, 4, image_size=32, fine_tuned=True, seed=0)
    assert net.model.get_layer("stage1_conv").trainable and net.model.output_shape == (None, 4)


def test_preprocessing_is_the_family_s_own():
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    for source, own in ((RESNET50, keras.applications.resnet50.preprocess_input),
                        (MOBILENET, keras.applications.mobilenet_v2.preprocess_input)):
        assert np.array_equal(pretrained.preprocess(source)(images.copy()), own(images.copy()))
    assert not np.array_equal(pretrained.preprocess(RESNET50)(images.copy()),
                              pretrained.preprocess(MOBILENET)(images.copy()))
    assert pretrained.preprocess("net.keras")(images) is images
    named = pretrained.preprocess(RESNET50, "keras.applications.vgg16:preprocess_input")
    assert named is keras.applications.vgg16.preprocess_input


def _nested(tmp_path):
    inner = tiny_source()
    inputs = keras.Input((32, 32, 3))
    path = tmp_path / "nested.keras"
    keras.Model(inputs, inner(inputs)).save(path)
    return str(path)


def _unnamed(tmp_path):
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, name="alpha")(inputs)
    path = tmp_path / "unnamed.keras"
    keras.Model(inputs, keras.layers.Conv2D(4, 3, name="beta")(x)).save(path)
    return str(path)


@pytest.mark.parametrize("make, size, weights, message", [
    (lambda t: str(t / "missing.keras"), 32, "imagenet", "missing.keras: no such file"),
    (lambda t: "keras.applications.ResNet5O", 32, "imagenet", "keras.applications has no network 'ResNet5O'"),
    (lambda t: RESNET50, 31, "imagenet", "cannot be built at image_size 31: Input size must be at least 32"),
    (lambda t: MOBILENET, 16, "imagenet", "cannot be built at image_size 16"),
    (lambda t: RESNET50, 32, "/nowhere/w.weights.h5", "source_weights: /nowhere/w.weights.h5 is not a file"),
    (lambda t: "keras_hub:resnet_50_imagenet", 32, "imagenet", "needs KerasHub: pip install keras-hub"),
    (lambda t: "resnet", 32, "imagenet", "expected a .keras file"),
    (lambda t: "no_such_module:backbone", 32, "imagenet", "cannot import it"),
    (_unnamed, 32, "imagenet", "0 unit.s. found .* of its layers: alpha, beta"),
    (_nested, 32, "imagenet", "nests tiny as a layer"),
    (lambda t: saved_at(t, 64), 32, "imagenet", "takes 64x64 images, not the study's image_size 32"),
])
def test_bad_sources_refused_with_one_error(tmp_path, monkeypatch, make, size, weights, message):
    monkeypatch.setitem(sys.modules, "keras_hub", None)  # as where keras-hub is not installed
    with pytest.raises(ValueError, match=message):
        pretrained.check(make(tmp_path), size, weights)


def saved_at(folder, size):
    inputs = keras.Input((size, size, 3))
    path = folder / f"at{size}.keras"
    keras.Model(inputs, keras.layers.Conv2D(2, 3, name="block2_conv")(
        keras.layers.Conv2D(2, 3, name="block1_conv")(inputs))).save(path)
    return str(path)


def _train(model, steps=2):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 3, 16)
    train.compile_model(model, lr=0.1, lr_drops=(), total_steps=steps)
    model.fit(x, y, batch_size=8, epochs=1, steps_per_epoch=steps, verbose=0)


@pytest.mark.slow
@pytest.mark.parametrize("fine_tuned, bn_update", [(False, False), (True, False), (True, True)])
def test_batchnorm_kept_by_default_and_updated_when_asked(saved, fine_tuned, bn_update):
    path, source = saved
    net = transfer.transfer_network(path, 2, 3, image_size=32, fine_tuned=fine_tuned, seed=1, bn_update=bn_update)
    _train(net.model)
    bn = ["block1_bn", "block2_bn"]
    stats = {k: v for k, v in _values(source, bn).items() if "moving" in k}
    after = _values(net.model, bn)
    kept = [np.array_equal(value, after[key]) for key, value in stats.items()]
    assert all(kept) if not bn_update else not any(kept)
    convs = _values(net.model, ["block1_conv", "block2_conv"])
    unchanged = [np.array_equal(v, convs[k]) for k, v in _values(source, ["block1_conv", "block2_conv"]).items()
                 if "kernel" in k]  # a bias before BatchNorm in training mode gets no gradient
    assert all(unchanged) if not fine_tuned else not any(unchanged)


def test_the_network_takes_0_to_255_rgb_and_applies_the_source_s_preprocessing_itself(tmp_path):
    from transferlib.cell.files import load_model

    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    net = transfer.transfer_network(RESNET50, 1, 3, image_size=32, fine_tuned=False, seed=0, weights=None)
    prepared = keras.Model(net.model.input, net.model.get_layer("preprocess").output)
    assert np.allclose(prepared(images), keras.applications.resnet50.preprocess_input(images.copy()), atol=1e-4)
    net.model.save(tmp_path / "net.keras")  # a saved network carries its preprocessing
    again = load_model(str(tmp_path / "net.keras"))
    assert np.allclose(again.predict(images, verbose=0), net.model.predict(images, verbose=0), atol=1e-6)


def test_a_cut_network_is_units_1_to_n_then_a_new_head(saved):
    path, source = saved
    net = transfer.transfer_network(path, 2, 4, image_size=32, fine_tuned=False, seed=0, cut=True)
    assert net.names == ("block1", "block2", "head")
    assert net.model.get_layer("head_pool").input.shape == source.get_layer("block2_relu").output.shape
    assert "block3_conv" not in {l.name for l in net.model.layers}
    with pytest.raises(ValueError, match="cut must be in 1..3"):
        transfer.transfer_network(path, 3 + 1, 4, image_size=32, fine_tuned=False, seed=0, cut=True)
