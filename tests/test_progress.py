"""Training progress that reads right later (``cell.progress``): a bar stopped by an interrupt
shows where it stopped, saved as text, in a notebook a person runs (a widget while it runs) and
in a record (text all along)."""

import re

import nbformat
import pytest

from test_notebooks import WIDGET_VIEW, bar_lines
from transferlib.cell import progress

STOPPED = """\
import numpy as np
import tensorflow as tf
import keras
from transferlib.cell import train

images = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
data = tf.data.Dataset.from_tensor_slices((images, np.arange(64) % 6)).batch(16)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="softmax")])

def stop_in_epoch_2(line):
    print(line)
    if line.startswith("epoch 2/"):
        raise KeyboardInterrupt  # as JupyterLab's stop button

train.train(model, data, data, epochs=4, print_fn=stop_in_epoch_2)
"""


def test_a_wrong_progress_kind_gets_one_message(monkeypatch):
    monkeypatch.setenv("TRANSFER_PROGRESS", "txt")
    with pytest.raises(ValueError, match=r"\$TRANSFER_PROGRESS is 'txt': give one of widget, text"):
        progress.bar_class()


@pytest.mark.slow
@pytest.mark.parametrize("kind", progress.KINDS)
def test_an_interrupted_bar_is_saved_where_it_stopped(kind, monkeypatch):
    from nbclient import NotebookClient
    monkeypatch.setenv("TRANSFER_PROGRESS", kind)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(STOPPED)])
    NotebookClient(nb, kernel_name="python3", allow_errors=True).execute()
    assert nb.cells[0].outputs[-1].get("ename") == "KeyboardInterrupt"
    assert not [o for o in nb.cells[0].outputs if WIDGET_VIEW in o.get("data", {})]
    bars = bar_lines(nb)
    assert len(bars) == 1 and re.match(r" *25%\|.*\| 1/4 \[", bars[0]), bars
