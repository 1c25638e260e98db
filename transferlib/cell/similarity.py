"""How alike two networks' layers are: linear CKA (Kornblith et al., ICML 2019) per weight layer.

Linear centred kernel alignment compares two representations of the same n images, feature
matrices X [n, p] and Y [n, q] (a conv layer's activations flattened per image, as Kornblith
et al. do), through their Gram matrices K = X X^T and L = Y Y^T:
CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), 1 for the same representation up to an
orthogonal transform and an isotropic scaling. HSIC is estimated by default without bias
(Song et al., JMLR 2012; for CKA: Nguyen, Raghu and Kornblith, ICLR 2021): the biased
estimator, tr(K H L H) / (n - 1)^2 with H = I - 11^T / n, grows with the number of features
against the number of images and rates wide layers alike even when they are unrelated. The
unbiased CKA can be slightly negative for unrelated features. Costs n^2 memory, not p^2. Pure
numpy on the outputs of ``model.predict``: any Keras backend.
"""

import keras
import numpy as np

from .architectures import WEIGHT_LAYERS


def linear_cka(x, y, unbiased=True):
    """Linear CKA of two feature matrices with one row per image (same images, same order),
    HSIC estimated without bias (``unbiased``, needs 4 images or more) or with; NaN where one
    of them is constant over the images (a dead layer).

    >>> import numpy as np
    >>> from transferlib import linear_cka
    >>> x = np.random.default_rng(0).normal(size=(100, 8))
    >>> rotation = np.linalg.qr(np.random.default_rng(1).normal(size=(8, 8)))[0]
    >>> round(linear_cka(x, 3 * x @ rotation), 6)  # a rotation and a scale: the same
    1.0
    >>> abs(linear_cka(x, np.random.default_rng(2).normal(size=(100, 8)))) < 0.05  # unrelated
    True
    """
    k, l = _gram(x, "linear_cka", unbiased), _gram(y, "linear_cka", unbiased)
    if len(k) != len(l):
        raise ValueError(f"linear_cka needs the same images in both: got {len(k)} rows and {len(l)} rows")
    return _cka(k, l, unbiased)


def _gram(features, what, unbiased):
    """The Gram matrix of centred ``features`` (one row per image): centred itself."""
    f = _centred(features)
    if unbiased and len(f) < 4:
        raise ValueError(f"{what}: the unbiased estimator needs 4 images or more, got {len(f)}")
    return f @ f.T


def _cka(k, l, unbiased):
    hsic = _hsic_unbiased if unbiased else _hsic_biased
    kk, ll = hsic(k, k), hsic(l, l)
    return float(hsic(k, l) / np.sqrt(kk * ll)) if kk > 0 and ll > 0 else float("nan")


def _hsic_biased(k, l):
    """tr(K H L H), up to the factor 1 / (n - 1)^2 that CKA cancels; K, L already centred."""
    return np.sum(k * l)


def _hsic_unbiased(k, l):
    """Song et al.'s unbiased HSIC, times n (n - 3) (CKA cancels it): with the diagonals of K
    and L set to 0, tr(KL) + 1^T K 1 1^T L 1 / ((n - 1)(n - 2)) - 2 / (n - 2) 1^T K L 1."""
    n = len(k)
    k, l = k - np.diag(np.diag(k)), l - np.diag(np.diag(l))
    return (np.sum(k * l) + k.sum() * l.sum() / ((n - 1) * (n - 2))
            - 2 / (n - 2) * k.sum(axis=0) @ l.sum(axis=0))


def _centred(features):
    f = np.asarray(features, dtype=np.float64)
    f = f.reshape(len(f), -1)
    return f - f.mean(axis=0)


def layer_activations(model, images, layers=WEIGHT_LAYERS, batch_size=256, pooled=False):
    """{layer name: activations [images, features]} of ``model`` (inference mode) on ``images``
    (model inputs), each layer's output flattened per image, or with ``pooled`` a convolutional
    map averaged over its positions (global average pooling: one value per channel), computed
    ``batch_size`` at a time."""
    def kept(output):
        a = keras.ops.convert_to_numpy(output)
        return a.mean(axis=tuple(range(1, a.ndim - 1))) if pooled else a.reshape(len(a), -1)

    extractor = keras.Model(model.input, [model.get_layer(name).output for name in layers])
    batches = [[kept(a) for a in keras.tree.flatten(extractor(images[i:i + batch_size], training=False))]  # eager:
               for i in range(0, len(images), batch_size)]                                                # no tracing
    return {name: np.concatenate([b[j] for b in batches]) for j, name in enumerate(layers)}


def cka_by_layer(model_a, model_b, images, images_b=None, layers=WEIGHT_LAYERS, batch_size=256,
                 unbiased=True):
    """{layer name: linear CKA (``linear_cka``, ``unbiased`` or not)} between two networks of
    the same layer names on the same images (``layers`` a mapping {unit name: layer name}:
    {unit name: linear CKA} of those layers): ``images`` as ``model_a``'s inputs and
    ``images_b`` the same images as ``model_b``'s
    (default: the same inputs). One layer at a time, so memory holds one layer's activations of
    both networks (images x features each) and two images x images Gram matrices."""
    images_b = images if images_b is None else images_b
    if len(images) != len(images_b):
        raise ValueError(f"cka_by_layer needs the same images for both networks: got "
                         f"{len(images)} and {len(images_b)}")
    named = dict(layers) if isinstance(layers, dict) else {name: name for name in layers}
    return {unit: linear_cka(layer_activations(model_a, images, (name,), batch_size)[name],
                             layer_activations(model_b, images_b, (name,), batch_size)[name],
                             unbiased)
            for unit, name in named.items()}


def cka_matrix(model_a, model_b, images, *, layers_a=None, layers_b=None, images_b=None, unbiased=True,
               batch_size=256):
    """Linear CKA (``linear_cka``) of every layer of ``model_a`` against every layer of
    ``model_b``, any two Keras models, on the same images (``images`` as ``model_a``'s inputs,
    ``images_b`` as ``model_b``'s; default the same): a DataFrame, a row per layer of
    ``layers_a``, a column per layer of ``layers_b`` (default: each model's layers with weights,
    BatchNorm left out, in order). Holds one images x images Gram matrix per layer.

    >>> import keras, numpy as np
    >>> from transferlib import cka_matrix
    >>> inputs = keras.Input((8, 8, 3))
    >>> hidden = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(5, name="dense")(keras.layers.Flatten()(hidden)))
    >>> images = np.random.default_rng(0).normal(size=(32, 8, 8, 3)).astype("float32")
    >>> matrix = cka_matrix(model, model, images)  # a model against itself: 1 on the diagonal
    >>> matrix.index.tolist(), matrix.columns.tolist()
    (['conv', 'dense'], ['conv', 'dense'])
    >>> [round(float(matrix.loc[name, name]), 6) for name in matrix.index]
    [1.0, 1.0]
    """
    import pandas as pd

    images_b = images if images_b is None else images_b
    if len(images) != len(images_b):
        raise ValueError(f"cka_matrix needs the same images for both models: got {len(images)} and {len(images_b)}")
    grams = []
    for model, given, inputs in ((model_a, layers_a, images), (model_b, layers_b, images_b)):
        names = list(given or weight_layers(model))
        grams.append({name: _gram(layer_activations(model, inputs, (name,), batch_size)[name], "cka_matrix", unbiased)
                      for name in names})
    matrix = pd.DataFrame([[_cka(k, l, unbiased) for l in grams[1].values()] for k in grams[0].values()],
                          index=pd.Index(list(grams[0]), name="model_a"),
                          columns=pd.Index(list(grams[1]), name="model_b"))
    return matrix


def weight_layers(model):
    """The names of ``model``'s layers that hold weights, BatchNorm left out, in order."""
    return [layer.name for layer in model.layers
            if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
