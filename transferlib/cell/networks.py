"""Every network a study can train, with its ordered transfer units (see ``nets.units``).

``build(network, num_classes, image_size, width=, seed=, network_units=)`` gives a ``Network``: the Keras
model and its units, ``((unit name, (layer names, ...)), ...)`` in order, the last one the
classifier. ``network`` is

- a built-in network's name, found in one registry (``architectures.builder``): ``"caffenet"``,
  the paper's network, its units conv1..fc8, one layer each; ``"resnet18"``, ``"resnet50"``,
  He et al.'s ResNets, their units the stem, each stage (``network_units="stages"``) or each
  block (``network_units="blocks"``), and the head. Its units are the ones ``nets.units`` names,
  each the layers named ``<unit>`` or ``<unit>_<rest>``;
- ``"module:function"``: your function, called as ``function(num_classes=, image_size=,
  width=, seed=)`` (it may ignore width and seed), returning a Keras functional model whose
  input is ``(image_size, image_size, 3)`` float images and whose output is the softmax over
  ``num_classes``; or ``(model, units)`` with ``units`` an ordered mapping {unit name: [layer
  names]} or a list of (name, [layer names]). Returning only the model, its units follow the
  prefix convention: a layer named ``<unit>_<rest>`` belongs to unit ``<unit>`` (the name before
  the first "_"), units ordered as their layers first appear; layers without weights and without
  "_" belong to no unit. The last unit must hold the classifier.

Weightless layers outside every unit (CaffeNet's pools and LRN) are rebuilt, never copied. A
unit's representation, for the layer similarity, is the output of its last layer in model order.
"""

import importlib
from dataclasses import dataclass

import keras

from ..nets import units as unit_lists
from .architectures import builder


@dataclass(frozen=True)
class Network:
    model: keras.Model
    units: tuple  # ((unit name, (layer name, ...)), ...), in order; the last is the classifier

    @property
    def names(self):
        return tuple(name for name, _ in self.units)


def build(network, num_classes, image_size=32, *, width=1.0, seed=0, network_units="stages", init=None):
    """The ``Network`` named ``network`` (see the module) for ``num_classes`` classes; ``init`` is the
    CaffeNet's (``architectures.caffenet``). Public as ``transferlib.build_network``:

    >>> from transferlib import build_network
    >>> net = build_network("resnet18", 10, 32, width=0.125)
    >>> net.names
    ('stem', 'stage1', 'stage2', 'stage3', 'stage4', 'head')
    >>> net.model.output_shape
    (None, 10)
    """
    if unit_lists.is_function(network):
        return _user(network, num_classes, image_size, width, seed)
    names = unit_lists.unit_names(network, network_units)
    model = builder(network)(num_classes, image_size, width=width, seed=seed, init=init)
    return Network(model, by_prefix(model, names))


def by_prefix(model, names):
    """Units ``names`` of ``model``: unit u holds the layers named ``u_*`` (or ``u`` itself)."""
    out = []
    for name in names:
        members = tuple(l.name for l in model.layers if l.name == name or l.name.startswith(name + "_"))
        if not members:
            raise ValueError(f"{model.name} has no layer named {name} or {name}_*: unit {name} is empty")
        out.append((name, members))
    return tuple(out)


def prefix_units(model):
    """The prefix convention: unit names are the layer names' parts before the first "_", in
    order of first appearance, of the layers that hold weights."""
    names = []
    for l in model.layers:
        if l.weights and "_" in l.name and l.name.split("_")[0] not in names:
            names.append(l.name.split("_")[0])
    return by_prefix(model, names)


def _user(spec, num_classes, image_size, width, seed):
    module_name, _, function_name = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except ImportError as e:
        raise ValueError(f"model {spec}: cannot import {module_name} ({e}); put it on PYTHONPATH "
                         "or in the working directory") from None
    except AttributeError:
        raise ValueError(f"model {spec}: {module_name} has no function {function_name}") from None
    built = function(num_classes=num_classes, image_size=image_size, width=width, seed=seed)
    model, declared = built if isinstance(built, tuple) else (built, None)
    if not isinstance(model, keras.Model):
        raise ValueError(f"model {spec} returned {type(model).__name__}, not a Keras model (or (model, units))")
    if declared is None:
        units = prefix_units(model)
    else:
        items = list(declared.items()) if isinstance(declared, dict) else list(declared)
        known = {l.name for l in model.layers}
        units = tuple((str(name), tuple(members)) for name, members in items)
        for name, members in units:
            unknown = [m for m in members if m not in known]
            if unknown or not members:
                raise ValueError(f"model {spec}: unit {name} names {'no layer' if not members else 'layers not in the model: ' + ', '.join(unknown)}")
    if len(units) < 2:
        raise ValueError(f"model {spec} has {len(units)} unit(s); a transfer study needs at least 2 "
                         "(name layers <unit>_<rest> or return (model, units))")
    return Network(model, units)


def representation_layers(network):
    """{unit name: the layer whose output stands for the unit}: its last layer in model order."""
    order = {l.name: i for i, l in enumerate(network.model.layers)}
    return {name: max(members, key=order.__getitem__) for name, members in network.units}


def representations_of(keras_model, network="caffenet", network_units="stages", image_size=None, width=1.0):
    """{unit name: layer name} (``representation_layers``) of a saved network named ``network``."""
    if unit_lists.is_function(network):  # its units are known once built
        return representation_layers(build(network, 2, image_size or keras_model.input_shape[1], width=width,
                                           network_units=network_units))
    return representation_layers(Network(keras_model, by_prefix(keras_model, unit_lists.unit_names(network, network_units))))
