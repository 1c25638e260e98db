"""The notebooks as a person uses them: their parameters cells match the one declaration; their
copies (``python -m transferlib notebooks``) run as they stand in JupyterLab with the README's
relative data variable, leave the templates as they were, and saved read as clean records (no
start-up logs, warnings, raw dicts, machine paths or stale progress bars)."""

import os
import re
import shutil
import subprocess
import sys
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


@pytest.mark.parametrize("notebook", [*parameters.NOTEBOOKS, "summary"])
def test_parameters_cells_fit_the_width_jupyterlab_shows(notebook):
    """No line of a parameters cell runs past what JupyterLab and the HTML export show: a long
    comment goes on under itself."""
    cell = next(c for c in nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", 4).cells
                if "parameters" in c.metadata.get("tags", ()))
    assert max(map(len, cell.source.splitlines())) <= parameters.WIDTH


def test_the_grid_injects_every_declared_parameter(monkeypatch):
    """Every cell of every bundled study gets each parameter of its notebook (none left to the
    notebook's default), and the runner adds exactly the paths. A pretrained source's units are
    those its study lists (building it to learn them is tests/test_grid.py's, in the slow tier)."""
    from transferlib.driver.loaded_study import Study
    from transferlib.nets import units
    monkeypatch.setattr(units, "source_unit_names", lambda source, size, weights, listed, preprocess: (*listed, "head"))
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


# --- run as a person would: copies opened, run and saved in JupyterLab at a clone's root ------


def run_as_a_person_would(notebook, repo, cache, run=True):
    """Open ``notebook`` from the copies ``python -m transferlib notebooks`` made at the root of
    the clone ``repo``, run all its cells (``run``) and save it, as JupyterLab started there
    after the README's setup does: read and saved (with a checkpoint) through jupyter_server's
    contents manager, run in a kernel working in the notebook's folder, with the README's
    relative data variable in the server's environment. The saved notebook; an error in a cell
    raises once it is saved."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from nbclient import NotebookClient

    contents = FileContentsManager(root_dir=str(repo))
    path = f"notebooks/{notebook}"
    nb = nbformat.from_dict(contents.get(path)["content"])
    env = {**os.environ, "TRANSFER_DATA_DIR": "../shared/datasets", "TRANSFER_CACHE_DIR": str(cache),
           "PWD": str(repo), "PYTHONPATH": str(repo)}
    for name in ("TRANSFER_RESULTS_DIR", "TRANSFER_PROGRESS"):
        env.pop(name, None)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        if run:
            NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(repo / "notebooks")}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        contents.save({"type": "notebook", "format": "json", "content": nb}, path)
        contents.create_checkpoint(path)
    return nbformat.read(repo / path, 4)


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def person(tmp_path_factory, data_cache, tiny_imagenet):
    """A clone of the repository beside ../shared (a git repository of its package and
    .gitignore) in which a person made the copies, opened all three and ran base.ipynb and then
    transfer.ipynb in JupyterLab."""
    if not TINY_32PX.exists():
        pytest.skip(f"{TINY_32PX} is absent")
    top = tmp_path_factory.mktemp("checkout")
    (top / "shared").symlink_to(TINY_32PX.parents[1])
    repo = top / "transferlib-repo"
    shutil.copytree(ROOT / "transferlib", repo / "transferlib",
                    ignore=shutil.ignore_patterns("__pycache__", "results"))
    shutil.copy(ROOT / ".gitignore", repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone")
    subprocess.run([sys.executable, "-m", "transferlib", "notebooks"], cwd=repo, check=True,
                   env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True)
    base = run_as_a_person_would("base.ipynb", repo, data_cache)
    transfer = run_as_a_person_would("transfer.ipynb", repo, data_cache)
    run_as_a_person_would("summary.ipynb", repo, data_cache, run=False)  # opened and autosaved
    return repo, base, transfer


def test_notebooks_run_from_their_copies_and_write_under_results(person):
    repo, _, _ = person
    assert sorted(p.name for p in (repo / "results" / "notebooks").iterdir()) == [
        "r0-A3B+.json", "r0-baseA.json", "r0-baseA.keras", "tensorboard"]
    assert sorted(p.name for p in (repo / "results" / "notebooks" / "tensorboard").iterdir()) == [
        "r0-A3B+", "r0-baseA"]
    assert sorted(p.name for p in (repo / "notebooks").iterdir()) == [
        ".ipynb_checkpoints", "base.ipynb", "summary.ipynb", "transfer.ipynb"]  # nothing else beside them


def test_the_templates_stay_as_they_are(person):
    """Opened, run and saved, the copies leave the clone as it was: the runner's templates
    unchanged, and the copies, their checkpoints and the results ignored by git."""
    repo, _, _ = person
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert sorted(p.name for p in (repo / "transferlib" / "notebooks").iterdir()) == [
        "base.ipynb", "summary.ipynb", "transfer.ipynb"]


def test_transfer_defaults_copy_the_base_that_base_saved(person):
    """transfer.ipynb's first 3 layers start from r0-baseA's: fine-tuned, they moved, but
    its log says it copied them and from which file."""
    repo, _, transfer = person
    text = outputs_text(transfer)
    assert "units 1..3 (conv1, conv2, conv3) copied from **r0-baseA**" in text
    assert "base r0-baseA loaded from r0-baseA.keras" in text
    table = next(o for c in transfer.cells for o in c.get("outputs", [])
                 if "copied-fine-tuned" in o.get("data", {}).get("text/html", ""))
    assert table["data"]["text/html"].count("copied-fine-tuned") == 3


def test_transfer_without_a_base_stops_saying_which_file(tmp_path, person, data_cache):
    from nbclient.exceptions import CellExecutionError
    repo, _, _ = person
    (repo / "results" / "notebooks" / "r0-baseA.keras").rename(tmp_path / "kept.keras")
    try:
        with pytest.raises(CellExecutionError, match="no base network r0-baseA at .*run base.ipynb first"):
            run_as_a_person_would("transfer.ipynb", repo, data_cache)
    finally:
        (tmp_path / "kept.keras").rename(repo / "results" / "notebooks" / "r0-baseA.keras")


def test_the_summary_before_any_study_says_so_in_one_line_and_stops(person, data_cache):
    """summary.ipynb run where only the notebooks have run (no study): its setup cell shows one
    line, no traceback, naming where it looked as the person knows those folders and what to do,
    and Run All stops there, no later cell run."""
    from nbclient.exceptions import CellExecutionError
    repo, _, _ = person
    with pytest.raises(CellExecutionError):
        run_as_a_person_would("summary.ipynb", repo, data_cache)
    code = [c for c in nbformat.read(repo / "notebooks" / "summary.ipynb", 4).cells if c.cell_type == "code"]
    shown, = [o for o in code[1].outputs if o.output_type == "error"]
    assert shown.traceback == [shown.evalue]  # what JupyterLab shows of it: the message alone
    assert shown.evalue.startswith("no finished study in notebooks/results/ or results/ (relative to the folder "
                                   "JupyterLab started in). Run one from that folder (transferlib run quick")
    assert "study_dir" in shown.evalue and str(repo) not in shown.evalue
    assert not [c for c in code[2:] if c.outputs or c.execution_count]


def test_a_run_by_hand_says_what_it_lacks_as_text(person):
    """The transfer run by hand, without r0-baseB, says it was not trained here and how to train
    it; no output is a quoted str, and with 4 validations no best-10 is shown."""
    _, base, transfer = person
    text = outputs_text(transfer)
    assert "No baseline: **r0-baseB** was not trained in this folder" in text
    assert "`cell = 'r0-baseB'`, `target = 'B'`" in text
    assert "no layer similarity measured (cka_images is 0)\n" in text
    for nb in (base, transfer):
        shown = [o.data["text/plain"] for c in nb.cells for o in c.get("outputs", [])
                 if o.output_type == "execute_result"]
        assert not [s for s in shown if re.match(r"['\"]", s)], "a str shown as its repr"
        assert "best-10" not in outputs_text(nb)


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


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def bar_lines(nb):
    """The tqdm bars a saved notebook shows: each line of its text outputs that is a bar, as
    last written (a carriage return overwrites); a widget's output shows its saved text."""
    lines = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            lines += [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    return [line for line in lines if PROGRESS.match(line)]


def widget_bars(nb):
    """(value, max) of each progress widget whose state the notebook saved."""
    states = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return [(w["state"]["value"], w["state"]["max"]) for w in states.get("state", {}).values()
            if w["model_name"].endswith("ProgressModel")]


def assert_progress_reads_right(nb, html, validations):
    """Saved and exported to HTML, a trained notebook shows its bar finished, once, and no widget
    (whose saved text is the bar as first shown), and one line per validation."""
    total = f"{validations}/{validations}"
    bars = bar_lines(nb)
    assert len(bars) == 1 and re.match(rf" *100%\|.*\| {total} \[", bars[0]), bars
    assert not [o for c in nb.cells for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
    assert all(value == top for value, top in widget_bars(nb)), widget_bars(nb)
    assert len(re.findall(rf"^epoch \d+/{validations}:", outputs_text(nb), flags=re.M)) == validations
    assert re.search(rf"100%\|[^|<]*\| {total} \[", html) and not re.search(rf"\| 0/{validations} \[", html)
    assert len(re.findall(rf"epoch \d+/{validations}: loss", html)) == validations


@pytest.mark.parametrize("which", ["base", "transfer"])
def test_a_saved_notebook_shows_its_progress_finished(person, which, tmp_path):
    from transferlib.driver import runner
    _, base, transfer = person
    nb = base if which == "base" else transfer
    nbformat.write(nb, tmp_path / "saved.ipynb")
    assert_progress_reads_right(nb, runner.report(tmp_path / "saved.ipynb"), validations=4)


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
