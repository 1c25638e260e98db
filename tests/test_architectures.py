import numpy as np
import pytest
import keras

from transferlib.cell import architectures, transfer
from transferlib.cell.architectures import WEIGHT_LAYERS, caffenet


def weight_layers(model):
    return [layer for layer in model.layers if layer.weights]


def test_227px_is_the_caffe_reference_model():
    model = caffenet(1000, 227)
    assert [layer.name for layer in weight_layers(model)] == list(WEIGHT_LAYERS)
    # Caffe's bvlc_reference_caffenet: 60,965,224 parameters.
    assert model.count_params() == 60_965_224
    shapes = {layer.name: tuple(layer.kernel.shape) for layer in weight_layers(model)}
    assert shapes["conv1"] == (11, 11, 3, 96)
    assert shapes["conv2"] == (5, 5, 48, 256)  # 2 groups
    assert shapes["conv4"] == (3, 3, 192, 384)
    assert shapes["conv5"] == (3, 3, 192, 256)
    assert shapes["fc6"] == (6 * 6 * 256, 4096)
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("size", [32, 64])
def test_small_variants_keep_the_eight_layers_and_their_kinds(size):
    model = caffenet(10, size, width=0.5)
    assert [layer.name for layer in weight_layers(model)] == list(WEIGHT_LAYERS)
    names = [layer.name for layer in model.layers]
    # pooling after conv1, conv2, conv5; LRN after the first two pools; dropout on fc6, fc7
    for before, after in [("conv1", "pool1"), ("pool1", "norm1"), ("conv2", "pool2"),
                          ("pool2", "norm2"), ("conv5", "pool5"), ("fc6", "drop6"), ("fc7", "drop7")]:
        assert names.index(after) == names.index(before) + 1
    assert all(isinstance(model.get_layer(n), architectures.GroupedConv2D) for n in ("conv2", "conv4", "conv5"))
    assert model.output_shape == (None, 10)


def test_width_scales_filters_and_units():
    narrow, full = caffenet(10, 32, width=0.5), caffenet(10, 32, width=1.0)
    assert narrow.get_layer("conv3").filters * 2 == full.get_layer("conv3").filters == 384
    assert narrow.get_layer("fc6").units * 2 == full.get_layer("fc6").units == 1024


def test_grouped_conv_computes_keras_grouped_convolution():
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 6)).astype("float32")
    ours = architectures.GroupedConv2D(4, 3, groups=2)
    ours.build(x.shape)
    ours.bias.assign(np.arange(4, dtype="float32"))
    reference = keras.layers.Conv2D(4, 3, padding="same", groups=2, activation="relu")
    reference.build(x.shape)
    reference.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x), reference(x), atol=1e-5)


def test_lrn_is_caffes_across_channel_normalisation(monkeypatch):
    x = np.random.default_rng(0).uniform(0, 50, size=(2, 4, 4, 16)).astype("float32")
    # Caffe: x / (1 + alpha / size * sum of x^2 over 5 neighbouring channels) ** beta
    padded = np.pad(x**2, [(0, 0)] * 3 + [(2, 2)])
    window = sum(padded[..., i:i + 16] for i in range(5))
    expected = x / (1 + 1e-4 / 5 * window) ** 0.75
    np.testing.assert_allclose(architectures.LocalResponseNorm()(x), expected, rtol=1e-5)  # TF's fused kernel
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")  # the keras.ops path of other backends
    np.testing.assert_allclose(architectures.LocalResponseNorm()(x), expected, rtol=1e-5)


def test_paper_initialisation_at_227px():
    model = caffenet(1000, 227, seed=3)
    for name in WEIGHT_LAYERS:
        kernel, bias = (w.numpy() for w in model.get_layer(name).weights)
        expected_std = 0.005 if name in ("fc6", "fc7") else 0.01
        assert abs(kernel.std() - expected_std) / expected_std < 0.05, name
        assert set(np.unique(bias)) == {1.0 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0}


def test_init_he_or_paper_at_32px():
    he, paper = caffenet(10, 32, seed=3), caffenet(10, 32, seed=3, init="paper")
    for name in WEIGHT_LAYERS:
        kernel, bias = (w.numpy() for w in he.get_layer(name).weights)
        fan_in = np.prod(kernel.shape[:-1])
        expected_std = 0.01 if name == "fc8" else np.sqrt(2 / fan_in)
        assert abs(kernel.std() - expected_std) / expected_std < 0.1, name
        assert set(np.unique(bias)) == {0.0}
        kernel, bias = (w.numpy() for w in paper.get_layer(name).weights)
        assert abs(kernel.std() - (0.005 if name in ("fc6", "fc7") else 0.01)) < 1e-3, name
        assert set(np.unique(bias)) == {1.0 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0}
    copy = transfer.transfer_network(he, 2, 10, fine_tuned=True, seed=4, init="paper").model
    assert set(np.unique(copy.get_layer("conv4").bias.numpy())) == {1.0}  # new layers: paper's
    with pytest.raises(ValueError, match="init must be one of"):
        caffenet(10, 32, init="scaled")


def test_seed_makes_weights_repeat_and_differ():
    a, b, c = caffenet(10, 32, 0.25, seed=1), caffenet(10, 32, 0.25, seed=1), caffenet(10, 32, 0.25, seed=2)
    np.testing.assert_array_equal(a.get_layer("conv1").kernel, b.get_layer("conv1").kernel)
    assert not np.array_equal(a.get_layer("conv1").kernel, c.get_layer("conv1").kernel)


def test_saved_model_round_trips(tmp_path):
    model = caffenet(10, 32, 0.25)
    model.save(tmp_path / "base.keras")
    loaded = keras.models.load_model(tmp_path / "base.keras")
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


def test_unsupported_size_is_refused():
    with pytest.raises(ValueError, match="image_size must be one of"):
        caffenet(10, 48)
