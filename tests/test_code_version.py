"""Which code made a study's cells (``transferlib.version``): the version string, and the runner
that says where a study folder's done cells ran under other code and refuses to add cells to
them unless told to. Fast: fake done cells, a fake executor, nothing trained."""

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from transferlib import version
from transferlib.__main__ import main
from transferlib.driver import loaded_study, runner
from transferlib.records import table

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "transferlib" / "studies" / "smoke.yaml"
THREE_CELLS = dict(treatments=["AnB"], reduced_images_per_class=[], cka_images=0)  # baseA, baseB, A2B


@pytest.fixture
def fresh():
    """code_version computed anew (it is cached once a process), and after the test again."""
    version.code_version.cache_clear()
    yield
    version.code_version.cache_clear()


def git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_git_checkout_adds_its_commit_and_a_dirty_mark(tmp_path, monkeypatch, fresh):
    package = tmp_path / "repo" / "transferlib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (tmp_path / "repo" / "pyproject.toml").write_text('[project]\nname = "transferlib"\nversion = "2.3.4"\n')
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", ".")
    git(tmp_path / "repo", "commit", "-qm", "first")
    commit = git(tmp_path / "repo", "rev-parse", "--short", "HEAD")
    monkeypatch.setattr(version, "PACKAGE", package)
    assert version.code_version() == f"2.3.4+g{commit}"
    (package / "new.py").write_text("")  # untracked: not the checkout's code
    version.code_version.cache_clear()
    assert version.code_version() == f"2.3.4+g{commit}"
    (package / "__init__.py").write_text("x = 1\n")
    assert version.code_version() == f"2.3.4+g{commit}", "computed once a process"
    version.code_version.cache_clear()
    assert version.code_version() == f"2.3.4+g{commit}.dirty"


def test_this_checkout_names_its_commit(fresh):
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert version.code_version().split(".dirty")[0] == f"0.1.0+g{commit}"


@pytest.mark.parametrize("git_fails", [FileNotFoundError("git"), subprocess.TimeoutExpired("git", 10),
                                       subprocess.CalledProcessError(128, "git")])
def test_without_git_the_version_alone(monkeypatch, fresh, git_fails):
    def run(*args, **kw):
        raise git_fails
    monkeypatch.setattr(subprocess, "run", run)
    assert version.code_version() == "0.1.0"


def test_an_installed_package_has_the_installed_version_even_inside_a_repository(tmp_path, monkeypatch, fresh):
    """A wheel in site-packages, in a virtual environment inside some git repository that
    does not track it: no pyproject.toml beside it, and that repository's commit is not its."""
    (tmp_path / "README").write_text("")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "README")
    git(tmp_path, "commit", "-qm", "first")
    package = tmp_path / ".venv" / "site-packages" / "transferlib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(version, "PACKAGE", package)
    monkeypatch.setattr(version.importlib.metadata, "version", lambda name: "9.8.7")
    assert version.code_version() == "9.8.7"


def test_results_csv_keeps_the_code_version_and_an_old_table_reads_it_as_unknown(tmp_path):
    path = tmp_path / "results.csv"
    rows = [dict(cell=c, split="r0", kind="base", source="", target=c[-1], n=0, unit="", fine_tuned=False, cut=False,
                 images_per_class=0, block_size=0, top1=0.5, top5=0.7, best10_top1=0.5, validations=1,
                 train_seconds=1.0, wall_seconds=2.0, params_hash="abc", code_version=code, history=[0.5])
            for c, code in (("r0-baseA", "0.1.0+g0c92742.dirty"), ("r0-baseB", "0.1.0"))]
    table.append_row(path, rows[0])
    assert table.read(path).code_version.tolist() == ["0.1.0+g0c92742.dirty"]
    old = path.read_text().splitlines()  # a table written before the column
    at = old[0].split(",").index("code_version")
    path.write_text("\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != at) for line in old) + "\n")
    assert table.read(path).code_version.tolist() == [""]
    table.append_row(path, rows[1])  # an old table takes new rows, and gets the column
    assert path.read_text().splitlines()[0] == ",".join(table.COLUMNS)
    assert table.read(path).code_version.tolist() == ["", "0.1.0"]
    row = table.row({**rows[0], "cell": "x"}, {**rows[0], "val_top1": [0.5]})
    assert row["code_version"] == "0.1.0+g0c92742.dirty"


@pytest.fixture
def three(tmp_path, monkeypatch):
    """(params file, loaded study) of a three-cell smoke study planned without its data, and
    ``done(cell, code_version)`` that fakes a finished cell; cells run with a fake executor
    that records what it was given (``three.ran``)."""
    monkeypatch.delenv("TRANSFER_DATA_DIR", raising=False)
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(tmp_path / "cache"))
    params = tmp_path / "three.yaml"
    params.write_text(yaml.safe_dump({**yaml.safe_load(SMOKE.read_text()), "study": "three", **THREE_CELLS}))
    planned = loaded_study.load_study
    monkeypatch.setattr(runner, "load_study", lambda path, results, download, overrides=(): planned(path, results, download=False))
    study = planned(params, tmp_path / "results", download=False)
    ran = []

    def execute(study, todo, **kw):
        ran.extend(c.id for c in todo)
        return {}
    monkeypatch.setattr(runner, "_executor", lambda *args: execute)
    monkeypatch.setattr(version, "code_version", lambda: "0.1.0+gnew")

    def done(cell_id, code=None):
        cell = next(c for c in study.cells if c.id == cell_id)
        metrics = dict(top1=0.5, top5=0.7, best10_top1=0.5, validations=1, train_seconds=1.0, val_top1=[0.5],
                       params_hash=cell.params_hash, **({"code_version": code} if code is not None else {}))
        study.metrics(cell).parent.mkdir(parents=True, exist_ok=True)
        study.metrics(cell).write_text(json.dumps(metrics))
        if cell.kind == "base":
            study.model(cell_id).parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(study.model(cell_id), "w") as archive:
                archive.writestr("config.json", "{}")
                archive.writestr("model.weights.h5", "")
    return params, study, done, ran


def run(params, study, **kw):
    said = []
    code = runner.run(params, results_dir=study.root.parent, summary=False, out=said.append, **kw)
    return code, "\n".join(said)


def test_done_cells_under_other_code_stop_the_run_before_any_compute(three, capsys):
    params, study, done, ran = three
    done("r0-baseA", "0.1.0+gold")
    done("r0-baseB", "0.1.0+gnew")
    assert main(["run", str(params), "--results", str(study.root.parent)]) == 2
    out, err = capsys.readouterr()
    assert ("code: the done cells ran under 0.1.0+gold: r0-baseA; 0.1.0+gnew: r0-baseB; this run is 0.1.0+gnew"
            in out)
    assert "1 cells left to run under 0.1.0+gnew, but done cells ran under 0.1.0+gold" in err
    assert "--mixed-code" in err and "--results DIR" in err and "Traceback" not in err
    assert ran == [] and not study.table.exists() and not (study.root / "params.yaml").exists()
    code, said = run(params, study, dry_run=True)
    assert code == 0 and "run will stop: " in said and ran == []
    code, said = run(params, study, mixed_code=True)
    assert code == 0 and ran == ["r0-A2B"] and "code: the done cells ran under 0.1.0+gold: r0-baseA" in said
    assert table.read(study.root).set_index("cell").code_version.to_dict() == {
        "r0-baseA": "0.1.0+gold", "r0-baseB": "0.1.0+gnew"}


def test_cells_of_unknown_code_are_named_but_do_not_stop_the_run(three):
    params, study, done, ran = three
    done("r0-baseA")  # recorded before cells recorded their code
    done("r0-baseB", "0.1.0+gnew")
    code, said = run(params, study)
    assert code == 0 and ran == ["r0-A2B"]
    assert "ran under unknown (not recorded): r0-baseA; 0.1.0+gnew: r0-baseB; this run is 0.1.0+gnew" in said


def test_the_same_code_says_nothing_and_a_finished_study_is_not_stopped(three):
    params, study, done, ran = three
    done("r0-baseA", "0.1.0+gnew")
    code, said = run(params, study)
    assert code == 0 and ran == ["r0-baseB", "r0-A2B"] and "code:" not in said
    done("r0-baseB", "0.1.0+gold")
    done("r0-A2B", "0.1.0+gold")
    ran.clear()
    code, said = run(params, study)  # nothing left to add: said, not refused
    assert code == 0 and ran == [] and "0.1.0+gold: r0-baseB, r0-A2B" in said
