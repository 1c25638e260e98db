"""Where a cell's training logs go: its TensorBoard run, with its hyperparameters, and its
checkpoints; run by hand, beside its other files (``files.standalone_path``)."""

from ..records import tensorboard_or_none
from ..version import code_version
from .files import standalone_path


def checkpoint_folder(checkpoint, checkpoint_dir, cell):
    """Where a cell backs up its training (``train.train``'s checkpoint_dir): the runner's
    ``checkpoint_dir``, or run by hand with ``checkpoint`` on, ``standalone_path``; else None."""
    if checkpoint_dir or not checkpoint:
        return checkpoint_dir
    return standalone_path(f"{cell}-checkpoint")


def tensorboard_log(tensorboard_dir, net, *, cell, split, kind, n, fine_tuned, target, images_per_class, block_size,
                    shift, network, tuned_unit=0, cut=False):
    """The cell's TensorBoard run (a ``records.tensorboard.CellLog`` for ``train.train``), with
    its hyperparameters, the ``networks.Network`` ``net`` naming the unit n (a surgical cell's:
    ``tuned_unit``, the one that learns): in the runner's ``tensorboard_dir``, or run by hand
    ``standalone_path("tensorboard/<cell>")``. Without the tensorboard package, None, and a line
    that says so."""
    tensorboard = tensorboard_or_none()
    if tensorboard is None:
        return None
    unit = net.units[(tuned_unit or n) - 1][0] if n else ""
    values = tensorboard.hparams(split=split, kind=kind, n=n, unit=unit, fine_tuned=fine_tuned, target=target,
                                 images_per_class=images_per_class, block_size=block_size, shift=shift,
                                 network=network, code_version=code_version(), cut=cut)
    return tensorboard.CellLog(tensorboard_dir or standalone_path(f"tensorboard/{cell}"), values)
