"""Training and evaluation with the paper's solver, in iterations (as the paper) or epochs."""

import csv
import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
from tqdm.keras import TqdmCallback

from ..atomic import write_atomic, write_text_atomic
from ..parameters import MOMENTUM, PAPER_LR_DROPS, STUDY, WEIGHT_DECAY
from ..records.curves import last_k
from . import progress as bars
from .data import Repeated

LR = next(p.default for p in STUDY if p.name == "lr")  # the paper's, as the lr key declares it
BEST_OF = 10  # the paper reports the mean of the 10 best validation top-1 values


@keras.saving.register_keras_serializable("transferlib")
class CaffeSGD(keras.optimizers.SGD):
    """SGD with momentum as Caffe's solver: weight decay added to the kernels' gradients
    (``coupled_weight_decay``, before momentum), biases at twice the rate and undecayed.

    Doubling a bias's gradient doubles its step, since momentum SGD is linear in gradients.
    Frozen layers are not trainable variables: neither updated nor decayed.
    """

    def __init__(self, *args, coupled_weight_decay=WEIGHT_DECAY, **kwargs):
        super().__init__(*args, **kwargs)
        self.coupled_weight_decay = coupled_weight_decay

    def apply(self, grads, trainable_variables=None):
        variables = trainable_variables if trainable_variables is not None else self._trainable_variables
        grads = [g * 2 if v.name == "bias" else g + self.coupled_weight_decay * v
                 for g, v in zip(grads, variables)]
        return super().apply(grads, trainable_variables)

    def get_config(self):
        return {**super().get_config(), "coupled_weight_decay": self.coupled_weight_decay}


def best_mean(values, k=BEST_OF):
    """The paper's metric: the mean of the ``k`` highest of ``values`` (all of them if fewer)."""
    return float(np.mean(sorted(values, reverse=True)[:k]))


def lr_schedule(lr, lr_drops, total_steps):
    """Piecewise-constant lr: ``lr`` divided by 10 at each fraction ``lr_drops`` of the steps."""
    if not lr_drops:
        return lr
    bounds = [max(1, int(round(f * total_steps))) for f in sorted(lr_drops)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        bounds, [lr / 10**i for i in range(len(bounds) + 1)])


@dataclass
class TrainResult:
    """Per-validation history and the final and best-of-10 validation accuracies."""

    history: list      # one dict per validation: loss, top1, top5, val_loss, val_top1, val_top5
    top1: float        # final validation top-1
    top5: float
    best10_top1: float  # mean of the 10 highest validation top-1 values
    validations: int   # the epochs, or iterations / val_every
    train_seconds: float  # wall time of fit, validation included (since the last resume)
    iterations: int = 0  # optimiser steps in all

    def to_dict(self):
        return asdict(self)


DIVERGED = 1e3  # a cross-entropy above this (e^-1000 on the true class) has diverged


class _EpochLog(keras.callbacks.Callback):
    """Prints one line per epoch; stops and fails loudly where the loss is not finite or has
    diverged, at every batch and at every epoch's end (a one-batch epoch included)."""

    def __init__(self, rounds, print_fn, steps_per_round=None):
        super().__init__()
        self.rounds, self.print_fn, self.steps_per_round = rounds, print_fn, steps_per_round

    @staticmethod
    def _check(logs, where):
        for key in ("loss", "val_loss"):
            value = (logs or {}).get(key)
            if value is not None and not (math.isfinite(value) and value < DIVERGED):
                raise FloatingPointError(f"{key} became {value:.4g} {where}: training diverged; "
                                         "lower the learning rate or check the inputs")

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, f"at batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, f"in epoch {epoch + 1}")
        if self.print_fn:
            where = (f"iteration {(epoch + 1) * self.steps_per_round}/{self.rounds * self.steps_per_round}"
                     if self.steps_per_round else f"epoch {epoch + 1}/{self.rounds}")
            self.print_fn(f"{where}: loss {logs['loss']:.4f}, top-1 {100 * logs['top1']:.1f}%; validation "
                          f"loss {logs['val_loss']:.4f}, top-1 {100 * logs['val_top1']:.1f}%, "
                          f"top-5 {100 * logs['val_top5']:.1f}%")


def compile_model(model, *, lr, lr_drops, total_steps, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, jit_compile=False):
    """Compile with CaffeSGD, cross-entropy, top-1 and top-5 accuracy (XLA if ``jit_compile``;
    under a mixed_float16 policy Keras wraps the optimizer in a LossScaleOptimizer)."""
    model.compile(
        jit_compile=jit_compile,
        optimizer=CaffeSGD(learning_rate=lr_schedule(lr, lr_drops, total_steps), momentum=momentum,
                           coupled_weight_decay=weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="top1"),
                 keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5")])


class _WholeBackup(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore`` whose two files are each replaced whole (written beside,
    synced, renamed): a process killed while saving leaves the previous backup readable, not a
    torn HDF5 file that the next run cannot open. (A kill between the two renames resumes with
    one validation repeated, as a kill between the CSV log and the backup does.)"""

    def _save_model(self):
        metadata = json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen})
        write_atomic(self._weights_path, lambda tmp: self.model.save_weights(str(tmp), overwrite=True))
        write_text_atomic(self._training_metadata_path, metadata)


class _TensorBoardLog(keras.callbacks.Callback):
    """Logs each validation, with the learning rate at its step, into a ``tensorboard.CellLog``
    at its optimiser step. It comes after the backup: a checkpointed cell resumed never logs a
    step twice (a kill between the two loses that step from the log; results keep it)."""

    def __init__(self, log, steps_per_round):
        super().__init__()
        self.log, self.steps_per_round = log, steps_per_round

    def on_epoch_end(self, epoch, logs=None):
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.log.validation((epoch + 1) * self.steps_per_round, {**logs, "learning_rate": rate})


def train(model, train_ds, val_ds, *, epochs=None, iterations=None, val_every=None, lr=LR,
          lr_drops=PAPER_LR_DROPS, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, seed=0, jit_compile=False,
          checkpoint_dir=None, tensorboard=None, progress=True, print_fn=print):
    """Train ``model`` for ``epochs`` of ``train_ds`` (validating after each), or for
    ``iterations`` steps of it, repeated (validating every ``val_every`` steps, as the paper).

    The solver is the paper's (``CaffeSGD``): SGD momentum 0.9, weight decay 5e-4 on kernels,
    biases at twice the learning rate, ``lr`` divided by 10 at the fractions
    ``lr_drops`` of the schedule. Layers with ``trainable=False`` are not updated. With
    ``checkpoint_dir`` the training state (weights, optimiser, validations so far) is backed up
    there at every validation (Keras ``BackupAndRestore``), and a call that finds a backup
    resumes from it; the backup is deleted when training ends. With ``tensorboard`` (a
    ``records.tensorboard.CellLog``) each validation is logged there, and at the end the
    best-10 and last-k top-1. A NaN loss raises ``FloatingPointError``. With ``progress``, a
    bar over the validations (``progress.bar_class``) that ends showing where training got to,
    stopped by an error or an interrupt too.
    """
    if (epochs is None) == (iterations is None) or (iterations is None) != (val_every is None):
        raise ValueError("give either epochs, or iterations and val_every")
    if iterations is not None:
        if iterations % val_every:
            raise ValueError(f"iterations ({iterations}) must be a multiple of val_every ({val_every})")
        rounds, steps = iterations // val_every, val_every
        data = Repeated(train_ds, steps) if isinstance(train_ds, keras.utils.PyDataset) else train_ds.repeat()
    else:
        rounds, steps, data = epochs, len(train_ds), train_ds
        if steps == 0:
            raise ValueError("the training pipeline is empty")
    keras.utils.set_random_seed(seed)
    compile_model(model, lr=lr, lr_drops=lr_drops, total_steps=steps * rounds, momentum=momentum,
                  weight_decay=weight_decay, jit_compile=jit_compile)
    callbacks = [_EpochLog(rounds, print_fn, steps if iterations else None)]
    resume = False
    if checkpoint_dir:
        log = Path(checkpoint_dir) / "history.csv"
        log.parent.mkdir(parents=True, exist_ok=True)
        # The log is written before the backup: a kill between the two repeats a validation.
        backup = _WholeBackup(str(Path(checkpoint_dir) / "backup"))
        resume = os.path.exists(backup._training_metadata_path)
        callbacks += [keras.callbacks.CSVLogger(str(log), append=True), backup]
    if tensorboard:
        tensorboard.open(resume=resume)
        callbacks.append(_TensorBoardLog(tensorboard, steps))
    if progress:
        bar = TqdmCallback(epochs=rounds, verbose=0, leave=True, tqdm_class=bars.bar_class())
        callbacks.append(bar)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # A validation pipeline of unknown length (ImageNet's records) is read to its end, which
        # Keras reports at the first pass as input that "ran out of data": the training data
        # cannot run out (repeated, or one epoch at a time).
        warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
        try:
            fit = model.fit(data, validation_data=val_ds, epochs=rounds,
                            steps_per_epoch=steps if iterations else None, verbose=0, shuffle=False,
                            callbacks=callbacks)  # the pipelines shuffle
        except BaseException:
            if tensorboard:
                tensorboard.close()  # what it logged stays; a kernel that goes on holds no open file
            raise
        finally:  # Keras ends the bar only where fit returns
            if progress:
                bar.on_train_end()
    seconds = time.perf_counter() - start
    if checkpoint_dir:
        history = _logged(log)
        log.unlink()
    else:
        history = [{k: float(v[i]) for k, v in fit.history.items()} for i in range(rounds)]
    top1 = [h["val_top1"] for h in history]
    if tensorboard:
        tensorboard.finish(rounds * steps, best10_top1=best_mean(top1), lastk_top1=last_k(top1, lr_drops, steps_per_validation=steps,
                                                                            momentum=momentum))
    return TrainResult(history=history, top1=history[-1]["val_top1"], top5=history[-1]["val_top5"],
                       best10_top1=best_mean(top1), validations=rounds,
                       train_seconds=seconds, iterations=rounds * steps)


def _logged(path):
    """The per-validation logs of a CSVLogger file, a repeated validation counted once (the last)."""
    with open(path, newline="") as f:
        rows = {int(r.pop("epoch")): {k: float(v) for k, v in r.items()} for r in csv.DictReader(f)}
    return [rows[i] for i in sorted(rows)]


def evaluate(model, val_ds):
    """Validation (top1, top5) of a compiled or uncompiled model."""
    if not model.compiled:
        compile_model(model, lr=0.0, lr_drops=(), total_steps=1)
    logs = model.evaluate(val_ds, verbose=0, return_dict=True)
    return logs["top1"], logs["top5"]
