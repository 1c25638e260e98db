"""The cell: what a cell's notebook calls to train one network (data, models, transfer, train,
devices, similarity). Importing it keeps TensorFlow's start-up log out of the notebook, whichever
of its modules (or the summary's) a notebook imports first."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _import_quietly():
    """Import the Keras backend with the process's stderr closed: TensorFlow 2.21 writes absl's
    start-up lines there before any log level applies (a kernel shows them in the notebook).
    The one place they are silenced; they cannot be turned off at their cause."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            except ImportError:
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_import_quietly()  # before any module of the cell imports Keras, and with it its backend
