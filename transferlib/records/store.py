"""Where a study's files live: a local folder (on a cluster, a shared filesystem mounted at the
same path on every node) or a URL that fsspec understands (``file://``, or ``s3://``, ``gs://``,
... with that fsspec backend, such as s3fs, installed on every node).

Locations are ``Path`` objects for local folders and strings for URLs; every function here takes
either. Only ``file://`` URLs are tested here; other schemes get what fsspec gives.
"""

import os
import tempfile
from pathlib import Path

import fsspec


def is_url(location):
    """Whether ``location`` is a URL (``scheme://...``) rather than a local path."""
    return "://" in str(location)


def join(root, *parts):
    """``root/parts...``: a Path under a local folder, a URL under a URL."""
    if is_url(root):
        return "/".join([str(root).rstrip("/"), *parts])
    return Path(root, *parts)


def read_text(location):
    """The text at ``location``; FileNotFoundError where there is none."""
    with fsspec.open(str(location), "r") as f:
        return f.read()


def exists(location):
    fs, path = fsspec.core.url_to_fs(str(location))
    return fs.exists(path)


def remove(location):
    """Delete the file at ``location`` if there is one."""
    fs, path = fsspec.core.url_to_fs(str(location))
    if fs.exists(path):
        fs.rm(path)


def put(local_path, location):
    """Copy the local file ``local_path`` to ``location`` (its folder made if needed)."""
    fs, path = fsspec.core.url_to_fs(str(location))
    fs.makedirs(fs._parent(path), exist_ok=True)
    fs.put_file(str(local_path), path)


def put_folder(local_folder, location):
    """Make ``location`` hold the files of the local folder ``local_folder`` (and nothing else)."""
    fs, path = fsspec.core.url_to_fs(str(location))
    if fs.exists(path):
        fs.rm(path, recursive=True)
    for file in sorted(Path(local_folder).iterdir()):
        put(file, join(location, file.name))


def fetch(location):
    """A local copy of the file at the URL ``location``, in a temporary file that the caller
    deletes; the suffix is kept (Keras reads the format from it)."""
    fd, local = tempfile.mkstemp(suffix=Path(str(location)).suffix, prefix="transferlib-")
    os.close(fd)
    fs, path = fsspec.core.url_to_fs(str(location))
    fs.get_file(path, local)
    return local
