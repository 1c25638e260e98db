"""How alike two networks' layers are: linear CKA (Kornblith et al., ICML 2019) per weight layer.

Linear centred kernel alignment compares two representations of the same n images, feature
matrices X [n, p] and Y [n, q] (a conv layer's activations flattened per image, as Kornblith
et al. do): with the columns centred, CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F), in
[0, 1], 1 for the same representation up to an orthogonal transform and an isotropic scaling.
It is computed through the n x n Gram matrices, so a layer of many features costs n^2 memory,
not p^2. Pure numpy on the outputs of ``model.predict``: any Keras backend.
"""

import keras
import numpy as np

from .models import WEIGHT_LAYERS


def linear_cka(x, y):
    """Linear CKA of two feature matrices with one row per image (same images, same order);
    NaN where one of them is constant over the images (a dead layer)."""
    x, y = _centred(x), _centred(y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"linear_cka needs the same images in both: got {x.shape[0]} rows "
                         f"and {y.shape[0]} rows")
    k, l = x @ x.T, y @ y.T  # Gram matrices; centred features make them centred
    scale = np.sqrt(np.sum(k * k) * np.sum(l * l))
    return float(np.sum(k * l) / scale) if scale > 0 else float("nan")


def _centred(features):
    f = np.asarray(features, dtype=np.float64)
    f = f.reshape(len(f), -1)
    return f - f.mean(axis=0)


def layer_activations(model, images, layers=WEIGHT_LAYERS, batch_size=256):
    """{layer name: activations [images, features]} of ``model`` (inference mode) on ``images``
    (model inputs), each layer's output flattened per image, computed ``batch_size`` at a time."""
    extractor = keras.Model(model.input, [model.get_layer(name).output for name in layers])
    batches = [keras.tree.flatten(extractor(images[i:i + batch_size], training=False))  # eager:
               for i in range(0, len(images), batch_size)]                             # no tracing
    return {name: np.concatenate([keras.ops.convert_to_numpy(b[j]) for b in batches]).reshape(len(images), -1)
            for j, name in enumerate(layers)}


def cka_by_layer(model_a, model_b, images, images_b=None, layers=WEIGHT_LAYERS, batch_size=256):
    """{layer name: linear CKA} between two networks of the same layer names on the same images
    (``layers`` a mapping {unit name: layer name}: {unit name: linear CKA} of those layers):
    ``images`` as ``model_a``'s inputs and ``images_b`` the same images as ``model_b``'s
    (default: the same inputs). One layer at a time, so memory holds one layer's activations of
    both networks (images x features each) and two images x images Gram matrices."""
    images_b = images if images_b is None else images_b
    if len(images) != len(images_b):
        raise ValueError(f"cka_by_layer needs the same images for both networks: got "
                         f"{len(images)} and {len(images_b)}")
    named = dict(layers) if isinstance(layers, dict) else {name: name for name in layers}
    return {unit: linear_cka(layer_activations(model_a, images, (name,), batch_size)[name],
                             layer_activations(model_b, images_b, (name,), batch_size)[name])
            for unit, name in named.items()}
