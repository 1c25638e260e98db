"""Files that exist only once complete: written to a temporary name, flushed to disk, then
renamed in one step. The one place transferlib writes a file atomically."""

import os
from pathlib import Path


def write_atomic(path, write):
    """Call ``write(tmp_path)``, sync it, then rename the temporary file to ``path`` at once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")  # its name's ending kept (.weights.h5)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` atomically."""
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))
