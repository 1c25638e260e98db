"""pyproject.toml declares what requirements.txt pins: ``pip install transferlib`` gets the
ranges the README's install and CI test."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirements(lines):
    """{name: specifier} of requirement lines, extras, markers and comments left out."""
    out = {}
    for line in lines:
        line = line.split("#")[0].split(";")[0].strip()
        if line:
            name, spec = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*(.*)", line).groups()
            out[name.lower()] = spec.replace(" ", "")
    return out


def test_the_package_declares_the_tested_ranges():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _requirements(project["dependencies"])
    extras = [_requirements(group) for group in project["optional-dependencies"].values()]
    pinned = _requirements((ROOT / "requirements.txt").read_text().splitlines())
    pinned |= _requirements((ROOT / "requirements-ray.txt").read_text().splitlines())
    for name, spec in pinned.items():
        offered = [declared.get(name)] + [extra.get(name) for extra in extras]
        assert spec in offered, (name, spec, offered)
    assert declared["tensorflow"] == declared["tensorflow-cpu"]  # the same range off x86-64 Linux
    assert project["scripts"]["transferlib"] == "transferlib.__main__:main"
