"""The cell: what a cell's notebook calls to train one network (data, models, transfer, train,
devices, similarity)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
