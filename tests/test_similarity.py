"""transferlib.cell.similarity: linear CKA and its use on networks' layers.

The reference CKA here is written independently of the module: HSIC with an explicit centring
matrix H = I - 11^T / n (biased) and Song et al.'s unbiased HSIC as its U-statistic, the mean
over every 4 distinct images of the kernel's symmetrised core (JMLR 2012, eq. 4), not the
closed form the module uses.
"""

import itertools
import math

import numpy as np
import pytest

from transferlib.cell import architectures, similarity


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 20))
    return x, x @ rng.normal(size=(20, 15)) + rng.normal(size=(60, 15))  # y: related to x


def _reference_hsic(k, l, unbiased):
    n = len(k)
    if not unbiased:
        h = np.eye(n) - np.ones((n, n)) / n
        return np.trace(k @ h @ l @ h) / (n - 1) ** 2
    total = 0.0
    for i, j, q, r in itertools.permutations(range(n), 4):
        total += k[i, j] * l[i, j] + k[i, j] * l[q, r] - 2 * k[i, j] * l[i, q]
    return total / math.perm(n, 4)


def reference_cka(x, y, unbiased):
    x, y = np.reshape(x, (len(x), -1)), np.reshape(y, (len(y), -1))
    k, l = x @ x.T, y @ y.T  # uncentred features: H (or the U-statistic) does the centring
    return _reference_hsic(k, l, unbiased) / math.sqrt(
        _reference_hsic(k, k, unbiased) * _reference_hsic(l, l, unbiased))


@pytest.mark.parametrize("unbiased", [True, False])
def test_cka_equals_the_reference_on_small_matrices(unbiased):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 3)) + 5  # offset: centring matters
    y = x[:, :2] @ rng.normal(size=(2, 4)) + rng.normal(size=(7, 4)) - 2
    assert similarity.linear_cka(x, y, unbiased) == pytest.approx(reference_cka(x, y, unbiased),
                                                                  rel=1e-10)
    other = similarity.linear_cka(x, y, not unbiased)
    assert abs(other - reference_cka(x, y, unbiased)) > 1e-3  # the two estimators differ


def test_cka_by_hand_one_feature():
    # One feature each: biased linear CKA is the squared Pearson correlation. x = 0,1,2,3 and
    # y = 0,1,2,4 centre to (-1.5,-.5,.5,1.5) and (-1.75,-.75,.25,2.25): covariance sum 6.5,
    # squares 5 and 8.75, so CKA = 6.5^2 / (5 x 8.75) = 169/175.
    x, y = [[0.], [1.], [2.], [3.]], [[0.], [1.], [2.], [4.]]
    assert similarity.linear_cka(x, y, unbiased=False) == pytest.approx(169 / 175, rel=1e-12)
    assert reference_cka(x, y, unbiased=False) == pytest.approx(169 / 175, rel=1e-12)


def test_centred_and_uncentred_cka_differ():
    # y = 5 - x: centred, y = -x, the same representation (CKA 1, either estimator). Uncentred,
    # ||y^T x||^2 / (||x^T x|| ||y^T y||) = (4+6+6+4)^2 / (30 x 30) = 4/9.
    x, y = np.array([[1.], [2.], [3.], [4.]]), np.array([[4.], [3.], [2.], [1.]])
    uncentred = np.sum((y.T @ x) ** 2) / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))
    assert uncentred == pytest.approx(4 / 9)
    for unbiased in (True, False):
        assert similarity.linear_cka(x, y, unbiased) == pytest.approx(1, abs=1e-12)
        assert reference_cka(x, y, unbiased) == pytest.approx(1, abs=1e-12)


def test_unbiased_cka_does_not_rate_wide_unrelated_layers_alike():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(60, 2000)), rng.normal(size=(60, 2000))  # unrelated, many features
    assert similarity.linear_cka(x, y, unbiased=False) > 0.9  # the biased estimator's inflation
    assert abs(similarity.linear_cka(x, y)) < 0.1
    with pytest.raises(ValueError, match="4 images or more"):
        similarity.linear_cka(x[:3], y[:3])


def test_cka_of_a_representation_with_itself_is_one(features):
    x, y = features
    assert similarity.linear_cka(x, x) == pytest.approx(1, abs=1e-12)
    assert similarity.linear_cka(y, y) == pytest.approx(1, abs=1e-12)


def test_cka_is_invariant_to_orthogonal_transforms_and_isotropic_scaling(features):
    x, y = features
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(15, 15)))
    reference = similarity.linear_cka(x, y)
    assert 0 < reference < 1
    assert similarity.linear_cka(x, y @ q) == pytest.approx(reference, rel=1e-10)
    assert similarity.linear_cka(x * 7.5, y @ q * 0.01) == pytest.approx(reference, rel=1e-10)
    assert similarity.linear_cka(y, x) == pytest.approx(reference, rel=1e-10)


def test_cka_tells_related_from_unrelated_features(features):
    x, y = features
    unrelated = np.random.default_rng(2).normal(size=y.shape)
    assert similarity.linear_cka(x, unrelated) < similarity.linear_cka(x, y) / 2


def test_cka_needs_the_same_images_and_flags_a_dead_layer(features):
    x, y = features
    with pytest.raises(ValueError, match="same images.*60 rows and 59 rows"):
        similarity.linear_cka(x, y[:59])
    assert np.isnan(similarity.linear_cka(x, np.zeros((60, 4, 4, 3))))


@pytest.fixture(scope="module")
def networks():
    a = architectures.caffenet(5, image_size=32, width=0.125, seed=0)
    b = architectures.caffenet(5, image_size=32, width=0.125, seed=1)
    images = np.random.default_rng(0).normal(size=(40, 32, 32, 3)).astype("float32")
    return a, b, images


def test_layer_activations_are_flattened_per_image(networks):
    a, _, images = networks
    acts = similarity.layer_activations(a, images, ("conv1", "fc8"), batch_size=16)
    conv1 = a.get_layer("conv1").output.shape
    assert acts["conv1"].shape == (40, conv1[1] * conv1[2] * conv1[3])
    assert acts["fc8"].shape == (40, 5)
    np.testing.assert_allclose(acts["fc8"], a.predict(images, verbose=0), rtol=1e-5, atol=1e-6)


def test_pooled_activations_average_each_channel_over_its_positions(networks):
    a, _, images = networks
    flat = similarity.layer_activations(a, images, ("conv2", "fc6"), batch_size=16)
    pooled = similarity.layer_activations(a, images, ("conv2", "fc6"), batch_size=16, pooled=True)
    conv2 = a.get_layer("conv2").output.shape[1:]
    np.testing.assert_allclose(pooled["conv2"], flat["conv2"].reshape(40, *conv2).mean(axis=(1, 2)),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(pooled["fc6"], flat["fc6"])  # a dense layer's output as it is


def test_cka_by_layer_of_a_network_with_itself_is_one(networks):
    a, b, images = networks
    same = similarity.cka_by_layer(a, a, images, batch_size=16)
    assert list(same) == list(architectures.WEIGHT_LAYERS)
    assert all(v == pytest.approx(1, abs=1e-6) for v in same.values())
    other = similarity.cka_by_layer(a, b, images, batch_size=16)
    assert all(0 <= v < 0.999 for v in other.values())
    with pytest.raises(ValueError, match="same images"):
        similarity.cka_by_layer(a, b, images, images[:10])
