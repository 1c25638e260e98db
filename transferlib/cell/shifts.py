"""The shifted targets of a surgical study (``target_shift``): a half's own images and labels,
changed the way Lee et al. (ICLR 2023, "Surgical fine-tuning improves adaptation to distribution
shifts") change theirs, at a severity 1..5, drawn from the study's ``data_seed``.

A shift is applied once to the decoded uint8 ``Subset`` (``apply``), right after its classes are
selected (``inputs.load_data``), to its training and validation images alike, before
any pipeline sees it: so the shifted images are the same in the tf.data, numpy and JAX device
pipelines by construction, and the same in every cell of the study (a cell's own ``seed`` is
never used here). Numpy only (and scipy.ndimage for the blur).

- input-level (Lee et al.: CIFAR-10-C, ImageNet-C; the first block is best tuned):
  ``noise`` (Gaussian, per pixel, drawn once per image), ``blur`` (Gaussian) and ``contrast``
  (each image pulled to its mean), at CIFAR-10-C's five severities (Hendrycks & Dietterich 2019;
  the blur's sigma scaled with the stored image size from CIFAR's 32 px).
- output-level (Lee et al.: CIFAR-Flip, labels changed; the last block is best tuned):
  ``labels``, the half's labels permuted by a seeded derangement: at severity 5 every class takes
  another's label, at severity s a random share s/5 of them (at least 2) does, in a cycle, so no
  permuted class keeps its label.
- feature-level (Lee et al.: Living-17 and Entity-30, the same superclasses made of other
  subclasses; a middle block is best tuned): ``grey``, the images pulled towards their
  luminance (ITU-R 601 weights), by s/5 (severity 5: grey images). Tiny ImageNet's classes are
  leaves with no subclasses to swap, and a different subset of each class's images would be the
  same distribution, so no shift at all; colour is what a network's middle layers use beside
  shape and texture (colour-tuned units are common from conv2 on, Yosinski et al. 2015), while
  the edges that conv1 detects survive in the luminance. It is the nearest feature-level shift
  this data allows, and the weakest claim of the three: the summary says so.
"""

import dataclasses
import zlib

import numpy as np

from ..parameters import SHIFTS

INPUT, OUTPUT, FEATURE = "input", "output", "feature"
LEVEL = {"noise": INPUT, "blur": INPUT, "contrast": INPUT, "grey": FEATURE, "labels": OUTPUT}
NOISE = (0.04, 0.06, 0.08, 0.09, 0.10)     # CIFAR-10-C gaussian_noise: sd on 0..1 values
BLUR = (0.4, 0.6, 0.7, 0.8, 1.0)           # CIFAR-10-C gaussian_blur: sigma in pixels at 32 px
CONTRAST = (0.75, 0.5, 0.4, 0.3, 0.15)     # CIFAR-10-C contrast: the share of the contrast kept
LUMA = np.array([0.299, 0.587, 0.114])


def check(shift, severity):
    """ValueError, before any image is read, for a shift or severity that is not one."""
    if shift not in SHIFTS:
        raise ValueError(f"shift: got {shift!r}; expected one of {', '.join(SHIFTS)}")
    if not (isinstance(severity, int) and not isinstance(severity, bool) and 1 <= severity <= 5):
        raise ValueError(f"shift_severity: got {severity!r}; expected an integer in 1..5")


def _rng(seed, shift):
    """The generator of ``shift`` from ``seed`` (an integer or a list of them)."""
    return np.random.default_rng([*map(int, np.atleast_1d(seed)), zlib.crc32(shift.encode())])


def label_permutation(num_classes, severity, seed):
    """The labels shift's map {old label: new label} as an array: a cycle over a seeded random
    share severity/5 of the ``num_classes`` labels (at least 2), the others kept."""
    moved = max(2, round(num_classes * severity / 5))
    chosen = _rng(seed, "labels").permutation(num_classes)[:moved]
    out = np.arange(num_classes)
    out[chosen] = chosen[np.roll(np.arange(moved), 1)]
    return out


def shift_images(images, shift, severity, seed):
    """``images`` (uint8, N x H x W x 3) under ``shift`` at ``severity``; the noise is drawn from
    ``seed`` over the array in its order. The labels shift leaves images as they are."""
    check(shift, severity)
    if shift == "labels":
        return images
    x = images.astype(np.float32) / 255
    if shift == "noise":
        x = x + _rng(seed, shift).normal(0, NOISE[severity - 1], x.shape).astype(np.float32)
    elif shift == "blur":
        from scipy import ndimage

        sigma = BLUR[severity - 1] * images.shape[1] / 32
        x = ndimage.gaussian_filter(x, sigma=(0, sigma, sigma, 0), mode="reflect")
    elif shift == "contrast":
        mean = x.mean(axis=(1, 2, 3), keepdims=True)
        x = (x - mean) * CONTRAST[severity - 1] + mean
    elif shift == "grey":
        a = severity / 5
        x = (1 - a) * x + a * (x @ LUMA.astype(np.float32))[..., None]
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def apply(subset, shift, severity, seed):
    """The ``cell.data.Subset`` ``subset`` with ``shift`` at ``severity`` applied to its training
    and validation images (or labels), drawn from ``seed`` (the study's ``data_seed``); ``shift``
    "" gives it back unchanged. Training and validation draw their noise apart (the seed and
    "train" / "val"), so a half's shifted images are the same whatever the other set holds."""
    if not shift:
        return subset
    check(shift, severity)
    if shift == "labels":
        perm = label_permutation(len(subset.classes), severity, seed)
        return dataclasses.replace(subset, train_labels=perm[subset.train_labels].astype(subset.train_labels.dtype),
                                   val_labels=perm[subset.val_labels].astype(subset.val_labels.dtype))
    return dataclasses.replace(
        subset, train_images=shift_images(subset.train_images, shift, severity, [seed, 1]),
        val_images=shift_images(subset.val_images, shift, severity, [seed, 2]))
