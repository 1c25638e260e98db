"""Command line: ``transferlib run STUDY [key=value ...]``, ``studies``, ``summary STUDY_DIR``,
``notebooks [DIR]``, ``table FOLDER``, ``score SOURCE --dataset NAME`` (the console script;
``python -m transferlib`` is the same)."""

import argparse
import shlex
import sys
import time
from pathlib import Path

from .data import CorruptDataError, DataNotFoundError
from .driver import notebook_copies
from .driver.loaded_study import StudyBusy
from .driver.params import ParamsError
from .parameters import EXECUTORS


def main(argv=None):
    parser = argparse.ArgumentParser(prog=_program(),
                                     description="Run a transfer study: one notebook per grid cell.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a study's cells not yet done, then its summary")
    run.add_argument("params", help="a params file (path/to/study.yaml) or a bundled study's "
                                    "name (see `studies`), e.g. quick")
    run.add_argument("overrides", nargs="*", metavar="key=value",
                     help="params to change as if written in the file, each value read as YAML: "
                          "epochs=2 splits=[0,1]")
    run.add_argument("--results", help="results folder or URL (default: the params file's results_dir)")
    run.add_argument("--workers", type=int, help="local executor: cells run at once (default 1)")
    run.add_argument("--executor", choices=EXECUTORS,
                     help="where cells run: threads here, or Ray tasks (default: the params file's executor)")
    run.add_argument("--address", help="ray executor: the cluster to join (default: the params "
                                       "file's ray_address, else $RAY_ADDRESS, else a local instance)")
    run.add_argument("--dry-run", action="store_true", help="list the cells, which are done, an estimate")
    run.add_argument("--mixed-code", action="store_true",
                     help="add cells to a study whose done cells ran under other code (transferlib version "
                          "or commit) than this run")
    commands.add_parser("studies", help="list the bundled studies")
    summary = commands.add_parser("summary", help="redraw a study's summary, figures and HTML from "
                                                  "its results.csv (no training, no data)")
    summary.add_argument("study_dir", help="a study's folder, e.g. results/quick")
    notebooks = commands.add_parser("notebooks", help="copy the notebooks into a folder to open and run "
                                                      "by hand in JupyterLab (the package's stay as they are)")
    notebooks.add_argument("folder", nargs="?", default=notebook_copies.FOLDER,
                           help=f"where (default: {notebook_copies.FOLDER}, git-ignored at the repository root)")
    notebooks.add_argument("--force", action="store_true",
                           help="replace copies there that were changed with fresh ones")
    rows = commands.add_parser("table", help="read a folder of executed cell notebooks (the runner's "
                                             "or papermill's) into a table in results.csv's columns")
    rows.add_argument("folder", help="a folder of executed notebooks, e.g. results/quick/cells")
    rows.add_argument("--out", help="write the table to this CSV file (default: print it)")
    score = commands.add_parser("score", help="score each unit of a pretrained network on a dataset's classes "
                                              "without training: linear probe, LogME, H-score, LEEP")
    score.add_argument("source", help="a .keras or .h5 file, keras.applications.<Name>, keras_hub:<preset> "
                                      "or module:function, e.g. keras.applications.ResNet50")
    score.add_argument("--dataset", required=True, help="tiny_imagenet, folder or a tfds name, e.g. cifar100")
    score.add_argument("--data-dir", help="where the dataset is (default: $TRANSFER_DATA_DIR, else where its "
                                          "kind looks)")
    score.add_argument("--classes", help="a count drawn with --seed, all, or class ids separated by commas "
                                         "(default: 20 drawn, all where the dataset has no more)")
    score.add_argument("--image-size", type=int, default=224, help="pixels per side the source sees (default 224)")
    score.add_argument("--weights", default="imagenet", help="keras.applications: imagenet or a weights file")
    score.add_argument("--source-units", help="the layers that end each unit, separated by commas "
                                              "(default: from the layer names)")
    score.add_argument("--preprocess", help="module:function from float 0..255 RGB to the source's input "
                                            "(default: its family's own)")
    score.add_argument("--images-per-class", type=int, default=100,
                       help="training images per class, at most (default 100); all validation images are used")
    score.add_argument("--seed", type=int, default=0, help="of the classes drawn and the images fitted to")
    score.add_argument("--out", help="the folder for scores.csv and scores.png (default: scores/<source's name>)")
    for command in (run, summary, notebooks, rows, score):
        command.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    command = shlex.join([*_program().split(), *(sys.argv[1:] if argv is None else argv)])
    from .driver import bundled_studies, runner
    try:
        if args.command == "studies":
            print(bundled_studies.describe())
            return 0
        if args.command == "summary":
            return runner.redraw_summary(args.study_dir, command)
        if args.command == "notebooks":
            print("\n".join(notebook_copies.copy(args.folder, force=args.force)))
            return 0
        if args.command == "table":
            return _table(args.folder, args.out)
        if args.command == "score":
            if args.images_per_class < 1 or args.image_size < 1:
                parser.error("--images-per-class and --image-size must be at least 1")
            return _score(args)
        if args.workers is not None and args.workers < 1:
            parser.error("--workers must be at least 1")
        return runner.run(bundled_studies.find(args.params), overrides=args.overrides,
                          results_dir=args.results, executor=args.executor,
                          workers=args.workers, address=args.address, dry_run=args.dry_run,
                          mixed_code=args.mixed_code, command=command)
    except KeyboardInterrupt:
        print("stopped: the running cells were ended; run the same command to go on "
              "(done cells are kept)", file=sys.stderr)
        return 130
    except (ParamsError, DataNotFoundError, CorruptDataError, StudyBusy, runner.MixedCode, BadInput, OSError) as e:
        if getattr(args, "debug", False):
            raise
        print(f"error: {_message(e, args.command)}", file=sys.stderr)
        return 2


def _program():
    """How the command was typed: the console script ``transferlib``, or ``python -m transferlib``."""
    return "transferlib" if Path(sys.argv[0]).name == "transferlib" else "python -m transferlib"


class BadInput(ValueError):
    """Input a command cannot use, found before it computes anything; the message says which."""


def _score(args):
    """``score``: the one command that computes in this process, with TensorFlow, imported when
    it runs, so that the other commands and ``transferlib --help`` load none of it."""
    from .summary import score_command as command

    started = time.perf_counter()
    try:
        job = command.checked(args.source, args.dataset, data_dir=args.data_dir, classes=args.classes,
                              image_size=args.image_size, weights=args.weights,
                              source_units=args.source_units.split(",") if args.source_units else None,
                              source_preprocess=args.preprocess, images_per_class=args.images_per_class,
                              seed=args.seed, out=args.out)
    except ValueError as e:
        raise BadInput(str(e)) from e
    return command.run(job, started)


def _table(folder, out):
    """Print, or write to ``out``, the table of the executed notebooks under ``folder``; say on
    stderr which notebooks gave no row and why."""
    from .records import executed, table
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"no folder {folder}: give a folder of executed notebooks, e.g. results/quick/cells")
    try:
        rows, skipped = executed.read(folder)
    except ValueError as e:  # two notebooks of one cell
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path, why in skipped.items():
        print(f"{path}: {why}", file=sys.stderr)
    if out:
        with open(out, "w", newline="") as f:
            table.write(rows, f)
        print(f"{len(rows)} cells: {out}", file=sys.stderr)
    else:
        table.write(rows, sys.stdout)
    return 0 if rows else 1


def _message(error, command):
    """One message for an error a user can fix; file-system errors name the path and the fix."""
    if isinstance(error, PermissionError):
        fix = {"notebooks": "python -m transferlib notebooks DIR", "table": "--out CSV", "score": "--out DIR"}.get(
            command, "--results DIR (or results_dir in the params file)")
        return f"cannot write or read {error.filename}: permission denied. Choose a folder you can write with {fix}"
    if isinstance(error, OSError) and not isinstance(error, FileNotFoundError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
