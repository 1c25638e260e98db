"""The study runner: the cells not yet done, through an executor, then the summary.

A study's folder is laid out in ``layout``; its cells come from ``grid``; executors are peers
behind the contract in ``executors``, handed the kernels' environment (``kernel_env``). A cell
is done when its metrics file holds its params_hash, so a run resumes where the last one
stopped.
"""

import json
import os
from pathlib import Path

import yaml
from tqdm import tqdm

from .. import data, parameters, version
from ..records import layout, tensorboard_or_none
from ..atomic import write_text_atomic
from . import executors, grid, kernels
from .kernel_env import kernel_env
from .loaded_study import load_study, runner_lock
from .params import ParamsError

CELL_OVERHEAD = 2.0  # seconds per cell beside training (papermill, data, model, saving), measured
_A_PRIORI_RATE = {32: 1000.0, 64: 250.0, 227: 20.0}  # img/s on 2 CPU cores, for --dry-run only


def estimate_seconds(study, cells, done):
    """Rough wall time of ``cells``: the mean of the ``done`` cells (``done_cells``) of the same
    notebook where there are some, else an a-priori rate for the image size at 500 training
    images per class (or the iterations' images)."""
    measured = {}
    for cell in study.cells:
        if cell.id in done:
            measured.setdefault(cell.notebook, []).append(done[cell.id].get("wall_seconds", 0.0))
    total = 0.0
    for cell in cells:
        if measured.get(cell.notebook):
            total += sum(measured[cell.notebook]) / len(measured[cell.notebook])
        else:
            p = cell.parameters
            rate = _A_PRIORI_RATE[p["image_size"]] / max(p["width"], 0.25) ** 2 * 0.375**2
            images = (p["iterations"] * p["batch_size"] if p["iterations"]
                      else 500 * len(p["classes"]) * p["epochs"])
            total += CELL_OVERHEAD + images / rate
    return total


class MixedCode(RuntimeError):
    """Cells left to run under other code than the study's done cells ran under."""


def run(params_path, *, overrides=(), results_dir=None, executor=None, workers=None, address=None,
        dry_run=False, mixed_code=False, summary=True, command="", out=print):
    """Run a study's cells not yet done, then its summary. Returns the process exit code.

    ``overrides``: "key=value" strings that replace the params file's values as if written in
    it (``params.load_params``), recorded in the study's params.yaml and its cells' hashes.

    ``executor`` ("local" or "ray") and ``address`` (Ray's) default to the params' values;
    ``workers`` (cells at once) is the local executor's. A dry run lists the cells and an
    estimate and writes, creates and downloads nothing. Cells are added under other code than
    the done cells ran under only with ``mixed_code`` (``check_code``). ``command``: how it was
    run, for the report to say.
    """
    study = load_study(params_path, results_dir, download=not dry_run, overrides=overrides)
    execute = _executor(study, executor or study.params.executor, workers,
                        address or study.params.ray_address)
    problems = {}
    done = study.done_cells(problems)
    todo = [c for c in study.cells if c.id not in done]
    if dry_run:
        if overrides:
            out(f"params: {study.params.file}")
        out(grid.describe(study.cells))
        out(f"\n{study.root}: {len(done)} of {len(study.cells)} cells done"
            + (f" ({', '.join(sorted(done))})" if done else ""))
        for cell_id, why in problems.items():
            out(f"  {cell_id} will rerun: {why}")
        try:
            check_code(study, done, todo, mixed_code, out)
        except MixedCode as e:
            out(f"run will stop: {e}")
        out(f"to run: {len(todo)} cells, about {estimate_seconds(study, todo, done) / 60:.0f} min "
            f"with 1 worker")
        return 0
    check_code(study, done, todo, mixed_code, out)
    with runner_lock(study.driver_dir):
        for cell_id, why in problems.items():
            out(f"{cell_id} reruns: {why}")
        study.sync_table(done)
        write_text_atomic(study.driver_dir / layout.PARAMS,
                          yaml.safe_dump(study.params.to_dict(), sort_keys=False))
        write_text_atomic(study.driver_dir / layout.HALVES, json.dumps(study.halves, indent=1))
        write_experiment(study, out, done)
        env = kernel_env(study.params, workers=workers or 1)
        bars = []

        def check_data():
            """The same lookup and decode a cell runs, run here first where cells are left: a
            study that cannot find or read its data stops before any cell, and cells (and
            parallel workers) start warm."""
            if todo:
                data.load(study.params.dataset, data.stored_size(study.params.image_size),
                          data_dir=study.params.data_dir, skip_bad_images=study.params.skip_bad_images,
                          val_fraction=study.params.val_fraction)

        def progress():
            """The study's progress bar, the cells done so far counted."""
            bars.append(tqdm(total=len(study.cells), initial=len(study.cells) - len(todo), unit="cell",
                             desc=study.params.study, dynamic_ncols=True))
            return bars[-1]
        try:
            failed = execute(study, todo, check_data=check_data, progress=progress, env=env)
        finally:
            for bar in bars:
                bar.close()
        if summary and study.table.exists() and _summary_is_stale(study):
            try:
                run_summary(study, env, command)
            except Exception as e:  # the cells' results stand; report the summary's failure
                failed["summary"] = (study.driver_dir / layout.SUMMARY, str(e))
    if failed:
        _report(failed, study, out)
        return 1
    out(f"done: {study.root}")
    return 0


def check_code(study, done, todo, mixed_code=False, out=print):
    """Compare the code versions (``version.code_version``) the ``done`` cells ({cell id:
    metrics}) ran under with this run's: where they are not all this run's, say in one line
    which cells ran under which (unknown: recorded before cells recorded it). MixedCode, before
    any compute, where cells are left (``todo``) and a done cell ran under other known code,
    unless ``mixed_code``; cells of unknown code alone never stop a run."""
    running = version.code_version()
    groups = version.by_version({cell_id: m.get("code_version", version.UNKNOWN) for cell_id, m in done.items()})
    if not groups or set(groups) == {running}:
        return
    out(f"code: the done cells ran under {version.in_words(groups)}; this run is {running}")
    other = [v for v in groups if v not in (running, version.UNKNOWN)]
    if todo and other and not mixed_code:
        raise MixedCode(f"{study.root}: {len(todo)} cells left to run under {running}, but done cells ran under "
                        f"{', '.join(other)}; run with --mixed-code to add them to this study anyway, or with "
                        "--results DIR to run the whole study afresh under this code in another folder")


def write_experiment(study, out=print, done=None):
    """Write the study's HParams experiment into its TensorBoard folder (``records.tensorboard``)
    and publish it; without the tensorboard package, say once that the logs are off. A cell's
    code version is its metrics' where ``done`` ({cell id: metrics}) holds it, else this run's."""
    tensorboard = tensorboard_or_none(out)
    if tensorboard is None:
        return
    done = done or {}
    cells = [tensorboard.hparams(c.values, done[c.id].get("code_version", version.UNKNOWN) if c.id in done
                                 else version.code_version())
             for c in study.cells]
    path = tensorboard.write_experiment(study.driver_dir / layout.TENSORBOARD, cells, study.params.metric)
    study.publish(f"{layout.TENSORBOARD}/{path.name}")


def _report(failed, study, out):
    """The failed cells, identical errors grouped: each error once, with the cells it stopped."""
    groups = {}
    for cell_id, (notebook, error) in failed.items():
        groups.setdefault(error, []).append((cell_id, notebook))
    out(f"{len(failed)} of {len(study.cells)} cells failed or did not run:")
    for error, cells in groups.items():
        if len(cells) == 1:
            cell_id, notebook = cells[0]
            out(f"  {cell_id}: {error}\n    see {notebook}")
        else:
            out(f"  {len(cells)} cells: {error}\n    {', '.join(c for c, _ in cells)}"
                f"\n    see {Path(str(cells[0][1])).parent}")


def _executor(study, name, workers, address):
    """``execute(study, todo, ...) -> failed`` of executor ``name``; a ParamsError, before any
    compute, where it cannot be had or is given options it does not take."""
    if name == "local":
        return lambda *args, **kw: executors.load("local")(*args, **kw, workers=workers or 1)
    if workers is not None:
        raise ParamsError(study.params.file, [
            f"--workers {workers}: the ray executor runs as many cells at once as the cluster's "
            "CPUs and GPUs allow; set cpus_per_cell / gpus_per_cell instead"])
    try:
        execute = executors.load(name)
    except ImportError as e:
        raise ParamsError(study.params.file, [
            f"executor: {name} cannot be imported ({e}); install it with "
            "pip install -r requirements-ray.txt, or use the local executor"]) from None
    return lambda *args, **kw: execute(*args, **kw, address=address)


def _summary_is_stale(study):
    html = study.driver_dir / layout.REPORT
    return not html.exists() or html.stat().st_mtime < study.table.stat().st_mtime


def run_summary(study, env, command=""):
    """Execute the summary notebook into the driver's folder, in a kernel with the study's
    ``env`` (``kernel_env``), export it to HTML and publish them with the figures."""
    _execute_summary(study.driver_dir, study.root, env, command)
    study.publish(*sorted(p.name for p in Path(study.driver_dir).iterdir()
                          if p.is_file() and not p.name.startswith(".")))


def redraw_summary(study_dir, command="", out=print):
    """Redraw the summary, its figures and its HTML in the local study folder ``study_dir`` from
    its results.csv (``python -m transferlib summary``): no training, no data."""
    here = Path(study_dir).resolve()
    if not (here / layout.TABLE).is_file():
        raise FileNotFoundError(f"no {layout.TABLE} in {here}: give the folder of a study that has run "
                                "(e.g. results/quick)")
    _execute_summary(here, here, kernel_env(), command, out)
    out(f"redrawn: {here / layout.REPORT}")
    return 0


def completed_params(path):
    """(the params of the study whose params.yaml is ``path``, completed: ``parameters.completed``;
    the keys assumed)."""
    given = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(given, dict) or "dataset" not in given:
        raise ParamsError(path, ["dataset: missing; the summary needs at least the dataset's name"])
    return parameters.completed(given)


def _execute_summary(here, root, env, command="", out=print):
    """The summary notebook executed in a kernel working in the study folder ``here``, its
    paths given relative to it (the report names no folder of this machine), then exported."""
    params, assumed = completed_params(here / layout.PARAMS)
    if assumed:
        out(f"{here / layout.PARAMS} lacks {', '.join(assumed)}: the summary assumes their defaults "
            f"({', '.join(f'{k}: {params[k]}' for k in assumed)})")
    if params.get("data_dir"):
        params["data_dir"] = os.path.relpath(params["data_dir"], here)
    kernels.execute(executors.NOTEBOOKS / "summary.ipynb", here / layout.SUMMARY, km=kernels.start(here, env),
                    parameters={"study_dir": ".", "results_root": None if root == here else str(root),
                                "params": params, "command": command})
    (here / layout.REPORT).write_text(report(here / layout.SUMMARY))


def report(notebook):
    """The executed ``notebook`` as self-contained HTML that shows results only: code inputs
    (and with them the machine's paths) stay in the .ipynb."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(embed_images=True, exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    return exporter.from_filename(str(notebook))[0]
