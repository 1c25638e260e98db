"""A study's TensorBoard logs, ``<study>/tensorboard/`` (``layout``), written in plain Python with
the tensorboard package's protocol buffers and record framing: no TensorFlow is needed or
imported, so the files are the same under Keras on TensorFlow and on JAX, and the driver stays
free of frameworks.

The runner writes the study's HParams experiment there (``write_experiment``): the grid's axes
as hyperparameters (HPARAMS: the parameters declared axes, ``parameters.axes``, and the
treatment, the network and the code) and the metrics (METRICS). Each cell writes its run,
``tensorboard/<cell>/`` (``CellLog``): its hyperparameters, one point per validation of each of
SCALARS at the optimiser step it was taken, each flushed at once (a study is watched live),
and at the end its best-10 and last-k top-1. The HParams dashboard reads a metric as its
scalar's last value: the final top-1 is val_top1's.
"""

import itertools
import os
import socket
import time
from pathlib import Path

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.summary.writer.record_writer import RecordWriter

from .. import parameters
from .vocabulary import treatment

SCALARS = ("loss", "top1", "top5", "val_loss", "val_top1", "val_top5", "learning_rate")
HPARAMS = {  # name: description
    **{p.name: p.axis.description for p in parameters.axes()},
    "treatment": "base, BnB, BnB+, AnB, AnB+, random (named as for direction AnB), AnBcut or AnBcut+",
    "network": "the network's kind, or the pretrained source it copies",
    "code_version": "the transferlib version and commit it ran under (empty: unknown)",
}
METRICS = {  # a study's metric name (params key ``metric``): (the scalar holding it, title, meaning)
    "final": ("val_top1", "final top-1", "the last validation's top-1"),
    "best10": ("best10_top1", "best-10 top-1", "top-1, mean of the 10 best validations (the paper's)"),
    "last_k": ("lastk_top1", "last-k top-1", "top-1, mean of the last validations at the final learning rate"),
}
_EVENTS = "events.out.tfevents."  # how every event file's name begins
EXPERIMENT = f"{_EVENTS}0000000000.experiment"  # the study's HParams experiment


def hparams(values, code_version):
    """A cell's hyperparameters (HPARAMS), from its ``values`` in the grid or its notebook (with
    ``unit``: the last unit copied, or the one unit that learns in a surgical cell;
    ``parameters.recorded``); ``code_version``: ``version.code_version`` of the kernel that
    trained it."""
    recorded = parameters.recorded(values)
    return {**{p.name: p.axis.empty if recorded[p.name] == "" else p.value_type(recorded[p.name])
               for p in parameters.axes()},
            "treatment": treatment(recorded, pooled=True),
            "network": values.get("source_network") or values["network"], "code_version": code_version}


_SERIAL = itertools.count()  # event files opened by this process


class _EventFile:
    """A new event file in ``folder``, each event written and flushed at once. (tensorboard's
    own EventFileWriter would import TensorFlow wherever it is installed, the driver included;
    its record framing, used here, is plain Python.)"""

    def __init__(self, folder, name=None):
        name = name or f"{_EVENTS}{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_SERIAL)}"
        self._records = RecordWriter(open(Path(folder) / name, "ab"))
        self.add(event_pb2.Event(file_version="brain.Event:2"))

    def add(self, event):
        event.wall_time = event.wall_time or time.time()
        self._records.write(event.SerializeToString())
        self._records.flush()

    def close(self):
        self._records.close()


def _clear(folder):
    """Remove the event files directly in ``folder`` (its runs' subfolders are left)."""
    for path in Path(folder).glob(f"{_EVENTS}*"):
        path.unlink()


def _write(folder, summary, name=None):
    """A new event file in ``folder`` holding ``summary`` (named ``name``, else a fresh name)."""
    events = _EventFile(folder, name)
    events.add(event_pb2.Event(summary=summary))
    events.close()


def write_experiment(folder, cells, metric=None):
    """Write the study's HParams experiment into ``folder`` in place of the one there: each of
    HPARAMS with the values ``cells`` take (a list of ``hparams``), and METRICS, the study's
    ``metric`` (params key; None: the summary chooses) said so. Returns the file's path, named
    the same each time, so that a copy published to a URL replaces the earlier one there."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    _clear(folder)
    axes = [hp.HParam(name, hp.Discrete(sorted({c[name] for c in cells})), description=why)
            for name, why in HPARAMS.items()]
    metrics = [hp.Metric(tag, display_name=title + (" (the study's metric)" if name == metric else ""),
                         description=meaning) for name, (tag, title, meaning) in METRICS.items()]
    _write(folder, hp.hparams_config_pb(axes, metrics), EXPERIMENT)
    return Path(folder) / EXPERIMENT


class CellLog:
    """One cell's run, ``folder``, with its ``hparams`` (``hparams``). ``open`` starts it, or
    with ``resume`` goes on where a checkpointed cell's earlier runs stopped; ``validation``
    adds a point per scalar, ``finish`` the final metrics, and closes it."""

    def __init__(self, folder, hparams):
        self.folder, self.hparams, self._writer = Path(folder), hparams, None

    def open(self, resume=False):
        """Start writing: a new run (any earlier one's event files removed, so that a rerun
        cell's steps are not shown twice), or with ``resume`` the same run, continued."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if not resume:
            _clear(self.folder)
        if not any(self.folder.glob(f"{_EVENTS}*")):
            _write(self.folder, hp.hparams_pb(self.hparams, trial_id=self.folder.name))
        self._writer = _EventFile(self.folder)

    def validation(self, step, values):
        """One validation's ``values`` ({scalar: value}, of SCALARS) at optimiser step ``step``."""
        self._add(step, {k: v for k, v in values.items() if k in SCALARS})

    def finish(self, step, *, best10_top1, lastk_top1):
        self._add(step, {"best10_top1": best10_top1, "lastk_top1": lastk_top1})
        self.close()

    def close(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _add(self, step, values):
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=k, simple_value=float(v))
                                             for k, v in values.items()])
        self._writer.add(event_pb2.Event(summary=summary, step=int(step)))
