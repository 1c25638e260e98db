"""Images cut into b x b blocks laid out again in a seeded order (Neyshabur, Sedghi and Zhang,
"What is being transferred in transfer learning?", NeurIPS 2020).

As b shrinks, an image keeps its pixels but loses the shapes a source's features could match:
what transfer still gains at b = 1 comes from low-level statistics, not from reused features.
One order is drawn per (side, b, seed) and applied to every image, training and validation
alike. Blocks cut the stored images (``data.stored_size``: 36 px for 32 px crops), so b divides
that side; b equal to it is the identity. numpy only: the pipelines that follow (tf.data, numpy,
the JAX device) see the same shuffled arrays.
"""

import numpy as np


def sizes(side):
    """The block sides that cut a ``side`` x ``side`` image into whole blocks."""
    return [b for b in range(1, side + 1) if side % b == 0]


def order(side, b, seed):
    """The seeded order of the (side // b)**2 blocks: position i receives block order[i]."""
    if b < 1 or side % b:
        raise ValueError(f"block size {b} does not divide the {side} px images; "
                         f"choose one of {', '.join(map(str, sizes(side)))}")
    count = (side // b) ** 2
    if count == 1:
        return np.zeros(1, np.int64)
    return np.random.default_rng([seed, side, b]).permutation(count)


def shuffled(images, b, seed):
    """``images`` (N, side, side, C) with their b x b blocks moved to ``order(side, b, seed)``."""
    n, side, width, channels = images.shape
    if side != width:
        raise ValueError(f"block shuffling needs square images, got {side} x {width}")
    k = side // b
    blocks = order(side, b, seed)
    tiles = images.reshape(n, k, b, k, b, channels).transpose(0, 1, 3, 2, 4, 5).reshape(n, k * k, b, b, channels)
    return (tiles[:, blocks].reshape(n, k, k, b, b, channels).transpose(0, 1, 3, 2, 4, 5)
            .reshape(n, side, side, channels))
