"""Files that exist only once complete: written to a temporary name, then renamed."""

import os
from pathlib import Path


def write_atomic(path, write):
    """Call ``write(tmp_path)``, then rename the temporary file to ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text))
