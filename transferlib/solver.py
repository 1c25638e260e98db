"""Caffe's solver as the paper ran it: the constants a study's defaults (``parameters``) and the
readings of a learning curve (``records.curves``) share, declared once."""

PAPER_LR_DROPS = (2 / 9, 4 / 9, 6 / 9, 8 / 9)  # lr / 10 every 100,000 of 450,000 iterations
MOMENTUM, WEIGHT_DECAY = 0.9, 5e-4
