"""Command line: ``python -m transferlib run STUDY``, ``studies``, ``summary STUDY_DIR``."""

import argparse
import sys

from .driver.params import ParamsError
from .sources import DataNotFoundError


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m transferlib",
                                     description="Run a transfer study: one notebook per grid cell.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a study's cells not yet done, then its summary")
    run.add_argument("params", help="a params file (path/to/study.yaml) or a bundled study's "
                                    "name (see `studies`), e.g. quick")
    run.add_argument("--results", help="results folder or URL (default: the params file's results_dir)")
    run.add_argument("--workers", type=int, help="local executor: cells run at once (default 1)")
    run.add_argument("--executor", choices=("local", "ray"),
                     help="where cells run: threads here, or Ray tasks (default: the params file's executor)")
    run.add_argument("--address", help="ray executor: the cluster to join (default: the params "
                                       "file's ray_address, else $RAY_ADDRESS, else a local instance)")
    run.add_argument("--dry-run", action="store_true", help="list the cells, which are done, an estimate")
    commands.add_parser("studies", help="list the bundled studies")
    summary = commands.add_parser("summary", help="redraw a study's summary, figures and HTML from "
                                                  "its results.csv (no training, no data)")
    summary.add_argument("study_dir", help="a study's folder, e.g. results/quick")
    args = parser.parse_args(argv)
    from .driver import runner, studies
    try:
        if args.command == "studies":
            print(studies.describe())
            return 0
        if args.command == "summary":
            return runner.redraw_summary(args.study_dir)
        if args.workers is not None and args.workers < 1:
            parser.error("--workers must be at least 1")
        return runner.run(studies.find(args.params), results_dir=args.results, executor=args.executor,
                          workers=args.workers, address=args.address, dry_run=args.dry_run)
    except (ParamsError, DataNotFoundError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
