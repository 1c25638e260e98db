"""Every network a study can train, with its ordered transfer units (see ``units``).

``build(network, num_classes, image_size, width=, seed=, network_units=)`` gives a ``Network``: the Keras
model and its units, ``((unit name, (layer names, ...)), ...)`` in order, the last one the
classifier. ``model`` is

- ``"caffenet"``: the paper's network (``models.caffenet``); units conv1..fc8, one layer each;
- ``"resnet18"``, ``"resnet50"``: He et al.'s ResNets written with Keras layers (basic blocks
  2-2-2-2; bottleneck blocks 3-4-6-3), BatchNorm after every convolution, filters 64-128-256-512
  times ``width`` (rounded to a multiple of 8). Below 128 px the stem is one 3x3 stride-1
  convolution (the CIFAR stem), from 128 px ImageNet's 7x7 stride-2 convolution and 3x3 max-pool.
  Layer names carry their unit: ``stem_*``, ``stage<s>_block<b>_*``, ``head_*``; units are the
  stem, each stage (``network_units="stages"``) or each block (``network_units="blocks"``), and the head;
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
from keras import layers

from ..nets import units as unit_lists
from .models import caffenet, layer_seed, scaled


@dataclass(frozen=True)
class Network:
    model: keras.Model
    units: tuple  # ((unit name, (layer name, ...)), ...), in order; the last is the classifier

    @property
    def names(self):
        return tuple(name for name, _ in self.units)


def build(network, num_classes, image_size=32, *, width=1.0, seed=0, network_units="stages", init=None):
    """The ``Network`` named ``network`` (see the module) for ``num_classes`` classes; ``init`` is the
    CaffeNet's (``models.caffenet``). Public as ``transferlib.build_network``:

    >>> from transferlib import build_network
    >>> net = build_network("resnet18", 10, 32, width=0.125)
    >>> net.names
    ('stem', 'stage1', 'stage2', 'stage3', 'stage4', 'head')
    >>> net.model.output_shape
    (None, 10)
    """
    if network == unit_lists.CAFFENET:
        net = caffenet(num_classes, image_size, width, seed=seed, init=init)
        return Network(net, tuple((n, (n,)) for n in unit_lists.CAFFENET_UNITS))
    if network in unit_lists.RESNET_BLOCKS:
        if network_units not in unit_lists.UNIT_CHOICES:
            raise ValueError(f"network_units must be one of {unit_lists.UNIT_CHOICES}, got {network_units!r}")
        net = resnet(network, num_classes, image_size, width=width, seed=seed)
        return Network(net, by_prefix(net, unit_lists.unit_names(network, network_units)))
    if unit_lists.is_function(network):
        return _user(network, num_classes, image_size, width, seed)
    raise ValueError(f"network must be one of {', '.join(unit_lists.MODELS)} or module:function, got {network!r}")


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


def first_conv(model):
    """The first convolution on the RGB input (conv1 of the CaffeNet, stem_conv of a ResNet),
    or None where there is none."""
    for l in model.layers:
        kernel = getattr(l, "kernel", None)
        if kernel is not None and len(kernel.shape) == 4 and kernel.shape[2] == 3:
            return l
    return None


# ResNets, written with Keras layers.

_STAGE_FILTERS = (64, 128, 256, 512)


def resnet(model, num_classes, image_size=32, *, width=1.0, seed=0):
    """ResNet-18 (basic blocks) or ResNet-50 (bottlenecks), named by unit (see the module)."""
    if model not in unit_lists.RESNET_BLOCKS:
        raise ValueError(f"model must be one of {', '.join(unit_lists.RESNET_BLOCKS)}, got {model!r}")
    bottleneck = model == "resnet50"

    def conv(x, name, filters, kernel, strides=1):
        return layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name,
                             kernel_initializer=keras.initializers.HeNormal(seed=layer_seed(seed, name)))(x)

    def bn(x, name, zero=False):
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name,
                                         gamma_initializer="zeros" if zero else "ones")(x)

    def block(x, name, filters, strides):
        out = filters * (4 if bottleneck else 1)
        shortcut = x
        if strides != 1 or x.shape[-1] != out:
            shortcut = bn(conv(x, f"{name}_shortcut_conv", out, 1, strides), f"{name}_shortcut_bn")
        if bottleneck:
            y = layers.ReLU(name=f"{name}_relu1")(bn(conv(x, f"{name}_conv1", filters, 1), f"{name}_bn1"))
            y = layers.ReLU(name=f"{name}_relu2")(bn(conv(y, f"{name}_conv2", filters, 3, strides), f"{name}_bn2"))
            y = bn(conv(y, f"{name}_conv3", out, 1), f"{name}_bn3", zero=True)
        else:
            y = layers.ReLU(name=f"{name}_relu1")(bn(conv(x, f"{name}_conv1", filters, 3, strides), f"{name}_bn1"))
            y = bn(conv(y, f"{name}_conv2", filters, 3), f"{name}_bn2", zero=True)
        return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([shortcut, y]))

    inputs = keras.Input((image_size, image_size, 3), name="image")
    stem = _STAGE_FILTERS[0]
    if image_size >= 128:
        x = layers.ReLU(name="stem_relu")(bn(conv(inputs, "stem_conv", scaled(stem, width), 7, 2), "stem_bn"))
        x = layers.MaxPooling2D(3, 2, padding="same", name="stem_pool")(x)
    else:
        x = layers.ReLU(name="stem_relu")(bn(conv(inputs, "stem_conv", scaled(stem, width), 3), "stem_bn"))
    for s, (count, filters) in enumerate(zip(unit_lists.RESNET_BLOCKS[model], _STAGE_FILTERS), 1):
        for b in range(1, count + 1):
            x = block(x, f"stage{s}_block{b}", scaled(filters, width), 2 if b == 1 and s > 1 else 1)
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="head_fc",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=0.01, seed=layer_seed(seed, "head_fc")))(x)
    return keras.Model(inputs, outputs, name=f"{model}_{image_size}")


def representations_of(keras_model, network="caffenet", network_units="stages", image_size=None, width=1.0):
    """{unit name: layer name} (``representation_layers``) of a saved network named ``network``."""
    if network == unit_lists.CAFFENET:
        return {name: name for name in unit_lists.CAFFENET_UNITS}
    if network in unit_lists.RESNET_BLOCKS:
        return representation_layers(Network(keras_model, by_prefix(keras_model, unit_lists.unit_names(network, network_units))))
    return representation_layers(build(network, 2, image_size or keras_model.input_shape[1], width=width, network_units=network_units))
