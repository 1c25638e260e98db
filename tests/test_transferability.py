"""transferlib.summary.transferability: LogME, the H-score and the linear probe, against truths
known without the module.

LogME's reference is its definition, not its algorithm: the evidence of a one-vs-rest target y
is the Gaussian density N(y; 0, I / beta + F F^T / alpha) (the weights integrated out), here
maximised over log alpha and log beta by Nelder-Mead with scipy's multivariate normal, not by
the fixed-point iteration the module runs.
"""

import numpy as np
import pytest
from scipy import optimize, stats

from transferlib.summary.transferability import h_score, ledoit_wolf_shrinkage, linear_probe, logme


def evidence_maximised_directly(features, target):
    """max over alpha, beta of log N(target; 0, I / beta + F F^T / alpha), per image."""
    n = len(features)

    def minus_log_density(logs):
        alpha, beta = np.exp(np.clip(logs, -40, 40))  # the maximum may lie at a limit
        cov = np.eye(n) / beta + features @ features.T / alpha
        return -stats.multivariate_normal(np.zeros(n), cov).logpdf(target)

    best = optimize.minimize(minus_log_density, [0.0, 0.0], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    return -best.fun / n


def labelled(rng, images, dimensions, classes, signal):
    """Features whose class means differ by ``signal`` (0: random features) and their labels,
    every class present."""
    labels = rng.permutation(np.arange(images) % classes)
    means = rng.normal(size=(classes, dimensions))
    return rng.normal(size=(images, dimensions)) + signal * means[labels], labels


@pytest.mark.parametrize("images, dimensions, signal", [(40, 5, 1.0), (12, 30, 1.0), (40, 5, 0.0)],
                         ids=["images > dimensions", "dimensions > images", "unrelated features"])
def test_logme_is_the_evidence_maximised_directly_averaged_over_classes(images, dimensions, signal):
    # The fixed point, the limit beta -> infinity (the features fit every target exactly) and
    # alpha -> infinity (features unrelated to the labels: the maximum leaves them out).
    features, labels = labelled(np.random.default_rng(images), images, dimensions, 3, signal)
    features += 2.0 * signal  # LogME has no bias term: an offset is part of the features
    want = np.mean([evidence_maximised_directly(features, (labels == c).astype(float)) for c in range(3)])
    assert logme(features, labels) == pytest.approx(want, rel=1e-8)


def test_logme_of_features_that_are_all_zero_is_the_evidence_of_noise_alone():
    # y ~ N(0, I / beta) at its best beta = n / ||y||^2: -1/2 (log(2 pi ||y||^2 / n) + 1) per image;
    # labels 0, 0, 1, 1: ||y||^2 = 2 for either class, n = 4, so -1/2 (log pi + 1).
    assert logme(np.zeros((4, 3)), np.array([0, 0, 1, 1])) == pytest.approx(-0.5 * (np.log(np.pi) + 1))


def test_scores_rank_features_by_how_much_they_determine_the_labels():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 600)
    means, noise = rng.normal(size=(5, 20)), rng.normal(size=(600, 20))
    random, weak, strong = rng.normal(size=(600, 20)), noise + 0.3 * means[labels], noise + means[labels]
    for score in (logme, h_score):
        assert score(random, labels) < score(weak, labels) < score(strong, labels), score.__name__
    assert logme(strong, labels) > logme(random, labels) + 0.05
    assert h_score(strong, labels) > 2.0 and h_score(random, labels) < 0.2  # of at most 5 - 1


def test_h_score_is_bao_et_als_where_images_far_outnumber_dimensions_and_bounded_by_classes():
    features, labels = labelled(np.random.default_rng(2), 20000, 4, 3, 0.7)
    centred = features - features.mean(axis=0)
    means = np.stack([centred[labels == c].mean(axis=0) for c in range(3)])[labels]
    plain = np.trace(np.linalg.inv(np.cov(centred.T, bias=True)) @ (means.T @ means / len(means)))
    assert ledoit_wolf_shrinkage(centred) < 0.005
    assert h_score(features, labels) == pytest.approx(plain, rel=0.005)
    assert 0 < plain < 3 - 1


def test_h_score_shrinks_where_the_plain_inverse_reads_noise_as_signal():
    rng = np.random.default_rng(3)
    random, labels = rng.normal(size=(100, 150)), rng.integers(0, 4, 100)  # more dimensions than images
    centred = random - random.mean(axis=0)
    means = np.stack([centred[labels == c].mean(axis=0) for c in range(4)])[labels]
    plain = np.trace(np.linalg.pinv(centred.T @ centred / 100) @ (means.T @ means / 100))
    assert plain == pytest.approx(4 - 1)  # every class told apart perfectly: the maximum
    assert h_score(random, labels) < 0.1


def test_ledoit_wolf_shrinkage_is_its_definition():
    x = np.random.default_rng(4).normal(size=(30, 6)) * [1, 1, 2, 3, 0.5, 1]
    x -= x.mean(axis=0)
    n, p = x.shape
    s = x.T @ x / n
    mu = np.trace(s) / p
    d2 = np.linalg.norm(s - mu * np.eye(p)) ** 2 / p
    b2 = sum(np.linalg.norm(np.outer(row, row) - s) ** 2 for row in x) / (n**2 * p)
    assert ledoit_wolf_shrinkage(x) == pytest.approx(min(b2, d2) / d2, rel=1e-12)
    assert ledoit_wolf_shrinkage(np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])) == 0  # S = I / 2


def test_a_linear_probe_separates_linearly_separable_features_and_not_random_ones():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, 400)
    corners = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]]) * 3.0
    features = corners[labels] + rng.uniform(-1, 1, size=(400, 2))  # 4 separable squares
    assert linear_probe(features[:300], labels[:300], features[300:], labels[300:]) == 1.0
    one_side = np.concatenate([rng.uniform(0, 1, 180), rng.uniform(1.5, 2, 20)])[:, None]
    few = np.repeat([0, 1], [180, 20])  # separable by a threshold far from the mean: the biases matter
    assert linear_probe(one_side[::2], few[::2], one_side[1::2], few[1::2]) == 1.0
    noise = rng.normal(size=(400, 10))
    assert linear_probe(noise[:300], labels[:300], noise[300:], labels[300:]) < 0.45  # chance: 0.25


def test_scores_ignore_how_classes_are_numbered_and_features_scaled_or_rotated():
    features, labels = labelled(np.random.default_rng(6), 300, 8, 4, 0.8)
    renamed = np.array([7, 3, 11, 5])[labels]
    rotation, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(8, 8)))
    assert logme(features * 1e-3, renamed) == pytest.approx(logme(features, labels), rel=1e-6)
    assert h_score(features @ rotation * 50, renamed) == pytest.approx(h_score(features, labels), rel=1e-9)
    stretched = features * np.arange(1, 9) + 100  # each dimension its own scale and offset
    probe = linear_probe(features[:200], labels[:200], features[200:], labels[200:])
    assert linear_probe(stretched[:200], renamed[:200], stretched[200:], renamed[200:]) == probe


@pytest.mark.parametrize("score", [logme, h_score, lambda f, y: linear_probe(f, y, f, y)],
                         ids=["logme", "h_score", "linear_probe"])
def test_bad_input_is_one_clear_error(score):
    features, labels = np.ones((6, 2)), np.array([0, 1, 0, 1, 0, 1])
    for bad_f, bad_y, said in [(features[:, 0], labels, "features \\[images, dimensions\\]"),
                               (features, labels[:5], "one label per image"),
                               (features, labels.astype(float), "integer class labels"),
                               (np.where(features > 0, np.nan, 0), labels, "not finite"),
                               (features, np.zeros(6, int), "2 classes or more")]:
        with pytest.raises(ValueError, match=said):
            score(bad_f, bad_y)
