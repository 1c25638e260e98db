"""Where a cell's training logs go: its TensorBoard run, with its hyperparameters, and its
checkpoints; run by hand, beside its other files (``files.standalone_path``)."""

from ..nets import units
from ..records import tensorboard_or_none
from ..version import code_version
from .files import standalone_path


def checkpoint_folder(checkpoint, checkpoint_dir, cell):
    """Where a cell backs up its training (``train.train``'s checkpoint_dir): the runner's
    ``checkpoint_dir``, or run by hand with ``checkpoint`` on, ``standalone_path``; else None."""
    if checkpoint_dir or not checkpoint:
        return checkpoint_dir
    return standalone_path(f"{cell}-checkpoint")


def tensorboard_log(tensorboard_dir, net, values):
    """The cell's TensorBoard run (a ``records.tensorboard.CellLog`` for ``train.train``), with
    the hyperparameters of its notebook's ``values`` (``globals()``), the ``networks.Network``
    ``net`` naming the unit n (a surgical cell's: ``tuned_unit``, the one that learns): in the
    runner's ``tensorboard_dir``, or run by hand ``standalone_path("tensorboard/<cell>")``.
    Without the tensorboard package, None, and a line that says so."""
    tensorboard = tensorboard_or_none()
    if tensorboard is None:
        return None
    unit = units.recorded_unit(net.names, values["n"], values.get("tuned_unit", 0))
    return tensorboard.CellLog(tensorboard_dir or standalone_path(f"tensorboard/{values['cell']}"),
                               tensorboard.hparams({**values, "unit": unit}, code_version()))
