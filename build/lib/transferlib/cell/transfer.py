"""The paper's transfer construction: copy the first n weight layers of a base network."""

from .models import WEIGHT_LAYERS, build


def architecture(model):
    """(image_size, conv filters of conv1..conv5, units of fc6) of a CaffeNet built here."""
    convs = tuple(model.get_layer(name).filters for name in WEIGHT_LAYERS[:5])
    return model.input_shape[1], convs, model.get_layer("fc6").units


def transfer_model(source, n, num_classes, *, fine_tune, seed, random_first=False, init=None):
    """A new network of ``source``'s architecture for ``num_classes`` classes.

    Weight layers 1..n hold ``source``'s weights (or, with ``random_first``, fresh random
    weights drawn from ``seed``), trainable only if ``fine_tune``; layers n+1..8 are freshly
    initialised from ``seed`` (``init``: "paper" or "he"; None: the image size's default),
    fc8 sized to ``num_classes``. ``n = 0`` gives a fresh base.
    The paper's treatments on target half B: BnB / AnB (``fine_tune=False``), BnB+ / AnB+
    (``fine_tune=True``), random (``random_first=True, fine_tune=False``).
    """
    if not 0 <= n < len(WEIGHT_LAYERS):
        raise ValueError(f"n must be in 0..{len(WEIGHT_LAYERS) - 1} (fc8 is never copied), got {n}")
    image_size, convs, fc_units = architecture(source)
    model = build(num_classes, image_size, convs, fc_units, seed=seed, init=init)
    for name in WEIGHT_LAYERS[:n]:
        layer = model.get_layer(name)
        if not random_first:
            layer.set_weights(source.get_layer(name).get_weights())
        layer.trainable = fine_tune
    return model
