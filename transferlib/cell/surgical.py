"""Surgical fine-tuning (Lee et al., ICLR 2023): every unit of a base copied, the classifier too,
and only one unit learning, on the base's own half under a shift (``cell.shifts``).

``transfer_network`` is ``transfer.transfer_network`` (the paper's copies of the first n < K
units) and beyond it n = K, which only a network on the base's own classes can take: every unit
holds the base's weights, BatchNorm's moving statistics with them; with ``tuned_unit`` k > 0 only
unit k learns, else (full fine-tuning) all do. A unit that does not learn has every layer's
``trainable`` False: its weights are no trainable variables (neither updated nor decayed,
``train.CaffeSGD``) and its BatchNorm runs in inference mode, its moving mean and variance kept
(Keras 3), so after training it is bit-identical to the base's (tests/test_surgical.py).
"""

from . import networks, transfer
from .models import WEIGHT_LAYERS
from ..nets import units


def unit_count(network, network_units="stages", **build):
    """K, the number of transfer units of ``network`` (a user's function: built once to learn it)."""
    if network == units.CAFFENET:
        return len(WEIGHT_LAYERS)
    if not units.is_function(network):
        return len(units.unit_names(network, network_units))
    return len(networks.build(network, network_units=network_units, **build).units)


def transfer_network(source, n, num_classes, *, fine_tuned, seed, tuned_unit=0, random_first=False,
                     network="caffenet", image_size=None, width=1.0, network_units="stages", init=None):
    """The network of a transfer cell: ``transfer.transfer_network`` for n < K; for n = K every unit
    copied from ``source`` (which must have ``num_classes`` classes), only unit ``tuned_unit``
    learning (0: every unit, with ``fine_tuned``)."""
    shape = dict(network=network, image_size=image_size, width=width, network_units=network_units, init=init)
    k = unit_count(network, network_units, num_classes=num_classes, image_size=image_size or source.input_shape[1],
                   width=width, seed=seed)
    if n < k and not tuned_unit:
        return transfer.transfer_network(source, n, num_classes, fine_tuned=fine_tuned, seed=seed,
                                         random_first=random_first, **shape)
    if n != k or random_first:
        raise ValueError(f"tuned_unit {tuned_unit} needs every unit copied from a base: n = {k}, got n = {n}"
                         + (" and random weights" if random_first else ""))
    if not 0 <= tuned_unit <= k:
        raise ValueError(f"tuned_unit must be in 0..{k} (0: every unit learns), got {tuned_unit}")
    if source.output_shape[-1] != num_classes:
        raise ValueError(f"n = {k} copies the classifier too, which needs the base's own {source.output_shape[-1]} "
                         f"classes; this network has {num_classes}")
    net = transfer.transfer_network(source, k - 1, num_classes, fine_tuned=True, seed=seed, **shape)
    for name in net.units[-1][1]:
        layer = net.model.get_layer(name)
        if layer.weights:
            layer.set_weights(source.get_layer(name).get_weights())
    for i, (_, members) in enumerate(net.units, 1):
        for name in members:
            net.model.get_layer(name).trainable = (fine_tuned and not tuned_unit) or i == tuned_unit
    return net
