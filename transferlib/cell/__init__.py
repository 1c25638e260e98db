"""The cell: what a cell's notebook calls to train one network (its data, the networks and their
copies, training, devices, layer similarity, and what the notebook saves and shows). Importing
it keeps TensorFlow's start-up log out of the notebook, whichever
of its modules (or the summary's) a notebook imports first, and turns TensorFlow's oneDNN kernels
on for every x86 CPU before TensorFlow starts: TensorFlow does so by itself only on AVX-512-class
CPUs, and on an AVX2 one (a 2-core AMD EPYC) they train the 32 px CaffeNet 2.8x faster than its
default Eigen kernels (benchmarks/RESULTS-amd-epyc.md). ``TF_ENABLE_ONEDNN_OPTS=0`` set before still turns
them off."""

import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86"):
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


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
