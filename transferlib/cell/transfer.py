"""The one way to build a copied network: the paper's transfer construction, its surgical and its
pretrained variants.

``transfer_network`` builds a new network of the source's kind whose first n units hold the
source's weights (or, the paper's random treatment, fresh random ones), frozen or fine-tuned;
the units above are initialised afresh, the classifier sized to the target's classes. The source
is a trained base (a Keras model of a network of ``networks``) or a pretrained network named as
``pretrained`` names them, the head then the study's own.

Beyond the paper's n < K, n = K copies every unit, the classifier too, which only a network on
the base's own classes can take: surgical fine-tuning (Lee et al., ICLR 2023), on the base's own
half under a shift (``shifts``), with ``tuned_unit`` k > 0 only unit k learning, else (full
fine-tuning) all of them. A unit that does not learn has every layer's ``trainable`` False: its
weights are no trainable variables (neither updated nor decayed, ``train.CaffeSGD``) and its
BatchNorm runs in inference mode, its moving mean and variance kept (Keras 3), so after training
it is bit-identical to the base's (tests/test_surgical.py).
"""

import keras

from . import networks, pretrained


def transfer_network(source, n, num_classes, *, fine_tuned, seed, random_first=False, tuned_unit=0,
                     network="caffenet", image_size=None, width=1.0, network_units="stages", init=None,
                     bn_update=False, weights="imagenet", source_units=None, source_preprocess=None, cut=False):
    """A new ``Network`` for ``num_classes`` classes whose first n units hold ``source``'s weights
    (random ones with ``random_first``), every layer of them frozen unless ``fine_tuned``; the units
    above are initialised from ``seed`` as a new network of the same kind. ``source`` is

    - a Keras model, a trained base of the network named ``network`` (see ``networks.build``), which
      this one is built as, at ``width``, ``network_units``, ``init`` and ``image_size`` (None: the
      source's); n = K, every unit, the classifier too, needs a base of ``num_classes`` classes, and
      with ``tuned_unit`` k > 0 only unit k learns, else with ``fine_tuned`` all do;
    - or a pretrained source's name (``pretrained``), with its ``weights``, ``source_units`` and
      ``source_preprocess``, at ``image_size``; with ``cut`` the head follows unit n directly (the
      practitioner's recipe).

    Weights are copied per layer by name, BatchNorm's moving mean and variance with them; a frozen
    BatchNorm (``trainable = False``) runs in inference mode and keeps its moving statistics, in
    Keras 3. A pretrained source's fine-tuned units keep their BatchNorm layers frozen too, as
    Keras's transfer-learning guide fine-tunes pretrained weights, unless ``bn_update``. The graph
    is the fresh network's own, so residual connections crossing a unit boundary are kept
    whatever the units. n = 0 gives a fresh network. The paper's treatments on target half B:
    BnB / AnB (frozen), BnB+ / AnB+ (``fine_tuned``), random (``random_first``, frozen). Public
    as ``transferlib.transfer_network``:

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
    named = isinstance(source, str)
    if named:
        net = pretrained.network(source, num_classes, image_size, seed=seed, source_units=source_units,
                                 source_preprocess=source_preprocess, cut=n if cut else None)
    else:
        net = networks.build(network, num_classes, image_size or source.input_shape[1], width=width, seed=seed,
                             network_units=network_units, init=init)
    k = len(net.units)
    if not 0 <= n <= k or (n == k and named):
        head = "is never copied" if named else f"is copied only with every unit, n = {k}, from a base of these classes"
        raise ValueError(f"n must be in 0..{k - 1} ({net.units[-1][0]}, the classifier, {head}), got {n}")
    if tuned_unit and n != k:
        raise ValueError(f"tuned_unit {tuned_unit} needs every unit copied from a base: n = {k}, got n = {n}")
    if n == k:
        if random_first:
            raise ValueError(f"n = {k} copies every unit from a base, not random weights")
        if not 0 <= tuned_unit <= k:
            raise ValueError(f"tuned_unit must be in 0..{k} (0: every unit learns), got {tuned_unit}")
        if source.output_shape[-1] != num_classes:
            raise ValueError(f"n = {k} copies the classifier too, which needs the base's own "
                             f"{source.output_shape[-1]} classes; this network has {num_classes}")
    if named and n and not random_first:
        source = pretrained.backbone(source, image_size, weights, source_units)  # the weights, read once checked
    copy_units(source, net, n, fine_tuned=fine_tuned, random_first=random_first, bn_update=bn_update or not named)
    if tuned_unit:
        for i, (_, members) in enumerate(net.units, 1):
            for name in members:
                net.model.get_layer(name).trainable = i == tuned_unit
    return net


def copy_units(source, net, n, *, fine_tuned, random_first=False, bn_update=True):
    """Copy the layers of ``net``'s first n units from the model ``source``, by name (BatchNorm's
    moving statistics with them; with ``random_first``, none: they keep their fresh weights), and
    make them trainable only if ``fine_tuned``, a BatchNorm layer only if ``bn_update`` too."""
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
