"""`python -m transferlib notebooks`: copies of the notebooks to open and run by hand, in a folder
of their own, a person's changes there kept unless a fresh copy is asked for."""

import os
import sys

import pytest

from transferlib.__main__ import main
from transferlib.parameters import NOTEBOOK_FOLDER

TEMPLATES = {p.name: p.read_bytes() for p in NOTEBOOK_FOLDER.glob("*.ipynb")}


def copies(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_the_notebooks_are_copied_into_notebooks_here(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["notebooks"]) == 0
    assert sorted(TEMPLATES) == ["base.ipynb", "summary.ipynb", "transfer.ipynb"]
    assert copies(tmp_path / "notebooks") == TEMPLATES
    assert "copied into notebooks/: base.ipynb, summary.ipynb, transfer.ipynb" in capsys.readouterr().out
    assert main(["notebooks"]) == 0
    assert "notebooks/ holds a fresh copy of every notebook" in capsys.readouterr().out


def test_a_changed_copy_is_kept_until_a_fresh_one_is_forced(tmp_path, capsys):
    folder = tmp_path / "mine"
    main(["notebooks", str(folder)])
    (folder / "base.ipynb").write_text("a person's work")
    (folder / "summary.ipynb").unlink()
    assert main(["notebooks", str(folder)]) == 0
    said = capsys.readouterr().out
    assert (folder / "base.ipynb").read_text() == "a person's work"
    assert copies(folder)["summary.ipynb"] == TEMPLATES["summary.ipynb"]  # a missing one comes back
    assert "kept base.ipynb" in said and f"python -m transferlib notebooks {folder} --force" in said
    assert main(["notebooks", str(folder), "--force"]) == 0
    assert copies(folder) == TEMPLATES
    assert "copied into" in capsys.readouterr().out


@pytest.mark.parametrize("uid, command", [(0, "jupyter lab notebooks --allow-root"), (1000, "jupyter lab notebooks (")])
def test_the_command_to_open_them_works_for_root_too(tmp_path, monkeypatch, capsys, uid, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: uid)
    main(["notebooks"])
    assert command in capsys.readouterr().out


def test_the_command_to_open_them_is_the_environments_jupyter_with_the_data_variable(tmp_path, monkeypatch,
                                                                                     capsys):
    """Typed as printed where it was printed, it starts this environment's JupyterLab with the
    data variable as set there: no other jupyter, no download."""
    bin_folder = tmp_path / ".venv" / "bin"
    bin_folder.mkdir(parents=True)
    (bin_folder / "jupyter").touch()
    monkeypatch.setattr(sys, "executable", str(bin_folder / "python"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRANSFER_DATA_DIR", "../shared/datasets")
    main(["notebooks"])
    said = capsys.readouterr().out
    assert "open them: TRANSFER_DATA_DIR=../shared/datasets .venv/bin/jupyter lab notebooks" in said
    assert "not set" not in said and "no JupyterLab" not in said
    monkeypatch.delenv("TRANSFER_DATA_DIR")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the environment not below: its jupyter by its whole path
    main(["notebooks"])
    said = capsys.readouterr().out
    assert f"open them: {bin_folder / 'jupyter'} lab notebooks" in said
    assert "TRANSFER_DATA_DIR is not set here: put TRANSFER_DATA_DIR=<the folder holding Tiny ImageNet>" in said


def test_a_file_in_place_of_the_folder_gets_one_message(tmp_path, capsys):
    (tmp_path / "notebooks").write_text("")
    assert main(["notebooks", str(tmp_path / "notebooks")]) == 2
    said = capsys.readouterr().err
    assert "is a file: give a folder" in said and "Traceback" not in said
