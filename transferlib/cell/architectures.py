"""The built-in architectures, registered by name (Keras 3): the paper's 8-layer CaffeNet and its
small-image variants, with Caffe's grouped convolution and LRN as layers, and He et al.'s ResNets.

``register(name)`` makes a function ``(num_classes, image_size, *, width, seed, init)`` returning
a Keras model the builder of the built-in network ``name`` (timm's ``register_model``);
``builder(name)`` finds it (``networks.build``). Each name is one of ``nets.units.NETWORKS``,
which says its units without a framework; its layers are named by unit (``<unit>`` or
``<unit>_<rest>``), so that a transfer copies them by name: the CaffeNet's weight layers as in
the paper, ``conv1`` .. ``conv5``, ``fc6`` .. ``fc8`` (``WEIGHT_LAYERS``).
"""

import zlib

import keras
from keras import layers, ops

from ..nets.units import CAFFENET, CAFFENET_UNITS, NETWORKS, RESNET_BLOCKS
from ..parameters import INITS, default_init

WEIGHT_LAYERS = CAFFENET_UNITS  # the eight weight layers, the CaffeNet's transfer units
_BUILDERS = {}


def register(name):
    """Register the decorated function as the builder of the built-in network ``name``."""
    if name not in NETWORKS:
        raise ValueError(f"{name} has no entry in nets.units.NETWORKS: its units must be known without a framework")

    def add(function):
        _BUILDERS[name] = function
        return function
    return add


def builder(name):
    """The registered builder of the built-in network ``name``."""
    return _BUILDERS[name]


# Filters of conv1..conv5 and units of fc6, fc7 at width 1.0.
_CONV_FILTERS = (96, 256, 384, 384, 256)
_FC_UNITS = {227: 4096, 64: 1024, 32: 1024}
# conv1 kernel, stride and padding; pooling padding ("valid" is Caffe's at 227 px).
_STEM = {227: (11, 4, "valid"), 64: (5, 2, "same"), 32: (5, 2, "same")}  # one per image size

# The paper's initialisation: Gaussian std per layer, bias 0 or 1.
_INIT_STD = {"fc6": 0.005, "fc7": 0.005}
_BIAS_ONE = {"conv2", "conv4", "conv5", "fc6", "fc7"}


@keras.saving.register_keras_serializable("transferlib")
class GroupedConv2D(layers.Layer):
    """Caffe's grouped convolution: the input channels and the filters split into
    ``groups`` halves, each half convolved on its own, the outputs concatenated.

    Computes the function of ``Conv2D(groups=groups)`` with the same kernel shape
    ``(k, k, in // groups, filters)``, but as ``groups`` plain convolutions, which run
    about 14x faster on CPU than Keras's grouped kernel.
    """

    def __init__(self, filters, kernel_size, groups=2, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.groups = filters, kernel_size, groups
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.groups or self.filters % self.groups:
            raise ValueError(f"{self.name}: {channels} input channels and {self.filters} filters "
                             f"must both divide into {self.groups} groups")
        k = self.kernel_size
        self.kernel = self.add_weight(name="kernel", shape=(k, k, channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer)

    def call(self, x):
        xs = ops.split(x, self.groups, axis=-1)
        ks = ops.split(self.kernel, self.groups, axis=-1)
        y = ops.concatenate([ops.conv(xi, ki, padding="same") for xi, ki in zip(xs, ks)], axis=-1)
        return ops.relu(y + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "groups": self.groups,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


@keras.saving.register_keras_serializable("transferlib")
class LocalResponseNorm(layers.Layer):
    """Caffe's across-channel LRN: ``x / (k + alpha / size * sum_window x**2) ** beta``."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=1.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def call(self, x):
        if keras.backend.backend() == "tensorflow":  # TensorFlow's fused kernel: the same function, faster
            import tensorflow as tf
            wide = x.dtype == tf.bfloat16  # the CPU kernel has no bfloat16 (mixed_bfloat16 on a CPU)
            y = tf.nn.local_response_normalization(tf.cast(x, tf.float32) if wide else x,
                                                   depth_radius=self.size // 2, bias=self.k,
                                                   alpha=self.alpha / self.size, beta=self.beta)
            return tf.cast(y, x.dtype) if wide else y
        half = self.size // 2
        sq = ops.pad(ops.square(x), [(0, 0), (0, 0), (0, 0), (half, half)])
        channels = x.shape[-1]
        window = sum(sq[..., i:i + channels] for i in range(self.size))
        return x / ops.power(self.k + self.alpha / self.size * window, self.beta)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha,
                "beta": self.beta, "k": self.k}


def scaled(count, width):
    """``count`` x ``width``, rounded to a multiple of 8 (so groups of 2 split evenly)."""
    return max(8, int(round(count * width / 8)) * 8)


def layer_seed(seed, name):
    """A per-layer seed derived from a model seed and the layer's name."""
    return zlib.crc32(f"{seed}/{name}".encode()) % (2**31)


def layer_initializers(name, seed, init="paper"):
    """(kernel, bias) initialisers of weight layer ``name``.

    ``init="paper"``: Gaussian std 0.01 (0.005 for fc6, fc7), biases 1 on conv2, conv4, conv5,
    fc6, fc7 and 0 elsewhere, as the paper's prototxt. ``init="he"``: Gaussian with He's std
    sqrt(2 / fan_in) below fc8 (fc8 keeps 0.01), biases 0.
    """
    layer_seed_ = layer_seed(seed, name)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if init == "he" and name != "fc8":
        kernel = keras.initializers.HeNormal(seed=layer_seed_)
    else:
        kernel = keras.initializers.RandomNormal(stddev=_INIT_STD.get(name, 0.01), seed=layer_seed_)
    bias_one = name in _BIAS_ONE and init == "paper"
    return kernel, keras.initializers.Constant(1.0 if bias_one else 0.0)


@register(CAFFENET)
def caffenet(num_classes, image_size=227, width=1.0, seed=0, init=None):
    """The paper's CaffeNet: 5 conv + 3 fc weight layers, ReLU, LRN, 2 groups, dropout.

    At ``image_size=227`` and ``width=1.0`` this is the Caffe reference model layer for layer
    (60,965,224 parameters for 1000 classes). At 32 and 64 px the same eight layers and kinds
    are kept, with these changes so the network fits the small image:
      - conv1 is 5x5 stride 2 with "same" padding (not 11x11 stride 4 "valid"),
        and the three 3x3 stride-2 max-pools use "same" padding: spatial sizes are
        16/8/4/2 px at 32 px input and 32/16/8/4 px at 64 px;
      - fc6 and fc7 have 1024 units (not 4096), as they see 2x2 or 4x4 positions, not 6x6.
    ``width`` scales every filter and unit count (rounded to a multiple of 8) for CPU budgets.
    Initialisation (``init``: "paper" or "he", drawn from ``seed``; None: the image size's
    ``default_init``): at 227 px the paper's, Gaussian std 0.01
    (conv, fc8) and 0.005 (fc6, fc7), biases 1 on conv2, conv4, conv5, fc6, fc7 and 0
    elsewhere. The small variants default to ``"he"``: He-normal kernels and zero biases
    (fc8 keeps std 0.01), because the paper's values leave them at chance in a
    schedule of a few epochs (measured: 10% vs 42% top-1 on 10 Tiny ImageNet classes).
    Weight decay is the optimiser's (``train.CaffeSGD``), as in Caffe. Inputs are mean-subtracted float images.
    """
    if image_size not in _STEM:
        raise ValueError(f"image_size must be one of {NETWORKS[CAFFENET].image_sizes}, got {image_size}")
    init = init or default_init(image_size)
    k1, s1, pad = _STEM[image_size]
    f1, f2, f3, f4, f5 = (scaled(f, width) for f in _CONV_FILTERS)
    fc = scaled(_FC_UNITS[image_size], width)

    def conv(name, filters, kernel, **kw):
        k_init, b_init = layer_initializers(name, seed, init)
        return layers.Conv2D(filters, kernel, activation="relu", name=name, kernel_initializer=k_init,
                             bias_initializer=b_init, **kw)

    def grouped(name, filters, kernel):
        k_init, b_init = layer_initializers(name, seed, init)
        return GroupedConv2D(filters, kernel, groups=2, name=name, kernel_initializer=k_init,
                             bias_initializer=b_init)

    def dense(name, units, activation, **kw):
        k_init, b_init = layer_initializers(name, seed, init)
        return layers.Dense(units, activation=activation, name=name, kernel_initializer=k_init,
                            bias_initializer=b_init, **kw)

    def pool(name):
        return layers.MaxPooling2D(3, 2, padding=pad, name=name)

    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = conv("conv1", f1, k1, strides=s1, padding=pad)(inputs)
    x = LocalResponseNorm(name="norm1")(pool("pool1")(x))
    x = grouped("conv2", f2, 5)(x)
    x = LocalResponseNorm(name="norm2")(pool("pool2")(x))
    x = conv("conv3", f3, 3, padding="same")(x)
    x = grouped("conv4", f4, 3)(x)
    x = grouped("conv5", f5, 3)(x)
    x = layers.Flatten(name="flatten")(pool("pool5")(x))
    x = layers.Dropout(0.5, seed=layer_seed(seed, "drop6"), name="drop6")(dense("fc6", fc, "relu")(x))
    x = layers.Dropout(0.5, seed=layer_seed(seed, "drop7"), name="drop7")(dense("fc7", fc, "relu")(x))
    # fc8 and its softmax in float32 under a mixed precision policy (Keras's advice for outputs)
    outputs = dense("fc8", num_classes, "softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"caffenet{image_size}")


_STAGE_FILTERS = (64, 128, 256, 512)


@register("resnet18")
def resnet18(num_classes, image_size=32, width=1.0, seed=0, init=None):
    """ResNet-18 (``resnet``); ``init`` is the CaffeNet's alone."""
    return resnet("resnet18", num_classes, image_size, width=width, seed=seed)


@register("resnet50")
def resnet50(num_classes, image_size=32, width=1.0, seed=0, init=None):
    """ResNet-50 (``resnet``); ``init`` is the CaffeNet's alone."""
    return resnet("resnet50", num_classes, image_size, width=width, seed=seed)


def resnet(model, num_classes, image_size=32, *, width=1.0, seed=0):
    """He et al.'s ResNet-18 (basic blocks 2-2-2-2) or ResNet-50 (bottleneck blocks 3-4-6-3),
    BatchNorm after every convolution, filters 64-128-256-512 times ``width`` (rounded to a
    multiple of 8). Below 128 px the stem is one 3x3 stride-1 convolution (the CIFAR stem), from
    128 px ImageNet's 7x7 stride-2 convolution and 3x3 max-pool. Layers are named by unit:
    ``stem_*``, ``stage<s>_block<b>_*``, ``head_*``."""
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
    for s, (count, filters) in enumerate(zip(RESNET_BLOCKS[model], _STAGE_FILTERS), 1):
        for b in range(1, count + 1):
            x = block(x, f"stage{s}_block{b}", scaled(filters, width), 2 if b == 1 and s > 1 else 1)
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="head_fc",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=0.01, seed=layer_seed(seed, "head_fc")))(x)
    return keras.Model(inputs, outputs, name=f"{model}_{image_size}")
