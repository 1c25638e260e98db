"""Training and evaluation with the paper's solver, scaled from iterations to epochs."""

import math
import time
from dataclasses import asdict, dataclass

import keras
import numpy as np
from tqdm import tqdm
from tqdm.keras import TqdmCallback

# Caffe's reference solver: lr / 10 every 100,000 of 450,000 iterations.
PAPER_LR_DROPS = (2 / 9, 4 / 9, 6 / 9, 8 / 9)
BEST_OF = 10  # the paper reports the mean of the 10 best validation top-1 values


@keras.saving.register_keras_serializable("transferlib")
class CaffeSGD(keras.optimizers.SGD):
    """SGD with momentum where biases learn at twice the rate of weights, as in Caffe.

    Doubling a bias's gradient doubles its step, since momentum SGD is linear in gradients.
    """

    def apply(self, grads, trainable_variables=None):
        variables = trainable_variables if trainable_variables is not None else self._trainable_variables
        grads = [g * 2 if v.name == "bias" else g for g, v in zip(grads, variables)]
        return super().apply(grads, trainable_variables)


def lr_schedule(lr, lr_drops, total_steps):
    """Piecewise-constant lr: ``lr`` divided by 10 at each fraction ``lr_drops`` of the steps."""
    if not lr_drops:
        return lr
    bounds = [max(1, int(round(f * total_steps))) for f in sorted(lr_drops)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        bounds, [lr / 10**i for i in range(len(bounds) + 1)])


@dataclass
class TrainResult:
    """Per-epoch history and the final and best-of-10 validation accuracies."""

    history: list      # one dict per epoch: loss, top1, top5, val_loss, val_top1, val_top5
    top1: float        # final validation top-1
    top5: float
    best10_top1: float  # mean of the 10 highest per-epoch validation top-1 values
    epochs: int
    train_seconds: float  # wall time of fit, validation included

    def to_dict(self):
        return asdict(self)


class _EpochLog(keras.callbacks.Callback):
    """Prints one line per epoch, stops and fails loudly on a NaN loss."""

    def __init__(self, epochs, print_fn):
        super().__init__()
        self.epochs, self.print_fn = epochs, print_fn

    def on_train_batch_end(self, batch, logs=None):
        if logs and not math.isfinite(logs.get("loss", 0.0)):
            raise FloatingPointError(f"training loss became {logs['loss']} at batch {batch}: "
                                     "lower the learning rate or check the inputs")

    def on_epoch_end(self, epoch, logs=None):
        if self.print_fn:
            self.print_fn(f"epoch {epoch + 1}/{self.epochs}: loss {logs['loss']:.4f} "
                          f"top1 {logs['top1']:.4f} val_top1 {logs['val_top1']:.4f} "
                          f"val_top5 {logs['val_top5']:.4f}")


def compile_model(model, *, lr, lr_drops, total_steps, momentum=0.9):
    """Compile with CaffeSGD, cross-entropy, top-1 and top-5 accuracy."""
    model.compile(
        optimizer=CaffeSGD(learning_rate=lr_schedule(lr, lr_drops, total_steps), momentum=momentum),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="top1"),
                 keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5")])


def train(model, train_ds, val_ds, *, epochs, lr=0.01, lr_drops=PAPER_LR_DROPS, momentum=0.9,
          seed=0, progress=True, print_fn=print):
    """Train ``model`` on ``train_ds`` for ``epochs``, validating after each epoch.

    The solver is the paper's, scaled to epochs: SGD momentum 0.9, weight decay 5e-4 on
    kernels (as the models' L2 regularisers), biases at twice the learning rate, ``lr``
    divided by 10 at the fractions ``lr_drops`` of the schedule. Layers with
    ``trainable=False`` are not updated. A NaN loss raises ``FloatingPointError``.
    """
    keras.utils.set_random_seed(seed)
    steps = len(train_ds)
    if steps == 0:
        raise ValueError("the training pipeline is empty")
    compile_model(model, lr=lr, lr_drops=lr_drops, total_steps=steps * epochs, momentum=momentum)
    callbacks = [_EpochLog(epochs, print_fn)]
    if progress:
        callbacks.append(TqdmCallback(epochs=epochs, verbose=0, leave=True, tqdm_class=tqdm))  # text: no widgets needed
    start = time.perf_counter()
    fit = model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    history = [{k: float(v[i]) for k, v in fit.history.items()} for i in range(epochs)]
    val_top1 = sorted((h["val_top1"] for h in history), reverse=True)
    return TrainResult(history=history, top1=history[-1]["val_top1"], top5=history[-1]["val_top5"],
                       best10_top1=float(np.mean(val_top1[:BEST_OF])), epochs=epochs,
                       train_seconds=seconds)


def evaluate(model, val_ds):
    """Validation (top1, top5) of a compiled or uncompiled model."""
    if not model.compiled:
        compile_model(model, lr=0.0, lr_drops=(), total_steps=1)
    logs = model.evaluate(val_ds, verbose=0, return_dict=True)
    return logs["top1"], logs["top5"]
