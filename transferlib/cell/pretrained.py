"""A pretrained network as the source of a transfer: its backbone, its units, its preprocessing.

A source is named by one string:

- a saved ``.keras`` file path;
- ``keras.applications.<Name>`` (``keras.applications.ResNet50``), built without its top at the
  study's image size, its weights ``"imagenet"`` (Keras's cache) or a local weights file;
- ``keras_hub:<preset>``, a KerasHub backbone (needs ``pip install keras-hub``);
- ``module:function``, called as ``function(image_size=)``, returning a built Keras model with
  its weights.

Its units are runs of layers in model order named by the stage their names say: the leading
letters and digits of a name (``conv2`` of ``conv2_block1_1_conv``, ``block3`` of
``block3_conv1``, ``block_5`` of ``block_5_expand``, ``block2a`` of ``block2a_dwconv``). A layer
holding weights starts a new unit where its stage is new; every other layer joins its stage's
unit, or the latest one (layers before the first join it). Where names say nothing,
``source_units`` lists the layer that ends each unit (layers after the last form one more).
A model nested as a layer (a backbone inside a model) is refused: give the backbone itself.

``network`` adds the head the study trains (global average pooling and a softmax classifier,
the unit ``head``), so the source's units are 1..K-1 of the network's K, as any network's are.
``transfer_network`` copies the first n from the pretrained source (``transfer.copy_units``);
a fine-tuned copy keeps its BatchNorm layers frozen (inference mode: moving statistics, gamma
and beta stay the source's) unless ``bn_update``. Images reach the network as float 0..255 RGB
at the study's image size, through ``preprocess`` (the family's ``preprocess_input`` for Keras
Applications).
"""

import importlib
import inspect
import re
from pathlib import Path

import keras
from keras import layers

from .models import layer_seed
from .networks import Network
from .transfer import copy_units

APPLICATIONS = "keras.applications."
HUB = "keras_hub:"
_FUNCTION = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_STAGE = re.compile(r"[A-Za-z]+_?\d+[a-z]?(?=_|$)")  # conv2, block3, block_5, block2a


def source_kind(source):
    """"keras", "application", "hub" or "function": which of the module's four ``source`` names."""
    if source.endswith(".keras"):
        return "keras"
    if source.startswith(APPLICATIONS):
        return "application"
    if source.startswith(HUB):
        return "hub"
    if _FUNCTION.fullmatch(source):
        return "function"
    raise ValueError(f"source {source!r}: expected a .keras file, keras.applications.<Name>, "
                     "keras_hub:<preset> or module:function")


def backbone(source, image_size, weights="imagenet"):
    """The source's model at ``image_size`` px. ``weights``: for an application, "imagenet" or a
    weights file, None for fresh ones; for the other kinds, None gives the same architecture
    freshly initialised (``keras.models.clone_model``)."""
    how = source_kind(source)
    if how == "application":
        model = _application(source, image_size, weights)
    elif how == "hub":
        model = _hub(source[len(HUB):], weights is not None)
    else:
        model = _loaded(source, how, image_size)
        if weights is None:
            model = keras.models.clone_model(model)
    _check_input(source, model, image_size)
    nested = [l.name for l in model.layers if isinstance(l, keras.Model)]
    if nested:
        raise ValueError(f"source {source}: the model nests {', '.join(nested)} as a layer; give that "
                         "model itself (saved alone, or returned by a module:function)")
    return model


def _application(source, image_size, weights):
    name = source[len(APPLICATIONS):]
    constructor = getattr(keras.applications, name, None)
    if not callable(constructor):
        known = sorted(k for k, v in vars(keras.applications).items() if callable(v) and k[0].isupper())
        raise ValueError(f"source {source}: keras.applications has no network {name!r}; it has "
                         f"{', '.join(known)}")
    if weights not in (None, "imagenet") and not Path(weights).is_file():
        raise ValueError(f"source_weights: {weights} is not a file (give a weights file or imagenet)")
    try:
        return constructor(weights=weights, include_top=False, input_shape=(image_size, image_size, 3))
    except ValueError as e:
        raise ValueError(f"source {source} cannot be built at image_size {image_size}: {e}") from None


def _hub(preset, load_weights):
    try:
        import keras_hub
    except ImportError:
        raise ValueError(f"source {HUB}{preset} needs KerasHub: pip install keras-hub") from None
    return keras_hub.models.Backbone.from_preset(preset, load_weights=load_weights)


def _loaded(source, how, image_size):
    if how == "keras":
        if not Path(source).is_file():
            raise ValueError(f"source {source}: no such file")
        return keras.models.load_model(source, compile=False)
    module_name, _, function_name = source.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"source {source}: cannot import it ({e}); put its module on PYTHONPATH") from None
    model = function(image_size=image_size)
    if not isinstance(model, keras.Model):
        raise ValueError(f"source {source} returned {type(model).__name__}, not a Keras model")
    return model


def _check_input(source, model, image_size):
    shape = tuple(model.input_shape[1:3])
    if any(side not in (None, image_size) for side in shape):
        raise ValueError(f"source {source} takes {shape[0]}x{shape[1]} images, not the study's image_size "
                         f"{image_size}; set image_size: {shape[0]}")


def units(model, source_units=None):
    """The source's units, ((name, (layer names, ...)), ...) in model order (see the module):
    from its layer names, or ending at each layer of ``source_units``. ValueError listing the
    model's layers where fewer than two units are found."""
    order = [l for l in model.layers if not isinstance(l, layers.InputLayer)]
    if source_units:
        known = [l.name for l in order]
        unknown = [name for name in source_units if name not in known]
        if unknown:
            raise ValueError(f"source_units: not layers of {model.name}: {', '.join(unknown)}")
        ends = sorted(known.index(name) for name in source_units)
        starts = [0] + [i + 1 for i in ends]
        spans = [known[a:b + 1] for a, b in zip(starts, ends + [len(known) - 1]) if a <= b]
        found = [(span[-1], tuple(span)) for span in spans]
    else:
        found = {}
        latest, before = None, []
        for l in order:
            stage = _STAGE.match(l.name)
            stage = stage[0] if stage else None
            if stage and (stage in found or l.weights):
                latest = stage
            if latest is None:
                before.append(l.name)
                continue
            found.setdefault(latest, [*before])
            before = []
            found[latest].append(l.name)
        found = [(name, tuple(members)) for name, members in found.items()]
    if len(found) < 2:
        raise ValueError(f"source {model.name}: {len(found)} unit(s) found in its layer names; give "
                         f"source_units, the layer that ends each unit, of its layers: "
                         f"{', '.join(l.name for l in order)}")
    return tuple(found)


def network(model, num_classes, *, seed=0, source_units=None):
    """A ``Network``: the source's ``model`` and a head (global average pooling, where its output
    is a feature map, and a softmax classifier), its units the source's and ``head``."""
    x = model.output
    head = ["head_fc"]
    if len(x.shape) == 4:
        x = layers.GlobalAveragePooling2D(name="head_pool")(x)
        head.insert(0, "head_pool")
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="head_fc",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=0.01, seed=layer_seed(seed, "head_fc")))(x)
    net = keras.Model(model.input, outputs, name=f"{model.name}_transfer")
    return Network(net, (*units(model, source_units), ("head", tuple(head))))


def transfer_network(source, n, num_classes, image_size, *, fine_tuned, seed, weights="imagenet",
                     source_units=None, bn_update=False):
    """A network of ``source``'s architecture for ``num_classes`` classes whose first n units hold
    the pretrained source's weights (frozen unless ``fine_tuned``; BatchNorm frozen unless
    ``bn_update``), the units above freshly initialised from ``seed``; n = 0: a fresh network
    of the source's architecture, the target's base."""
    keras.utils.set_random_seed(seed)
    net = network(backbone(source, image_size, weights=None), num_classes, seed=seed, source_units=source_units)
    if not 0 <= n < len(net.units):
        raise ValueError(f"n must be in 0..{len(net.units) - 1} (the units of {source}: "
                         f"{', '.join(net.names)}; head is never copied), got {n}")
    if n:
        copy_units(backbone(source, image_size, weights), net, n, fine_tuned=fine_tuned, bn_update=bn_update)
    return net


def preprocess(source, source_preprocess=None):
    """The function that turns float 0..255 RGB images into the source's input: ``source_preprocess``
    ("module:function"), else a Keras Application's own ``preprocess_input`` (found in the
    ``keras.applications`` module of its family), else the images as they are."""
    if source_preprocess:
        module_name, _, function_name = source_preprocess.partition(":")
        try:
            return getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"source_preprocess {source_preprocess}: cannot import it ({e})") from None
    if source_kind(source) != "application":
        return _as_they_are
    constructor = getattr(keras.applications, source[len(APPLICATIONS):])
    family = next(m for m in vars(keras.applications).values()
                  if inspect.ismodule(m) and getattr(m, constructor.__name__, None) is constructor)
    return family.preprocess_input


def check(source, image_size, weights="imagenet", source_units=None, source_preprocess=None):
    """The unit names of ``source`` at ``image_size`` (its network's, the head last), built with
    fresh weights; ValueError, before any training, for a source that cannot be built there,
    weights that are not there, or fewer than two units."""
    if weights not in (None, "imagenet") and not Path(weights).is_file():
        raise ValueError(f"source_weights: {weights} is not a file (give a weights file or imagenet)")
    names = network(backbone(source, image_size, weights=None), 2, source_units=source_units).names
    preprocess(source, source_preprocess)
    return names


def _as_they_are(images):
    return images
