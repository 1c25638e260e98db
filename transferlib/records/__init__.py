"""A study's records: its folder's layout, the results table and the paper's names for its
rows, the validation curves a cell writes, and how files are stored (a folder or a URL) and
written (atomically)."""


def tensorboard_or_none(say=print):
    """The ``records.tensorboard`` module, or None where the tensorboard package it writes with
    is not installed, after saying with ``say`` that the logs are off and how to have them."""
    try:
        from . import tensorboard
    except ImportError as e:
        say(f"TensorBoard logs are off: {e} (pip install tensorboard to have them)")
        return None
    return tensorboard
