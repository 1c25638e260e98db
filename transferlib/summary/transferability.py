"""How well frozen features predict a target task's labels, without training the network: three
estimates, each from features [images, dimensions] and integer labels, and LEEP, from a source
classifier's predictions instead of its features.

- ``logme``: LogME (You, Liu, Wang, Long, ICML 2021, "LogME: Practical Assessment of
  Pre-trained Models for Transfer Learning"): per class, the log marginal likelihood (evidence)
  of its one-vs-rest target y in {0, 1} under Bayesian linear regression on the features,
  y = F w + noise, w ~ N(0, I / alpha), noise ~ N(0, I / beta), maximised over alpha and beta by
  MacKay's fixed-point iteration (their Algorithm 1), or at the limit where the maximum lies
  (features that explain nothing, or that fit every label exactly); averaged over classes and
  divided by the number of images. Higher is better; invariant to a scale of the features.
- ``h_score``: the H-score (Bao, Li, Huang, Zhang, Guibas, Tong, ICIP 2019, "An
  Information-Theoretic Approach to Transferability in Task Transfer Learning"),
  tr(cov(f)^-1 cov(E[f | y])): how much of the features' variance lies between the class means,
  0 to classes - 1. Its covariance of f is shrunk towards a multiple of I by Ledoit and Wolf's
  coefficient (J. Multivariate Anal. 2004), the "shrinkage-based H-score" of Ibrahim,
  Ponomareva and Mazumder (2022, "Newer is not always better: rethinking transferability
  metrics"): with about as many dimensions as images the plain inverse reads noise as signal
  (every feature set of images - 1 dimensions or more scores classes - 1), while with many
  images per dimension the coefficient is near 0 and it is Bao et al.'s. Where the images are
  too few to tell the covariance from a sphere, the coefficient is 1 and the score 0.
- ``linear_probe``: the top-1 of a multinomial logistic regression fitted to the standardised
  features (L2 penalty, L-BFGS), on held-out images.
- ``leep``: LEEP (Nguyen, Hassner, Seeger, Archambeau, ICML 2020, "LEEP: A New Measure to
  Evaluate Transferability of Learned Representations"), from the probabilities theta(x) the
  source's own classifier gives its classes z on each target image x: the target labels' mean
  log-likelihood under the "expected empirical predictor" sum_z P(y | z) theta_z(x), P(y | z)
  the empirical conditional of the target label given the source class. One value per source
  (its classifier), not per layer; at most 0 (reached where each source class is given to one
  target class's images alone), and where the predictions say nothing of the labels (the same
  for every image) the labels' mean log-frequency, -log(classes) for balanced classes. Higher
  transfers better.

No package on PyPI maintains LogME or the H-score (``logme`` there is a logging library; the
authors' code is a repository, not a package), so they are written here in numpy; the probe
uses scipy's L-BFGS, since scikit-learn is not a dependency.
"""

import numpy as np
from scipy import optimize

# The three estimates by their columns in the summary's table (``layer_scores``), and their names.
NAMES = {"probe_top1": "linear probe top-1", "logme": "LogME", "h_score": "H-score"}


def _checked(features, labels, what):
    """(features as float64 [images, dimensions], labels as 0..K-1 ints, K): one clear error for
    input that is not 2-D finite features with one integer label each of 2 classes or more."""
    f = np.asarray(features)
    y = np.asarray(labels)
    if f.ndim != 2 or y.ndim != 1 or len(f) != len(y):
        raise ValueError(f"{what} needs features [images, dimensions] and one label per image: got "
                         f"features of shape {f.shape} and labels of shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{what} needs integer class labels, got {y.dtype}")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{what}: the features hold {np.sum(~np.isfinite(f))} values that are not finite")
    classes, y = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"{what} needs images of 2 classes or more, got {len(classes)}")
    return f.astype(np.float64), y, len(classes)


def logme(features, labels, tolerance=1e-6, iterations=1000):
    """LogME of ``features`` for ``labels`` (see the module): the mean over classes of the
    maximised evidence of the class's one-vs-rest target, per image. The iteration stops when
    alpha / beta changes by less than ``tolerance`` (relative). The log-determinant counts every
    dimension, also those beyond the rank of the features (the authors' code leaves out the
    dimensions - images terms of log alpha where dimensions exceed images).

    >>> import numpy as np
    >>> from transferlib import logme
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1, 2], 50)
    >>> separated = rng.normal(size=(150, 6)) + 3 * np.eye(3, 6)[labels]
    >>> logme(separated, labels) > logme(rng.normal(size=(150, 6)), labels)  # more evidence
    True
    """
    f, y, k = _checked(features, labels, "logme")
    n, d = f.shape
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    sigma = s**2  # eigenvalues of F^T F; the other d - len(sigma) are 0
    x = u.T @ np.eye(k)[y]  # column c: U^T y of class c's target
    return float(np.mean([_evidence(x[:, c] ** 2, np.sum(y == c), sigma, n, d, tolerance, iterations)
                          for c in range(k)]))


def _evidence(x2, y2, sigma, n, d, tolerance, iterations):
    """The maximised evidence per image of one target y, from x2 = (U^T y)^2 (U: F's left
    singular vectors), ||y||^2 and F's squared singular values ``sigma``. With t = alpha / beta:
    m = (t I + F^T F)^-1 F^T y, gamma = sum sigma / (sigma + t), alpha = gamma / ||m||^2,
    beta = (n - gamma) / ||F m - y||^2, iterated from alpha = beta = 1 to a stationary point.

    The maximum can also lie at a limit, where the iteration runs off without converging: alpha
    -> infinity (w = 0: the features explain nothing of y, which is then noise of variance
    ||y||^2 / n; always a candidate, and the value for features all 0), or, where the features
    have rank n (as many dimensions as images or more), beta -> infinity (F w fits y exactly;
    alpha = n / sum x^2 / sigma). The evidence is the largest of those that exist."""
    outside = max(y2 - x2.sum(), 0.0)  # ||y||^2 off the features' span
    candidates = [-n / 2 * (np.log(2 * np.pi * y2 / n) + 1)]  # alpha -> infinity
    if len(sigma) == n and sigma.min() > n * np.finfo(float).eps * sigma.max():  # beta -> infinity
        alpha = n / np.sum(x2 / sigma)
        candidates.append(-0.5 * (np.sum(np.log(2 * np.pi * sigma / alpha)) + n))
    def terms(t):  # gamma, ||m||^2 and ||F m - y||^2 at t = alpha / beta
        return (np.sum(sigma / (sigma + t)), np.sum(sigma * x2 / (sigma + t) ** 2),
                np.sum(x2 * (t / (sigma + t)) ** 2) + outside)

    alpha = beta = 1.0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for _ in range(iterations):
            t = alpha / beta
            gamma, m2, residual = terms(t)
            alpha, beta = gamma / m2, (n - gamma) / residual
            if not (np.isfinite(alpha) and np.isfinite(beta) and alpha > 0 and beta > 0):
                break  # off to a limit
            if abs(alpha / beta - t) <= tolerance * t:  # a stationary point: the paper's evidence there
                _, m2, residual = terms(alpha / beta)
                log_det = np.sum(np.log(alpha + beta * sigma)) + (d - len(sigma)) * np.log(alpha)
                candidates.append(d / 2 * np.log(alpha) + n / 2 * np.log(beta) - 0.5 * log_det
                                  - beta / 2 * residual - alpha / 2 * m2 - n / 2 * np.log(2 * np.pi))
                break
    return max(candidates) / n


def h_score(features, labels):
    """The shrinkage-based H-score of ``features`` for ``labels`` (see the module):
    tr(cov_a(f)^-1 (1 - a) cov(E[f | y])), cov_a(f) = (1 - a) cov(f) + a mu I with mu the mean
    variance and a Ledoit and Wolf's coefficient; covariances with 1 / images.

    >>> import numpy as np
    >>> from transferlib import h_score
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1, 2], 50)
    >>> separated = rng.normal(size=(150, 6)) + 3 * np.eye(3, 6)[labels]
    >>> round(h_score(separated, labels), 2), round(h_score(rng.normal(size=(150, 6)), labels), 2)
    (1.54, 0.01)
    """
    f, y, k = _checked(features, labels, "h_score")
    f = f - f.mean(axis=0)
    n, d = f.shape
    cov = f.T @ f / n
    a = ledoit_wolf_shrinkage(f)
    mu = np.trace(cov) / d
    means = np.stack([f[y == c].mean(axis=0) for c in range(k)])[y]  # E[f | y] of each image
    between = means.T @ means / n
    shrunk = (1 - a) * cov + a * mu * np.eye(d)
    return float(np.sum(np.linalg.pinv(shrunk, hermitian=True) * ((1 - a) * between)))  # tr(AB), both symmetric


def ledoit_wolf_shrinkage(centred):
    """Ledoit and Wolf's (2004) coefficient in [0, 1] for the covariance S = X^T X / n of the
    centred rows X [n, p]: min(1, b^2 / d^2), d^2 = ||S - mu I||^2 / p with mu = tr S / p, and
    b^2 = sum_k ||x_k x_k^T - S||^2 / (n^2 p) (capped at d^2); ||.|| Frobenius. 0 where S is
    already a multiple of I."""
    x = np.asarray(centred, dtype=np.float64)
    n, p = x.shape
    s = x.T @ x / n
    mu = np.trace(s) / p
    d2 = np.sum((s - mu * np.eye(p)) ** 2) / p
    b2 = (np.sum(np.sum(x**2, axis=1) ** 2) / n - np.sum(s**2)) / (n * p)  # sum_k ||x_k||^4 - n ||S||^2, over n^2 p
    return float(min(b2, d2) / d2) if d2 > 0 else 0.0


def standardised(train, *others):
    """``train`` and each of ``others`` with ``train``'s per-dimension mean removed and divided by
    its std (1 where a dimension is constant)."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(f - mean) / std for f in (train, *others)]


def linear_probe(train_features, train_labels, val_features, val_labels, penalty=1.0, iterations=1000):
    """Top-1 on the validation images of a multinomial logistic regression (a softmax over a
    linear map with biases) fitted to the training images' standardised features: the summed
    cross-entropy plus ``penalty`` / 2 ||W||^2 (the weights, not the biases; scikit-learn's
    default, C = 1), minimised by L-BFGS from zero weights, so the fit is deterministic. Labels
    are class ids shared by both sets; a validation class absent from training counts as wrong.

    >>> import numpy as np
    >>> from transferlib import linear_probe
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1, 2], 50)
    >>> features = rng.normal(size=(150, 6)) + 3 * np.eye(3, 6)[labels]
    >>> linear_probe(features[::2], labels[::2], features[1::2], labels[1::2]) > 0.9
    True
    """
    f, y, _ = _checked(train_features, train_labels, "linear_probe")
    v, v_labels = np.asarray(val_features), np.asarray(val_labels)
    if v.ndim != 2 or v.shape[1] != f.shape[1] or len(v) != len(v_labels) or not len(v):
        raise ValueError(f"linear_probe needs validation features [images, {f.shape[1]}] with one label each: "
                         f"got features of shape {v.shape} and labels of shape {v_labels.shape}")
    classes = np.unique(train_labels)
    f, v = standardised(f, v.astype(np.float64))
    n, d = f.shape
    k = len(classes)
    onehot = np.eye(k)[y]

    def loss(params):
        w, b = params[:d * k].reshape(d, k), params[d * k:]
        logits = f @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        error = np.exp(log_p) - onehot
        value = -np.sum(onehot * log_p) + penalty / 2 * np.sum(w**2)
        return value, np.concatenate([(f.T @ error + penalty * w).ravel(), error.sum(axis=0)])

    fitted = optimize.minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                               options={"maxiter": iterations})
    w, b = fitted.x[:d * k].reshape(d, k), fitted.x[d * k:]
    predicted = classes[np.argmax(v @ w + b, axis=1)]
    return float(np.mean(predicted == v_labels))


def leep(probabilities, labels):
    """LEEP of a source classifier's ``probabilities`` [images, source classes] (each row
    summing to 1) on target images with ``labels`` (see the module): P(y, z) = the mean over
    images of theta_z 1[label = y], P(y | z) = P(y, z) / P(z), and LEEP = the mean over images
    of log sum_z P(label | z) theta_z. A source class no image gives weight adds nothing.

    >>> import numpy as np
    >>> from transferlib import leep
    >>> labels = np.array([0, 0, 1, 1])
    >>> leep(np.eye(3)[[2, 2, 0, 0]], labels)  # each target class, one source class: certain
    0.0
    >>> round(leep(np.full((4, 3), 1 / 3), labels), 4)  # the same prediction for all: -log 2
    -0.6931
    """
    theta, y, k = _checked(probabilities, labels, "leep")
    if np.any(theta < 0) or not np.allclose(theta.sum(axis=1), 1, atol=1e-3):
        raise ValueError("leep needs class probabilities: rows of values >= 0 that sum to 1")
    joint = np.eye(k)[y].T @ theta / len(y)  # P(y, z)
    marginal = joint.sum(axis=0)  # P(z)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    return float(np.mean(np.log(np.sum(theta * conditional[y], axis=1))))
