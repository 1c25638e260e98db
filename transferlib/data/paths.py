"""Where the data and the cache are: the cache folder, and the folders environment variables
and hand-typed values name, made absolute.

A study's ``data_dir`` is made absolute once, where its params are read (``Params.from_dict``,
against the command's working folder); a notebook run by hand has no params file, so its calls
resolve it (``resolve``). Below those two readers a data_dir is taken as given.
"""

import os
from pathlib import Path


def cache_root(cache_dir=None):
    """The cache folder: `cache_dir`, else $TRANSFER_CACHE_DIR, else ~/.cache/transferlib."""
    return Path(cache_dir or env_path("TRANSFER_CACHE_DIR") or "~/.cache/transferlib").expanduser().absolute()


def env_path(variable):
    """The absolute path that environment ``variable`` names (``resolve``), or None where it is
    unset."""
    value = os.environ.get(variable)
    return resolve(value) if value else None


def resolve(value):
    """``value`` as an absolute path. A relative path is taken relative to the working folder,
    or where nothing is there but something is relative to $PWD, to $PWD: the folder the
    command was typed in, which a notebook's kernel (working in the notebook's folder) inherits
    from its Jupyter server."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    here = Path.cwd() / path
    typed_in = Path(os.environ.get("PWD") or Path.cwd()) / path
    return (typed_in if not here.exists() and typed_in.exists() else here).resolve()
