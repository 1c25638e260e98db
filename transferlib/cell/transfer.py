"""The paper's transfer construction: copy the first n weight layers of a base network."""

import keras

from .models import WEIGHT_LAYERS, build


def architecture(model):
    """(image_size, conv filters of conv1..conv5, units of fc6) of a CaffeNet built here."""
    convs = tuple(model.get_layer(name).filters for name in WEIGHT_LAYERS[:5])
    return model.input_shape[1], convs, model.get_layer("fc6").units


def transfer_model(source, n, num_classes, *, fine_tuned, seed, random_first=False, init=None):
    """A new network of ``source``'s architecture for ``num_classes`` classes.

    Weight layers 1..n hold ``source``'s weights (or, with ``random_first``, fresh random
    weights drawn from ``seed``), trainable only if ``fine_tuned``; layers n+1..8 are freshly
    initialised from ``seed`` (``init``: "paper" or "he"; None: the image size's default),
    fc8 sized to ``num_classes``. ``n = 0`` gives a fresh base.
    The paper's treatments on target half B: BnB / AnB (``fine_tuned=False``), BnB+ / AnB+
    (``fine_tuned=True``), random (``random_first=True, fine_tuned=False``).
    """
    if not 0 <= n < len(WEIGHT_LAYERS):
        raise ValueError(f"n must be in 0..{len(WEIGHT_LAYERS) - 1} (fc8 is never copied), got {n}")
    image_size, convs, fc_units = architecture(source)
    model = build(num_classes, image_size, convs, fc_units, seed=seed, init=init)
    for name in WEIGHT_LAYERS[:n]:
        layer = model.get_layer(name)
        if not random_first:
            layer.set_weights(source.get_layer(name).get_weights())
        layer.trainable = fine_tuned
    return model


def transfer_network(source, n, num_classes, *, fine_tuned, seed, random_first=False, network="caffenet",
                     image_size=None, width=1.0, network_units="stages", init=None):
    """``transfer_model`` for any network of ``networks``: a new ``Network`` named ``network`` whose
    first n units hold ``source``'s weights (random ones with ``random_first``), every layer of
    them frozen unless ``fine_tuned``; the units above are initialised from ``seed`` as a new
    network of the same kind. Weights are copied per layer by name, BatchNorm's moving mean and
    variance with them; a frozen BatchNorm (``trainable = False``) runs in inference mode and
    keeps its moving statistics, in Keras 3. The graph is the fresh network's own, so residual
    connections crossing a unit boundary are kept whatever the units. Public as
    ``transferlib.transfer_network``:

    >>> import numpy as np
    >>> from transferlib import build_network, transfer_network
    >>> source = build_network("resnet18", 10, 32, width=0.125, seed=1).model  # e.g. a trained baseA
    >>> copied = transfer_network(source, 2, 5, fine_tuned=False, seed=2, network="resnet18", width=0.125)
    >>> [name for name, _ in copied.units[:2]]  # the units copied: stem and stage1, frozen
    ['stem', 'stage1']
    >>> layer = copied.units[0][1][0]
    >>> np.array_equal(copied.model.get_layer(layer).get_weights()[0], source.get_layer(layer).get_weights()[0])
    True
    >>> copied.model.get_layer(layer).trainable, copied.model.output_shape
    (False, (None, 5))
    """
    from . import networks

    if network == "caffenet":
        built = transfer_model(source, n, num_classes, fine_tuned=fine_tuned, seed=seed, random_first=random_first,
                               init=init)
        return networks.Network(built, tuple((name, (name,)) for name in WEIGHT_LAYERS))
    fresh = networks.build(network, num_classes, image_size or source.input_shape[1], width=width, seed=seed,
                           network_units=network_units)
    if not 0 <= n < len(fresh.units):
        raise ValueError(f"n must be in 0..{len(fresh.units) - 1} ({fresh.units[-1][0]}, the classifier, is "
                         f"never copied), got {n}")
    copy_units(source, fresh, n, fine_tuned=fine_tuned, random_first=random_first)
    return fresh


def copy_units(source, net, n, *, fine_tuned, random_first=False, bn_update=True):
    """Copy the layers of ``net``'s first n units from the model ``source``, by name (BatchNorm's
    moving statistics with them; with ``random_first``, none: they keep their fresh weights), and
    make them trainable only if ``fine_tuned``. ``bn_update`` False keeps the BatchNorm layers of
    fine-tuned units frozen too (inference mode: their moving statistics, gamma and beta stay
    the source's), as Keras's transfer-learning guide fine-tunes pretrained weights."""
    for _, members in net.units[:n]:
        for name in members:
            layer = net.model.get_layer(name)
            if not random_first and layer.weights:
                weights = source.get_layer(name).get_weights()
                mine = [w.shape for w in layer.get_weights()]
                if [w.shape for w in weights] != mine:
                    raise ValueError(f"layer {name}: the base's weights have shapes {[w.shape for w in weights]}, "
                                     f"this network's {mine}: build both with the same network, width and image size")
                layer.set_weights(weights)
            batchnorm = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = fine_tuned and (bn_update or not batchnorm)
