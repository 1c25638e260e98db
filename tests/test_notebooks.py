"""The notebooks as a person uses them: their parameters cells match the one declaration, each
runs as it stands from its own folder with the README's relative data variable, and the executed
notebooks read as clean records (no start-up logs, warnings, raw dicts or machine paths)."""

import os
import re
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

from conftest import TINY_32PX
from transferlib import parameters
from transferlib.driver import grid
from transferlib.driver.params import load_params

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "transferlib" / "notebooks"
STUDIES = ROOT / "transferlib" / "studies"


@pytest.mark.parametrize("notebook", parameters.NOTEBOOKS)
def test_parameters_cells_match_the_declaration(notebook):
    source = "".join(nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", 4).cells[1].source)
    assert source == parameters.parameters_cell(notebook), "run: python -m transferlib.parameters"
    found = papermill.inspect_notebook(str(NOTEBOOKS / f"{notebook}.ipynb"))
    declared = parameters.for_notebook(notebook)
    assert list(found) == [p.name for p in declared]  # the same names, in the same order
    for p in declared:
        assert eval(found[p.name]["default"]) == p.default_in(notebook), p.name
        assert found[p.name]["help"], f"{p.name} has no comment"
    settings, _, bookkeeping = source.partition("# --- the runner's bookkeeping")
    assert bookkeeping, "no marked line between the settings and the runner's bookkeeping"
    for p in declared:
        assert (f"\n{p.name} = " in settings) == p.setting_in(notebook), p.name


def test_the_grid_injects_every_declared_parameter():
    """Every cell of every bundled study gets each parameter of its notebook (none left to the
    notebook's default), and the runner adds exactly the paths."""
    from transferlib.driver.loaded_study import Study
    classes = (ROOT / "transferlib" / "resources" / "tiny_imagenet_wnids.txt").read_text().split()
    runner_set = {"params_hash", "metrics_path", "model_path", "source_model_path", "checkpoint_dir",
                  "tensorboard_dir"}
    for path in STUDIES.glob("*.yaml"):
        params = load_params(path)
        if params.dataset != "tiny_imagenet":
            continue
        study = Study(params, grid.expand(params, classes), Path("/study"), {})
        for cell in study.cells:
            declared = {p.name for p in parameters.for_notebook(cell.notebook)}
            assert set(cell.parameters) == declared - runner_set, (path.name, cell.id)
            assert set(study.cell_parameters(cell)) == declared, (path.name, cell.id)


# --- run as they stand, from notebooks/, with the README's relative data variable ---------


def run_as_a_person_would(notebook, repo, cache):
    """Execute ``notebook`` as it stands, its kernel working in the notebooks' folder, with the
    environment of a JupyterLab started at the repository root after the README's setup."""
    env = {**os.environ, "TRANSFER_DATA_DIR": "../shared/datasets", "TRANSFER_CACHE_DIR": str(cache),
           "PWD": str(repo)}
    env.pop("TRANSFER_RESULTS_DIR", None)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        out = repo / "executed" / notebook
        out.parent.mkdir(exist_ok=True)
        papermill.execute_notebook(str(repo / "transferlib" / "notebooks" / notebook), str(out),
                                   cwd=str(repo / "transferlib" / "notebooks"), progress_bar=False,
                                   kernel_name="python3")
        return nbformat.read(out, 4)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def person(tmp_path_factory, data_cache, tiny_imagenet):
    """A copy of the repository beside ../shared (as a clone sits) in which base.ipynb and then
    transfer.ipynb were run as they stand."""
    if not TINY_32PX.exists():
        pytest.skip(f"{TINY_32PX} is absent")
    top = tmp_path_factory.mktemp("checkout")
    (top / "shared").symlink_to(TINY_32PX.parents[1])
    repo = top / "transferlib-repo"
    shutil.copytree(ROOT / "transferlib", repo / "transferlib",
                    ignore=shutil.ignore_patterns("__pycache__", "results"))
    base = run_as_a_person_would("base.ipynb", repo, data_cache)
    transfer = run_as_a_person_would("transfer.ipynb", repo, data_cache)
    return repo, base, transfer


def test_notebooks_run_as_they_stand_and_write_under_results(person):
    repo, _, _ = person
    assert sorted(p.name for p in (repo / "results" / "notebooks").iterdir()) == [
        "r0-A3B+.json", "r0-baseA.json", "r0-baseA.keras", "tensorboard"]
    assert sorted(p.name for p in (repo / "results" / "notebooks" / "tensorboard").iterdir()) == [
        "r0-A3B+", "r0-baseA"]
    assert sorted(p.name for p in (repo / "transferlib" / "notebooks").iterdir()) == [
        "base.ipynb", "summary.ipynb", "transfer.ipynb"]  # nothing written beside them


def test_transfer_defaults_copy_the_base_that_base_saved(person):
    """transfer.ipynb's first 3 layers start from r0-baseA's: fine-tuned, they moved, but
    its log says it copied them and from which file."""
    repo, _, transfer = person
    text = outputs_text(transfer)
    assert "copying units 1..n of r0-baseA from r0-baseA.keras" in text
    table = next(o for c in transfer.cells for o in c.get("outputs", [])
                 if "copied-fine-tuned" in o.get("data", {}).get("text/html", ""))
    assert table["data"]["text/html"].count("copied-fine-tuned") == 3


def test_transfer_without_a_base_stops_saying_which_file(tmp_path, person, data_cache):
    repo, _, _ = person
    (repo / "results" / "notebooks" / "r0-baseA.keras").rename(tmp_path / "kept.keras")
    try:
        with pytest.raises(papermill.PapermillExecutionError, match="no base network r0-baseA at .*run base.ipynb first"):
            run_as_a_person_would("transfer.ipynb", repo, data_cache)
    finally:
        (tmp_path / "kept.keras").rename(repo / "results" / "notebooks" / "r0-baseA.keras")


PROGRESS = re.compile(r"^[^|]*\d+%\|[^|]*\| *[\d.]+[kM]?/[\d.?]+[kM]? \[[^\]]*\]\s*$")  # a tqdm bar's line


def stderr_beside_progress(nb):
    """The lines a notebook's cells wrote to stderr that are not tqdm bars."""
    stderr = "".join(o["text"] for c in nb.cells for o in c.get("outputs", [])
                     if o.get("output_type") == "stream" and o["name"] == "stderr")
    return [line for line in re.split(r"[\r\n]", stderr) if line.strip() and not PROGRESS.match(line)]


def outputs_text(nb):
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts += [str(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
            parts += output.get("traceback", [])
    return "\n".join(parts)


@pytest.mark.parametrize("which", ["base", "transfer"])
def test_an_executed_cell_notebook_reads_as_a_clean_record(person, which):
    repo, base, transfer = person
    nb = base if which == "base" else transfer
    assert not stderr_beside_progress(nb)
    text = outputs_text(nb)
    for dirt in ("Warning", "WARNING", "oneDNN", "site-packages", "TqdmWarning", "IProgress"):
        assert dirt not in text, dirt
    assert not re.search(r"\{'\w+': ", text), "a raw dict in the outputs"
    assert str(repo) not in text and "/tmp/" not in text and str(Path.home()) not in text, "a machine path"
    epochs = [line for line in text.splitlines() if re.match(r"epoch \d+/\d+:", line)]
    assert len(epochs) == 4  # one line per epoch, once
