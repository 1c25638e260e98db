"""Training images held out as extra validation (``val_holdout``): a small half's 50 validation
images a class give one validation a standard error of about 3 points; k more a class shrink it.

The k images of a class are drawn from the study's ``data_seed`` and the class id alone, so that
every cell of a study (both halves, bases and transfers, any split) holds out the same ones.
numpy only: ``cell.data.select`` removes them from the training images before it keeps a reduced
cell's first images, and appends them to the validation images.
"""

import zlib

import numpy as np


def held_out(class_id, count, k, data_seed):
    """The sorted positions, among the ``count`` training images of class ``class_id`` in the
    dataset's order, of the ``k`` held out; at least one training image must remain."""
    if k >= count:
        raise ValueError(f"val_holdout: {k} training images of class {class_id} held out leave none of its "
                         f"{count} to train on; give val_holdout below {count}")
    rng = np.random.default_rng([data_seed, zlib.crc32(str(class_id).encode())])
    return np.sort(rng.choice(count, k, replace=False))
