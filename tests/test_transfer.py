import keras
import numpy as np
import pytest

from transferlib.cell import data, train
from transferlib.cell.architectures import WEIGHT_LAYERS, caffenet
from transferlib.cell.transfer import transfer_network


def weights(model, name):
    return [w.copy() for w in model.get_layer(name).get_weights()]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def base():
    return caffenet(10, 32, width=0.25, seed=1)


def copied_model(base, n, num_classes, **given):
    """The Keras model of ``transfer_network`` copying from the CaffeNet ``base``."""
    return transfer_network(base, n, num_classes, network="caffenet", width=0.25, **given).model


@pytest.mark.parametrize("n", [0, 1, 3, 7])
def test_copies_exactly_the_first_n_layers(base, n):
    model = copied_model(base, n, 10, fine_tuned=False, seed=2)
    for i, name in enumerate(WEIGHT_LAYERS):
        assert same(weights(model, name), weights(base, name)) == (i < n), name
        assert model.get_layer(name).trainable == (i >= n), name


def test_fine_tune_keeps_copied_layers_trainable_and_fc8_takes_the_new_size(base):
    model = copied_model(base, 5, 7, fine_tuned=True, seed=2)
    assert all(model.get_layer(name).trainable for name in WEIGHT_LAYERS)
    assert model.output_shape == (None, 7)


def test_random_first_layers_are_fresh_seeded_and_frozen(base):
    model = copied_model(base, 4, 10, fine_tuned=False, seed=5, random_first=True)
    again = copied_model(base, 4, 10, fine_tuned=False, seed=5, random_first=True)
    for name in WEIGHT_LAYERS[:4]:
        assert not same(weights(model, name), weights(base, name))
        assert same(weights(model, name), weights(again, name))
        assert not model.get_layer(name).trainable


def test_n_outside_range_is_refused(base):
    with pytest.raises(ValueError, match="n must be in 0..7"):
        copied_model(base, 9, 10, fine_tuned=False, seed=0)
    with pytest.raises(ValueError, match="n = 8 copies the classifier too, which needs the base's own 10 classes"):
        copied_model(base, 8, 7, fine_tuned=False, seed=0)


@pytest.mark.parametrize("fine_tuned", [False, True])
def test_training_leaves_frozen_layers_bit_identical(tiny_imagenet, base, fine_tuned):
    subset = data.select(tiny_imagenet, tiny_imagenet.classes[:10], max_per_class=40)
    train_ds, val_ds = data.pipelines(subset, image_size=32, batch_size=50, seed=0)
    model = copied_model(base, 3, 10, fine_tuned=fine_tuned, seed=2)
    before = {name: weights(model, name) for name in WEIGHT_LAYERS}
    train.train(model, train_ds, val_ds, epochs=1, lr=0.01, seed=0, progress=False, print_fn=None)
    for i, name in enumerate(WEIGHT_LAYERS):
        unchanged = same(weights(model, name), before[name])
        assert unchanged == (i < 3 and not fine_tuned), name


def test_caffe_sgd_decays_kernels_and_doubles_the_bias_rate():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    kernel, bias = layer.kernel.numpy().copy(), layer.bias.numpy().copy()
    grad_k, grad_b = np.full((3, 2), 0.5, "float32"), np.full(2, 0.25, "float32")
    opt = train.CaffeSGD(learning_rate=0.1, momentum=0.9, coupled_weight_decay=0.01)
    opt.apply([grad_k, grad_b], [layer.kernel, layer.bias])  # the first step: no momentum yet
    np.testing.assert_allclose(layer.kernel.numpy(), kernel - 0.1 * (grad_k + 0.01 * kernel), rtol=1e-6)
    np.testing.assert_allclose(layer.bias.numpy(), bias - 0.1 * 2 * grad_b, rtol=1e-6)


def test_caffe_sgd_keeps_the_momentum_history_across_a_learning_rate_drop():
    """Caffe's update, history = momentum * history + lr * gradient: after a drop the history
    still holds the steps taken at the old rate (the transient seen after every drop in the
    findings run). PyTorch's form, which scales the history by the new rate, differs here."""
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    kernel, bias = layer.kernel.numpy().copy(), layer.bias.numpy().copy()
    grads = [(np.full((3, 2), g, "float32"), np.full(2, g, "float32")) for g in (0.5, 0.25, -0.25)]
    # Two steps at lr 0.1, then one at 0.01 (Keras's schedule changes after the boundary step).
    opt = train.CaffeSGD(learning_rate=train.lr_schedule(0.1, [1 / 3], 3), momentum=0.9, coupled_weight_decay=0.0)
    for grad in grads:
        opt.apply(list(grad), [layer.kernel, layer.bias])
    (k1, b1), (k2, b2), (k3, b3) = grads
    history = 0.9 * (0.9 * 0.1 * k1 + 0.1 * k2) + 0.01 * k3
    np.testing.assert_allclose(layer.kernel.numpy(), kernel - 0.1 * k1 - (0.9 * 0.1 * k1 + 0.1 * k2) - history, rtol=1e-6)
    np.testing.assert_allclose(layer.bias.numpy(), bias - 2 * (0.1 * b1 + (0.9 * 0.1 * b1 + 0.1 * b2)
                                                               + 0.9 * (0.9 * 0.1 * b1 + 0.1 * b2) + 0.01 * b3), rtol=1e-6)
