"""A pretrained network as the source of a transfer: its backbone, its units, its preprocessing.

A source is named by one string:

- a saved model's file path: ``.keras``, or ``.h5`` as Keras 2 saved them;
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
``source_units`` lists the layer that ends each unit; the layers after the last of them (the
source's own classifier) are never copied. A model nested as a layer (a backbone inside a
model) is refused: give the backbone itself.

``network`` adds the head the study trains (global average pooling and a softmax classifier,
the unit ``head``), so the source's units are 1..K-1 of the network's K, as any network's are;
with ``cut`` n, the head follows unit n (the practitioner's feature extraction at layer n).
``transfer.transfer_network`` copies the first n from the pretrained source (``backbone``); a
fine-tuned copy keeps its BatchNorm layers frozen (inference mode: moving statistics, gamma and
beta stay the source's) unless ``bn_update``. Images reach the network as float 0..255 RGB
at the study's image size; its first layer, ``Preprocess``, applies ``preprocess`` (the
family's ``preprocess_input`` for Keras Applications). ``extractor`` and ``classifier`` give
the source itself, for scores without training.
"""

import importlib
import inspect
import re
from pathlib import Path

import keras
from keras import layers

from .architectures import layer_seed
from .networks import Network

APPLICATIONS = "keras.applications."
HUB = "keras_hub:"
FILES = (".keras", ".h5", ".hdf5")  # a saved model; .h5: Keras 2's format, as older packages ship
_FUNCTION = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_STAGE = re.compile(r"[A-Za-z]+_?\d+[a-z]?(?=_|$)")  # conv2, block3, block_5, block2a


def source_kind(source):
    """"keras", "application", "hub" or "function": which of the module's four ``source`` names."""
    if source.endswith(FILES):
        return "keras"
    if source.startswith(APPLICATIONS):
        return "application"
    if source.startswith(HUB):
        return "hub"
    if _FUNCTION.fullmatch(source):
        return "function"
    raise ValueError(f"source {source!r}: expected a .keras file, keras.applications.<Name>, "
                     "keras_hub:<preset> or module:function")


def loaded(source, image_size, weights="imagenet"):
    """The source's model as given, at ``image_size`` px: a file's or a function's whole model
    (its own classifier included, where it has one), an application without its top.
    ``weights``: for an application, "imagenet" or a weights file, None for fresh ones; for the
    other kinds, None gives the same architecture freshly initialised."""
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


def backbone(source, image_size, weights="imagenet", source_units=None):
    """The part of the source a study copies from: ``loaded``, ending at the last layer of
    ``source_units`` where they are given (the layers after it, such as the source's own
    classifier, are never copied)."""
    model = loaded(source, image_size, weights)
    if source_units:
        _known_layers(model, source_units)
        order = [l.name for l in model.layers]
        last = max(source_units, key=order.index)
        if last != order[-1]:
            model = keras.Model(model.input, model.get_layer(last).output, name=model.name)
    return model


def _application(source, image_size, weights):
    name = source[len(APPLICATIONS):]
    constructor = getattr(keras.applications, name, None)
    if not callable(constructor):
        known = sorted(k for k, v in vars(keras.applications).items() if callable(v) and k[0].isupper())
        raise ValueError(f"source {source}: keras.applications has no network {name!r}; it has "
                         f"{', '.join(known)}")
    _check_weights(weights)
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
        known = _known_layers(model, source_units)
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


def _known_layers(model, source_units):
    """The names of ``model``'s layers (its input left out); ValueError for a name of
    ``source_units`` that is not one of them."""
    known = [l.name for l in model.layers if not isinstance(l, layers.InputLayer)]
    unknown = [name for name in source_units if name not in known]
    if unknown:
        raise ValueError(f"source_units: not layers of {model.name}: {', '.join(unknown)}; its layers: "
                         f"{', '.join(known)}")
    return known


@keras.saving.register_keras_serializable("transferlib")
class Preprocess(layers.Layer):
    """The source's own preprocessing (``preprocess``) as the network's first layer, so that
    every pipeline gives it float 0..255 RGB and a saved network carries it."""

    def __init__(self, source, source_preprocess=None, **kwargs):
        super().__init__(**kwargs)
        self.source, self.source_preprocess = source, source_preprocess
        self._function = preprocess(source, source_preprocess)

    def call(self, images):
        return self._function(images)

    def get_config(self):
        return {**super().get_config(), "source": self.source, "source_preprocess": self.source_preprocess}


def _rewired(model, source, source_preprocess, image_size):
    """``model``'s layers (fresh copies, same names) on a new input of float 0..255 RGB
    ``image_size`` images, through ``Preprocess``: a model whose layers are all its own."""
    images = keras.Input((image_size, image_size, 3), name="images")
    prepared = Preprocess(source, source_preprocess, name="preprocess")(images)

    def call(layer, *args, **kwargs):
        return layer(*keras.tree.map_structure(lambda t: prepared if t is images else t, args), **kwargs)
    given = [images] if isinstance(model.input, list) else images  # the structure of its own input
    return keras.models.clone_model(model, input_tensors=given, call_function=call)


def network(source, num_classes, image_size, *, seed=0, source_units=None, source_preprocess=None, cut=None):
    """A ``Network`` of the source's architecture, freshly initialised from ``seed``: its
    preprocessing, the source's units and a head (global average pooling, where the output is a
    feature map, and a softmax classifier), the units the source's and ``head``. ``cut`` n: the
    practitioner's network, units 1..n of the source and the head straight after them."""
    keras.utils.set_random_seed(seed)
    model = backbone(source, image_size, weights=None, source_units=source_units)
    found = units(model, source_units)
    if cut is not None:
        if not 1 <= cut < len(found) + 1:
            raise ValueError(f"cut must be in 1..{len(found)} (the units of {source}), got {cut}")
        found = found[:cut]
        model = keras.Model(model.input, model.get_layer(found[-1][1][-1]).output, name=model.name)
    body = _rewired(model, source, source_preprocess, image_size)
    x = body.output
    head = ["head_fc"]
    if len(x.shape) == 4:
        x = layers.GlobalAveragePooling2D(name="head_pool")(x)
        head.insert(0, "head_pool")
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="head_fc",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=0.01, seed=layer_seed(seed, "head_fc")))(x)
    net = keras.Model(body.inputs[0], outputs, name=f"{model.name}_transfer")
    return Network(net, (*found, ("head", tuple(head))))


def extractor(source, image_size, *, weights="imagenet", source_units=None, source_preprocess=None):
    """(model, unit names): the pretrained source on float 0..255 RGB images, its outputs each
    unit's representation (the output of the unit's last layer), for scores without training."""
    model = backbone(source, image_size, weights, source_units)
    found = units(model, source_units)
    body = _rewired(model, source, source_preprocess, image_size)
    body.set_weights(model.get_weights())
    outputs = [body.get_layer(members[-1]).output for _, members in found]
    return keras.Model(body.inputs[0], outputs), tuple(name for name, _ in found)


def classifier(source, image_size, *, weights="imagenet", source_preprocess=None):
    """The source's own classifier on float 0..255 RGB images (its class probabilities, for
    LEEP), or None where the source as given does not end in a softmax over its classes."""
    model = loaded(source, image_size, weights)
    last = model.layers[-1]
    if len(model.output_shape) != 2 or getattr(getattr(last, "activation", None), "__name__", "") != "softmax":
        return None
    body = _rewired(model, source, source_preprocess, image_size)
    body.set_weights(model.get_weights())
    return keras.Model(body.inputs[0], body.outputs[0])


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
    _check_weights(weights)
    return network(source, 2, image_size, source_units=source_units, source_preprocess=source_preprocess).names


def _check_weights(weights):
    """ValueError for ``weights`` that name a file not there (None and "imagenet" name none)."""
    if weights not in (None, "imagenet") and not Path(weights).is_file():
        raise ValueError(f"source_weights: {weights} is not a file (give a weights file or imagenet)")


def _as_they_are(images):
    return images
