"""Images brought to the size a dataset is cached at."""

import numpy as np
from PIL import Image


def fit(image, size):
    """`image` (a PIL image or an array) as a uint8 RGB array of size x size."""
    if isinstance(image, np.ndarray):
        if image.shape == (size, size, 3):
            return image
        image = Image.fromarray(image.squeeze(-1) if image.ndim == 3 and image.shape[-1] == 1 else image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR)  # antialiased when shrinking
    return np.asarray(image)
