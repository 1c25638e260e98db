"""Which code is running: ``code_version()``, recorded by each cell (its metrics, results.csv's
``code_version`` column, its HParams) and compared by the runner across a study's cells."""

import functools
import importlib.metadata
import re
import subprocess
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
UNKNOWN = ""  # the code_version of a cell recorded before cells recorded it


@functools.cache
def code_version():
    """The package's version, PEP 440 style as setuptools-scm writes it: ``0.1.0+g0c92742``
    where the package is a git checkout (``.dirty`` added where its tracked files differ from
    that commit), else ``0.1.0`` alone (an installed wheel, git missing or failing). The
    version is the source tree's pyproject.toml's where the package sits in one (it is what
    runs, whatever copy pip installed), else the installed package's. Computed once a process."""
    pyproject = PACKAGE.parent / "pyproject.toml"
    found = re.search(r'^version = "([^"]+)"', pyproject.read_text(), re.M) if pyproject.is_file() else None
    try:
        release = found[1] if found else importlib.metadata.version("transferlib")
    except importlib.metadata.PackageNotFoundError:
        release = "0+unknown"
    try:
        def git(*args):
            return subprocess.run(["git", "-C", str(PACKAGE), *args], capture_output=True, text=True,
                                  check=True, timeout=10).stdout.strip()
        if not git("ls-files", "--", "__init__.py"):  # inside some other repository (a venv in one)
            return release
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return release
    return f"{release}+g{commit}" + (".dirty" if dirty else "")


def by_version(versions):
    """{code version: [cells]} of ``versions`` ({cell: code version}), the cells in their order."""
    groups = {}
    for cell, version in versions.items():
        groups.setdefault(version, []).append(cell)
    return groups


def named(version):
    """A code version as a reader sees it: UNKNOWN, a record that lacks it, in words."""
    return version or "unknown (not recorded)"


def in_words(groups):
    """``by_version``'s groups in one line: each version with the cells that ran under it."""
    return "; ".join(f"{named(version)}: {', '.join(cells)}" for version, cells in groups.items())
