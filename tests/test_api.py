"""The public functions (``transferlib.__all__``, docs/api.md): each imports from the package
on first use, and its docstring's example runs as written (doctest)."""

import doctest
import subprocess
import sys

import pytest

import transferlib

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", transferlib.__all__)
def test_the_example_runs_as_written(name):
    function = getattr(transferlib, name)
    assert ">>> " in (function.__doc__ or ""), f"{name} has no example"
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(function, name, globs={"__file__": function.__globals__["__file__"]}):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0, name


def test_importing_the_package_loads_no_keras():
    code = "import sys, transferlib; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_every_public_function_is_listed_in_the_api_page():
    page = (ROOT / "docs" / "api.md").read_text()
    assert [name for name in transferlib.__all__ if f"`{name}(" not in page] == []
