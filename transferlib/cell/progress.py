"""Progress bars that read right later: in a notebook a person watches, tqdm's widget bar, which
leaves its final text in its place when it closes; in a notebook that is a record to read later
(the runner's kernels set ``TRANSFER_PROGRESS=text``), a line of text replaced in place at each
refresh, and no widget. Either way a saved or exported notebook shows where the bar got to, not
the widget's fallback text, the bar as first shown at 0% (JupyterLab saves no widget state by
default, and exported HTML draws widgets only online). Outside a notebook: tqdm's text bar.

Both bars are one output shown with a display id, replaced with ``update_display_data``, which
JupyterLab, nbclient (papermill's records) and so nbconvert's HTML all keep as the output."""

import io
import os

from IPython.display import display as show
from tqdm.auto import tqdm as tqdm_auto
from tqdm.notebook import tqdm as tqdm_notebook
from tqdm.std import tqdm as tqdm_text

VARIABLE = "TRANSFER_PROGRESS"
KINDS = ("widget", "text")  # in a notebook; unset: widget


def bar_class():
    """The tqdm class for this process's bars: ``WidgetBar`` or, with $TRANSFER_PROGRESS "text",
    ``TextBar`` in a Jupyter kernel; tqdm's text bar on stderr elsewhere."""
    kind = os.environ.get(VARIABLE) or "widget"
    if kind not in KINDS:
        raise ValueError(f"${VARIABLE} is {kind!r}: give one of {', '.join(KINDS)} (unset: widget)")
    if not issubclass(tqdm_auto, tqdm_notebook):  # tqdm's own choice: not a notebook, or no ipywidgets
        return tqdm_auto
    return TextBar if kind == "text" else WidgetBar


def _plain(text):
    return {"text/plain": text}


class WidgetBar(tqdm_notebook):
    """tqdm's widget bar, replaced when it closes by its final text (``str``: the bar as tqdm
    prints it, at 100% or where it stopped); its widgets are then closed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, display=False, **kwargs)
        self._output = show(self.container, display_id=True)

    def close(self):
        if getattr(self, "disable", True):  # closed already (or never opened), as tqdm's close
            return
        super().close()
        self._output.update(_plain(str(self)), raw=True)
        for widget in (self.container, *self.container.children):
            widget.close()


class TextBar(tqdm_text):
    """tqdm's text bar as one notebook output replaced at each refresh (no carriage returns in a
    stream, which a record keeps as every state the bar went through)."""

    def __init__(self, *args, **kwargs):
        self._output = None
        super().__init__(*args, file=io.StringIO(), ascii=False, **kwargs)  # the file takes tqdm's newlines

    def display(self, msg=None, pos=None):
        text = _plain(str(self) if msg is None else msg)
        if self._output is None:
            self._output = show(text, raw=True, display_id=True)
        else:
            self._output.update(text, raw=True)
        return True
