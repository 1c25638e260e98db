"""A transfer cell's layer similarity to its base: the fixed image set, each network seeing it as
in its training, and linear CKA unit by unit (``similarity``)."""

import numpy as np

from .. import data as datasets
from . import data, similarity
from .architectures import WEIGHT_LAYERS
from .inputs import data_folder


def similarity_images(dataset, classes, count):
    """The fixed image set of the layer similarities: the first ``count // len(classes)`` (at
    least one) validation images of each of ``classes``, uint8, in ``dataset``'s order."""
    subset = data.select(dataset, classes)
    per_class = max(1, count // len(classes))
    keep = [np.flatnonzero(subset.val_labels == label)[:per_class] for label in range(len(classes))]
    return subset.val_images[np.sort(np.concatenate(keep))]


_ONE_PASS_BYTES = 1 << 30  # activations of every layer of both networks held at once, at most


def layer_similarity(model_a, half_a, model_b, half_b, *, classes, count, dataset, image_size,
                     batch_size=256, data_dir=None, layers=None, val_fraction=None):
    """{layer: linear CKA} of two networks on ``similarity_images(classes, count)``, each seeing
    them as in its training: centre crops standardised with the statistics of the half it was
    trained on (``half_a``, ``half_b``: class ids). ``layers``: {unit: layer name}
    (``networks.representation_layers``; default the CaffeNet's conv1..fc8).

    Each network sees all the images in one call, every unit's activations taken in that pass,
    where they fit in ``_ONE_PASS_BYTES`` (the small studies); otherwise one layer at a time,
    ``batch_size`` images at a time (``similarity.cka_by_layer``)."""
    decoded = datasets.load(dataset, datasets.stored_size(image_size), data_dir=data_folder(data_dir),
                            val_fraction=val_fraction)
    images = similarity_images(decoded, classes, count)

    def inputs(half):
        return data.centre_crops(images, image_size,
                                 *data.normalisation(data.select(decoded, half).train_images, image_size))

    named = dict(layers) if layers else {name: name for name in WEIGHT_LAYERS}
    inputs_a, inputs_b = inputs(half_a), inputs(half_b)
    features = sum(int(np.prod(model.get_layer(name).output.shape[1:]))
                   for model in (model_a, model_b) for name in named.values())
    if 4 * features * len(images) > _ONE_PASS_BYTES:
        return similarity.cka_by_layer(model_a, model_b, inputs_a, inputs_b, layers=named, batch_size=batch_size)
    a = similarity.layer_activations(model_a, inputs_a, tuple(named.values()), batch_size=len(images))
    b = similarity.layer_activations(model_b, inputs_b, tuple(named.values()), batch_size=len(images))
    return {unit: similarity.linear_cka(a[name], b[name]) for unit, name in named.items()}
