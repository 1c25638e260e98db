"""Copies of the notebooks for a person to open, change and run (``python -m transferlib
notebooks``), so that the notebooks in ``transferlib/notebooks/``, the runner's templates, stay
as they are: JupyterLab rewrites a notebook it opens (its metadata, its outputs on autosave) and
leaves ``.ipynb_checkpoints/`` beside it.

A copy that differs from its template, changed by a person or by JupyterLab or copied from an
older template, is kept unless asked otherwise: it may hold someone's work.
"""

import os
import shlex
import shutil
import sys
from functools import partial
from pathlib import Path

from ..parameters import NOTEBOOK_FOLDER
from ..atomic import write_atomic

FOLDER = "notebooks"  # the default, relative to the working folder: the repository root's is git-ignored


def copy(folder=FOLDER, force=False):
    """Copy each notebook of ``transferlib/notebooks/`` into ``folder`` (made if absent) where
    it is absent there, or with ``force`` where it differs; the lines that say what was done and
    how to open them (``open_them``)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file: give a folder for the notebooks")
    copied, kept = [], []
    for template in sorted(NOTEBOOK_FOLDER.glob("*.ipynb")):
        target = folder / template.name
        if target.exists() and target.read_bytes() == template.read_bytes():
            continue
        if target.exists() and not force:
            kept.append(template.name)
        else:
            write_atomic(target, partial(shutil.copyfile, template))
            copied.append(template.name)
    shown = f"{folder}{os.sep}"
    lines = ([f"copied into {shown}: {', '.join(copied)}"] if copied else
             [] if kept else [f"{shown} holds a fresh copy of every notebook"])
    if kept:
        again = "python -m transferlib notebooks" + ("" if str(folder) == FOLDER else f" {folder}")
        lines.append(f"kept {', '.join(kept)} in {shown}: changed since copied (or copied from an "
                     f"older transferlib). For a fresh copy, losing the changes: {again} --force")
    return lines + open_them(folder)


def open_them(folder):
    """The lines that say how to open ``folder`` in JupyterLab, the command as it works typed
    here: the jupyter beside the running interpreter (its path relative to here where it lies
    below), $TRANSFER_DATA_DIR as set here, or where it is unset, a line that says to set it."""
    jupyter = Path(sys.executable).parent / "jupyter"
    below = not os.path.relpath(jupyter).startswith(os.pardir)
    data = os.environ.get("TRANSFER_DATA_DIR")
    words = ([f"TRANSFER_DATA_DIR={shlex.quote(data)}"] if data else []) + [
        os.path.relpath(jupyter) if below else str(jupyter), "lab", shlex.quote(str(folder))]
    lines = [f"open them: {' '.join(words)}{' --allow-root' if os.geteuid() == 0 else ''} (see docs/jupyterlab.md)"]
    if not jupyter.exists():
        lines.append(f"  this environment has no JupyterLab: {shlex.quote(str(jupyter.parent / 'pip'))} install "
                     "jupyterlab")
    if not data:
        lines.append("  TRANSFER_DATA_DIR is not set here: put TRANSFER_DATA_DIR=<the folder holding Tiny ImageNet> "
                     "before it, or the notebooks download the data into the cache (docs/data.md)")
    return lines
