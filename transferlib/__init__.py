"""transferlib: how transferable is each layer of a convnet (Yosinski et al., NIPS 2014).

Studies run from the command line (``transferlib run quick``); these functions are the stable
public surface for your own features and networks (docs/api.md), everything else is internal:

- scores of frozen features, no training: ``linear_probe``, ``logme``, ``h_score``, and ``leep``
  of a source classifier's predictions;
- layer similarity: ``linear_cka`` of two feature matrices, ``cka_matrix`` of every layer of
  one Keras model against every layer of another on the same images, ``cka_figure`` of it;
- networks: ``build_network`` (the CaffeNet, a ResNet or your function, with its transfer
  units) and ``transfer_network`` (its first n units copied from another network);
- ``read_results``: a study's results as a pandas DataFrame.

Each is imported on first use, so ``import transferlib`` loads neither Keras nor TensorFlow.
"""

import importlib

_PUBLIC = {"linear_probe": "summary.transferability:linear_probe", "logme": "summary.transferability:logme",
           "h_score": "summary.transferability:h_score", "leep": "summary.transferability:leep",
           "linear_cka": "cell.similarity:linear_cka",
           "cka_matrix": "cell.similarity:cka_matrix", "cka_figure": "summary.plots:cka_figure",
           "build_network": "cell.networks:build", "transfer_network": "cell.transfer:transfer_network",
           "read_results": "summary.metrics:read_results"}
__all__ = list(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'transferlib' has no attribute {name!r}")
    module, attribute = _PUBLIC[name].split(":")
    return getattr(importlib.import_module(f".{module}", __name__), attribute)


def __dir__():
    return sorted(set(globals()) | set(__all__))
