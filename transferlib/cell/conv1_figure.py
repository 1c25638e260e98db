"""The figure of a network's first-layer filters, drawn by a cell of its own network and by the
summary of every base: the first convolution on the RGB input found by its kernel's shape, its
filters drawn with matplotlib; no framework imported."""

import math

import numpy as np
from matplotlib.figure import Figure


def conv1_filters(weights, title="conv1 filters", ax=None, caption=None):
    """conv1 kernels `weights` (array [k, k, 3, F], as Keras stores them) as a grid of small
    RGB images, each filter scaled to its own min..max (constant filters grey), with
    ``caption`` under the figure."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 4 or w.shape[2] != 3:
        raise ValueError(f"conv1 weights must have shape [k, k, 3, filters], got {w.shape}")
    k, filters = w.shape[0], w.shape[3]
    lo = w.min(axis=(0, 1, 2), keepdims=True)
    span = w.max(axis=(0, 1, 2), keepdims=True) - lo
    norm = np.divide(w - lo, span, out=np.full_like(w, 0.5), where=span > 0)
    cols = math.ceil(math.sqrt(filters))
    rows = math.ceil(filters / cols)
    mosaic = np.ones((rows * (k + 1) + 1, cols * (k + 1) + 1, 3))
    for f in range(filters):
        r, c = divmod(f, cols)
        mosaic[1 + r * (k + 1):(r + 1) * (k + 1), 1 + c * (k + 1):(c + 1) * (k + 1)] = \
            norm[..., f]
    if ax is None:
        fig = Figure(figsize=(0.5 * cols + 1, 0.5 * rows + 1), layout="constrained")
        ax = fig.add_subplot()
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    if caption:
        ax.figure.supxlabel(caption, fontsize="small", wrap=True)
    return ax.figure


def first_conv(model):
    """The first convolution on the RGB input (conv1 of the CaffeNet, stem_conv of a ResNet),
    or None where there is none."""
    for l in model.layers:
        kernel = getattr(l, "kernel", None)
        if kernel is not None and len(kernel.shape) == 4 and kernel.shape[2] == 3:
            return l
    return None


def first_filters(model, cell, caption):
    """The filters of the first convolution on the RGB input (conv1 of the CaffeNet, stem_conv of
    a ResNet) as a figure with ``caption``; where the network has none, None, having said so."""
    conv = first_conv(model)
    if conv is None:
        print("no convolution on the RGB input to draw")
        return None
    return conv1_filters(conv.get_weights()[0], f"{cell}: {conv.name} filters", caption=caption)
