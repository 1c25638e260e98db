"""transferlib.similarity: linear CKA and its use on networks' layers."""

import numpy as np
import pytest

from transferlib.cell import models, similarity


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 20))
    return x, x @ rng.normal(size=(20, 15)) + rng.normal(size=(60, 15))  # y: related to x


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
    a = models.caffenet(5, image_size=32, width=0.125, seed=0)
    b = models.caffenet(5, image_size=32, width=0.125, seed=1)
    images = np.random.default_rng(0).normal(size=(40, 32, 32, 3)).astype("float32")
    return a, b, images


def test_layer_activations_are_flattened_per_image(networks):
    a, _, images = networks
    acts = similarity.layer_activations(a, images, ("conv1", "fc8"), batch_size=16)
    conv1 = a.get_layer("conv1").output.shape
    assert acts["conv1"].shape == (40, conv1[1] * conv1[2] * conv1[3])
    assert acts["fc8"].shape == (40, 5)
    np.testing.assert_allclose(acts["fc8"], a.predict(images, verbose=0), rtol=1e-5, atol=1e-6)


def test_cka_by_layer_of_a_network_with_itself_is_one(networks):
    a, b, images = networks
    same = similarity.cka_by_layer(a, a, images, batch_size=16)
    assert list(same) == list(models.WEIGHT_LAYERS)
    assert all(v == pytest.approx(1, abs=1e-6) for v in same.values())
    other = similarity.cka_by_layer(a, b, images, batch_size=16)
    assert all(0 <= v < 0.999 for v in other.values())
    with pytest.raises(ValueError, match="same images"):
        similarity.cka_by_layer(a, b, images, images[:10])
