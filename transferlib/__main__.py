"""Command line: ``transferlib run STUDY [key=value ...]``, ``studies``, ``summary STUDY_DIR``,
``notebooks [DIR]``, ``table FOLDER`` (the console script; ``python -m transferlib`` is the same)."""

import argparse
import shlex
import sys
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
    for command in (run, summary, notebooks, rows):
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
    except (ParamsError, DataNotFoundError, CorruptDataError, StudyBusy, runner.MixedCode, OSError) as e:
        if getattr(args, "debug", False):
            raise
        print(f"error: {_message(e, args.command)}", file=sys.stderr)
        return 2


def _program():
    """How the command was typed: the console script ``transferlib``, or ``python -m transferlib``."""
    return "transferlib" if Path(sys.argv[0]).name == "transferlib" else "python -m transferlib"


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
        fix = {"notebooks": "python -m transferlib notebooks DIR", "table": "--out CSV"}.get(
            command, "--results DIR (or results_dir in the params file)")
        return f"cannot write or read {error.filename}: permission denied. Choose a folder you can write with {fix}"
    if isinstance(error, OSError) and not isinstance(error, FileNotFoundError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
